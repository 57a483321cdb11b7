"""Normalisation and image-shape ops of cgan.ops: sum/mean over axis tuples, batch_norm
(train and eval, running statistics), layer_norm, upsample_nearest, flatten.

Values and gradients against PyTorch in float64 (1e-10), first and second derivatives by
finite differences (gradcheck / gradgradcheck), a WGAN-GP penalty through layer_norm,
bitwise repeatability of the parallel reductions, and bad input."""
import numpy as np
import pytest

import cgan
from cgan import ops
from gradcheck import gradcheck, gradgradcheck

NCHW = (3, 4, 5, 6)
SHAPES = [(5, 4), (3, 4, 7), NCHW]  # (N, C), (N, C, L), (N, C, H, W)


def _rng(seed=0):
    return np.random.default_rng(seed)


def _np(t):
    return np.asarray(t.numpy())


# ---- sum / mean over axis tuples ---------------------------------------------------------

AXES = [(0, 2, 3), (0,), (1,), (2, 3), (1, 3), (0, 1, 2, 3), (-1, -2), (3, 0), ()]


@pytest.mark.parametrize("axes", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sum_mean_over_axes_match_numpy(axes, keepdims, dtype):
    x = _rng().standard_normal(NCHW).astype(dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for name in ("sum", "mean"):
        ref = getattr(x.astype(np.float64), name)(axis=axes, keepdims=keepdims)
        for got in (getattr(ops, name)(x, axis=axes, keepdims=keepdims),
                    getattr(cgan.tensor(x), name)(axis=axes, keepdims=keepdims)):
            assert got.shape == ref.shape, (name, axes)
            assert got.dtype == dtype
            np.testing.assert_allclose(_np(got), ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape,axes", [((5, 4), (0,)), ((5, 4), (0, 1)), ((4, 1024), (0,)),
                                        ((2, 3, 4), (0, 2)), ((5000, 3), (0,))])
def test_sum_over_axes_of_other_layouts(shape, axes):
    # Wide kept rows (column chunks) and long reduced axes (several row blocks).
    x = _rng(1).standard_normal(shape)
    np.testing.assert_allclose(_np(ops.sum(x, axis=axes)), x.sum(axis=axes), rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("axes,keepdims", [((0, 2, 3), False), ((1,), True), ((-1, 0), False),
                                           ((0, 1, 2, 3), True)])
def test_sum_mean_over_axes_gradients(axes, keepdims):
    x = _rng(2).standard_normal((2, 3, 2, 3))
    for name in ("sum", "mean"):
        f = lambda xs, n=name: getattr(ops, n)(xs[0] * xs[0], axis=axes, keepdims=keepdims)
        gradcheck(f, [x])
        gradgradcheck(f, [x])


def test_axis_tuples_refuse_bad_axes():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match="more than once"):
        ops.sum(x, axis=(0, -3))
    with pytest.raises(ValueError, match="more than once"):
        cgan.tensor(x).mean(axis=(1, 1))
    with pytest.raises(ValueError, match="out of range"):
        ops.mean(x, axis=(0, 3))
    with pytest.raises(TypeError, match="axis"):
        ops.sum(x, axis=(0, 1.5))
    with pytest.raises(TypeError, match="axis"):
        ops.sum(x, axis=(True,))
    with pytest.raises(ValueError, match="empty"):
        ops.mean(np.ones((0, 3)), axis=(0,))


def test_large_channel_reduction_is_bitwise_repeatable():
    # Batch-norm statistics / conv bias gradients: (0, 2, 3) of an NCHW batch; 64 channels x
    # 4 row blocks = 256 pieces, spread over the 2 threads.
    x = _rng(3).standard_normal((64, 64, 14, 14)).astype(np.float32)
    cgan.set_num_threads(2)
    runs = [_np(ops.sum(x, axis=(0, 2, 3))).copy() for _ in range(3)]
    for r in runs[1:]:
        assert np.array_equal(r, runs[0])
    np.testing.assert_allclose(runs[0], x.astype(np.float64).sum(axis=(0, 2, 3)), rtol=1e-6)
    # The blocks depend on the shape only, so one thread gives the same bits too.
    cgan.set_num_threads(1)
    assert np.array_equal(_np(ops.sum(x, axis=(0, 2, 3))), runs[0])


def test_batch_norm_forward_backward_bitwise_repeatable_with_two_threads():
    rng = _rng(4)
    x = rng.standard_normal((32, 16, 14, 14)).astype(np.float32)
    w, b = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    g = cgan.tensor(rng.standard_normal(x.shape).astype(np.float32))
    cgan.set_num_threads(2)

    def run():
        xs, ws, bs = (cgan.tensor(a.copy(), requires_grad=True) for a in (x, w, b))
        y = ops.batch_norm(xs, None, None, ws, bs, training=True)
        return [_np(y).copy()] + [_np(t).copy() for t in cgan.grad(y, [xs, ws, bs], grad_outputs=g)]

    first = run()
    for a, b2 in zip(first, run()):
        assert np.array_equal(a, b2)


# ---- batch_norm ------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_train_matches_torch(shape, affine):
    torch = pytest.importorskip("torch")
    rng = _rng(5)
    C = shape[1]
    x = rng.standard_normal(shape) * 3 + 1
    w, b = (rng.standard_normal(C), rng.standard_normal(C)) if affine else (None, None)
    g = rng.standard_normal(shape)
    xs = cgan.tensor(x, requires_grad=True)
    ws, bs = [cgan.tensor(a, requires_grad=True) if affine else None for a in (w, b)]
    y = ops.batch_norm(xs, weight=ws, bias=bs, training=True, eps=1e-3)
    tx = torch.tensor(x, requires_grad=True)
    tw, tb = [torch.tensor(a, requires_grad=True) if affine else None for a in (w, b)]
    ty = torch.nn.functional.batch_norm(tx, None, None, tw, tb, training=True, eps=1e-3)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=0, atol=1e-10)
    ins, tins = ([xs, ws, bs], [tx, tw, tb]) if affine else ([xs], [tx])
    grads = cgan.grad(y, ins, grad_outputs=cgan.tensor(g))
    tgrads = torch.autograd.grad(ty, tins, torch.tensor(g))
    for a, t in zip(grads, tgrads):
        np.testing.assert_allclose(_np(a), t.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1), (1, 3, 1, 1)])
