"""Which divergence each f-GAN generator loss minimises (cgan.losses.FGAN's table).

On a discrete example, P fixed and Q = softmax(theta) over six points, the critic is set to
its optimum T* = f'(p/q) (v* = g_f^{-1}(T*)); G's loss is then E_Q[h(v*)] with h the
objective's own per-sample generator loss, held fixed while theta moves. Its gradient in
theta must equal the gradient of the divergence the table names (finite differences of a
closed-form NumPy divergence)."""
import numpy as np
import pytest
from scipy.optimize import brentq

import cgan
from cgan import losses
from cgan._core import divergences as core_div

PI = 0.3
P = np.array([0.05, 0.1, 0.3, 0.25, 0.2, 0.1])
THETA = np.array([0.3, -0.2, 0.1, 0.5, -0.4, 0.2])


def softmax(t):
    e = np.exp(t - t.max())
    return e / e.sum()


def kl(a, b):
    return np.sum(a * np.log(a / b))


def chi2(a, b):  # E_b[(a/b - 1)^2]
    return np.sum((a - b) ** 2 / b)


def jsd(p, q):
    m = (p + q) / 2
    return (kl(p, m) + kl(q, m)) / 2


def weighted(p, q):
    m = PI * p + (1 - PI) * q
    return PI * (kl(q, p) - kl(q, m) - PI / (1 - PI) * kl(p, m))


# what the alternative loss -E_Q T* minimises, row by row (p the data, q the model)
ALTERNATIVE = {
    "total-variation": lambda p, q: 0.5 * np.abs(p - q).sum(),
    "kl": lambda p, q: kl(q, p),
    "reverse-kl": lambda p, q: 0.5 * chi2(q, p),
    "pearson": lambda p, q: 2 * kl(p, q),
    "neyman": lambda p, q: (np.sum(q ** 3 / p ** 2) - 1) / 3,
    "hellinger": lambda p, q: 2 / 3 * (np.sum(q ** 1.5 / p ** 0.5) - 1),
    "jeffrey": lambda p, q: kl(q, p) + 0.5 * chi2(q, p),
    "jensen-shannon": lambda p, q: kl(q, p) - 2 * jsd(p, q),
    "gan": lambda p, q: kl(q, p) - 2 * jsd(p, q),
    "jensen-shannon-weighted": weighted,
}
NAMES = list(ALTERNATIVE)


def divergence(name):
    return core_div.make(name, PI if name == "jensen-shannon-weighted" else 0.5)


def optimal_raw_outputs(name, q):
    """v* with g_f(v*) = f'(p/q), per point."""
    d = divergence(name)
    u = P / q
    ut = cgan.tensor(u.reshape(-1, 1), requires_grad=True)
    (fprime,) = cgan.grad(d.f_tensor(ut).sum(), [ut])
    fprime = fprime.numpy().ravel()
    if name == "total-variation":  # f' = sign(u - 1) / 2 is reached only as v -> +-inf
        return np.where(u > 1, 40.0, -40.0)
    return np.array([brentq(lambda v: d.activation(np.array([[v]]))[0, 0] - t, -60, 60, xtol=1e-14)
                     for t in fprime])


def grad_of_fixed_critic_loss(objective, v):
    """d/dtheta of sum_k q_k(theta) h(v_k) at THETA, h the objective's per-sample G loss."""
    h = np.array([objective.g_loss_raw(np.array([[vk]])).item() for vk in v])
    q = softmax(THETA)
    return (np.diag(q) - np.outer(q, q)) @ h


def fd_grad(fn, eps=1e-6):
    g = np.zeros_like(THETA)
    for j in range(len(THETA)):
        e = np.zeros_like(THETA)
        e[j] = eps
        g[j] = (fn(softmax(THETA + e)) - fn(softmax(THETA - e))) / (2 * eps)
    return g


def options(name):
    return {"pi": PI} if name == "jensen-shannon-weighted" else {}


@pytest.mark.parametrize("name", NAMES)
def test_each_generator_loss_follows_the_gradient_of_its_divergence(name):
    q = softmax(THETA)
    v = optimal_raw_outputs(name, q)
    d = divergence(name)
    own = lambda p_, q_: np.sum(q_ * d.f((p_ / q_).reshape(-1, 1)).ravel())  # noqa: E731 - D_f(P||Q)
    saturating = losses.get(f"f-gan:{name}", generator_loss="saturating", **options(name))
    alternative = losses.get(f"f-gan:{name}", generator_loss="alternative", **options(name))
    np.testing.assert_allclose(grad_of_fixed_critic_loss(saturating, v), fd_grad(lambda q_: own(P, q_)),
                               atol=1e-7, err_msg="saturating vs D_f")
    np.testing.assert_allclose(grad_of_fixed_critic_loss(alternative, v),
                               fd_grad(lambda q_: ALTERNATIVE[name](P, q_)), atol=1e-7,
                               err_msg="alternative vs the table")
    # the two differ (else the table would say so): total variation is the one exception
    differ = not np.allclose(fd_grad(lambda q_: own(P, q_)), fd_grad(lambda q_: ALTERNATIVE[name](P, q_)),
                             atol=1e-4)
    assert differ == (name != "total-variation")


def test_the_alternative_kl_loss_is_reverse_kl_minus_one():
    # the identity: -E_Q[1 + log(p/q)] = KL(Q||P) - 1, on the value, not only the gradient
    q = softmax(THETA)
    v = optimal_raw_outputs("kl", q)
    alt = losses.get("f-gan:kl", generator_loss="alternative")
    value = sum(qk * alt.g_loss_raw(np.array([[vk]])).item() for qk, vk in zip(q, v))
    assert value == pytest.approx(kl(q, P) - 1, rel=1e-10)


@pytest.mark.parametrize("name", NAMES)
def test_the_default_is_the_rows_own_divergence_except_for_the_minimax_rows(name):
    vf = np.linspace(-2, 2, 7).reshape(-1, 1) * (0.2 if name == "total-variation" else 1.0)
    default = losses.get(f"f-gan:{name}", **options(name)).g_loss_raw(vf).item()
    expected = "alternative" if name in ("gan", "jensen-shannon", "jensen-shannon-weighted") else "saturating"
    chosen = losses.get(f"f-gan:{name}", generator_loss=expected, **options(name)).g_loss_raw(vf).item()
    assert default == chosen
    assert cgan.defaults.resolve(f"f-gan:{name}")["options"]["generator_loss"] == expected
