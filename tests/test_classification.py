"""cgan.losses.log_softmax / cross_entropy: values against an independent NumPy formula,
stability for huge logits, gradients against finite differences and the closed form
(softmax - onehot) / n, a classifier that learns, and bad input."""
import numpy as np
import pytest

import cgan
from cgan import losses


def ref_log_softmax(v):
    # the textbook formula, in long double so that it is a fair reference for moderate logits
    e = np.exp(v.astype(np.longdouble))
    return np.log(e / e.sum(axis=1, keepdims=True)).astype(np.float64)


def test_values_match_numpy():
    rng = np.random.default_rng(0)
    v = rng.normal(scale=3.0, size=(7, 5))
    y = rng.integers(0, 5, size=7)
    np.testing.assert_allclose(losses.log_softmax(v).numpy(), ref_log_softmax(v), rtol=1e-12, atol=1e-12)
    ce = losses.cross_entropy(v, y)
    assert ce.shape == () and ce.item() == pytest.approx(-ref_log_softmax(v)[np.arange(7), y].mean(), rel=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_logits_stay_finite_and_exact(dtype):
    v = np.array([[1e4, 0.0, -1e4], [-3e4, -3e4, -3e4 + 1]], dtype=dtype)  # exact in float32
    lp = losses.log_softmax(v).numpy()
    assert lp.dtype == np.dtype(dtype) and np.all(np.isfinite(lp))
    np.testing.assert_allclose(lp[0], [0.0, -1e4, -2e4], rtol=1e-6)
    np.testing.assert_allclose(lp[1], np.array([0, 0, 1]) - np.log(2 + np.e), rtol=1e-6)
    t = cgan.tensor(v, requires_grad=True)
    (g,) = cgan.grad(losses.cross_entropy(t, np.array([2, 0])), [t])
    assert np.all(np.isfinite(g.numpy()))


def test_gradient_is_softmax_minus_onehot_and_matches_finite_differences():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(4, 3))
    y = np.array([2, 0, 1, 2])
    t = cgan.tensor(v, requires_grad=True)
    (g,) = cgan.grad(losses.cross_entropy(t, y), [t])
    p = np.exp(ref_log_softmax(v))
    onehot = np.eye(3)[y]
    np.testing.assert_allclose(g.numpy(), (p - onehot) / 4, rtol=1e-10, atol=1e-12)
    fd = np.zeros_like(v)
    for idx in np.ndindex(*v.shape):
        e = np.zeros_like(v); e[idx] = 1e-6
        fd[idx] = (losses.cross_entropy(v + e, y).item() - losses.cross_entropy(v - e, y).item()) / 2e-6
    np.testing.assert_allclose(g.numpy(), fd, atol=1e-7)


def test_second_derivative_through_cross_entropy():
    # d/dv of (dCE/dv . u) is the softmax Jacobian times u / n: double backward works
    rng = np.random.default_rng(2)
    v, u = rng.normal(size=(1, 3)), rng.normal(size=(1, 3))
    t = cgan.tensor(v, requires_grad=True)
    (g,) = cgan.grad(losses.cross_entropy(t, np.array([1])), [t], create_graph=True)
    (h,) = cgan.grad(cgan.ops.sum(cgan.ops.mul(g, u)), [t])
    p = np.exp(ref_log_softmax(v))[0]
    jac = np.diag(p) - np.outer(p, p)
    np.testing.assert_allclose(h.numpy()[0], jac @ u[0], rtol=1e-10, atol=1e-12)


def test_a_classifier_learns_separable_classes():
    rng = np.random.default_rng(3)
    centres = np.array([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    y = rng.integers(0, 3, size=300)
    x = (centres[y] + 0.5 * rng.normal(size=(300, 2))).astype(np.float32)
    C = cgan.nn.MLP(2, [16], 3, seed=0)
    opt = cgan.optim.Adam(C.parameters(), lr=1e-2)
    first = losses.cross_entropy(C.forward(cgan.tensor(x)), y).item()
    for _ in range(200):
        opt.zero_grad()
        loss = losses.cross_entropy(C.forward(cgan.tensor(x)), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first
    assert np.mean(C(x).argmax(axis=1) == y) > 0.97


@pytest.mark.parametrize("logits,labels,exc,match", [
    (np.zeros((3, 2)), np.array([0, 1]), ValueError, r"shape \(3,\)"),
    (np.zeros((3, 2)), np.array([0, 1, 2]), ValueError, r"in \[0, 2\)"),
    (np.zeros((3, 2)), np.array([0, -1, 1]), ValueError, r"in \[0, 2\)"),
    (np.zeros((3, 2)), np.array([0.0, 1.0, 1.0]), TypeError, "integers"),
    (np.zeros(3), np.array([0, 1, 1]), ValueError, r"\(n, classes\)"),
    (np.array([[0.0, np.nan]]), np.array([0]), ValueError, "NaN"),
    (np.zeros((2, 2), dtype=np.int64), np.array([0, 1]), TypeError, "float"),
])
def test_bad_input(logits, labels, exc, match):
    with pytest.raises(exc, match=match):
        losses.cross_entropy(logits, labels)
