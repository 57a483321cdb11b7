"""Property-based: random shapes, dtypes, layouts and values thrown at the ops and modules.

The contract: the result matches NumPy (on the input converted as documented), or the
call raises a clean ValueError/TypeError. Never a crash, never a silently wrong answer.
Example counts are modest; HYPOTHESIS_PROFILE=ci (the default) keeps the suite fast,
HYPOTHESIS_PROFILE=thorough runs ten times as many.
"""
import os

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

import cgan  # noqa: E402

settings.register_profile("ci", max_examples=120, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1200, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

CLEAN = (ValueError, TypeError)
FLOATS = [np.float16, np.float32, np.float64, ">f4", ">f8"]
EXACT = [np.int8, np.int16, np.uint8, np.bool_]           # always exact in float32
MAYBE = [np.int32, np.int64, np.uint32, np.uint64]        # exact only for small values
REJECTED = [np.complex64, np.complex128, object, "U3", "datetime64[s]"]


@st.composite
def arrays(draw, max_dims=4, min_dims=0, shape=None):
    """An array of any dtype (some unconvertible), any layout, any values."""
    dtype = np.dtype(draw(st.sampled_from(FLOATS + EXACT + MAYBE + REJECTED)))
    if shape is None:
        shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=5))
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, width=8 * min(dtype.itemsize, 4))
    elif dtype.kind in "iub":
        elements = None
    elif dtype.kind == "c":
        elements = st.complex_numbers(max_magnitude=1e3, allow_nan=False, width=64)
    elif dtype.kind == "O":
        elements = st.floats(-10, 10)
    elif dtype.kind == "U":
        elements = st.text(alphabet="ab1", max_size=3)
    else:
        elements = None
    a = draw(hnp.arrays(dtype, shape, elements=elements))
    layout = draw(st.sampled_from(["c", "f", "strided", "reversed"]))
    if layout == "f":
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    elif layout == "reversed" and a.ndim and a.shape[0]:
        a = a[::-1].copy()[::-1]
    return a


def expected_float32(a):
    """What the documented conversion gives, or None where it must refuse: float64
    stays float64 (in any byte order), other floats, bools and exact integers become
    float32."""
    kind = a.dtype.kind
    if kind == "f":
        return a.astype(np.float64 if a.dtype.itemsize >= 8 else np.float32)
    if kind == "b":
        return a.astype(np.float32)
    if kind in "iu":
        if a.size and (int(a.max()) > 2**24 or int(a.min()) < -2**24):
            return None
        return a.astype(np.float32)
    return None


def close(got, want):
    got = np.asarray(got, np.float64)
    want = np.asarray(want, np.float64)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-30, equal_nan=True)


UNARY = {
    "neg": np.negative,
    "abs": np.abs,
    "square": np.square,
    "relu": lambda x: np.maximum(x, 0),
    "exp": np.exp,
    "tanh": np.tanh,
    "sigmoid": lambda x: np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))),
                                  np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x)))),
    "softplus": lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))),
}


@given(name=st.sampled_from(sorted(UNARY)), a=arrays())
def test_unary_ops_match_numpy_or_refuse(name, a):
    want = expected_float32(a)
    try:
        got = getattr(cgan.ops, name)(a)
    except CLEAN:
        assert want is None or a.ndim > 4, "refused a convertible array"
        return
    assert want is not None, f"accepted {a.dtype}"
    with np.errstate(all="ignore"):
        ref = UNARY[name](want.astype(np.float64)).astype(want.dtype)
    # Results in the input's precision against a float64 reference rounded to it.
    got = got.numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    finite = np.isfinite(ref) & np.isfinite(got)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    tiny = np.finfo(want.dtype).tiny
    np.testing.assert_allclose(got[finite], ref[finite], rtol=1e-5, atol=tiny)


@given(name=st.sampled_from(["add", "sub", "mul"]), a=arrays(max_dims=2),
       b=arrays(max_dims=2))
def test_binary_ops_broadcast_like_numpy_or_refuse(name, a, b):
    wa, wb = expected_float32(a), expected_float32(b)
    try:
        broadcast = np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        broadcast = None
    try:
        got = getattr(cgan.ops, name)(a, b)
    except CLEAN:
        return  # refusing is always allowed; accepting must be right (below)
    assert wa is not None and wb is not None, (a.dtype, b.dtype)
    assert broadcast is not None and got.shape == broadcast
    with np.errstate(all="ignore"):
        ref = getattr(np, {"add": "add", "sub": "subtract", "mul": "multiply"}[name])(wa, wb)
    close(got.numpy(), ref)


