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


def test_wasserstein_2d_of_a_shift_and_against_1d():
    pytest.importorskip("scipy")
    rng = np.random.default_rng(1)
    a = rng.standard_normal((300, 2))
    assert cgan.metrics.wasserstein_2d(a, a + [0.5, 0.0]) == pytest.approx(0.5, abs=1e-9)
    x, y = rng.standard_normal((200, 1)), rng.standard_normal((200, 1)) + 1
    assert cgan.metrics.wasserstein_2d(x, y) == pytest.approx(cgan.metrics.wasserstein_1d(x, y))
    with pytest.raises(ValueError):
        cgan.metrics.wasserstein_2d(a, a[:10])


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
