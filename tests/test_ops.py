"""Every differentiable op: value against NumPy/SciPy, first derivative by gradcheck,
second derivative by gradgradcheck, in float64 (and the value in float32 too).

Inputs are drawn away from kinks (abs/relu/leaky_relu/elu at 0, clamp at its bounds) and
inside domains (log/sqrt > 0, lambertw >= -1/e)."""
import numpy as np
import pytest
from scipy import special

import cgan
from cgan import ops
from gradcheck import gradcheck, gradgradcheck


# ---- input domains ----------------------------------------------------------------------

def _away(rng, shape):  # |x| in [0.2, 2]: away from the kink at 0
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)


DOMAINS = {
    "any": _away,
    "pos": lambda rng, shape: rng.uniform(0.5, 2.0, size=shape),
    "lamw": lambda rng, shape: rng.uniform(-0.3, 3.0, size=shape),   # W0 domain x >= -1/e
    "lamw_exp": lambda rng, shape: rng.uniform(-4.0, 6.0, size=shape),
    # clamp(-0.5, 0.7): no entry within 0.1 of a bound
    "clamp": lambda rng, shape: rng.choice([-1.6, -0.9, -0.3, 0.1, 0.5, 1.1, 1.8], size=shape)
    + rng.uniform(-0.05, 0.05, size=shape),
}


class Case:
    def __init__(self, name, f, ref, *inputs):
        self.name, self.f, self.ref, self.inputs = name, f, ref, inputs  # inputs: (shape, domain)

    def arrays(self, seed=0):
        rng = np.random.default_rng(seed)
        return [DOMAINS[d](rng, s) for s, d in self.inputs]


def expit(x):
    return special.expit(x)


def elu_ref(x, a):
    return np.where(x > 0, x, a * np.expm1(x))


def lambertw_ref(x):
    return special.lambertw(x).real


