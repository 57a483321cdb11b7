"""The f-divergence table (cgan.divergences): identities of f, f*, g_f and known values."""
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import norm

from cgan import divergences

NAMES = divergences.names()
P, Q = norm(0, 1).pdf, norm(1, 1).pdf  # N(0,1) and N(1,1)


def test_names_are_the_ten_rows_of_the_table():
    assert NAMES == ["total-variation", "kl", "reverse-kl", "pearson", "neyman", "hellinger",
                     "jeffrey", "jensen-shannon", "jensen-shannon-weighted", "gan"]


@pytest.mark.parametrize("name", NAMES)
def test_f_vanishes_at_one(name):
    # Nowozin's GAN row is the exception: f(1) = -log 4 (its divergence is 2 JSD - log 4).
    expected = -math.log(4) if name == "gan" else 0.0
    assert divergences.get(name).f(1.0) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_f_is_convex(name):
    u = np.linspace(0.01, 10, 4001)
    f = divergences.get(name).f(u)
    second_difference = f[2:] - 2 * f[1:-1] + f[:-2]
    assert np.all(second_difference >= -1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_f_prime_at_one_matches_a_finite_difference(name):
    d, h = divergences.get(name), 1e-6
    fd = (d.f(1 + h) - d.f(1 - h)) / (2 * h)
    assert d.f_prime_at_1 == pytest.approx(fd, abs=1e-7)


def _interior_points(d):
    """t = f'(u0) for a few u0: inside dom f*, with the sup attained at u0."""
    if d.name == "total-variation":
        return np.array([-0.4, -0.1, 0.0, 0.3, 0.45])
    u0 = np.array([0.2, 0.5, 0.9, 1.5, 4.0])
    h = 1e-6
    return (d.f(u0 + h) - d.f(u0 - h)) / (2 * h)


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_is_the_sup_over_u(name):
    d = divergences.get(name)
    u = np.concatenate([np.linspace(1e-4, 2, 200001), np.linspace(2, 60, 200001)])
    fu = d.f(u)
    for t in _interior_points(d):
        sup = np.max(u * t - fu)
        assert d.conjugate(t) == pytest.approx(sup, rel=1e-6, abs=1e-7), t


@pytest.mark.parametrize("name", ["total-variation", "reverse-kl", "neyman", "hellinger",
                                  "jensen-shannon", "jensen-shannon-weighted", "gan"])
def test_conjugate_is_infinite_off_its_domain(name):
    d = divergences.get(name)
    assert d.conjugate(d.domain[1] + 0.1) == math.inf
    if d.domain[0] > -math.inf:
        assert d.conjugate(d.domain[0] - 0.1) == math.inf


@pytest.mark.parametrize("name", NAMES)
def test_activation_maps_into_the_domain_of_the_conjugate(name):
    d = divergences.get(name)
    v = np.random.default_rng(0).uniform(-20, 20, 2000)
    t = d.activation(v)
    lo, hi = d.domain
    if name == "total-variation":  # closed domain [-1/2, 1/2]
        assert np.all((t >= lo) & (t <= hi))
    else:
        assert np.all((t > lo) & (t < hi))
    assert np.all(np.isfinite(d.conjugate(t)))


@pytest.mark.parametrize("name", NAMES)
def test_stable_composition_equals_conjugate_of_activation(name):
    d = divergences.get(name, pi=0.3)
    v = np.linspace(-15, 15, 301)
    np.testing.assert_allclose(d.conjugate_of_activation(v), d.conjugate(d.activation(v)),
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_stable_composition_is_finite_for_huge_outputs(name):
    v = np.array([-1e4, -1e3, 0.0, 1e3, 1e4])
    assert np.all(np.isfinite(divergences.get(name).conjugate_of_activation(v)))


def _jsd_weighted(pi):
    """∫ pi p log(p/m) + (1-pi) q log(q/m), m = pi p + (1-pi) q (the table's D_f column)."""
    def integrand(x):
        p, q = P(x), Q(x)
        m = pi * p + (1 - pi) * q
        return pi * p * np.log(p / m) + (1 - pi) * q * np.log(q / m)
    return integrate.quad(integrand, -30, 30, limit=200)[0]


JSD = _jsd_weighted(0.5)  # 0.11142 nats for N(0,1) vs N(1,1)

CLOSED_FORMS = {
    "kl": 0.5,                                  # (mu1 - mu2)^2 / 2
    "reverse-kl": 0.5,
    "pearson": math.e - 1,                      # exp((mu1 - mu2)^2) - 1
    "neyman": math.e - 1,
    "hellinger": 2 * (1 - math.exp(-1 / 8)),    # ∫(√p - √q)², un-halved
    "jeffrey": 1.0,                             # KL + reverse KL
    "total-variation": 2 * norm.cdf(0.5) - 1,   # ½∫|p - q|
    "jensen-shannon": 2 * JSD,                  # the table's f gives 2 JSD
    "jensen-shannon-weighted": JSD,             # pi = ½ gives JSD itself
    "gan": 2 * JSD - math.log(4),
}


def test_jensen_shannon_reference_value():
    assert JSD == pytest.approx(0.11142, abs=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_quadrature_of_two_gaussians_matches_closed_form(name):
    value = divergences.get(name).divergence(P, Q, -12, 13)
    assert value == pytest.approx(CLOSED_FORMS[name], rel=1e-7, abs=1e-9)


def test_weighted_jensen_shannon_follows_the_tables_definition():
    assert divergences.get("jensen-shannon-weighted", pi=0.3).divergence(P, Q, -12, 13) == \
        pytest.approx(_jsd_weighted(0.3), rel=1e-7)


def test_disjoint_support_regions_use_the_limits_of_f():
    p = lambda x: ((x >= 0) & (x <= 1)).astype(float)        # U[0, 1]
    q = lambda x: ((x >= 0) & (x <= 2)).astype(float) / 2    # U[0, 2]
    kl = divergences.get("kl")
    assert kl.divergence(p, q, -1, 3) == pytest.approx(math.log(2), abs=1e-3)  # p = 0 < q: q f(0) = 0
    assert kl.divergence(q, p, -1, 3) == math.inf                               # q = 0 < p: p·inf
    assert divergences.get("total-variation").divergence(p, q, -1, 3) == pytest.approx(0.5, abs=1e-3)


def test_far_apart_densities_stay_finite_where_q_underflows():
    # N(30, 1) underflows to denormals below x ~ -8, where p/q overflows: the integrand
    # must take its u -> inf limit there, not nan. JS of nearly disjoint densities is 2 log 2.
    far = norm(30, 1).pdf
    js = divergences.get("jensen-shannon").divergence(P, far, -10, 40)
    assert js == pytest.approx(2 * math.log(2), rel=1e-6)
    assert divergences.get("total-variation").divergence(P, far, -10, 40) == pytest.approx(1.0, rel=1e-6)


def test_optimal_critic_attains_the_divergence():
    # T*(x) = f'(p/q) makes the variational bound E_P T - E_Q f*(T) tight (Nowozin Eq. 5).
    d, h = divergences.get("hellinger"), 1e-6
    x = np.linspace(-12, 13, 20001)
    u = P(x) / Q(x)
    t = (d.f(u + h) - d.f(u - h)) / (2 * h)
    bound = np.trapezoid(P(x) * t - Q(x) * d.conjugate(t), x) if hasattr(np, "trapezoid") \
        else np.trapz(P(x) * t - Q(x) * d.conjugate(t), x)
    assert bound == pytest.approx(CLOSED_FORMS["hellinger"], rel=1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="unknown f-divergence"):
        divergences.get("kullback")
    with pytest.raises(ValueError, match="pi"):
        divergences.get("jensen-shannon-weighted", pi=1.0)
    with pytest.raises(ValueError):
        divergences.get("kl").divergence(P, Q, 1, -1)
    with pytest.raises(ValueError):
        divergences.get("kl").divergence(lambda x: -P(x), Q, -1, 1)
