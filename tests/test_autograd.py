"""Autograd engine and Tensor API behaviour: accumulation, graph release, errors, grad
mode, dtypes and conversion, memory, double backward (WGAN-GP) and determinism."""
import gc

import numpy as np
import pytest
from scipy import special

import cgan
from cgan import ops


def t64(a, requires_grad=False):
    return cgan.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


# ---- backward / grad ---------------------------------------------------------------------

def test_backward_accumulates_into_grad():
    x = t64([1.0, 2.0, 3.0], requires_grad=True)
    assert x.grad is None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0, 6.0])
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 7.0, 9.0])
    x.zero_grad()
    assert x.grad is None


def test_backward_with_gradient_argument():
    x = t64([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    (x * 2.0).backward(np.array([[1.0, 0.0], [0.5, 2.0]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 0.0], [1.0, 4.0]])


def test_backward_of_non_scalar_needs_gradient():
    x = t64([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(2,\)"):
        (x * 2.0).backward()


def test_leaf_grads_do_not_alias_each_other():
    # d(x + y) is the same incoming gradient for both leaves; later accumulation into
    # one .grad must not show up in the other.
    x, y = t64([1.0, 2.0], True), t64([3.0, 4.0], True)
    (x + y).sum().backward()
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])


def test_leaf_grads_do_not_alias_after_create_graph():
    x, y = t64([1.0, 2.0], True), t64([3.0, 4.0], True)
    v = t64([1.0, 1.0])
    (x + y).backward(v, create_graph=True)
    (x * 2.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(y.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [1.0, 1.0])


def test_backward_twice_without_retain_graph_raises():
    x = t64([1.0, 2.0], requires_grad=True)
    loss = (ops.exp(x) * x).sum()
    loss.backward()
    with pytest.raises(ValueError, match="retain_graph"):
        loss.backward()


def test_grad_twice_without_retain_graph_raises():
    x = t64([1.0, 2.0], requires_grad=True)
    loss = (ops.tanh(x) * 2.0).sum()
    cgan.grad(loss, x)
    with pytest.raises(ValueError, match="retain_graph"):
        cgan.grad(loss, x)


def test_backward_through_a_freed_subgraph_raises():
    x = t64([1.0, 2.0], requires_grad=True)
    h = ops.exp(x)
    h.sum().backward()
    with pytest.raises(ValueError, match="retain_graph"):
        (h * 2.0).sum().backward()


def test_grad_frees_only_the_part_of_the_graph_it_used():
    # GAN pattern: the critic loss is differentiated for the critic only; the generator
    # graph behind `fake` was not run, so it must still be there for the generator loss.
    z = t64([[0.5, -1.0]])
    wg = t64([[1.0, 2.0], [0.5, -0.5]], requires_grad=True)
    wd = t64([[0.3, -0.2]], requires_grad=True)
    fake = ops.tanh(z @ wg)
    (gd,) = cgan.grad(ops.linear(fake, wd).sum(), wd)
    np.testing.assert_allclose(gd.numpy(), np.tanh(z.numpy() @ wg.numpy()), rtol=1e-15)
    (gg,) = cgan.grad((ops.linear(fake, wd) * -1.0).sum(), wg)
    h = np.tanh(z.numpy() @ wg.numpy())
    np.testing.assert_allclose(gg.numpy(), z.numpy().T @ (-wd.numpy() * (1 - h ** 2)), rtol=1e-14)


def test_grad_past_a_freed_subgraph_that_is_not_needed():
    x, w = t64([1.0, 2.0], True), t64([3.0, -1.0], True)
    h = ops.exp(x)
    cgan.grad(h.sum(), x)  # frees h's node
    (gw,) = cgan.grad((h * w).sum(), w)  # needs only h's value, not its graph
    np.testing.assert_allclose(gw.numpy(), np.exp([1.0, 2.0]), rtol=1e-15)
    with pytest.raises(ValueError, match="retain_graph"):
        cgan.grad((h * w).sum(), [w, x])
    with pytest.raises(ValueError, match="retain_graph"):
        cgan.grad((h * w).sum(), [x], allow_unused=True)


def test_retain_graph_allows_a_second_backward():
    x = t64([1.0, 2.0], requires_grad=True)
    loss = (ops.exp(x) * x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first, rtol=1e-15)


def test_grad_retain_graph_and_create_graph_default():
    x = t64([0.5, -1.0], requires_grad=True)
    loss = (ops.sigmoid(x) * x).sum()
    (a,) = cgan.grad(loss, x, retain_graph=True)
    (b,) = cgan.grad(loss, x)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    # create_graph keeps the graph by default (retain_graph defaults to create_graph)
    loss = (ops.sigmoid(x) * x).sum()
    (c,) = cgan.grad(loss, x, create_graph=True)
    (d,) = cgan.grad(loss, x)
    np.testing.assert_array_equal(c.numpy(), d.numpy())
    assert c.requires_grad and not d.requires_grad


def test_grad_does_not_touch_dot_grad():
    x = t64([1.0, 2.0], requires_grad=True)
    cgan.grad((x * x).sum(), [x])
    assert x.grad is None


def test_grad_of_input_not_requiring_grad_raises():
    x = t64([1.0, 2.0], requires_grad=True)
    c = t64([1.0, 1.0])
    with pytest.raises(ValueError, match="input 1 does not require grad"):
        cgan.grad((x * c).sum(), [x, c])


def test_output_not_requiring_grad_raises():
    c = t64([1.0, 2.0])
    x = t64([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="does not require grad"):
        cgan.grad((c * 2.0).sum(), x)
    with pytest.raises(ValueError, match="does not require grad"):
        (c * 2.0).sum().backward()


def test_allow_unused():
    x, y = t64([1.0, 2.0], True), t64([3.0], True)
    loss = (x * x).sum()
    with pytest.raises(ValueError, match="allow_unused"):
        cgan.grad(loss, [x, y], retain_graph=True)
    gx, gy = cgan.grad(loss, [x, y], allow_unused=True)
    np.testing.assert_array_equal(gx.numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(gy.numpy(), [0.0])
    assert gy.shape == (1,)


def test_grad_with_multiple_outputs_and_grad_outputs():
    x = t64([1.0, 2.0], requires_grad=True)
    y1, y2 = x * 2.0, ops.square(x)
    gx = cgan.grad([y1, y2], [x], grad_outputs=[t64([1.0, 1.0]), t64([0.5, 2.0])])[0]
    np.testing.assert_array_equal(gx.numpy(), [2.0 + 1.0, 2.0 + 8.0])


def test_grad_outputs_shape_mismatch_raises():
    x = t64([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        cgan.grad(x * 2.0, x, grad_outputs=t64([1.0, 1.0, 1.0]))


def test_set_requires_grad_on_non_leaf_raises():
    x = t64([1.0], requires_grad=True)
    y = x * 2.0
    assert not y.is_leaf and y.grad_fn == "mul"
    with pytest.raises(ValueError):
        y.requires_grad = False
    d = y.detach()
    assert d.is_leaf and not d.requires_grad


def test_no_graph_when_grad_disabled():
    x = t64([1.0, 2.0], requires_grad=True)
    cgan._core.set_grad_enabled(False)
    try:
        assert not cgan._core.is_grad_enabled()
        y = ops.tanh(x) * x + 1.0
        assert not y.requires_grad and y.grad_fn is None and y.is_leaf
        np.testing.assert_allclose(y.numpy(), np.tanh([1.0, 2.0]) * [1.0, 2.0] + 1.0, rtol=1e-15)
    finally:
        cgan._core.set_grad_enabled(True)
    assert cgan._core.is_grad_enabled()
    z = x * 2.0
    assert z.requires_grad and z.grad_fn == "mul"
    with pytest.raises(ValueError, match="does not require grad"):
        cgan.grad(y.sum(), x)


# ---- dtypes and conversion ------------------------------------------------------------------

def test_dtype_promotion_float32_float64():
    a = cgan.tensor(np.array([1.5, 2.5], dtype=np.float32), requires_grad=True)
    b = t64([0.25, 4.0], requires_grad=True)
    for y in (a + b, b * a, a - b, a / b, ops.concat([a, b])):
        assert y.dtype == np.float64
    assert (a * 2.0).dtype == np.float32 and (2.0 * a).dtype == np.float32
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [0.25, 4.0])
    np.testing.assert_array_equal(b.grad.numpy(), [1.5, 2.5])
    w = cgan.tensor(np.ones((3, 2), dtype=np.float32))
    assert ops.matmul(t64(np.ones((2, 2))), w, transpose_b=True).dtype == np.float64
    assert ops.linear(t64(np.ones((2, 2))), w).dtype == np.float64
    x32 = cgan.tensor(np.ones((2, 2), dtype=np.float32))
    b64 = t64([0.5, 0.25, 0.125], requires_grad=True)
    y = ops.linear(x32, w, b64)  # a float64 bias promotes too, as in NumPy
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y.numpy(), [[2.5, 2.25, 2.125]] * 2)
    y.sum().backward()
    assert b64.grad.dtype == np.float64


def test_zero_copy_of_c_contiguous_float64():
    a = np.arange(6.0).reshape(2, 3)
    t = cgan.tensor(a)
    a[1, 2] = 42.0
    assert t.numpy()[1, 2] == 42.0
    assert np.shares_memory(t.numpy(), a)
    f = np.ones(4, dtype=np.float32)
    assert np.shares_memory(cgan.tensor(f).numpy(), f)


@pytest.mark.parametrize("make, expected_dtype", [
    (lambda: np.arange(12.0).reshape(3, 4)[:, ::2], np.float64),   # non-contiguous
    (lambda: np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.float64),
    (lambda: np.arange(12, dtype=np.int64).reshape(3, 4), np.float32),
    (lambda: np.arange(5, dtype=np.int32), np.float32),
    (lambda: np.array([True, False]), np.float32),
    (lambda: [[1.0, 2.0], [3.0, 4.0]], np.float64),
])
def test_other_arrays_are_converted(make, expected_dtype):
    a = make()
    t = cgan.tensor(a)
    assert t.dtype == expected_dtype
    np.testing.assert_array_equal(t.numpy(), np.asarray(a, dtype=expected_dtype))
    assert t.shape == np.shape(a)


def test_explicit_dtype_converts():
    a = np.arange(4.0)
    t = cgan.tensor(a, dtype="float32")
    assert t.dtype == np.float32 and not np.shares_memory(t.numpy(), a)
    assert cgan.tensor(np.arange(3), dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("bad", [np.array([1 + 2j]), np.array([object()], dtype=object),
                                 np.array(["a", "b"]), "abc", {"a": 1}])
def test_unsupported_arrays_raise_type_error(bad):
    with pytest.raises(TypeError):
        cgan.tensor(bad)


@pytest.mark.parametrize("dtype", ["int32", "float16", "complex128", "nonsense", np.int64])
def test_bad_dtype_raises_type_error(dtype):
    with pytest.raises(TypeError):
        cgan.tensor([1.0, 2.0], dtype=dtype)


@pytest.mark.parametrize("f, shapes", [
    (lambda a, b: a + b, ((3, 4), (3, 5))),
    (lambda a, b: a - b, ((2, 3), (3, 2))),
    (lambda a, b: a * b, ((4,), (5,))),
    (lambda a, b: a / b, ((2, 3), (4, 1))),
    (lambda a, b: a @ b, ((3, 4), (3, 4))),
    (lambda a, b: ops.linear(a, b), ((3, 4), (2, 5))),
    (lambda a, b: ops.concat([a, b]), ((3, 4), (3, 5))),
])
def test_shape_mismatch_names_both_shapes(f, shapes):
    a, b = (t64(np.ones(s)) for s in shapes)
    with pytest.raises(ValueError) as e:
        f(a, b)
    for s in shapes:
        assert str(s) in str(e.value), f"{s} missing from: {e.value}"


def test_more_than_four_axes_raise():
    with pytest.raises(ValueError, match="4 axes"):
        cgan.tensor(np.zeros((1, 2, 1, 2, 1)))
    cgan.tensor(np.zeros((1, 2, 1, 2)))  # four is fine
    with pytest.raises(ValueError, match="4 axes"):
        t64(np.zeros((2, 2))).reshape([1, 1, 1, 2, 2])


def test_bad_axis_and_slices_raise():
    x = t64(np.ones((2, 3)))
    with pytest.raises(ValueError):
        x.sum(axis=2)
    with pytest.raises(ValueError):
        x.mean(axis=-3)
    with pytest.raises(ValueError):
        x[::2]
    with pytest.raises(ValueError):
        ops.slice(x, 1, 5)
    with pytest.raises(ValueError):
        ops.row_norm(t64([1.0, 2.0]))
    with pytest.raises(ValueError):
        ops.clamp(x, 1.0, 0.0)


# ---- memory ---------------------------------------------------------------------------------

def _train_step(params, x):
    w, b = params
    h = ops.tanh(ops.linear(x, w, b))
    loss = ops.softplus(h).mean() + ops.square(w).sum() * 1e-3
    loss.backward()
    for p in params:
        p.zero_grad()


def _gp_step(params, x):
    w, b = params
    xr = x.detach().requires_grad_()
    d = ops.linear(ops.leaky_relu(ops.linear(xr, w, b), 0.2), w[:1]).sum()
    (gx,) = cgan.grad(d, xr, create_graph=True)
    pen = ops.square(ops.row_norm(gx) - 1.0).mean()
    cgan.grad(pen, params, allow_unused=True)


@pytest.mark.parametrize("step", [_train_step, _gp_step], ids=["backward", "double_backward"])
def test_no_memory_growth(step):
    rng = np.random.default_rng(0)
    params = [t64(rng.standard_normal((8, 8)), True), t64(rng.standard_normal(8), True)]
    x = t64(rng.standard_normal((16, 8)))
    gc.collect()
    baseline = cgan._core._pool_live_bytes()
    for _ in range(50):  # warm-up
        step(params, x)
    gc.collect()
    warm = cgan._core._pool_live_bytes()
    assert warm == baseline
    for _ in range(2000):
        step(params, x)
    gc.collect()
    assert cgan._core._pool_live_bytes() == warm


def test_live_bytes_return_to_baseline_without_gc():
    # The graph is acyclic, so dropping the last references frees it at once:
    # no gc.collect() is needed.
    gc.collect()
    gc.disable()
    try:
        base = cgan._core._pool_live_bytes()
        x = t64(np.ones((64, 32)), requires_grad=True)
        y = ops.sigmoid(x @ x.T).sum()
        (g,) = cgan.grad(y, x, create_graph=True)
        assert cgan._core._pool_live_bytes() > base
        gg = cgan.grad(ops.square(g).sum(), x)
        del y, g, gg
        assert cgan._core._pool_live_bytes() == base
        y = ops.exp(x).sum()
        y.backward()
        del y
        x.zero_grad()
        assert cgan._core._pool_live_bytes() == base
    finally:
        gc.enable()


# ---- double backward end to end: the WGAN-GP penalty -----------------------------------------

SIZES = [(16, 2), (16, 16), (1, 16)]


def _make_params(seed=0):
    rng = np.random.default_rng(seed)
    arrays = []
    for out, inp in SIZES:
        arrays.append(rng.standard_normal((out, inp)) / np.sqrt(inp))
        arrays.append(rng.standard_normal(out) * 0.5)
    return arrays


def _critic(params, x):
    w1, b1, w2, b2, w3, b3 = params
    h = ops.leaky_relu(ops.linear(x, w1, b1), 0.2)
    h = ops.tanh(ops.linear(h, w2, b2))
    return ops.linear(h, w3, b3)


def _penalty(params, x_arr, create_graph=True):
    x = cgan.tensor(x_arr, requires_grad=True)
    (gx,) = cgan.grad(_critic(params, x).sum(), x, create_graph=create_graph)
    return ops.square(ops.row_norm(gx) - 1.0).mean()


def _wgan_gp_case():
    rng = np.random.default_rng(1)
    return _make_params(), rng.standard_normal((8, 2))


def test_wgan_gp_penalty_gradient_matches_finite_differences():
    arrays, x = _wgan_gp_case()
    params = [cgan.tensor(a, requires_grad=True) for a in arrays]
    grads = cgan.grad(_penalty(params, x), params, allow_unused=True)
    eps = 1e-6
    for i, a in enumerate(arrays):
        num = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            vals = []
            for s in (eps, -eps):
                b = [p.copy() for p in arrays]
                b[i][idx] += s
                ps = [cgan.tensor(p, requires_grad=True) for p in b]
                vals.append(_penalty(ps, x, create_graph=False).item())
            num[idx] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(grads[i].numpy(), num, rtol=1e-6, atol=1e-8,
                                   err_msg=f"parameter {i}")
    assert np.abs(grads[2].numpy()).max() > 1e-3  # second-layer weights matter (tanh'')


def test_wgan_gp_penalty_matches_torch():
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    arrays, x = _wgan_gp_case()
    params = [cgan.tensor(a, requires_grad=True) for a in arrays]
    pen = _penalty(params, x)
    grads = cgan.grad(pen, params, allow_unused=True)

    tp = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    w1, b1, w2, b2, w3, b3 = tp
    F = torch.nn.functional
    d = F.linear(torch.tanh(F.linear(F.leaky_relu(F.linear(tx, w1, b1), 0.2), w2, b2)), w3, b3)
    (tgx,) = torch.autograd.grad(d.sum(), tx, create_graph=True)
    tpen = ((tgx.norm(dim=1) - 1.0) ** 2).mean()
    tgrads = torch.autograd.grad(tpen, tp, allow_unused=True)

    np.testing.assert_allclose(pen.item(), tpen.item(), rtol=1e-12)
    for i, (g, tg) in enumerate(zip(grads, tgrads)):
        ref = np.zeros(arrays[i].shape) if tg is None else tg.numpy()
        np.testing.assert_allclose(g.numpy(), ref, rtol=1e-10, atol=1e-14, err_msg=f"parameter {i}")


# ---- determinism ---------------------------------------------------------------------------

BIG = (400, 300)  # 120000 elements, above the 32768-element parallel threshold


def _big_computation():
    rng = np.random.default_rng(7)
    x = cgan.tensor(rng.standard_normal(BIG), requires_grad=True)
    b = cgan.tensor(rng.standard_normal(BIG[1]))
    x32 = cgan.tensor(rng.standard_normal(BIG).astype(np.float32))
    y = ops.tanh(x * 1.5 + b)
    loss = ops.softplus(y).sum() + (ops.exp(y) * x).mean()
    loss.backward()
    outs = [y, loss, y.sum(axis=0), y.sum(axis=1), y.mean(axis=0, keepdims=True), x.grad,
            x32.sum(), x32.sum(axis=0), ops.sigmoid(x32), x32 * x32 + 1.0]
    return [o.numpy().copy() for o in outs]


def _assert_bitwise_equal(r1, r2):
    for i, (a, b) in enumerate(zip(r1, r2)):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes(), f"result {i} differs"


def test_deterministic_with_two_threads():
    cgan.set_num_threads(2)
    assert cgan.get_num_threads() == 2
    _assert_bitwise_equal(_big_computation(), _big_computation())


def test_sums_do_not_depend_on_thread_count():
    cgan.set_num_threads(1)
    one = _big_computation()
    cgan.set_num_threads(2)
    _assert_bitwise_equal(one, _big_computation())


def test_big_sum_is_accurate():
    rng = np.random.default_rng(3)
    a = rng.standard_normal(200_001)
    np.testing.assert_allclose(cgan.tensor(a).sum().item(), np.sum(a), rtol=1e-12)
    a32 = a.astype(np.float32)
    # Accumulated in double: the float32 result is the rounded exact sum.
    assert cgan.tensor(a32).sum().item() == np.float32(np.sum(a32.astype(np.float64)))


# ---- numerical stability ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, f, ref", [
    ("sigmoid", ops.sigmoid, lambda x: special.expit(x)),
    ("softplus", ops.softplus, lambda x: np.logaddexp(0, x)),
    ("log_sigmoid", ops.log_sigmoid, lambda x: -np.logaddexp(0, -x)),
])
def test_stable_at_extremes(name, f, ref, dtype):
    xs = np.array([-1000.0, -100.0, -30.0, 0.0, 30.0, 100.0, 1000.0])
    x = cgan.tensor(xs.astype(dtype), requires_grad=True)
    y = f(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y.numpy())), y.numpy()
    tol = 1e-6 if dtype == np.float32 else 1e-15
    # float32 e^-100 is subnormal: only absolute accuracy at the smallest normal.
    np.testing.assert_allclose(y.numpy(), ref(xs), rtol=tol, atol=np.finfo(dtype).tiny)
    (g,) = cgan.grad(y.sum(), x, create_graph=True)
    assert np.all(np.isfinite(g.numpy()))
    (gg,) = cgan.grad(g.sum(), x)
    assert np.all(np.isfinite(gg.numpy()))


def test_lambertw_exp_800():
    y = t64([800.0], requires_grad=True)
    w = ops.lambertw_exp(y)
    wv = w.item()
    assert np.isfinite(wv)
    assert wv + np.log(wv) == pytest.approx(800.0, rel=1e-15)
    (g,) = cgan.grad(w.sum(), y)
    assert g.item() == pytest.approx(wv / (1 + wv), rel=1e-14)
    w32 = ops.lambertw_exp(np.array([800.0], dtype=np.float32)).item()
    assert np.isfinite(w32) and w32 == pytest.approx(wv, rel=1e-6)


def test_read_only_arrays_are_copied_not_shared():
    a = np.ones((3, 2))
    a.flags.writeable = False
    t = cgan.tensor(a, requires_grad=True)
    (t * 2.0).sum().backward()
    opt = cgan.optim.SGD([t], lr=0.5)
    opt.step()
    assert np.all(a == 1) and np.allclose(t.numpy(), 0.0)


def test_flush_denormal_switches_subnormals_to_zero():
    tiny = np.array([1e-39, -3e-40, 1.0], np.float32)  # two float32 subnormals
    try:
        assert cgan.set_flush_denormal(True)
        assert np.array_equal((cgan.tensor(tiny) * 1.0).numpy(), [0.0, 0.0, 1.0])
    finally:
        cgan.set_flush_denormal(False)
    assert np.array_equal((cgan.tensor(tiny) * 1.0).numpy(), tiny)
