"""Sample-quality measures for the toy experiments."""
import numpy as np

__all__ = ["mode_coverage", "high_quality_rate", "wasserstein_1d", "frechet_distance"]


def _assign(samples, centers):
    samples = np.asarray(samples, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    if samples.ndim != 2 or centers.ndim != 2 or samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples {samples.shape} and centers {centers.shape} must be "
                         f"(n, d) and (k, d) with the same d")
    d2 = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    k = d2.argmin(1)
    return k, np.sqrt(d2[np.arange(len(k)), k])


def high_quality_rate(samples, centers, std, threshold=3.0):
    """Fraction of samples within threshold * std of their nearest mode centre."""
    _, dist = _assign(samples, centers)
    return float((dist <= threshold * std).mean())


def mode_coverage(samples, centers, std, threshold=3.0, min_count=None):
    """Number of modes that received at least `min_count` high-quality samples
    (within threshold * std of the centre). min_count defaults to 1% of the
    samples an even split would give a mode (at least 1)."""
    k, dist = _assign(samples, centers)
    hq = dist <= threshold * std
    counts = np.bincount(k[hq], minlength=len(np.asarray(centers)))
    if min_count is None:
        min_count = max(1, int(0.01 * len(k) / len(counts)))
    return int((counts >= min_count).sum())


def wasserstein_1d(a, b):
    """Exact W1 between two 1-D empirical distributions of equal size."""
    a = np.sort(np.asarray(a, np.float64).ravel())
    b = np.sort(np.asarray(b, np.float64).ravel())
    if len(a) != len(b):
        raise ValueError("wasserstein_1d needs samples of equal size")
    return float(np.abs(a - b).mean())


def frechet_distance(a, b):
    """Fréchet distance between Gaussians fitted to two sample sets (n, d)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # tr sqrt(s1 s2) via the eigenvalues of s1 s2 (real and >= 0 for PSD inputs).
    ev = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(ev.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)