def test_batch_norm_train_with_one_value_per_channel_raises(shape):
    rm, rv = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        ops.batch_norm(np.ones(shape), rm, rv, training=True)
    assert np.array_equal(rm, np.zeros(3)) and np.array_equal(rv, np.ones(3))  # untouched


def test_batch_norm_train_batch_one_with_spatial_values_matches_torch():
    torch = pytest.importorskip("torch")
    x = _rng(6).standard_normal((1, 3, 2, 2))
    rm, rv = np.zeros(3), np.ones(3)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    y = ops.batch_norm(x, rm, rv, training=True)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, training=True)
    np.testing.assert_allclose(_np(y), ty.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(rv, trv.numpy(), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("momentum", [0.1, 0.7])
def test_batch_norm_running_stats_after_five_steps_and_eval_match_torch(shape, momentum):
    torch = pytest.importorskip("torch")
    rng = _rng(7)
    C = shape[1]
    w, b = rng.standard_normal(C), rng.standard_normal(C)
    rm, rv = np.zeros(C), np.ones(C)                       # NumPy arrays, updated in place
    crm, crv = cgan.tensor(np.zeros(C)), cgan.tensor(np.ones(C))  # cgan Tensors too
    trm, trv = torch.zeros(C, dtype=torch.float64), torch.ones(C, dtype=torch.float64)
    for _ in range(5):
        x = rng.standard_normal(shape) * 2 + 0.5
        ops.batch_norm(x, rm, rv, w, b, training=True, momentum=momentum)
        ops.batch_norm(x, crm, crv, w, b, training=True, momentum=momentum)
        torch.nn.functional.batch_norm(torch.tensor(x), trm, trv, torch.tensor(w), torch.tensor(b),
                                       training=True, momentum=momentum)
    for got in ((rm, rv), (_np(crm), _np(crv))):
        np.testing.assert_allclose(got[0], trm.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(got[1], trv.numpy(), rtol=0, atol=1e-12)
    # Eval mode: normalise with the running statistics; gradients to x, weight, bias.
    x = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    xs, ws, bs = (cgan.tensor(a, requires_grad=True) for a in (x, w, b))
    y = ops.batch_norm(xs, rm, rv, ws, bs, training=False)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=False)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=0, atol=1e-10)
    for a, t in zip(cgan.grad(y, [xs, ws, bs], grad_outputs=cgan.tensor(g)),
                    torch.autograd.grad(ty, [tx, tw, tb], torch.tensor(g))):
        np.testing.assert_allclose(_np(a), t.numpy(), rtol=0, atol=1e-10)
    # Eval mode leaves the running statistics alone.
    np.testing.assert_allclose(rm, trm.numpy(), rtol=0, atol=1e-12)


def test_batch_norm_eval_batch_one_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng(8)
    x, rm, rv = rng.standard_normal((1, 3)), rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    y = ops.batch_norm(x, rm, rv, training=False, eps=1e-2)
    ty = torch.nn.functional.batch_norm(torch.tensor(x), torch.tensor(rm), torch.tensor(rv),
                                        training=False, eps=1e-2)
    np.testing.assert_allclose(_np(y), ty.numpy(), rtol=0, atol=1e-10)


def test_batch_norm_float32_matches_torch():
    torch = pytest.importorskip("torch")
    rng = _rng(9)
    x = (rng.standard_normal(NCHW) * 3 + 2).astype(np.float32)
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    y = ops.batch_norm(x, weight=w, bias=b, training=True)
    assert y.dtype == np.float32
    ty = torch.nn.functional.batch_norm(torch.tensor(x), None, None, torch.tensor(w), torch.tensor(b),
                                        training=True)
    np.testing.assert_allclose(_np(y), ty.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(4, 2), (2, 3, 2, 2)])
