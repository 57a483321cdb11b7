"""Toy distributions of the lecture's experiments, as seeded NumPy arrays.

Each function returns float32 samples of shape (n, d). Functions with modes also
have a ``*_centers`` companion giving the mode centres, for ``cgan.metrics``.
"""
import numpy as np

__all__ = ["ring", "ring_centers", "grid", "grid_centers", "gaussian_1d", "mixture_1d",
           "two_moons", "swiss_roll", "ring_std", "grid_std"]

ring_std = 0.02
grid_std = 0.05


def _rng(seed):
    return np.random.default_rng(seed)


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def ring_centers(modes=8, radius=2.0):
    """Centres of `modes` equally spaced Gaussians on a circle."""
    angles = 2 * np.pi * np.arange(modes) / modes
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)


def ring(n, modes=8, radius=2.0, std=ring_std, seed=0):
    """The eight-Gaussian ring (Metz et al. 2017): equal mixture on a circle."""
    _check_n(n)
    rng = _rng(seed)
    c = ring_centers(modes, radius)
    k = rng.integers(0, modes, size=n)
    return (c[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


def grid_centers(side=5, spacing=2.0):
    """Centres of a side x side grid of Gaussians, centred at 0."""
    r = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(r, r)
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def grid(n, side=5, spacing=2.0, std=grid_std, seed=0):
    """The 25-Gaussian grid: equal mixture on a 5 x 5 lattice."""
    _check_n(n)
    rng = _rng(seed)
    c = grid_centers(side, spacing)
    k = rng.integers(0, len(c), size=n)
    return (c[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


def gaussian_1d(n, mean=0.0, std=1.0, seed=0):
    """N(mean, std^2) in one dimension, shape (n, 1)."""
    _check_n(n)
    return (mean + std * _rng(seed).standard_normal((n, 1))).astype(np.float32)


def mixture_1d(n, means=(-2.0, 2.0), stds=(0.5, 0.5), weights=None, seed=0):
    """A 1-D Gaussian mixture, shape (n, 1)."""
    _check_n(n)
    means, stds = np.asarray(means, float), np.asarray(stds, float)
    w = np.full(len(means), 1 / len(means)) if weights is None else np.asarray(weights, float)
    rng = _rng(seed)
    k = rng.choice(len(means), size=n, p=w / w.sum())
    return (means[k] + stds[k] * rng.standard_normal(n)).reshape(n, 1).astype(np.float32)


def two_moons(n, noise=0.05, seed=0):
    """Two interleaved half circles."""
    _check_n(n)
    rng = _rng(seed)
    t = np.pi * rng.random(n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return (np.stack([x, y], 1) + noise * rng.standard_normal((n, 2))).astype(np.float32)


def swiss_roll(n, noise=0.05, seed=0):
    """A 2-D swiss roll (spiral), scaled to about [-2, 2]^2."""
    _check_n(n)
    rng = _rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    pts = np.stack([t * np.cos(t), t * np.sin(t)], 1) / 7.5
    return (pts + noise * rng.standard_normal((n, 2))).astype(np.float32)