M = (3, 4)  # the default matrix shape
CASES = [
    # ---- operators, same shape, broadcasting, Python scalars on both sides ----
    Case("t+t", lambda a, b: a + b, np.add, (M, "any"), (M, "any")),
    Case("t+t (N,F)+(F,)", lambda a, b: a + b, np.add, (M, "any"), ((4,), "any")),
    Case("t+t (F,)+(N,F)", lambda a, b: a + b, np.add, ((4,), "any"), (M, "any")),
    Case("t+t (N,1)+(1,F)", lambda a, b: a + b, np.add, ((3, 1), "any"), ((1, 4), "any")),
    Case("t+t ()+(N,F)", lambda a, b: a + b, np.add, ((), "any"), (M, "any")),
    Case("t-t (N,F)-(N,1)", lambda a, b: a - b, np.subtract, (M, "any"), ((3, 1), "any")),
    Case("t-t (F,)-(N,F)", lambda a, b: a - b, np.subtract, ((4,), "any"), (M, "any")),
    Case("t*t", lambda a, b: a * b, np.multiply, (M, "any"), (M, "any")),
    Case("t*t (N,F)*(N,1)", lambda a, b: a * b, np.multiply, (M, "any"), ((3, 1), "any")),
    Case("t*t (N,F)*(F,)", lambda a, b: a * b, np.multiply, (M, "any"), ((4,), "any")),
    Case("t*t 3d (2,1,4)*(3,1)", lambda a, b: a * b, np.multiply, ((2, 1, 4), "any"), ((3, 1), "any")),
    Case("t/t", lambda a, b: a / b, np.divide, (M, "any"), (M, "any")),
    Case("t/t (N,F)/(N,1)", lambda a, b: a / b, np.divide, (M, "any"), ((3, 1), "any")),
    Case("t/t (F,)/(N,F)", lambda a, b: a / b, np.divide, ((4,), "any"), (M, "any")),
    Case("t+s", lambda x: x + 2.5, lambda x: x + 2.5, (M, "any")),
    Case("s+t", lambda x: 2.5 + x, lambda x: 2.5 + x, (M, "any")),
    Case("t-s", lambda x: x - 2.5, lambda x: x - 2.5, (M, "any")),
    Case("s-t", lambda x: 2.5 - x, lambda x: 2.5 - x, (M, "any")),
    Case("t*s", lambda x: x * -1.5, lambda x: x * -1.5, (M, "any")),
    Case("s*t", lambda x: 3 * x, lambda x: 3 * x, (M, "any")),
    Case("t/s", lambda x: x / 4.0, lambda x: x / 4.0, (M, "any")),
    Case("s/t", lambda x: 1.5 / x, lambda x: 1.5 / x, (M, "any")),
    Case("t**s", lambda x: x ** 2.5, lambda x: x ** 2.5, (M, "pos")),
    Case("-t", lambda x: -x, np.negative, (M, "any")),
    Case("abs(t)", lambda x: abs(x), np.abs, (M, "any")),
    Case("t@t", lambda a, b: a @ b, np.matmul, ((3, 4), "any"), ((4, 2), "any")),
    Case("t@array", lambda a: a @ np.arange(8.0).reshape(4, 2), lambda a: a @ np.arange(8.0).reshape(4, 2),
         ((3, 4), "any")),
    Case("array@t", lambda b: np.arange(6.0).reshape(2, 3) @ b, lambda b: np.arange(6.0).reshape(2, 3) @ b,
         ((3, 4), "any")),
    Case("array+t", lambda b: np.arange(4.0) + b, lambda b: np.arange(4.0) + b, (M, "any")),
    Case("ops.add", lambda a, b: ops.add(a, b), np.add, (M, "any"), ((4,), "any")),
    Case("ops.sub", lambda a, b: ops.sub(a, b), np.subtract, (M, "any"), ((3, 1), "any")),
    Case("ops.mul", lambda a, b: ops.mul(a, b), np.multiply, (M, "any"), ((4,), "any")),
    Case("ops.div", lambda a, b: ops.div(a, b), np.divide, (M, "any"), ((3, 1), "any")),
    Case("ops.mul scalar", lambda a: ops.mul(a, 0.5), lambda a: a * 0.5, (M, "any")),
    # ---- unary ----
    Case("neg", lambda x: ops.neg(x), np.negative, (M, "any")),
    Case("exp", lambda x: ops.exp(x), np.exp, (M, "any")),
    Case("log", lambda x: ops.log(x), np.log, (M, "pos")),
    Case("log1p", lambda x: ops.log1p(x), np.log1p, (M, "pos")),
    Case("log1p neg", lambda x: ops.log1p(x * 0.4), lambda x: np.log1p(x * 0.4), (M, "any")),
    Case("sqrt", lambda x: ops.sqrt(x), np.sqrt, (M, "pos")),
    Case("square", lambda x: ops.square(x), np.square, (M, "any")),
    Case("pow 2.5", lambda x: ops.pow(x, 2.5), lambda x: x ** 2.5, (M, "pos")),
    Case("pow -1.5", lambda x: ops.pow(x, -1.5), lambda x: x ** -1.5, (M, "pos")),
    Case("pow 3", lambda x: ops.pow(x, 3.0), lambda x: x ** 3, (M, "any")),
    Case("pow 2", lambda x: ops.pow(x, 2.0), lambda x: x ** 2, (M, "any")),
    Case("pow 1", lambda x: ops.pow(x, 1.0), lambda x: x, (M, "any")),
    Case("pow 0.5", lambda x: ops.pow(x, 0.5), np.sqrt, (M, "pos")),
    Case("pow 0", lambda x: ops.pow(x, 0.0), np.ones_like, (M, "any")),
    Case("abs", lambda x: ops.abs(x), np.abs, (M, "any")),
    Case("clamp", lambda x: ops.clamp(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), (M, "clamp")),
    Case("clamp min", lambda x: ops.clamp(x, min=-0.5), lambda x: np.maximum(x, -0.5), (M, "clamp")),
    Case("clamp max", lambda x: ops.clamp(x, max=0.7), lambda x: np.minimum(x, 0.7), (M, "clamp")),
    Case("tanh", lambda x: ops.tanh(x), np.tanh, (M, "any")),
    Case("sigmoid", lambda x: ops.sigmoid(x * 3), lambda x: expit(x * 3), (M, "any")),
    Case("softplus", lambda x: ops.softplus(x * 3), lambda x: np.logaddexp(0, x * 3), (M, "any")),
    Case("log_sigmoid", lambda x: ops.log_sigmoid(x * 3), lambda x: -np.logaddexp(0, -x * 3), (M, "any")),
    Case("relu", lambda x: ops.relu(x), lambda x: np.maximum(x, 0), (M, "any")),
    Case("leaky_relu", lambda x: ops.leaky_relu(x), lambda x: np.where(x > 0, x, 0.01 * x), (M, "any")),
    Case("leaky_relu 0.2", lambda x: ops.leaky_relu(x, 0.2), lambda x: np.where(x > 0, x, 0.2 * x),
         (M, "any")),
    Case("elu", lambda x: ops.elu(x), lambda x: elu_ref(x, 1.0), (M, "any")),
    Case("elu 0.5", lambda x: ops.elu(x, alpha=0.5), lambda x: elu_ref(x, 0.5), (M, "any")),
    Case("lambertw", lambda x: ops.lambertw(x), lambertw_ref, (M, "lamw")),
    Case("lambertw large", lambda x: ops.lambertw(x * 100), lambda x: lambertw_ref(x * 100), (M, "pos")),
    Case("lambertw_exp", lambda y: ops.lambertw_exp(y), lambda y: lambertw_ref(np.exp(y)), (M, "lamw_exp")),
    Case("lambertw_exp large", lambda y: ops.lambertw_exp(y * 200), lambda y: lambertw_ref(np.exp(y * 200)),
         (M, "pos")),
    # ---- reductions ----
    Case("sum", lambda x: x.sum(), np.sum, (M, "any")),
    Case("sum axis0", lambda x: x.sum(axis=0), lambda x: x.sum(axis=0), (M, "any")),
    Case("sum axis1", lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), (M, "any")),
    Case("sum axis-1 keepdims", lambda x: x.sum(axis=-1, keepdims=True),
         lambda x: x.sum(axis=-1, keepdims=True), (M, "any")),
    Case("sum axis0 keepdims", lambda x: x.sum(axis=0, keepdims=True),
         lambda x: x.sum(axis=0, keepdims=True), (M, "any")),
    Case("sum all keepdims", lambda x: x.sum(keepdims=True), lambda x: x.sum(keepdims=True), (M, "any")),
    Case("sum 3d axis1", lambda x: x.sum(axis=1), lambda x: x.sum(axis=1), ((2, 3, 4), "any")),
    Case("ops.sum", lambda x: ops.sum(x, 0), lambda x: x.sum(0), (M, "any")),
    Case("mean", lambda x: x.mean(), np.mean, (M, "any")),
    Case("mean axis0", lambda x: x.mean(axis=0), lambda x: x.mean(axis=0), (M, "any")),
    Case("mean axis1 keepdims", lambda x: x.mean(axis=1, keepdims=True),
         lambda x: x.mean(axis=1, keepdims=True), (M, "any")),
    Case("mean all keepdims", lambda x: x.mean(keepdims=True), lambda x: x.mean(keepdims=True), (M, "any")),
    Case("ops.mean", lambda x: ops.mean(x, axis=-1), lambda x: x.mean(-1), ((2, 3, 4), "any")),
    # Reductions followed by a nonlinearity, so the second derivative is not trivially 0.
    Case("sum axis0 squared", lambda x: ops.square(x.sum(axis=0)), lambda x: x.sum(0) ** 2, (M, "any")),
    Case("mean axis1 keepdims * x", lambda x: x.mean(axis=1, keepdims=True) * x,
         lambda x: x.mean(1, keepdims=True) * x, (M, "any")),
    Case("row_norm", lambda x: ops.row_norm(x), lambda x: np.linalg.norm(x, axis=1, keepdims=True), (M, "any")),
    # ---- linear algebra ----
    Case("matmul", lambda a, b: ops.matmul(a, b), lambda a, b: a @ b, ((3, 4), "any"), ((4, 2), "any")),
    Case("matmul a^T b", lambda a, b: ops.matmul(a, b, transpose_a=True), lambda a, b: a.T @ b,
         ((4, 3), "any"), ((4, 2), "any")),
    Case("matmul a b^T", lambda a, b: ops.matmul(a, b, transpose_b=True), lambda a, b: a @ b.T,
         ((3, 4), "any"), ((2, 4), "any")),
    Case("matmul a^T b^T", lambda a, b: ops.matmul(a, b, True, True), lambda a, b: a.T @ b.T,
         ((4, 3), "any"), ((2, 4), "any")),
    Case("matmul self", lambda a: ops.matmul(a, a, transpose_b=True), lambda a: a @ a.T, ((3, 4), "any")),
    Case("linear", lambda x, w, b: ops.linear(x, w, b), lambda x, w, b: x @ w.T + b,
         ((5, 3), "any"), ((4, 3), "any"), ((4,), "any")),
    Case("linear no bias", lambda x, w: ops.linear(x, w), lambda x, w: x @ w.T, ((5, 3), "any"), ((4, 3), "any")),
    Case("linear+tanh", lambda x, w, b: ops.tanh(ops.linear(x, w, b)), lambda x, w, b: np.tanh(x @ w.T + b),
         ((5, 3), "any"), ((4, 3), "any"), ((4,), "any")),
    Case("transpose", lambda x: ops.transpose(x), np.transpose, (M, "any")),
    Case(".T", lambda x: x.T, np.transpose, (M, "any")),
    Case(".T @", lambda a, b: a.T @ b, lambda a, b: a.T @ b, ((4, 3), "any"), ((4, 2), "any")),
    # ---- batch axis and shape ----
    Case("concat", lambda a, b: ops.concat([a, b]), lambda a, b: np.concatenate([a, b]),
         ((2, 4), "any"), ((3, 4), "any")),
    Case("concat 3", lambda a, b, c: ops.concat([a, b, c]), lambda a, b, c: np.concatenate([a, b, c]),
         ((1, 2), "any"), ((3, 2), "any"), ((2, 2), "any")),
    Case("concat same", lambda a: ops.concat([a, a * 2.0]), lambda a: np.concatenate([a, a * 2]), (M, "any")),
    Case("slice", lambda x: ops.slice(x, 1, 3), lambda x: x[1:3], ((4, 3), "any")),
    Case("slice empty", lambda x: ops.slice(x, 2, 2) * 1.0, lambda x: x[2:2], ((4, 3), "any")),
    Case("getitem", lambda x: x[1:3], lambda x: x[1:3], ((4, 3), "any")),
    Case("getitem neg", lambda x: x[-2:], lambda x: x[-2:], ((4, 3), "any")),
    Case("getitem head", lambda x: x[:1], lambda x: x[:1], ((4, 3), "any")),
    Case("slice squared", lambda x: ops.square(x[1:3]), lambda x: x[1:3] ** 2, ((4, 3), "any")),
    Case("reshape", lambda x: x.reshape([4, 3]), lambda x: x.reshape(4, 3), (M, "any")),
    Case("ops.reshape", lambda x: ops.reshape(x, [2, 2, 3]), lambda x: x.reshape(2, 2, 3), (M, "any")),
    Case("reshape * x", lambda x: x.reshape([2, 6]).reshape([3, 4]) * x, lambda x: x * x, (M, "any")),
    # ---- compositions the rules must get right (shared inputs, fused derivative kernels) ----
    Case("x*x", lambda x: x * x, np.square, (M, "any")),
    Case("x/x^2", lambda x: x / ops.square(x), lambda x: 1 / x, (M, "any")),
    Case("sigmoid*tanh", lambda x: ops.sigmoid(x) * ops.tanh(x), lambda x: expit(x) * np.tanh(x), (M, "any")),
    Case("leaky*x", lambda x: ops.leaky_relu(x, 0.2) * x, lambda x: np.where(x > 0, x, 0.2 * x) * x,
         (M, "any")),
    Case("relu*exp", lambda x: ops.relu(x) * ops.exp(x), lambda x: np.maximum(x, 0) * np.exp(x), (M, "any")),
]
IDS = [c.name for c in CASES]