@given(a=arrays(max_dims=3), b=arrays(max_dims=3))
def test_matmul_matches_numpy_or_refuses(a, b):
    wa, wb = expected_float32(a), expected_float32(b)
    try:
        got = cgan.ops.matmul(a, b)
    except CLEAN:
        ok = (wa is not None and wb is not None and a.ndim == 2 and b.ndim == 2
              and a.shape[1] == b.shape[0])
        assert not ok, "refused a valid product"
        return
    assert a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0]
    with np.errstate(all="ignore"):
        ref = wa.astype(np.float64) @ wb.astype(np.float64)
    got = got.numpy()
    assert got.shape == ref.shape
    finite = np.isfinite(ref) & (np.abs(ref) < 1e30)
    # Sums of products in float32: compare against a bound on the rounding error.
    scale = np.abs(wa.astype(np.float64)) @ np.abs(wb.astype(np.float64))
    with np.errstate(all="ignore"):
        assert np.all(np.abs(got[finite] - ref[finite]) <= 1e-5 * scale[finite] + 1e-30)


@given(a=arrays(max_dims=3), axis=st.one_of(st.none(), st.integers(-4, 4)),
       keepdims=st.booleans(), mean=st.booleans())
def test_reductions_match_numpy_or_refuse(a, axis, keepdims, mean):
    want = expected_float32(a)
    try:
        op = cgan.ops.mean if mean else cgan.ops.sum
        got = op(a, axis=axis, keepdims=keepdims).numpy()
    except CLEAN:
        return
    assert want is not None
    f = np.mean if mean else np.sum
    with np.errstate(all="ignore"):
        ref = f(want.astype(np.float64), axis=axis, keepdims=keepdims)
    assert got.shape == np.shape(ref)
    finite = np.isfinite(ref) & np.isfinite(got) & (np.abs(ref) < 1e30)
    scale = f(np.abs(want.astype(np.float64)), axis=axis, keepdims=keepdims)
    assert np.all(np.abs(got[finite] - ref[finite]) <= 1e-5 * np.asarray(scale)[finite] + 1e-30)


@given(a=arrays(max_dims=4), shape=st.lists(st.integers(-2, 6), max_size=4))
def test_reshape_matches_numpy_or_refuses(a, shape):
    want = expected_float32(a)
    try:
        got = cgan.ops.reshape(a, shape).numpy()
    except CLEAN:
        return
    assert want is not None
    np.testing.assert_array_equal(got, want.reshape(shape))


@given(x=arrays(max_dims=3), width=st.integers(1, 4),
       activation=st.sampled_from(["relu", "tanh", "elu", "leaky_relu", "softplus"]),
       dtype=st.sampled_from(["float32", "float64"]))
def test_mlp_forward_matches_numpy_or_refuses(x, width, activation, dtype):
    m = cgan.nn.MLP(width, [3], 2, activation=activation, seed=0).astype(dtype)
    W = [p.numpy().astype(np.float64) for p in m.parameters()]
    try:
        got = m(x)
    except CLEAN:
        return
    assert x.ndim == 2 and x.shape[1] == width and x.dtype.kind in "fiub"
    h = x.astype(np.float64) @ W[0].T + W[1]
    with np.errstate(all="ignore"):
        h = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh,
             "elu": lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0))),
             "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v),
             "softplus": lambda v: np.maximum(v, 0) + np.log1p(np.exp(-np.abs(v)))}[activation](h)
        ref = h @ W[2].T + W[3]
    assert got.shape == ref.shape and got.dtype == np.dtype(dtype)
    finite = np.isfinite(ref) & (np.abs(ref) < 1e20) & np.all(np.abs(x.astype(np.float64)) < 1e20, axis=1, keepdims=True)
    tol = 1e-4 if dtype == "float32" else 1e-10
    scale = 1 + np.abs(x.astype(np.float64)).sum(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        assert np.all(np.abs(got - ref)[finite] <= (tol * scale * np.ones_like(ref))[finite])


@given(batch=arrays(max_dims=3))
def test_gan_step_trains_or_refuses_and_never_half_updates(batch):
    G = cgan.nn.MLP(2, [4], 2, seed=0)
    D = cgan.nn.MLP(2, [4], 1, seed=1)
    gan = cgan.GAN(G, D, loss="non-saturating", z_dim=2, seed=0)
    before = [p.numpy().copy() for p in G.parameters() + D.parameters()]
    try:
        gan.step(batch)
    except CLEAN + (FloatingPointError,):
        after = [p.numpy() for p in G.parameters() + D.parameters()]
        assert all(np.array_equal(a, b) for a, b in zip(before, after))
        assert gan.steps_done == 0
        return
    w = expected_float32(batch)
    assert w is not None and w.ndim == 2 and w.shape[0] > 0 and w.shape[1] == 2
    assert np.all(np.isfinite(w)) and gan.steps_done == 1
