"""Sample-quality measures for the lecture's experiments.

Mode counting on mixtures with known modes (``mode_coverage``, ``high_quality_rate``,
``mode_kl``; get the modes from ``cgan.datasets.modes(name)``); exact optimal transport
(``wasserstein_1d`` for any sizes, ``wasserstein_2d`` in any dimension through POT or
scipy); f-divergences of 1-D densities by quadrature or of samples by kernel density
(``divergence_1d``, ``divergence_samples``, ``kl_1d``, ``js_1d``); the optimal
discriminator of two densities; Frechet distance; Parzen-window log-likelihood.
Everything is computed in float64.
"""
from collections import namedtuple

import numpy as np

__all__ = ["mode_coverage", "high_quality_rate", "mode_kl", "wasserstein_1d", "wasserstein_2d",
           "frechet_distance", "kde_1d", "divergence_1d", "divergence_samples", "kl_1d", "js_1d",
           "optimal_discriminator", "parzen_log_likelihood", "ParzenResult"]


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


def mode_kl(samples, centers, std, threshold=3.0):
    """KL(p || uniform) of the histogram p of the high-quality samples over the k modes
    (each sample within threshold * std of its nearest centre counts for that centre):
    sum_i p_i log(k p_i), in nats. 0 when the good samples spread evenly over all modes,
    log k when they all sit in one mode (the maximum). With no high-quality sample at all
    there is no histogram; the result is then log k as well, the worst value (so a
    table of runs stays finite; check ``high_quality_rate`` to tell the two apart).
    """
    k, dist = _assign(samples, centers)
    n_modes = len(np.asarray(centers))
    counts = np.bincount(k[dist <= threshold * std], minlength=n_modes).astype(np.float64)
    total = counts.sum()
    if total == 0:
        return float(np.log(n_modes))
    p = counts[counts > 0] / total
    return float(max(0.0, (p * np.log(n_modes * p)).sum()))


def _samples_1d(x, name):
    x = np.asarray(x, np.float64)
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array (or (n, 1)), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or Inf")
    return x


def wasserstein_1d(a, b):
    """Exact W1 between two 1-D empirical distributions of any sizes n and m:
    the integral over u in (0, 1) of |F_a^-1(u) - F_b^-1(u)|. The quantile functions are
    steps at multiples of 1/n and 1/m; the breakpoints are kept as integers over the
    common denominator n*m, so the sum is exact up to float rounding. O((n+m) log(n+m))."""
    a = np.sort(_samples_1d(a, "a"))
    b = np.sort(_samples_1d(b, "b"))
    n, m = a.size, b.size
    if n == m:
        return float(np.abs(a - b).mean())
    # breakpoints i*m (i = 1..n) and j*n (j = 1..m) of the u-axis scaled by n*m
    ticks = np.union1d(np.arange(1, n + 1, dtype=np.int64) * m,
                       np.arange(1, m + 1, dtype=np.int64) * n)
    prev = np.concatenate([[0], ticks[:-1]])
    # on (prev, tick] F_a^-1 = a[floor(mid / m)], F_b^-1 = b[floor(mid / n)], mid inside
    twice_mid = prev + ticks
    ia = twice_mid // (2 * m)
    ib = twice_mid // (2 * n)
    return float(((ticks - prev) * np.abs(a[ia] - b[ib])).sum() / (n * m))


def frechet_distance(a, b):
    """Fréchet distance between Gaussians fitted to two sample sets (n, d)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # tr sqrt(s1 s2) via the eigenvalues of s1 s2 (real and >= 0 for PSD inputs).
    ev = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(ev.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def _point_sets(a, b, fn, what):
    """Two float64 point sets (n, d) and (m, d) (1-D input is one column), checked."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a = a[:, None] if a.ndim == 1 else a
    b = b[:, None] if b.ndim == 1 else b
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or len(a) == 0 or len(b) == 0:
        raise ValueError(f"{fn} needs non-empty (n, d) and (m, d) arrays with the same d, "
                         f"got {a.shape} and {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        raise ValueError(f"{fn}: {what} contain NaN or Inf")
    return a, b


def _weights(w, n, name):
    if w is None:
        return np.full(n, 1.0 / n)
    w = np.asarray(w, np.float64).ravel()
    if w.size != n or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"{name} must be {n} non-negative weights with a positive sum")
    return w / w.sum()


def wasserstein_2d(a, b, weights_a=None, weights_b=None, backend=None):
    """Exact W1 (earth mover's distance, Euclidean ground cost) between two empirical
    distributions in any dimension: (n, d) and (m, d) points, optionally weighted.

    backend "pot" solves the transport linear program with POT's network simplex
    (``ot.emd2``; any sizes and weights; ``pip install pot``); backend "scipy" solves the
    equivalent assignment problem (``linear_sum_assignment``; equal sizes, no weights).
    The default (None) uses POT when it is installed, else scipy. The cost matrix has
    n * m entries: meant for a few thousand points.
    """
    a, b = _point_sets(a, b, "wasserstein_2d", "the points")
    wa, wb = _weights(weights_a, len(a), "weights_a"), _weights(weights_b, len(b), "weights_b")
    if backend not in (None, "pot", "scipy"):
        raise ValueError(f"backend must be None, 'pot' or 'scipy', got {backend!r}")
    if backend in (None, "pot"):
        try:
            import ot
        except ImportError as e:
            if backend == "pot":
                raise ImportError('wasserstein_2d(backend="pot") needs POT: pip install pot') from e
        else:
            cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))
            value, log = ot.emd2(wa, wb, cost, numItermax=max(100000, 50 * len(a) * len(b)),
                                 log=True)
            if log.get("warning"):
                raise RuntimeError(f"wasserstein_2d: POT did not converge: {log['warning']}")
            return float(value)
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError as e:
        raise ImportError("wasserstein_2d needs POT (pip install pot) or, for equal sizes, "
                          "scipy (pip install scipy)") from e
    if len(a) != len(b) or weights_a is not None or weights_b is not None:
        raise ValueError("wasserstein_2d without POT (scipy's assignment) needs two sample "
                         "sets of equal size and no weights; pip install pot for the general case")
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
        plo, phi = _padded_range(*arrays)
        lo = plo if lo is None else lo
        hi = phi if hi is None else hi
    fp = p if callable(p) else kde_1d(p)
    fq = q if callable(q) else kde_1d(q)
    return divergences.get(name, pi=pi).divergence(fp, fq, lo, hi, n=n)