def _call(case, arrays, dtype):
    return case.f(*[cgan.tensor(np.asarray(a, dtype=dtype)) for a in arrays])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_float64(case):
    arrays = case.arrays()
    y = _call(case, arrays, np.float64)
    expected = np.asarray(case.ref(*arrays))
    assert y.dtype == np.float64
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_value_float32(case):
    arrays = [a.astype(np.float32) for a in case.arrays()]
    y = _call(case, arrays, np.float32)
    if "array" not in case.name:  # a float64 NumPy operand promotes, as in NumPy
        assert y.dtype == np.float32
    expected = np.asarray(case.ref(*[a.astype(np.float64) for a in arrays]))
    np.testing.assert_allclose(y.numpy(), expected, rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_grad(case):
    gradcheck(lambda xs: case.f(*xs), case.arrays())


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradgrad(case):
    gradgradcheck(lambda xs: case.f(*xs), case.arrays())


# ---- the helper itself must be able to fail ----------------------------------------------

def test_gradcheck_catches_a_wrong_first_derivative():
    # x * detach(x): the analytic gradient misses one factor (x instead of 2x).
    with pytest.raises(AssertionError):
        gradcheck(lambda xs: xs[0] * xs[0].detach(), [np.array([0.5, 1.0, 2.0])])


def test_gradgradcheck_catches_a_wrong_second_derivative():
    # First derivative right (2x * x), its derivative misses the detached factor.
    with pytest.raises(AssertionError):
        gradgradcheck(lambda xs: xs[0] * xs[0] * xs[0].detach(), [np.array([0.5, 1.0, 2.0])])


# ---- special points -------------------------------------------------------------------------

def test_row_norm_zero_row_has_zero_gradient():
    x = cgan.tensor(np.array([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]]), requires_grad=True)
    n = ops.row_norm(x)
    np.testing.assert_array_equal(n.numpy(), [[0.0], [5.0]])
    (g,) = cgan.grad(n.sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.numpy()[0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(g.numpy()[1], [0.6, 0.8, 0.0], rtol=1e-15)
    (gg,) = cgan.grad((g * g).sum(), x)
    assert np.all(np.isfinite(gg.numpy()))


def test_abs_relu_gradient_at_zero_is_zero():
    x = cgan.tensor(np.zeros(3), requires_grad=True)
    for f in (ops.abs, ops.relu):
        (g,) = cgan.grad(f(x).sum(), x)
        np.testing.assert_array_equal(g.numpy(), 0.0)


@pytest.mark.parametrize("x", [-1 / np.e, -0.3678, -0.36, -0.3, -0.1, -1e-9, 0.0, 1e-9, 0.5, 1.0,
                               np.e, 10.0, 1e3, 1e100, 1e300])
def test_lambertw_against_scipy(x):
    w = ops.lambertw(np.array([x])).numpy()[0]
    # Near the branch point W is a square root of x + 1/e: only absolute accuracy there.
    tol = 1e-7 if x < -0.36 else 1e-13
    # -1/np.e rounds just below -1/e, where SciPy says NaN; cgan takes it as the branch point.
    ref = -1.0 if x == -1 / np.e else special.lambertw(x).real
    np.testing.assert_allclose(w, ref, rtol=tol, atol=1e-300)
    assert w * np.exp(w) == pytest.approx(x, rel=1e-12, abs=1e-15)


def test_lambertw_below_domain_is_nan():
    assert np.isnan(ops.lambertw(np.array([-0.5])).numpy()[0])


@pytest.mark.parametrize("y", [-800.0, -40.0, -30.5, -29.5, -5.0, 0.0, 0.5, 1.0, 1.5, 50.0, 700.0, 800.0,
                               1e6])
def test_lambertw_exp_against_reference(y):
    w = ops.lambertw_exp(np.array([y])).numpy()[0]
    assert np.isfinite(w) and w >= 0
    if y > -700:  # else e^y underflows and w = 0 is right
        assert w + np.log(w) == pytest.approx(y, rel=1e-14, abs=1e-14)
    if y < 700:
        np.testing.assert_allclose(w, special.lambertw(np.exp(y)).real, rtol=1e-14)