def test_batch_norm_train_gradcheck_and_gradgradcheck(shape):
    rng = _rng(10)
    C = shape[1]
    x, w, b = rng.standard_normal(shape), rng.standard_normal(C), rng.standard_normal(C)
    f = lambda xs: ops.batch_norm(xs[0], None, None, xs[1], xs[2], training=True, eps=0.1)
    gradcheck(f, [x, w, b])
    gradgradcheck(f, [x, w, b])
    # Without affine parameters: a nonlinear use, so the second derivative is not trivial.
    f2 = lambda xs: ops.batch_norm(xs[0], training=True) ** 3
    gradcheck(f2, [x])
    gradgradcheck(f2, [x])


@pytest.mark.parametrize("shape", [(3, 2), (2, 3, 2, 2)])
def test_batch_norm_eval_gradcheck_and_gradgradcheck(shape):
    rng = _rng(11)
    C = shape[1]
    x, w, b = rng.standard_normal(shape), rng.standard_normal(C), rng.standard_normal(C)
    rm, rv = rng.standard_normal(C), rng.uniform(0.5, 2.0, C)
    f = lambda xs: ops.batch_norm(xs[0], rm, rv, xs[1], xs[2], training=False) ** 2
    gradcheck(f, [x, w, b])
    gradgradcheck(f, [x, w, b])


# ---- layer_norm --------------------------------------------------------------------------------

LN_CASES = [((5, 4), 4), ((5, 4), (4,)), (NCHW, (4, 5, 6)), (NCHW, (5, 6)), ((1, 4, 5, 6), (4, 5, 6)),
            ((6,), 6)]


