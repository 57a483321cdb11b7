"""NaN and infinity go through every op the way they go through NumPy.

A NaN that an op turns into a number hides a broken network: with relu(NaN) = 0 an MLP
whose weights went NaN gave finite outputs and the NaN stop did not fire. Each op of
cgan.ops and each Tensor method is swept with NaN, +-inf, signed zeros and ordinary
values in float32 and float64 and compared with NumPy, NaN positions exactly.

Derivatives: at a NaN input the derivative of a piecewise rule (relu, leaky_relu, abs,
clamp, elu) is NaN (torch gives 1, 0.2, 0, 0 and 1 there: a number that hides the NaN
from everything upstream); elsewhere they equal torch's.
"""
import numpy as np
import pytest

import cgan

nan, inf = np.nan, np.inf
VALUES = np.array([nan, inf, -inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-30, 1e30, -1e30, 3.0])
DTYPES = [np.float32, np.float64]


def same(got, want, dtype):
    """Equal NaN positions, equal infinities, close finite values."""
    got = np.asarray(got)
    with np.errstate(over="ignore"):  # a float64 reference beyond float32's range is inf
        want = np.asarray(want, dtype)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    assert np.array_equal(np.isposinf(got), np.isposinf(want)), (got, want)
    assert np.array_equal(np.isneginf(got), np.isneginf(want)), (got, want)
    finite = np.isfinite(want)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(got[finite], want[finite], rtol=rtol,
                               atol=np.finfo(dtype).tiny)


def ref64(f, x):
    with np.errstate(all="ignore"):
        return f(x.astype(np.float64))


def lambertw_ref(x):
    special = pytest.importorskip("scipy.special")
    out = np.full(x.shape, nan)
    ok = x >= -1 / np.e
    with np.errstate(all="ignore"):
        out[ok] = special.lambertw(x[ok]).real
    return out


def lambertw_exp_ref(y):
    special = pytest.importorskip("scipy.special")
    with np.errstate(all="ignore"):
        out = special.lambertw(np.exp(np.minimum(y, 700))).real
    out[y > 700] = inf  # W(e^y) -> inf; the finite huge values are compared below
    out[np.isnan(y)] = nan
    return out


