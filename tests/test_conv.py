"""cgan.ops.conv2d / conv_transpose2d: values and gradients against PyTorch (float64,
1e-10) over a grid of geometries, finite-difference first and second derivatives, a
WGAN-GP penalty through a convolutional critic, bitwise repeatability on two threads,
and the errors for bad input."""
import itertools

import numpy as np
import pytest

import cgan
from cgan import ops
from gradcheck import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
F = torch.nn.functional
# Tiny tensors: torch's OpenMP team would only spin-wait between calls.
torch.set_num_threads(1)

TOL = 1e-10


def _close(a, b, tol=TOL, what=""):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    scale = max(1.0, float(np.abs(b).max(initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale, err_msg=what)


# ---- the geometry grid --------------------------------------------------------------------
# (N, C_in, C_out, (H, W), (kh, kw), stride, padding, bias): kernels 1..5 and non-square,
# strides 1..3 (and mixed pairs), paddings 0..2, odd and even images, batch 1 and > 1,
# one and several channels. Only geometries torch accepts.

def _conv_grid():
    cases = []
    kernels = [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5), (2, 3), (5, 1), (1, 4)]
    strides = [1, 2, 3, (1, 2), (3, 1)]
    paddings = [0, 1, 2, (0, 2)]
    sizes = [(7, 7), (8, 6), (5, 9)]
    rng = np.random.default_rng(7)
    for i, (k, s, p) in enumerate(itertools.product(kernels, strides, paddings)):
        hw = sizes[i % len(sizes)]
        n = 1 if i % 3 == 0 else 3
        cin, cout = [(1, 1), (3, 2), (2, 4), (1, 5)][i % 4]
        pp = p if isinstance(p, tuple) else (p, p)
        if k[0] > hw[0] + 2 * pp[0] or k[1] > hw[1] + 2 * pp[1]:
            continue
        cases.append((n, cin, cout, hw, k, s, p, bool(rng.integers(2))))
    return cases


CONV_GRID = _conv_grid()


def _pair(v):
    return v if isinstance(v, tuple) else (v, v)


def _arrays(n, cin, cout, hw, k, bias, transposed, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, cin) + hw).astype(dtype)
    wshape = (cin, cout) + k if transposed else (cout, cin) + k
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype) if bias else None
    return x, w, b


def _torch_grads(fn, x, w, b, g):
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    tb = None if b is None else torch.tensor(b, requires_grad=True)
    y = fn(tx, tw, tb)
    params = [tx, tw] + ([tb] if b is not None else [])
    grads = torch.autograd.grad(y, params, torch.tensor(g))
    return y.detach().numpy(), [t.numpy() for t in grads]


def _cgan_grads(fn, x, w, b, g):
    params = [cgan.tensor(x, requires_grad=True), cgan.tensor(w, requires_grad=True)]
    if b is not None:
        params.append(cgan.tensor(b, requires_grad=True))
    y = fn(*params) if b is not None else fn(*params, None)
    grads = cgan.grad(y, params, grad_outputs=cgan.tensor(g))
    return y.numpy(), [t.numpy() for t in grads]


def test_grid_covers_the_geometries():
    ks = {c[4] for c in CONV_GRID}
    assert {k[0] for k in ks} >= {1, 2, 3, 4, 5} and any(k[0] != k[1] for k in ks)
    assert {_pair(c[5])[0] for c in CONV_GRID} >= {1, 2, 3}
    assert {_pair(c[6])[0] for c in CONV_GRID} >= {0, 1, 2}
    assert {c[0] for c in CONV_GRID} == {1, 3} and {c[1] for c in CONV_GRID} >= {1, 3}
    assert {c[7] for c in CONV_GRID} == {True, False} and len(CONV_GRID) > 100


