"""cgan.metrics: each measure against a case with a known answer."""
import numpy as np
import pytest

import cgan


def npdf(x, mu=0.0, s=1.0):
    return np.exp(-0.5 * ((x - mu) / s) ** 2) / (s * np.sqrt(2 * np.pi))


def test_mode_coverage_and_quality():
    c = cgan.datasets.ring_centers()
    three = cgan.datasets.ring(3000, seed=0)
    three = three[np.isin(np.argmin(((three[:, None] - c[None]) ** 2).sum(-1), 1), [0, 1, 2])]
    assert cgan.metrics.mode_coverage(three, c, cgan.datasets.ring_std) == 3
    noise = np.random.default_rng(0).uniform(-3, 3, (1000, 2))
    mixed = np.concatenate([three[:1000], noise])
    rate = cgan.metrics.high_quality_rate(mixed, c, cgan.datasets.ring_std)
    assert 0.45 < rate < 0.55


def test_wasserstein_1d_of_a_shift():
    x = np.random.default_rng(0).standard_normal(5000)
    assert cgan.metrics.wasserstein_1d(x, x + 0.7) == pytest.approx(0.7)


def test_wasserstein_1d_unequal_sizes_is_exact():
    # W1 = integral of |F_a^-1 - F_b^-1|: two points {0, 1} against three {0, 0, 3}:
    # quantiles on (0,1/3]: 0 vs 0, (1/3,1/2]: 0 vs 0, (1/2,2/3]: 1 vs 0, (2/3,1]: 1 vs 3
    assert cgan.metrics.wasserstein_1d([0, 1], [0, 0, 3]) == pytest.approx(1 / 6 + 2 / 3)
    rng = np.random.default_rng(4)
    for n, m in [(1, 5), (7, 3), (400, 1000), (999, 1000)]:
        a, b = rng.standard_normal(n), rng.standard_normal(m) * 2 + 1
        # against the same integral on a fine u-grid
        u = (np.arange(200000) + 0.5) / 200000
        ref = np.abs(np.sort(a)[(u * n).astype(int)] - np.sort(b)[(u * m).astype(int)]).mean()
        assert cgan.metrics.wasserstein_1d(a, b) == pytest.approx(ref, rel=1e-3)
    # repeating every sample k times leaves the distribution, hence W1, unchanged
    a, b = rng.standard_normal(30), rng.standard_normal(20)
    assert cgan.metrics.wasserstein_1d(np.repeat(a, 2), b) == pytest.approx(
        cgan.metrics.wasserstein_1d(a, b), rel=1e-12)
    with pytest.raises(ValueError, match="non-empty"):
        cgan.metrics.wasserstein_1d([], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        cgan.metrics.wasserstein_1d([np.nan], [1.0])


@pytest.mark.parametrize("theta", [-1.5, 0.3, 2.0])
def test_wasserstein_between_gaussians_is_the_shift(theta):
    a = cgan.datasets.gaussian_1d(20000, seed=0)
    b = cgan.datasets.gaussian_1d(15000, mean=theta, seed=1)
    assert cgan.metrics.wasserstein_1d(a, b) == pytest.approx(abs(theta), abs=0.03)


def test_wasserstein_2d_of_a_shift_and_against_1d():
    pytest.importorskip("scipy")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 2))
    t = np.array([0.3, -0.4])
    for backend in (None, "scipy"):
        assert cgan.metrics.wasserstein_2d(a, a + t, backend=backend) == pytest.approx(0.5, abs=1e-9)
    x, y = rng.standard_normal((200, 1)), rng.standard_normal((200, 1)) + 1
    assert cgan.metrics.wasserstein_2d(x, y) == pytest.approx(cgan.metrics.wasserstein_1d(x, y))
    with pytest.raises(ValueError, match="same d"):
        cgan.metrics.wasserstein_2d(a, a[:, :1])
    with pytest.raises(ValueError, match="equal size"):
        cgan.metrics.wasserstein_2d(a, a[:10], backend="scipy")