UNARY = {
    "neg": np.negative,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "sqrt": np.sqrt,
    "square": np.square,
    "abs": np.abs,
    "tanh": np.tanh,
    "sigmoid": lambda x: np.exp(-np.logaddexp(0, -x)),
    "softplus": lambda x: np.logaddexp(0, x),
    "log_sigmoid": lambda x: -np.logaddexp(0, -x),
    "relu": lambda x: np.maximum(x, 0),
    "lambertw": lambertw_ref,
    "lambertw_exp": lambertw_exp_ref,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_ops_propagate_nan_and_inf_like_numpy(name, dtype):
    x = VALUES.astype(dtype)
    want = ref64(UNARY[name], x)
    if name == "lambertw_exp":  # W(e^y) ~ y - log y for the huge finite inputs too
        big = np.isfinite(x) & (x > 700)
        want[big] = x[big] - np.log(x[big].astype(np.float64))
    same(getattr(cgan.ops, name)(x).numpy(), want, dtype)


PARAMETRIC = {
    "leaky_relu 0.2": (lambda x: cgan.ops.leaky_relu(x, 0.2), lambda x: np.where(x < 0, 0.2 * x, x)),
    "leaky_relu -0.5": (lambda x: cgan.ops.leaky_relu(x, -0.5), lambda x: np.where(x < 0, -0.5 * x, x)),
    "elu 1": (lambda x: cgan.ops.elu(x, 1.0), lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu 0.5": (lambda x: cgan.ops.elu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    "pow 3": (lambda x: cgan.ops.pow(x, 3.0), lambda x: np.power(x, 3.0)),
    "pow 0.5": (lambda x: cgan.ops.pow(x, 0.5), lambda x: np.power(x, 0.5)),
    "pow 0": (lambda x: cgan.ops.pow(x, 0.0), lambda x: np.power(x, 0.0)),
    "pow nan": (lambda x: cgan.ops.pow(x, nan), lambda x: np.power(x, nan)),
    "pow inf": (lambda x: cgan.ops.pow(x, inf), lambda x: np.power(x, inf)),
    "clamp": (lambda x: cgan.ops.clamp(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5)),
    "clamp max only": (lambda x: cgan.ops.clamp(x, None, 0.5), lambda x: np.clip(x, None, 0.5)),
    "clamp min only": (lambda x: cgan.ops.clamp(x, -0.5), lambda x: np.clip(x, -0.5, None)),
    "clamp nan min": (lambda x: cgan.ops.clamp(x, nan, 0.5), lambda x: np.clip(x, nan, 0.5)),
    "clamp nan max": (lambda x: cgan.ops.clamp(x, -0.5, nan), lambda x: np.clip(x, -0.5, nan)),
    "clamp nan alone": (lambda x: cgan.ops.clamp(x, nan), lambda x: np.maximum(x, nan)),
    "clamp inf": (lambda x: cgan.ops.clamp(x, -inf, inf), lambda x: np.clip(x, -inf, inf)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(PARAMETRIC))
def test_parametric_ops_propagate_nan_like_numpy(name, dtype):
    ours, numpy_ref = PARAMETRIC[name]
    x = VALUES.astype(dtype)
    same(ours(x).numpy(), ref64(numpy_ref, x), dtype)


def grid(dtype):
    """Every pair of VALUES: (13, 13) arrays a, b with a[i, j] = V[i], b[i, j] = V[j]."""
    a, b = np.meshgrid(VALUES, VALUES, indexing="ij")
    return a.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, f", [("add", np.add), ("sub", np.subtract),
                                     ("mul", np.multiply), ("div", np.divide)])
def test_binary_ops_propagate_nan_and_inf_like_numpy(name, f, dtype):
    a, b = grid(dtype)
    op = getattr(cgan.ops, name)
    with np.errstate(all="ignore"):
        same(op(a, b).numpy(), f(a, b), dtype)
        # the broadcast and scalar paths of the kernel
        same(op(a, b[:1]).numpy(), f(a, b[:1]), dtype)
        same(op(a, b[0, 3]).numpy(), f(a, b[0, 3]), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_tensor_operators_propagate_nan_like_numpy(dtype):
    a, b = grid(dtype)
    ta, tb = cgan.tensor(a), cgan.tensor(b)
    with np.errstate(all="ignore"):
        for got, want in [(ta + tb, a + b), (ta - tb, a - b), (ta * tb, a * b), (ta / tb, a / b),
                          (-ta, -a), (abs(ta), np.abs(a)), (ta ** 2, a ** 2), (ta ** 0.5, a ** 0.5),
                          (ta + nan, a + dtype(nan)), (2.0 - ta, 2 - a), (ta.T, a.T),
                          (ta.reshape([169]), a.reshape(169)), (ta[2:5], a[2:5])]:
            same(got.numpy(), want, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_products_and_reductions_propagate_nan_and_inf(dtype):
    a, b = grid(dtype)
    with np.errstate(all="ignore"):
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        mm = a64 @ b64
        for got, want in [
            (cgan.ops.matmul(a, b), mm),
            (cgan.ops.matmul(a, b, transpose_a=True), a64.T @ b64),
            (cgan.ops.linear(a, b, a[0]), a64 @ b64.T + a64[0]),
            (cgan.ops.sum(a), a64.sum()),
            (cgan.ops.sum(a, axis=0), a64.sum(0)),
            (cgan.ops.sum(a, axis=1, keepdims=True), a64.sum(1, keepdims=True)),
            (cgan.ops.mean(a, axis=-1), a64.mean(-1)),
            (cgan.tensor(a).mean(), a64.mean()),
            (cgan.ops.row_norm(a), np.sqrt((a64 * a64).sum(1, keepdims=True))),
            (cgan.ops.transpose(a), a64.T),
            (cgan.ops.concat([a, b]), np.concatenate([a64, b64])),
            (cgan.ops.slice(a, 1, 4), a64[1:4]),
        ]:
            got = got.numpy()
            assert np.array_equal(np.isnan(got), np.isnan(want.astype(dtype)))
            finite = np.isfinite(want) & (np.abs(want) < 1e25)
            atol = 1e-25 if dtype == np.float32 else 1e-300  # float32 squares of 1e-30 underflow
            np.testing.assert_allclose(got[finite], want[finite], rtol=1e-5, atol=atol)


# ---- derivatives at NaN ------------------------------------------------------------------

X = np.array([nan, 2.0, -2.0, 0.25, -0.25])
GRADS = {  # d/dx at X: NaN at NaN, torch's values elsewhere
    "relu": (cgan.ops.relu, [nan, 1, 0, 1, 0]),
    "leaky_relu": (lambda x: cgan.ops.leaky_relu(x, 0.2), [nan, 1, 0.2, 1, 0.2]),
    "abs": (cgan.ops.abs, [nan, 1, -1, 1, -1]),
    "clamp": (lambda x: cgan.ops.clamp(x, -0.5, 0.5), [nan, 0, 0, 1, 1]),
    "elu": (lambda x: cgan.ops.elu(x, 1.0), [nan, 1, np.exp(-2), 1, np.exp(-0.25)]),
    "clamp nan bound": (lambda x: cgan.ops.clamp(x, nan, 0.5), [nan] * 5),
}


@pytest.mark.parametrize("name", sorted(GRADS))
@pytest.mark.parametrize("dtype", DTYPES)
def test_piecewise_derivatives_are_nan_at_nan(name, dtype):
    f, want = GRADS[name]
    x = cgan.tensor(X.astype(dtype), requires_grad=True)
    f(x).sum().backward()
    same(x.grad.numpy(), np.array(want), dtype)


def test_piecewise_derivatives_match_torch_away_from_nan():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    pairs = {"relu": F.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.2), "abs": torch.abs,
             "clamp": lambda t: torch.clamp(t, -0.5, 0.5), "elu": F.elu}
    for name, tf in pairs.items():
        t = torch.tensor(X[1:], requires_grad=True)
        tf(t).sum().backward()
        np.testing.assert_allclose(GRADS[name][1][1:], t.grad.numpy(), rtol=1e-12)


def test_second_derivative_of_leaky_relu_keeps_nan():
    x = cgan.tensor(X, requires_grad=True)
    (g,) = cgan.grad([cgan.ops.leaky_relu(x, 0.2).sum()], [x], create_graph=True)
    (gg,) = cgan.grad([(g * x).sum()], [x])
    assert np.isnan(gg.numpy()[0]) and np.all(np.isfinite(gg.numpy()[1:]))


# ---- through modules and training ----------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu", "tanh", "sigmoid", "softplus"])
def test_mlp_maps_a_nan_input_to_nan(activation):
    m = cgan.nn.MLP(2, [4, 4], 1, activation=activation, seed=0)
    y = m(np.array([[nan, 1.0], [0.5, -1.0]], np.float32))
    assert np.isnan(y[0, 0]) and np.isfinite(y[1, 0])


def test_nan_weights_stop_training_instead_of_looking_healthy():
    G = cgan.nn.MLP(2, [8], 2, seed=0)
    D = cgan.nn.MLP(2, [8], 1, seed=1)
    gan = cgan.GAN(G, D, loss="non-saturating", z_dim=2, seed=0)
    G.parameters()[0].numpy()[:] = nan  # the first layer's weights went NaN
    assert np.all(np.isnan(gan.sample(4, seed=0)))
    with pytest.raises(FloatingPointError):
        gan.step(cgan.datasets.ring(16, seed=0))