@pytest.mark.parametrize("case", CONV_GRID, ids=str)
def test_conv2d_value_and_grads_match_torch(case):
    n, cin, cout, hw, k, s, p, bias = case
    x, w, b = _arrays(n, cin, cout, hw, k, bias, transposed=False)
    yt = F.conv2d(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b),
                  stride=s, padding=p).numpy()
    g = np.random.default_rng(1).standard_normal(yt.shape)
    y_ref, g_ref = _torch_grads(lambda a, c, d: F.conv2d(a, c, d, stride=s, padding=p), x, w, b, g)
    y, grads = _cgan_grads(lambda a, c, d: ops.conv2d(a, c, d, stride=s, padding=p), x, w, b, g)
    _close(y, y_ref, what="conv2d value")
    for name, a, r in zip(["x", "weight", "bias"], grads, g_ref):
        _close(a, r, what=f"conv2d grad of {name}")


def _transposed_grid():
    cases = []
    for i, (n, cin, cout, hw, k, s, p, bias) in enumerate(CONV_GRID):
        sp = _pair(s)
        op = (i % sp[0], (i // 2) % sp[1])  # every output padding in [0, stride) shows up
        pp = _pair(p)
        out = [(hw[a] - 1) * sp[a] - 2 * pp[a] + k[a] + op[a] for a in range(2)]
        if min(out) < 1 or max(op) >= max(sp) or any(o >= q for o, q in zip(op, sp)):
            continue
        cases.append((n, cin, cout, hw, k, s, p, op, bias))
    return cases


TRANSPOSED_GRID = _transposed_grid()


def test_transposed_grid_covers_output_paddings():
    assert {c[7] for c in TRANSPOSED_GRID} >= {(0, 0), (1, 0), (0, 1), (1, 1), (2, 0)}
    assert len(TRANSPOSED_GRID) > 100


@pytest.mark.parametrize("case", TRANSPOSED_GRID, ids=str)
def test_conv_transpose2d_value_and_grads_match_torch(case):
    n, cin, cout, hw, k, s, p, op, bias = case
    x, w, b = _arrays(n, cin, cout, hw, k, bias, transposed=True)

    def ref(a, c, d):
        return F.conv_transpose2d(a, c, d, stride=s, padding=p, output_padding=op)

    yt = ref(torch.tensor(x), torch.tensor(w), None if b is None else torch.tensor(b))
    g = np.random.default_rng(2).standard_normal(tuple(yt.shape))
    y_ref, g_ref = _torch_grads(ref, x, w, b, g)
    y, grads = _cgan_grads(
        lambda a, c, d: ops.conv_transpose2d(a, c, d, stride=s, padding=p, output_padding=op),
        x, w, b, g)
    _close(y, y_ref, what="conv_transpose2d value")
    for name, a, r in zip(["x", "weight", "bias"], grads, g_ref):
        _close(a, r, what=f"conv_transpose2d grad of {name}")


def test_float32_matches_torch():
    x, w, b = _arrays(4, 3, 5, (9, 8), (3, 4), True, transposed=False, dtype=np.float32)
    y = ops.conv2d(x, w, b, stride=2, padding=1)
    assert y.dtype == np.float32
    ref = F.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=2, padding=1)
    _close(y.numpy(), ref.numpy(), tol=1e-5, what="conv2d float32")
    xt, wt, bt = _arrays(4, 3, 5, (6, 7), (4, 3), True, transposed=True, dtype=np.float32)
    y = ops.conv_transpose2d(xt, wt, bt, stride=2, padding=1, output_padding=1)
    assert y.dtype == np.float32
    ref = F.conv_transpose2d(torch.tensor(xt), torch.tensor(wt), torch.tensor(bt), stride=2,
                             padding=1, output_padding=1)
    _close(y.numpy(), ref.numpy(), tol=1e-5, what="conv_transpose2d float32")
    # and the float32 gradients
    g = np.random.default_rng(3).standard_normal(y.shape).astype(np.float32)
    y_ref, g_ref = _torch_grads(lambda a, c, d: F.conv_transpose2d(
        a, c, d, stride=2, padding=1, output_padding=1), xt, wt, bt, g)
    _, grads = _cgan_grads(lambda a, c, d: ops.conv_transpose2d(
        a, c, d, stride=2, padding=1, output_padding=1), xt, wt, bt, g)
    for a, r in zip(grads, g_ref):
        assert a.dtype == np.float32
        _close(a, r, tol=1e-5, what="conv_transpose2d float32 gradient")


@pytest.mark.parametrize("transposed", [False, True])
def test_float32_large_channels_match_torch(transposed):
    # Sizes past the float32 GEMM's blocks (depth 256, 96 rows, 16-column panels, edges).
    x, w, b = _arrays(3, 40, 100, (9, 7), (3, 3), True, transposed, seed=6, dtype=np.float32)
    kw = dict(stride=2, padding=1, output_padding=1) if transposed else dict(stride=1, padding=1)
    ref_op = F.conv_transpose2d if transposed else F.conv2d
    op = ops.conv_transpose2d if transposed else ops.conv2d
    y_ref = ref_op(torch.tensor(x), torch.tensor(w), torch.tensor(b), **kw)
    g = np.random.default_rng(8).standard_normal(tuple(y_ref.shape)).astype(np.float32)
    y_ref, g_ref = _torch_grads(lambda a, c, d: ref_op(a, c, d, **kw), x, w, b, g)
    y, grads = _cgan_grads(lambda a, c, d: op(a, c, d, **kw), x, w, b, g)
    _close(y, y_ref, tol=1e-5, what="float32 value")
    for name, a, r in zip(["x", "weight", "bias"], grads, g_ref):
        _close(a, r, tol=1e-5, what=f"float32 gradient of {name}")


# The kernels work through the batch in blocks of up to 16 images, laid out image-minor,
# with 8 x 8 transposes in and out: batches that leave a short last block (and a padded
# block refilled for it), widths that are not multiples of 8, and blocks that the
# scratch-memory cap shortens (the second geometry: 144 x 1020 columns per image).
BLOCK_CASES = [(37, 3, 10, (13, 11), (4, 3), 2, 1), (7, 16, 8, (34, 30), (3, 3), 1, 1)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize("case", BLOCK_CASES)
def test_image_blocks_match_torch(case, transposed, dtype, threads):
    n, cin, cout, hw, k, s, p = case
    x, w, b = _arrays(n, cin, cout, hw, k, True, transposed, seed=11, dtype=dtype)
    ref_op = F.conv_transpose2d if transposed else F.conv2d
    op = ops.conv_transpose2d if transposed else ops.conv2d
    y_ref = ref_op(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=s, padding=p)
    g = np.random.default_rng(12).standard_normal(tuple(y_ref.shape)).astype(dtype)
    y_ref, g_ref = _torch_grads(lambda a, c, d: ref_op(a, c, d, stride=s, padding=p), x, w, b, g)
    before = cgan.get_num_threads()
    try:
        cgan.set_num_threads(threads)
        y, grads = _cgan_grads(lambda a, c, d: op(a, c, d, stride=s, padding=p), x, w, b, g)
    finally:
        cgan.set_num_threads(before)
    tol = TOL if dtype == np.float64 else 1e-5
    _close(y, y_ref, tol=tol, what="value")
    for name, a, r in zip(["x", "weight", "bias"], grads, g_ref):
        _close(a, r, tol=tol, what=f"gradient of {name}")


def test_mixed_dtypes_promote_to_float64():
    x, w, b = _arrays(2, 2, 3, (5, 5), (3, 3), True, transposed=False)
    y = ops.conv2d(x.astype(np.float32), w, b.astype(np.float32), padding=1)
    assert y.dtype == np.float64
    ref = F.conv2d(torch.tensor(x.astype(np.float32)).double(), torch.tensor(w),
                   torch.tensor(b.astype(np.float32)).double(), padding=1)
    _close(y.numpy(), ref.numpy(), what="promoted conv2d")
    y = ops.conv_transpose2d(x, w.astype(np.float32).transpose(1, 0, 2, 3).copy(), stride=2)
    assert y.dtype == np.float64


def test_int_and_pair_arguments_agree():
    x, w, _ = _arrays(1, 2, 2, (7, 6), (3, 2), False, transposed=False)
    a = ops.conv2d(x, w, stride=2, padding=1).numpy()
    b = ops.conv2d(x, w, stride=(2, 2), padding=[1, 1]).numpy()
    c = ops.conv2d(x, w, stride=np.int64(2), padding=(np.int32(1), 1)).numpy()
    assert np.array_equal(a, b) and np.array_equal(a, c)


# ---- finite differences, first and second order --------------------------------------------

FD_CASES = [
    # (transposed, N, C_in, C_out, (H, W), (kh, kw), stride, padding, output_padding, bias)
    (False, 1, 2, 2, (5, 4), (3, 2), 1, 1, 0, True),
    (False, 2, 1, 2, (6, 5), (2, 3), 2, 0, 0, False),
    (False, 1, 2, 1, (5, 6), (3, 3), (2, 3), (1, 2), 0, True),
    (False, 1, 1, 2, (4, 4), (1, 1), 1, 0, 0, True),
    (True, 1, 2, 2, (3, 3), (3, 2), 1, 1, 0, True),
    (True, 2, 1, 2, (3, 2), (2, 3), 2, 0, 1, False),
    (True, 1, 2, 1, (2, 3), (4, 4), (3, 2), (1, 0), (2, 1), True),
]


def _fd_fn(case):
    transposed, *_, s, p, op, bias = case
    if transposed:
        return lambda t: ops.conv_transpose2d(t[0], t[1], t[2] if bias else None, stride=s,
                                              padding=p, output_padding=op)
    return lambda t: ops.conv2d(t[0], t[1], t[2] if bias else None, stride=s, padding=p)


def _fd_arrays(case):
    transposed, n, cin, cout, hw, k, s, p, op, bias = case
    x, w, b = _arrays(n, cin, cout, hw, k, bias, transposed, seed=5)
    return [x, w] + ([b] if bias else [])


@pytest.mark.parametrize("case", FD_CASES, ids=str)
def test_gradcheck(case):
    gradcheck(_fd_fn(case), _fd_arrays(case))


@pytest.mark.parametrize("case", FD_CASES, ids=str)
def test_gradgradcheck(case):
    gradgradcheck(_fd_fn(case), _fd_arrays(case))


def test_third_derivative_through_two_convolutions():
    # The gradient of a penalty on a gradient: x -> conv -> tanh -> conv_transpose; every
    # rule of the three conv ops is taken again (tanh keeps the derivatives non-zero).
    rng = np.random.default_rng(11)
    x0 = rng.standard_normal((1, 2, 5, 5))
    w10 = rng.standard_normal((3, 2, 3, 3)) * 0.4
    w20 = rng.standard_normal((3, 1, 2, 2)) * 0.4

    def third(lib, x, w1, w2):
        if lib == "torch":
            conv, convt, grad, tanh = F.conv2d, F.conv_transpose2d, torch.autograd.grad, torch.tanh
        else:
            conv, convt, tanh = ops.conv2d, ops.conv_transpose2d, ops.tanh
            grad = lambda y, xs, create_graph: cgan.grad(y, list(xs), create_graph=create_graph)
        y = convt(tanh(conv(x, w1, stride=2, padding=1)), w2, stride=2)
        (gx,) = grad((y * y).sum(), [x], create_graph=True)
        (gw,) = grad((gx * gx).sum(), [w1], create_graph=True)
        return grad((gw * gw).sum(), [x, w2], create_graph=False)

    ref = third("torch", *[torch.tensor(a, requires_grad=True) for a in (x0, w10, w20)])
    got = third("cgan", *[cgan.tensor(a, requires_grad=True) for a in (x0, w10, w20)])
    for a, r in zip(got, ref):
        _close(a.numpy(), r.numpy(), what="third derivative")


# ---- WGAN-GP through a convolutional critic -----------------------------------------------

def _critic_penalty(lib, x, params):
    """Two-layer conv critic D; loss = mean(D(x)) + 10 mean((||grad_x D(x)|| - 1)^2)."""
    w1, b1, w2, b2 = params
    if lib == "torch":
        conv, leaky = F.conv2d, (lambda t: F.leaky_relu(t, 0.2))
        grad = lambda y, xs: torch.autograd.grad(y, xs, create_graph=True)
        norm = lambda g: g.reshape(g.shape[0], -1).norm(dim=1)
    else:
        conv, leaky = ops.conv2d, (lambda t: ops.leaky_relu(t, 0.2))
        grad = lambda y, xs: cgan.grad(y, xs, create_graph=True)
        norm = lambda g: ops.row_norm(g.reshape([g.shape[0], int(np.prod(g.shape[1:]))])).reshape([g.shape[0]])
    h = leaky(conv(x, w1, b1, stride=2, padding=1))       # (N, 4, 4, 4)
    d = conv(h, w2, b2, stride=1, padding=0)                # (N, 1, 1, 1)
    (gx,) = grad(d.sum(), [x])
    pen = ((norm(gx) - 1.0) ** 2).mean()
    return d.mean() + 10.0 * pen


def test_gradient_penalty_through_conv_critic_matches_torch():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 2, 8, 8))
    params = [rng.standard_normal((4, 2, 4, 4)) * 0.3, rng.standard_normal(4) * 0.1,
              rng.standard_normal((1, 4, 4, 4)) * 0.3, rng.standard_normal(1) * 0.1]
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    tloss = _critic_penalty("torch", torch.tensor(x, requires_grad=True), tp)
    tgrads = torch.autograd.grad(tloss, tp)
    cp = [cgan.tensor(p, requires_grad=True) for p in params]
    closs = _critic_penalty("cgan", cgan.tensor(x, requires_grad=True), cp)
    cgrads = cgan.grad(closs, cp)
    _close(closs.numpy(), tloss.detach().numpy(), what="WGAN-GP loss")
    for name, a, r in zip(["w1", "b1", "w2", "b2"], cgrads, tgrads):
        assert np.abs(r.numpy()).max() > 1e-3  # the penalty's second-order terms are present
        _close(a.numpy(), r.numpy(), what=f"WGAN-GP gradient of {name}")