@pytest.mark.parametrize("shape,normalized_shape", LN_CASES)
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_matches_torch(shape, normalized_shape, affine):
    torch = pytest.importorskip("torch")
    rng = _rng(12)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    x = rng.standard_normal(shape) * 3 - 1
    w, b = (rng.standard_normal(ns), rng.standard_normal(ns)) if affine else (None, None)
    g = rng.standard_normal(shape)
    xs = cgan.tensor(x, requires_grad=True)
    ws, bs = [cgan.tensor(a, requires_grad=True) if affine else None for a in (w, b)]
    y = ops.layer_norm(xs, normalized_shape, ws, bs, eps=1e-4)
    tx = torch.tensor(x, requires_grad=True)
    tw, tb = [torch.tensor(a, requires_grad=True) if affine else None for a in (w, b)]
    ty = torch.nn.functional.layer_norm(tx, ns, tw, tb, eps=1e-4)
    np.testing.assert_allclose(_np(y), ty.detach().numpy(), rtol=0, atol=1e-10)
    ins, tins = ([xs, ws, bs], [tx, tw, tb]) if affine else ([xs], [tx])
    for a, t in zip(cgan.grad(y, ins, grad_outputs=cgan.tensor(g)),
                    torch.autograd.grad(ty, tins, torch.tensor(g))):
        np.testing.assert_allclose(_np(a), t.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("shape,normalized_shape", [((3, 4), 4), ((2, 2, 2, 3), (2, 3))])
def test_layer_norm_gradcheck_and_gradgradcheck(shape, normalized_shape):
    rng = _rng(13)
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    x, w, b = rng.standard_normal(shape), rng.standard_normal(ns), rng.standard_normal(ns)
    f = lambda xs: ops.layer_norm(xs[0], normalized_shape, xs[1], xs[2], eps=0.1)
    gradcheck(f, [x, w, b])
    gradgradcheck(f, [x, w, b])
    f2 = lambda xs: ops.layer_norm(xs[0], normalized_shape) ** 3
    gradgradcheck(f2, [x])


@pytest.mark.parametrize("norm", ["layer_norm", "batch_norm"])
def test_wgan_gp_penalty_through_normalisation_matches_torch(norm):
    """critic(x) = sum(tanh(norm(x) * a)); penalty = mean_i (||d critic(x_i)/d x_i|| - 1)^2.
    Its gradients with respect to the norm's weight and to x need the second derivative."""
    torch = pytest.importorskip("torch")
    rng = _rng(14)
    shape = (4, 3, 2, 2)
    x, w, b, a = (rng.standard_normal(shape), rng.standard_normal(3), rng.standard_normal(3),
                  rng.standard_normal(shape[1:]))
    if norm == "layer_norm":
        w, b = rng.standard_normal(shape[1:]), rng.standard_normal(shape[1:])

    def penalty(lib, xs, ws, bs, av):
        if lib is ops:
            h = (ops.layer_norm(xs, shape[1:], ws, bs) if norm == "layer_norm"
                 else ops.batch_norm(xs, None, None, ws, bs, training=True))
            out = ops.tanh(h * av).sum()
            (gx,) = cgan.grad(out, [xs], create_graph=True)
            n = ops.row_norm(ops.flatten(gx))
            return ((n - 1.0) ** 2).mean()
        F = torch.nn.functional
        h = (F.layer_norm(xs, shape[1:], ws, bs) if norm == "layer_norm"
             else F.batch_norm(xs, None, None, ws, bs, training=True))
        out = torch.tanh(h * av).sum()
        (gx,) = torch.autograd.grad(out, [xs], create_graph=True)
        return ((gx.flatten(1).norm(dim=1) - 1.0) ** 2).mean()

    xs, ws, bs = (cgan.tensor(v, requires_grad=True) for v in (x, w, b))
    p = penalty(ops, xs, ws, bs, cgan.tensor(a))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    tp = penalty(torch, tx, tw, tb, torch.tensor(a))
    np.testing.assert_allclose(p.item(), tp.item(), rtol=1e-12)
    for got, want in zip(cgan.grad(p, [ws, bs, xs]), torch.autograd.grad(tp, [tw, tb, tx])):
        assert np.abs(want.numpy()).max() > 1e-3  # the check is not vacuous
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=0, atol=1e-10)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_third_derivative_matches_torch(affine):
    """The input gradient of a layer norm is an op of its own (fused, for the penalty's double
    backward); its own rule is differentiated again here: d/dx of a function of d/dx of a
    function of d/dx of layer_norm, against PyTorch in float64. PyTorch's reference is
    layer norm written with means (2.13's F.layer_norm gives a different third derivative,
    which finite differences contradict; its first two agree with both)."""
    torch = pytest.importorskip("torch")
    rng = _rng(16)
    shape, ns = (3, 2, 3, 4), (2, 3, 4)
    x, w, b, a, c, d = (rng.standard_normal(s) for s in (shape, ns, ns, ns, shape, shape))

    def third(lib, xs, ws, bs):
        T = (lambda v: cgan.tensor(v)) if lib is ops else torch.tensor
        grad = cgan.grad if lib is ops else torch.autograd.grad
        if lib is ops:
            ln = ops.layer_norm(xs, ns, ws, bs)
        else:
            m = xs.mean(dim=(1, 2, 3), keepdim=True)
            ln = (xs - m) / torch.sqrt(((xs - m) ** 2).mean(dim=(1, 2, 3), keepdim=True) + 1e-5)
            ln = ln * ws + bs if affine else ln
        (g1,) = grad(lib.tanh(ln * T(a)).sum(), [xs], create_graph=True)
        (g2,) = grad((g1 * g1 * T(c)).sum(), [xs], create_graph=True)
        ins = [xs, ws] if affine else [xs]
        return grad((g2 * T(d)).sum(), ins)

    xs, ws, bs = (cgan.tensor(v, requires_grad=True) for v in (x, w, b))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    if not affine:
        ws = bs = tw = tb = None
    for got, want in zip(third(ops, xs, ws, bs), third(torch, tx, tw, tb)):
        assert np.abs(want.numpy()).max() > 1e-3
        np.testing.assert_allclose(_np(got), want.numpy(), rtol=0, atol=1e-9)


