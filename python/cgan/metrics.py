"""Sample-quality measures for the toy experiments."""
import numpy as np

__all__ = ["mode_coverage", "high_quality_rate", "wasserstein_1d", "wasserstein_2d",
           "frechet_distance", "kde_1d", "divergence_1d", "optimal_discriminator"]


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


def wasserstein_2d(a, b):
    """Exact W1 between two empirical distributions of equal size in any dimension
    (an optimal assignment, O(n^3): meant for a few thousand samples). Needs scipy."""
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError as e:  # pragma: no cover - scipy is in the test extra
        raise ImportError('wasserstein_2d needs scipy: pip install scipy') from e
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"wasserstein_2d needs two (n, d) arrays of one shape, got {a.shape} and {b.shape}")
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def kde_1d(samples, bandwidth=None):
    """A Gaussian kernel density estimate of 1-D samples, as a vectorised callable.
    bandwidth defaults to Silverman's rule."""
    x = np.asarray(samples, np.float64).ravel()
    if x.size < 2:
        raise ValueError("kde_1d needs at least two samples")
    if bandwidth is None:
        iqr = np.subtract(*np.percentile(x, [75, 25]))
        spread = min(x.std(ddof=1), iqr / 1.34) if iqr > 0 else x.std(ddof=1)
        bandwidth = 0.9 * spread * x.size ** -0.2
    if not bandwidth > 0:
        raise ValueError("kde_1d: bandwidth must be > 0 (are all samples equal?)")
    h = float(bandwidth)

    def density(t):
        t = np.asarray(t, np.float64)
        flat = t.reshape(-1)
        out = np.empty(flat.size)
        step = max(1, (1 << 22) // x.size)  # bounded memory: ~32 MB per block
        for i in range(0, flat.size, step):
            z = (flat[i:i + step, None] - x[None, :]) / h
            out[i:i + step] = np.exp(-0.5 * z * z).sum(1)
        return (out / (x.size * h * np.sqrt(2 * np.pi))).reshape(t.shape)

    return density


def divergence_1d(p, q, name="jensen-shannon", lo=None, hi=None, n=4001, pi=0.5):
    """D_f(P || Q) for 1-D P and Q, each a density callable or an array of samples (then
    estimated by ``kde_1d``), by quadrature over [lo, hi] with the f of the lecture's
    table (``cgan.divergences``; note its conventions, e.g. jensen-shannon = 2 JSD)."""
    from . import divergences

    arrays = [np.asarray(v, np.float64).ravel() for v in (p, q) if not callable(v)]
    if lo is None or hi is None:
        if not arrays:
            raise ValueError("divergence_1d: give lo and hi when both p and q are callables")
        allx = np.concatenate(arrays)
        pad = 3 * allx.std()
        lo = allx.min() - pad if lo is None else lo
        hi = allx.max() + pad if hi is None else hi
    fp = p if callable(p) else kde_1d(p)
    fq = q if callable(q) else kde_1d(q)
    return divergences.get(name, pi=pi).divergence(fp, fq, lo, hi, n=n)


def optimal_discriminator(p, q):
    """D*(x) = p(x) / (p(x) + q(x)) for density callables p (data) and q (generator):
    the optimum of the minimax discriminator for a fixed generator (Goodfellow 2014)."""
    if not (callable(p) and callable(q)):
        raise TypeError("optimal_discriminator needs two density callables")

    def d_star(x):
        px, qx = np.asarray(p(x), np.float64), np.asarray(q(x), np.float64)
        total = px + qx
        return np.divide(px, total, out=np.full_like(total, 0.5), where=total > 0)

    return d_star