# ---- threads ----------------------------------------------------------------------------------

def _fwd_bwd_bytes(transposed):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((16, 16, 12, 12)).astype(np.float32)
    w = rng.standard_normal((16, 24, 3, 3) if transposed else (24, 16, 3, 3)).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    op = ops.conv_transpose2d if transposed else ops.conv2d
    xs = [cgan.tensor(a, requires_grad=True) for a in (x, w, b)]
    y = op(*xs, stride=1, padding=1)
    g = cgan.tensor(rng.standard_normal(y.shape).astype(np.float32))
    grads = cgan.grad(y, xs, grad_outputs=g)
    return [y.numpy().tobytes()] + [t.numpy().tobytes() for t in grads]


@pytest.mark.parametrize("transposed", [False, True])
def test_bitwise_repeatable_on_two_threads(transposed):
    before = cgan.get_num_threads()
    try:
        cgan.set_num_threads(2)
        first = _fwd_bwd_bytes(transposed)
        for _ in range(3):
            assert _fwd_bwd_bytes(transposed) == first
        cgan.set_num_threads(1)
        one = _fwd_bwd_bytes(transposed)
    finally:
        cgan.set_num_threads(before)
    # One thread computes the same values (up to the weight-gradient summation order).
    for a, b in zip(first, one):
        np.testing.assert_allclose(np.frombuffer(a, np.float32), np.frombuffer(b, np.float32),
                                   rtol=1e-4, atol=1e-3)