def test_layer_norm_double_backward_in_float32_matches_float64():
    """The fused second-derivative kernel in float32 (the penalty's dtype in training)."""
    rng = _rng(17)
    shape, ns = (8, 16, 7, 7), (16, 7, 7)
    x, w, b, a = (rng.standard_normal(s) for s in (shape, ns, ns, ns))
    x = x * 2 + 0.5

    def grads(dtype):
        xs, ws, bs = (cgan.tensor(v.astype(dtype), requires_grad=True) for v in (x, w, b))
        out = ops.tanh(ops.layer_norm(xs, ns, ws, bs) * cgan.tensor(a.astype(dtype))).sum()
        (gx,) = cgan.grad(out, [xs], create_graph=True)
        pen = ((ops.row_norm(ops.flatten(gx)) - 1.0) ** 2).mean()
        return [_np(t).astype(np.float64) for t in cgan.grad(pen, [xs, ws, bs])]

    for g32, g64 in zip(grads(np.float32), grads(np.float64)):
        assert np.abs(g64).max() > 1e-3
        np.testing.assert_allclose(g32, g64, rtol=0, atol=2e-5 * np.abs(g64).max())


# ---- upsample_nearest and flatten -----------------------------------------------------------------

@pytest.mark.parametrize("scale", [1, 2, 3, (2, 1), (1, 3), [3, 2]])
def test_upsample_nearest_matches_torch(scale):
    torch = pytest.importorskip("torch")
    rng = _rng(15)
    x, g = rng.standard_normal((2, 3, 4, 5)), None
    sh, sw = (scale, scale) if isinstance(scale, int) else scale
    g = rng.standard_normal((2, 3, 4 * sh, 5 * sw))
    xs = cgan.tensor(x, requires_grad=True)
    y = ops.upsample_nearest(xs, scale)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, scale_factor=(float(sh), float(sw)), mode="nearest")
    assert y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(_np(y), ty.detach().numpy())
    (gx,) = cgan.grad(y, [xs], grad_outputs=cgan.tensor(g))
    (tgx,) = torch.autograd.grad(ty, [tx], torch.tensor(g))
    np.testing.assert_allclose(_np(gx), tgx.numpy(), rtol=0, atol=1e-12)


def test_upsample_nearest_float32_and_batch_one():
    x = _rng(16).standard_normal((1, 1, 2, 3)).astype(np.float32)
    y = _np(ops.upsample_nearest(x, 2))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, np.repeat(np.repeat(x, 2, axis=2), 2, axis=3))


@pytest.mark.parametrize("scale", [2, (1, 3)])
def test_upsample_nearest_gradcheck_and_gradgradcheck(scale):
    x = _rng(17).standard_normal((2, 2, 2, 3))
    f = lambda xs: ops.upsample_nearest(xs[0], scale)
    gradcheck(f, [x])
    gradgradcheck(f, [x])
    # Nonlinear around it: the rule (block sum) and its rule (upsample) are both exercised.
    f2 = lambda xs: ops.upsample_nearest(xs[0] ** 2, scale) ** 2
    gradgradcheck(f2, [x])