def test_wasserstein_2d_with_pot_unequal_sizes_and_weights():
    pytest.importorskip("ot")
    pytest.importorskip("scipy")
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((120, 2)), rng.standard_normal((120, 2)) + 0.5
    # POT and the assignment agree on equal sizes
    assert cgan.metrics.wasserstein_2d(a, b, backend="pot") == pytest.approx(
        cgan.metrics.wasserstein_2d(a, b, backend="scipy"), rel=1e-9)
    # unequal sizes in 1-D: equals the exact quantile formula
    x, y = rng.standard_normal((90, 1)), rng.standard_normal((140, 1)) * 1.5
    assert cgan.metrics.wasserstein_2d(x, y) == pytest.approx(
        cgan.metrics.wasserstein_1d(x, y), rel=1e-9)
    # weights: repeating a point is the same as doubling its weight
    w = np.ones(len(x))
    w[:10] = 2
    assert cgan.metrics.wasserstein_2d(x, y, weights_a=w) == pytest.approx(
        cgan.metrics.wasserstein_2d(np.concatenate([x, x[:10]]), y), rel=1e-9)
    # a discrete example by hand: all mass at 0 against half at 1 and half at (0, 2)
    assert cgan.metrics.wasserstein_2d([[0, 0]], [[1, 0], [0, 2]]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="weights_b"):
        cgan.metrics.wasserstein_2d(x, y, weights_b=-np.ones(len(y)))
    with pytest.raises(ValueError, match="backend"):
        cgan.metrics.wasserstein_2d(x, y, backend="torch")


def test_wasserstein_2d_without_pot_says_what_to_install(hide_modules):
    pytest.importorskip("scipy")
    hide_modules("ot")
    a = np.random.default_rng(0).standard_normal((50, 2))
    assert cgan.metrics.wasserstein_2d(a, a + [1, 0]) == pytest.approx(1.0)  # scipy fallback
    with pytest.raises(ValueError, match="pip install pot"):
        cgan.metrics.wasserstein_2d(a, a[:20])
    with pytest.raises(ImportError, match="pip install pot"):
        cgan.metrics.wasserstein_2d(a, a, backend="pot")


def test_kde_integrates_to_one_and_approaches_the_density():
    x = np.random.default_rng(2).standard_normal(5000)
    kde = cgan.metrics.kde_1d(x)
    t = np.linspace(-8, 8, 1601)
    assert kde(t).sum() * (t[1] - t[0]) == pytest.approx(1.0, abs=1e-3)
    assert np.abs(kde(t) - npdf(t)).max() < 0.02


def test_divergence_1d_closed_forms():
    # Callables: exact up to quadrature. KL(N(0,1) || N(1,1)) = 1/2; 2 JSD = 0.22284.
    p, q = npdf, lambda x: npdf(x, 1.0)
    assert cgan.metrics.divergence_1d(p, q, "kl", -12, 13) == pytest.approx(0.5, abs=1e-6)
    assert cgan.metrics.divergence_1d(p, q, "jensen-shannon", -12, 13) == pytest.approx(2 * 0.11142, abs=1e-4)
    # Samples: through the KDE, close to the truth.
    rng = np.random.default_rng(3)
    est = cgan.metrics.divergence_1d(rng.standard_normal(3000), rng.standard_normal(3000) + 1, "kl", n=1001)
    assert est == pytest.approx(0.5, abs=0.08)


def test_optimal_discriminator():
    d = cgan.metrics.optimal_discriminator(npdf, lambda x: npdf(x, 1.0))
    x = np.array([-3.0, 0.5, 4.0])
    expected = npdf(x) / (npdf(x) + npdf(x, 1.0))
    assert np.allclose(d(x), expected) and d(np.array([0.5]))[0] == pytest.approx(0.5)
    assert d(np.array([1e4]))[0] == 0.5  # both densities 0: no preference
    with pytest.raises(TypeError):
        cgan.metrics.optimal_discriminator(np.zeros(3), npdf)


def test_real_ring_and_grid_samples_are_high_quality_and_cover_every_mode():
    # within 3 std of a 2-D isotropic Gaussian's centre: P(chi2_2 <= 9) = 1 - exp(-4.5)
    for name, k in (("ring", 8), ("grid", 25)):
        c, std = cgan.datasets.modes(name)
        x = getattr(cgan.datasets, name)(50000, seed=1)
        assert cgan.metrics.mode_coverage(x, c, std) == k
        assert cgan.metrics.high_quality_rate(x, c, std) == pytest.approx(1 - np.exp(-4.5), abs=0.002)
        assert cgan.metrics.mode_kl(x, c, std) < 2e-3


def test_mode_kl_known_values():
    c, std = cgan.datasets.modes("ring")
    x = cgan.datasets.ring(16000, seed=2)
    k = np.argmin(((x[:, None] - c[None]) ** 2).sum(-1), 1)
    assert cgan.metrics.mode_kl(x[k == 3], c, std) == pytest.approx(np.log(8))
    # two modes, 3:1 -> KL((3/4, 1/4, 0...) || uniform(8)) = log 8 - H(3/4, 1/4)
    a, b = x[k == 0][:300], x[k == 5][:100]
    expected = np.log(8) + 0.75 * np.log(0.75) + 0.25 * np.log(0.25)
    assert cgan.metrics.mode_kl(np.concatenate([a, b]), c, std, threshold=10) == pytest.approx(expected)
    # far-away samples are not high quality and do not count; none at all -> log k
    far = np.full((50, 2), 9.0)
    assert cgan.metrics.mode_kl(np.concatenate([x, far]), c, std, threshold=10) == pytest.approx(
        cgan.metrics.mode_kl(x, c, std, threshold=10))
    assert cgan.metrics.mode_kl(far, c, std) == pytest.approx(np.log(8))