def divergence_samples(a, b, name="jensen-shannon", bandwidth=None, n=4001, pi=0.5):
    """D_f(P || Q) estimated from 1-D samples a ~ P and b ~ Q: Gaussian kernel density
    estimates of both (``kde_1d``; Silverman's bandwidth unless given), then quadrature
    over the samples' range padded by 3 std. Consistent but biased for small samples
    (the KDE smooths both); the divergence names and conventions of ``divergence_1d``."""
    a, b = _samples_1d(a, "a"), _samples_1d(b, "b")
    return divergence_1d(kde_1d(a, bandwidth), kde_1d(b, bandwidth), name,
                         *_padded_range(a, b), n=n, pi=pi)


def _padded_range(*arrays):
    allx = np.concatenate(arrays)
    pad = 3 * allx.std()
    return allx.min() - pad, allx.max() + pad


def kl_1d(p, q, lo=None, hi=None, n=4001):
    """KL(P || Q) in nats for 1-D densities or samples (see ``divergence_1d``)."""
    return divergence_1d(p, q, "kl", lo, hi, n=n)


def js_1d(p, q, lo=None, hi=None, n=4001):
    """The Jensen-Shannon divergence JSD(P || Q) in nats, in [0, log 2], for 1-D densities
    or samples. (The table's "jensen-shannon" row is 2 JSD; this is half of it.)"""
    return 0.5 * divergence_1d(p, q, "jensen-shannon", lo, hi, n=n)


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


ParzenResult = namedtuple("ParzenResult", ["mean", "std_error", "sigma"])
ParzenResult.__doc__ = """Mean log-likelihood of the test set (nats per example), its standard
error (std of the per-example log-likelihoods / sqrt(n_test)) and the window width used."""


def _parzen_log_density(centres, x, sigma, batch):
    """log of the Gaussian Parzen density with kernel centres `centres` (n, d) and width
    sigma at the points x (t, d), per point: logsumexp over centres, in row blocks of at
    most `batch` points x so that a block's distance matrix stays bounded."""
    n, d = centres.shape
    c2 = (centres ** 2).sum(1)
    out = np.empty(len(x))
    const = np.log(n) + 0.5 * d * np.log(2 * np.pi * sigma * sigma)
    for i in range(0, len(x), batch):
        xb = x[i:i + batch]
        # squared distances by expansion (float64); clipped at 0 against rounding
        d2 = np.maximum((xb ** 2).sum(1)[:, None] - 2 * xb @ centres.T + c2[None, :], 0.0)
        e = -0.5 * d2 / (sigma * sigma)
        top = e.max(1)
        out[i:i + batch] = top + np.log(np.exp(e - top[:, None]).sum(1)) - const
    return out


def parzen_log_likelihood(samples, test, sigma=None, sigmas=None, validation=None, batch=None):
    """Parzen-window log-likelihood, the protocol of Goodfellow et al. 2014 (Sec. 5, after
    Breuleux et al. 2011): fit a Gaussian Parzen window (an isotropic Gaussian of width
    sigma on every generated sample) to `samples` (n, d) and report the mean
    log-likelihood of the real `test` set (t, d) under it, with its standard error.

    sigma: the window width; if None it is chosen by cross-validation: each of `sigmas`
    (default ``np.logspace(-1, 0, 10)``, the grid of the paper's code) is scored by the
    mean log-likelihood of the real `validation` set (required then), and the best is
    used. Log-densities are computed with logsumexp, in blocks of `batch` test points
    (default: blocks of about 4 million distances), so memory stays bounded.
    Returns ParzenResult(mean, std_error, sigma). An estimate with a known strong bias
    in high dimension (Theis et al. 2016); for comparisons on one data set only.
    """
    s, t = _point_sets(samples, test, "parzen_log_likelihood", "samples or test")
    if batch is None:
        batch = max(1, (1 << 22) // len(s))
    elif isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    if sigma is None:
        if validation is None:
            raise ValueError("parzen_log_likelihood: give sigma, or a validation set of real "
                             "data to choose it by cross-validation")
        v = np.asarray(validation, np.float64)
        if v.ndim == 1:
            v = v[:, None]
        if v.ndim != 2 or v.shape[1] != s.shape[1] or len(v) == 0:
            raise ValueError(f"validation must be a non-empty (v, {s.shape[1]}) array, got {v.shape}")
        grid = np.logspace(-1, 0, 10) if sigmas is None else np.asarray(sigmas, np.float64).ravel()
        if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
            raise ValueError("sigmas must be a non-empty sequence of finite numbers > 0")
        scores = [_parzen_log_density(s, v, float(g), batch).mean() for g in grid]
        sigma = float(grid[int(np.argmax(scores))])
    else:
        sigma = float(sigma)
        if not (np.isfinite(sigma) and sigma > 0):
            raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    ll = _parzen_log_density(s, t, sigma, batch)
    err = ll.std(ddof=1) / np.sqrt(len(ll)) if len(ll) > 1 else float("nan")
    return ParzenResult(float(ll.mean()), float(err), sigma)