def test_flatten_matches_numpy_and_is_differentiable():
    x = _rng(18).standard_normal((2, 3, 4, 5))
    assert ops.flatten(x).shape == (2, 60)
    assert ops.flatten(x, 0).shape == (120,)
    assert ops.flatten(x, 1, 2).shape == (2, 12, 5)
    assert ops.flatten(x, -2).shape == (2, 3, 20)
    np.testing.assert_array_equal(_np(ops.flatten(x)), x.reshape(2, -1))
    gradgradcheck(lambda xs: ops.flatten(xs[0] ** 2), [x[:1, :2, :2, :2]])


# ---- bad input --------------------------------------------------------------------------------

def test_batch_norm_refuses_bad_arguments():
    x, ones, zeros = np.ones((4, 3, 2, 2)), np.ones(3), np.zeros(3)
    bn = ops.batch_norm
    for eps in (0.0, -1e-5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="eps"):
            bn(x, training=True, eps=eps)
    with pytest.raises(TypeError, match="eps"):
        bn(x, training=True, eps="small")
    for m in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="momentum"):
            bn(x, zeros.copy(), ones.copy(), training=True, momentum=m)
    with pytest.raises(TypeError, match="momentum"):
        bn(x, zeros.copy(), ones.copy(), training=True, momentum=None)
    with pytest.raises(ValueError, match=r"weight has shape \(4,\).*expected \(3,\)"):
        bn(x, weight=np.ones(4), training=True)
    with pytest.raises(ValueError, match="bias"):
        bn(x, bias=np.ones((3, 1)), training=True)
    with pytest.raises(ValueError, match="running_mean"):
        bn(x, np.zeros(2), ones.copy(), training=True)
    with pytest.raises(ValueError, match="running_var"):
        bn(x, zeros, np.ones(4))
    with pytest.raises(ValueError, match="both running_mean and running_var"):
        bn(x, zeros.copy(), None, training=True)
    with pytest.raises(ValueError, match="eval mode"):
        bn(x, training=False)
    with pytest.raises(ValueError, match=r"\(N, C\)"):
        bn(np.ones(3), training=True)
    with pytest.raises(TypeError, match="running_mean.*in place"):
        bn(x, [0.0, 0.0, 0.0], ones.copy(), training=True)
    with pytest.raises(TypeError, match="running_var.*in place"):
        bn(x, zeros.copy(), np.ones(3, dtype=np.int64), training=True)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(TypeError, match="running_var"):
        bn(x, zeros.copy(), frozen, training=True)
    # Eval mode only reads them: any array-like will do.
    assert bn(x, [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]).shape == x.shape


def test_layer_norm_refuses_bad_arguments():
    x = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=r"normalized_shape \(3,\).*x of shape \(2, 3, 4\)"):
        ops.layer_norm(x, 3)
    with pytest.raises(ValueError, match=r"normalized_shape \(2, 3, 4, 5\)"):
        ops.layer_norm(x, (2, 3, 4, 5))
    with pytest.raises(ValueError, match="normalized_shape"):
        ops.layer_norm(x, ())
    with pytest.raises(TypeError, match="normalized_shape"):
        ops.layer_norm(x, 4.0)
    with pytest.raises(ValueError, match=r"weight has shape \(3, 4\).*expected \(4,\)"):
        ops.layer_norm(x, 4, weight=np.ones((3, 4)))
    with pytest.raises(ValueError, match="bias"):
        ops.layer_norm(x, (3, 4), bias=np.ones(4))
    for eps in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="eps"):
            ops.layer_norm(x, 4, eps=eps)


def test_upsample_and_flatten_refuse_bad_arguments():
    x = np.ones((1, 2, 3, 3))
    for s in (0, -1, (2, 0)):
        with pytest.raises(ValueError, match="scale_factor"):
            ops.upsample_nearest(x, s)
    with pytest.raises(ValueError, match="pair"):
        ops.upsample_nearest(x, (1, 2, 3))
    for s in (1.5, True, "2"):
        with pytest.raises(TypeError, match="scale_factor"):
            ops.upsample_nearest(x, s)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        ops.upsample_nearest(np.ones((2, 3, 4)), 2)
    with pytest.raises(ValueError, match="start_dim"):
        ops.flatten(x, 4)
    with pytest.raises(ValueError, match="after end_dim"):
        ops.flatten(x, 2, 1)
    with pytest.raises(TypeError, match="start_dim"):
        ops.flatten(x, 1.0)