def test_divergences_of_a_density_to_itself_are_zero_and_helpers_match():
    p = cgan.datasets.mixture_1d_pdf()
    for name in ("kl", "reverse-kl", "jensen-shannon", "hellinger", "total-variation", "pearson"):
        assert cgan.metrics.divergence_1d(p, p, name, -8, 8) == pytest.approx(0.0, abs=1e-9)
    g0, g1 = cgan.datasets.gaussian_pdf(0, 1), cgan.datasets.gaussian_pdf(1, 1)
    assert cgan.metrics.kl_1d(g0, g1, -12, 13) == pytest.approx(0.5, abs=1e-6)
    assert cgan.metrics.js_1d(g0, g1, -12, 13) == pytest.approx(0.11142, abs=1e-4)
    far = cgan.metrics.js_1d(g0, cgan.datasets.gaussian_pdf(10, 1), -10, 20)  # nearly disjoint
    assert far <= np.log(2) + 1e-9 and far == pytest.approx(np.log(2), abs=1e-4)


def test_divergence_samples_by_kernel_density():
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(3000), rng.standard_normal(3000) + 1
    assert cgan.metrics.divergence_samples(a, b, "kl") == pytest.approx(0.5, abs=0.08)
    assert cgan.metrics.divergence_samples(a, b, "jensen-shannon") == pytest.approx(2 * 0.11142, abs=0.03)
    same = cgan.metrics.divergence_samples(a, rng.standard_normal(3000), "kl")
    assert 0 <= same < 0.02
    with pytest.raises(ValueError, match="1-D"):
        cgan.metrics.divergence_samples(np.zeros((10, 2)), b)


def test_parzen_log_likelihood_of_the_true_distribution():
    # samples from N(0, 1): the Parzen estimate approaches E log N(x; 0, 1) = -(log 2 pi + 1)/2
    rng = np.random.default_rng(6)
    s, t, v = rng.standard_normal((5000, 1)), rng.standard_normal(4000), rng.standard_normal(1000)
    r = cgan.metrics.parzen_log_likelihood(s, t, validation=v, sigmas=np.logspace(-2, 0.5, 12))
    truth = -0.5 * (np.log(2 * np.pi) + 1)
    assert r.mean == pytest.approx(truth, abs=3 * r.std_error + 0.01)
    assert 0.05 < r.sigma < 0.6 and 0.005 < r.std_error < 0.05
    # 2-D, and a generator that misses half the data scores much lower
    s2, t2 = rng.standard_normal((3000, 2)), rng.standard_normal((2000, 2))
    good = cgan.metrics.parzen_log_likelihood(s2, t2, sigma=0.3)
    bad = cgan.metrics.parzen_log_likelihood(np.abs(s2), t2, sigma=0.3)
    assert good.mean == pytest.approx(-(np.log(2 * np.pi) + 1), abs=0.1) and bad.mean < good.mean - 1


def test_parzen_log_likelihood_is_stable_and_batched():
    rng = np.random.default_rng(7)
    s, t = rng.standard_normal((700, 3)), rng.standard_normal((301, 3))
    full = cgan.metrics.parzen_log_likelihood(s, t, sigma=0.2)
    small = cgan.metrics.parzen_log_likelihood(s, t, sigma=0.2, batch=7)
    assert small.mean == pytest.approx(full.mean, rel=1e-12)
    # direct formula in float64
    d2 = ((t[:, None] - s[None]) ** 2).sum(-1)
    ll = np.log(np.exp(-d2 / (2 * 0.04)).mean(1)) - 1.5 * np.log(2 * np.pi * 0.04)
    assert full.mean == pytest.approx(ll.mean(), rel=1e-10)
    # a tiny window far from every sample: exp underflows, logsumexp does not
    far = cgan.metrics.parzen_log_likelihood(s, t + 50, sigma=1e-3)
    assert np.isfinite(far.mean) and far.mean < -1e8
    with pytest.raises(ValueError, match="validation"):
        cgan.metrics.parzen_log_likelihood(s, t)
    with pytest.raises(ValueError, match="sigma"):
        cgan.metrics.parzen_log_likelihood(s, t, sigma=-1)
    with pytest.raises(ValueError, match="same d"):
        cgan.metrics.parzen_log_likelihood(s, t[:, :2], sigma=1)