# ---- bad input ---------------------------------------------------------------------------------

X = np.zeros((2, 3, 8, 8))
W = np.zeros((4, 3, 3, 3))
WT = np.zeros((3, 4, 3, 3))


@pytest.mark.parametrize("call, match", [
    (lambda: ops.conv2d(X, np.zeros((4, 2, 3, 3))), r"conv2d: input has 3 channels.*\(4, 2, 3, 3\).*expects 2"),
    (lambda: ops.conv_transpose2d(X, np.zeros((2, 4, 3, 3))), r"conv_transpose2d: input has 3 channels.*expects 2"),
    (lambda: ops.conv2d(X, np.zeros((4, 3, 9, 3))), r"conv2d: kernel \(9, 3\) is larger than the padded input \(8, 8\)"),
    (lambda: ops.conv2d(X, np.zeros((4, 3, 11, 3)), padding=1), r"larger than the padded input \(10, 10\)"),
    (lambda: ops.conv2d(X, W, stride=0), r"conv2d: stride must be >= 1, got \(0, 0\)"),
    (lambda: ops.conv2d(X, W, stride=(1, -2)), r"stride must be >= 1, got \(1, -2\)"),
    (lambda: ops.conv_transpose2d(X, WT, stride=0), r"conv_transpose2d: stride must be >= 1"),
    (lambda: ops.conv2d(X, W, padding=-1), r"conv2d: padding must be >= 0, got \(-1, -1\)"),
    (lambda: ops.conv_transpose2d(X, WT, padding=(0, -1)), r"padding must be >= 0"),
    (lambda: ops.conv_transpose2d(X, WT, stride=2, output_padding=2), r"output_padding must be in \[0, stride\).*\(2, 2\)"),
    (lambda: ops.conv_transpose2d(X, WT, output_padding=1), r"output_padding must be in \[0, stride\)"),
    (lambda: ops.conv_transpose2d(X, WT, output_padding=-1), r"output_padding must be in \[0, stride\)"),
    (lambda: ops.conv_transpose2d(np.zeros((1, 3, 1, 1)), np.zeros((3, 4, 1, 1)), padding=1), r"conv_transpose2d: output size \(-1, -1\) is below 1"),
    (lambda: ops.conv2d(np.zeros((3, 8, 8)), W), r"conv2d: expects an input of shape \(N, C, H, W\), got \(3, 8, 8\)"),
    (lambda: ops.conv_transpose2d(np.zeros((3, 8)), WT), r"conv_transpose2d: expects an input of shape \(N, C, H, W\)"),
    (lambda: ops.conv2d(X, np.zeros((4, 3, 3))), r"conv2d: expects a 4-D weight, got shape \(4, 3, 3\)"),
    (lambda: ops.conv2d(X, np.zeros((0, 3, 3, 3))), r"conv2d: weight of shape \(0, 3, 3, 3\) has an empty axis"),
    (lambda: ops.conv2d(np.zeros((2, 3, 0, 8)), W), r"conv2d: images of shape \(3, 0, 8\) are empty"),
    (lambda: ops.conv2d(X, W, np.zeros(3)), r"conv2d: bias must have shape \(4,\), got \(3,\)"),
    (lambda: ops.conv_transpose2d(X, WT, np.zeros((4, 1))), r"conv_transpose2d: bias must have shape \(4,\)"),
])
def test_bad_values_raise_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("kwargs, match", [
    (dict(stride=1.0), r"conv2d: stride must be an int or a pair of ints, got 1.0"),
    (dict(stride=True), r"stride must be an int or a pair of ints, got True"),
    (dict(padding=(1, 1, 1)), r"padding must be an int or a pair of ints, got \(1, 1, 1\)"),
    (dict(padding="1"), r"padding must be an int or a pair of ints"),
    (dict(stride=(1, None)), r"stride must be an int or a pair of ints, got None"),
    (dict(padding=np.bool_(True)), r"padding must be an int or a pair of ints"),
])
def test_bad_types_raise_type_error(kwargs, match):
    with pytest.raises(TypeError, match=match):
        ops.conv2d(X, W, **kwargs)


def test_bad_output_padding_type_and_operands():
    with pytest.raises(TypeError, match="conv_transpose2d: output_padding must be an int"):
        ops.conv_transpose2d(X, WT, stride=2, output_padding=0.5)
    with pytest.raises(TypeError):
        ops.conv2d(X, np.array([["a"]]))
    with pytest.raises(TypeError):
        ops.conv2d(X, W, bias="b")


def test_failed_call_leaves_inputs_unchanged():
    x = cgan.tensor(np.ones((1, 3, 4, 4)), requires_grad=True)
    with pytest.raises(ValueError):
        ops.conv2d(x, np.zeros((2, 3, 5, 5)))
    assert x.grad is None and np.all(x.numpy() == 1.0)
    y = ops.conv2d(x, np.ones((2, 3, 3, 3)), padding=1)   # still usable afterwards
    assert y.shape == (1, 2, 4, 4)
