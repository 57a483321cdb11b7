"""Sample-quality measures for the lecture's experiments.

Mode counting on mixtures with known modes (``mode_coverage``, ``high_quality_rate``,
``mode_kl``, and the three of the published 2-D tables together: ``mode_collapse_scores``;
get the modes from ``cgan.datasets.modes(name)``); exact optimal transport
(``wasserstein_1d`` for any sizes, ``wasserstein_2d`` in any dimension through POT or
scipy); f-divergences of 1-D densities by quadrature or of samples by kernel density
(``divergence_1d``, ``divergence_samples``, ``kl_1d``, ``js_1d``); the optimal
discriminator of two densities; Frechet distance; Parzen-window log-likelihood. For
digit images (see image_metrics.py): ``DigitClassifier`` (FD in its features, an
Inception-Score-like score, class coverage) and ``nearest_image_distance``.
Everything is computed in float64.
"""
from collections import namedtuple

import numpy as np

from .datasets import _is_real_scalar  # the one scalar check, shared

__all__ = ["mode_coverage", "high_quality_rate", "mode_kl", "mode_collapse_scores", "ModeScores", "wasserstein_1d", "wasserstein_2d",
           "frechet_distance", "kde_1d", "divergence_1d", "divergence_samples", "kl_1d", "js_1d",
           "optimal_discriminator", "parzen_log_likelihood", "ParzenResult",
           "DigitClassifier", "nearest_image_distance", "NearestImages", "ClassHistogram"]


def _real_array(x, name, fn):
    """x as a float64 array; TypeError unless it holds real numbers (bool, int or float),
    ValueError if it is ragged. No copy when x is already float64."""
    try:
        raw = np.asarray(x)
    except (ValueError, TypeError) as e:  # ragged nesting, or an object NumPy cannot hold
        raise ValueError(f"{fn}: {name} must be a rectangular array of real numbers; "
                         f"got a ragged or unconvertible {type(x).__name__}") from e
    if raw.dtype.kind not in "biuf":
        what = {"c": "complex numbers (the imaginary part would be lost)",
                "O": "Python objects"}.get(raw.dtype.kind, f"dtype {raw.dtype}")
        raise TypeError(f"{fn}: {name} must hold real numbers (bool, integer or float), "
                        f"got {what}")
    return raw.astype(np.float64, copy=False)


def _points(x, name, fn, ndim=2, column=False, min_rows=1):
    """The one validator of sample arrays: x as float64, real, finite and non-empty.

    ndim=2: points (n, d) with d >= 1; with column=True a 1-D array is one column.
    ndim=1: samples (n,), or (n, 1) flattened. At least `min_rows` samples (rows)."""
    a = _real_array(x, name, fn)
    if ndim == 1:
        if a.ndim == 2 and a.shape[1] == 1:
            a = a[:, 0]
        if a.ndim != 1 or a.size == 0:
            raise ValueError(f"{fn}: {name} must be a non-empty 1-D array (or (n, 1)), "
                             f"got shape {a.shape}")
    else:
        if column and a.ndim == 1:
            a = a[:, None]
        if a.ndim != 2 or a.size == 0:
            one_d = " (or 1-D, one column)" if column else ""
            raise ValueError(f"{fn}: {name} must be a non-empty (n, d) array{one_d}, "
                             f"got shape {a.shape}")
    if len(a) < min_rows:
        raise ValueError(f"{fn}: {name} needs at least {min_rows} samples, got {len(a)}")
    bad = a.size - np.count_nonzero(np.isfinite(a))
    if bad:
        raise ValueError(f"{fn}: {name} contains {bad} NaN or Inf value(s); "
                         f"expected finite numbers")
    return a


def _same_dim(a, b, fn, names):
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{fn}: {names[0]} {a.shape} and {names[1]} {b.shape} must be "
                         f"(n, d) and (m, d) arrays with the same d")


def _positive(value, name, fn):
    """A real, finite number > 0 (a scalar), as a float; TypeError / ValueError otherwise."""
    if not _is_real_scalar(value):
        raise TypeError(f"{fn}: {name} must be a real number, got {value!r}")
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{fn}: {name} must be a finite number > 0, got {value!r}")
    return v


def _assign(samples, centers, std, threshold, fn):
    """Nearest centre of every sample and the distance to it, after checking all inputs."""
    samples = _points(samples, "samples", fn)
    centers = _points(centers, "centers", fn)
    _same_dim(samples, centers, fn, ("samples", "centers"))
    _positive(std, "std", fn)
    _positive(threshold, "threshold", fn)
    d2 = ((samples[:, None, :] - centers[None, :, :]) ** 2).sum(-1)
    k = d2.argmin(1)
    return k, np.sqrt(d2[np.arange(len(k)), k])


def high_quality_rate(samples, centers, std, threshold=3.0):
    """Fraction of samples within threshold * std of their nearest mode centre."""
    _, dist = _assign(samples, centers, std, threshold, "high_quality_rate")
    return float((dist <= threshold * std).mean())


def mode_coverage(samples, centers, std, threshold=3.0, min_count=None):
    """Number of modes that received at least `min_count` high-quality samples
    (within threshold * std of the centre). min_count defaults to 1% of the
    samples an even split would give a mode (at least 1)."""
    k, dist = _assign(samples, centers, std, threshold, "mode_coverage")
    if min_count is not None and (isinstance(min_count, bool) or
                                  not isinstance(min_count, (int, np.integer)) or min_count < 1):
        raise ValueError(f"mode_coverage: min_count must be None or a positive integer, "
                         f"got {min_count!r}")
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
    k, dist = _assign(samples, centers, std, threshold, "mode_kl")
    n_modes = len(np.asarray(centers))
    counts = np.bincount(k[dist <= threshold * std], minlength=n_modes).astype(np.float64)
    total = counts.sum()
    if total == 0:
        return float(np.log(n_modes))
    p = counts[counts > 0] / total
    return float(max(0.0, (p * np.log(n_modes * p)).sum()))


ModeScores = namedtuple("ModeScores", ["modes", "high_quality", "kl"])


def mode_collapse_scores(samples, centers, std, threshold=3.0):
    """The three measures of VEEGAN's and PacGAN's 2-D tables (Srivastava et al. 2017,
    Lin et al. 2018, Table 1), as their code computes them (fjxmlzn/PacGAN,
    pacgan/extensions.py, MetricLogger): each sample goes to its nearest mode centre; it is
    high quality when within `threshold` (3) std of it; a mode is captured when it is the
    nearest mode of at least one high-quality sample; kl is KL(p || uniform) of the
    histogram p of the high-quality samples over the modes (their "reverse KL").

    Returns ModeScores(modes, high_quality, kl): an int, a fraction in [0, 1] and nats.
    Same as ``mode_coverage(..., min_count=1)``, ``high_quality_rate`` and ``mode_kl``
    (``mode_coverage``'s default min_count of 1% of an even share is stricter than the
    tables' count)."""
    k, dist = _assign(samples, centers, std, threshold, "mode_collapse_scores")
    n_modes = len(np.asarray(centers))
    hq = dist <= threshold * std
    counts = np.bincount(k[hq], minlength=n_modes).astype(np.float64)
    total = counts.sum()
    if total == 0:
        return ModeScores(0, 0.0, float(np.log(n_modes)))
    p = counts[counts > 0] / total
    kl = float(max(0.0, (p * np.log(n_modes * p)).sum()))
    return ModeScores(int((counts > 0).sum()), float(hq.mean()), kl)


def wasserstein_1d(a, b):
    """Exact W1 between two 1-D empirical distributions of any sizes n and m:
    the integral over u in (0, 1) of |F_a^-1(u) - F_b^-1(u)|. The quantile functions are
    steps at multiples of 1/n and 1/m; the breakpoints are kept as integers over the
    common denominator n*m, so the sum is exact up to float rounding. O((n+m) log(n+m))."""
    a = np.sort(_points(a, "a", "wasserstein_1d", ndim=1))
    b = np.sort(_points(b, "b", "wasserstein_1d", ndim=1))
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
    """Fréchet distance between Gaussians fitted to two sample sets (n, d) (1-D: one
    column), each of at least two samples (for a covariance)."""
    a = _points(a, "a", "frechet_distance", column=True, min_rows=2)
    b = _points(b, "b", "frechet_distance", column=True, min_rows=2)
    _same_dim(a, b, "frechet_distance", ("a", "b"))
    mu1, mu2 = a.mean(0), b.mean(0)
    s1, s2 = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
    # tr sqrt(s1 s2) via the eigenvalues of s1 s2 (real and >= 0 for PSD inputs).
    ev = np.linalg.eigvals(s1 @ s2)
    tr_sqrt = np.sqrt(np.clip(ev.real, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt)


def _point_sets(a, b, fn, names=("a", "b")):
    """Two float64 point sets (n, d) and (m, d) (1-D input is one column), checked."""
    a = _points(a, names[0], fn, column=True)
    b = _points(b, names[1], fn, column=True)
    _same_dim(a, b, fn, names)
    return a, b


def _weights(w, n, name):
    if w is None:
        return np.full(n, 1.0 / n)
    w = _real_array(w, name, "wasserstein_2d").ravel()
    if w.size != n or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError(f"{name} must be {n} non-negative weights with a positive sum")
    return w / w.sum()


def wasserstein_2d(a, b, weights_a=None, weights_b=None, backend=None, max_pairs=10**8):
    """Exact W1 (earth mover's distance, Euclidean ground cost) between two empirical
    distributions in any dimension: (n, d) and (m, d) points, optionally weighted.

    backend "pot" solves the transport linear program with POT's network simplex
    (``ot.emd2``; any sizes and weights; ``pip install pot``); backend "scipy" solves the
    equivalent assignment problem (``linear_sum_assignment``; equal sizes, no weights).
    The default (None) uses POT when it is installed, else scipy. The cost matrix has
    n * m entries (building it takes up to 16 (d + 1) bytes per entry): meant for a few
    thousand points. Sizes with n * m > max_pairs (default 10**8, i.e. 10,000 x 10,000
    points, up to about 5 GB at d = 2) are refused with a ValueError before anything
    is allocated: subsample both sets (W1 of random subsamples is a consistent, upward
    biased estimate) or raise max_pairs if the memory and time are there.
    """
    a, b = _point_sets(a, b, "wasserstein_2d")
    if isinstance(max_pairs, bool) or not isinstance(max_pairs, (int, np.integer)) \
            or max_pairs < 1:
        raise ValueError(f"wasserstein_2d: max_pairs must be a positive integer, "
                         f"got {max_pairs!r}")
    if len(a) * len(b) > max_pairs:
        raise ValueError(f"wasserstein_2d: {len(a)} x {len(b)} points need a cost matrix of "
                         f"{len(a) * len(b):,} entries, more than max_pairs={max_pairs:,}; "
                         f"subsample both sets (e.g. x[rng.choice(len(x), 5000, "
                         f"replace=False)]) or pass a larger max_pairs")
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
    x = _points(samples, "samples", "kde_1d", ndim=1, min_rows=2)
    if bandwidth is not None:
        _positive(bandwidth, "bandwidth", "kde_1d")
    if bandwidth is None:
        iqr = np.subtract(*np.percentile(x, [75, 25]))
        spread = min(x.std(ddof=1), iqr / 1.34) if iqr > 0 else x.std(ddof=1)
        bandwidth = 0.9 * spread * x.size ** -0.2
    if not bandwidth > 0:
        raise ValueError("kde_1d: Silverman's bandwidth is 0 because the samples have no "
                         "spread (are all samples equal?); pass bandwidth= explicitly")
    h = float(bandwidth)

    def density(t):
        t = _real_array(t, "the evaluation points", "kde_1d density")
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

    arrays = [_density_samples(v, name_v) for v, name_v in ((p, "p"), (q, "q"))
              if not callable(v)]
    if lo is None or hi is None:
        if not arrays:
            raise ValueError("divergence_1d: give lo and hi when both p and q are callables")
        plo, phi = _padded_range(*arrays)
        lo = plo if lo is None else lo
        hi = phi if hi is None else hi
    fp = p if callable(p) else kde_1d(arrays[0])
    fq = q if callable(q) else kde_1d(arrays[-1])
    return divergences.get(name, pi=pi).divergence(fp, fq, lo, hi, n=n)


def _density_samples(v, name):
    """A non-callable argument of divergence_1d: it must be 1-D samples for kde_1d."""
    if np.ndim(v) == 0:
        raise TypeError(f"divergence_1d: {name} must be a density callable or a 1-D array "
                        f"of samples, got {type(v).__name__} {v!r}")
    return _points(v, name, "divergence_1d", ndim=1, min_rows=2)


def divergence_samples(a, b, name="jensen-shannon", bandwidth=None, n=4001, pi=0.5):
    """D_f(P || Q) estimated from 1-D samples a ~ P and b ~ Q: Gaussian kernel density
    estimates of both (``kde_1d``; Silverman's bandwidth unless given), then quadrature
    over the samples' range padded by 3 std. Consistent but biased for small samples
    (the KDE smooths both); the divergence names and conventions of ``divergence_1d``."""
    a = _points(a, "a", "divergence_samples", ndim=1, min_rows=2)
    b = _points(b, "b", "divergence_samples", ndim=1, min_rows=2)
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
    s, t = _point_sets(samples, test, "parzen_log_likelihood", ("samples", "test"))
    if batch is None:
        batch = max(1, (1 << 22) // len(s))
    elif isinstance(batch, bool) or not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    if sigma is None:
        if validation is None:
            raise ValueError("parzen_log_likelihood: give sigma, or a validation set of real "
                             "data to choose it by cross-validation")
        v = _points(validation, "validation", "parzen_log_likelihood", column=True)
        _same_dim(s, v, "parzen_log_likelihood", ("samples", "validation"))
        grid = np.logspace(-1, 0, 10) if sigmas is None else \
            _real_array(sigmas, "sigmas", "parzen_log_likelihood").ravel()
        if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
            raise ValueError("sigmas must be a non-empty sequence of finite numbers > 0")
        scores = [_parzen_log_density(s, v, float(g), batch).mean() for g in grid]
        sigma = float(grid[int(np.argmax(scores))])
    else:
        sigma = _positive(sigma, "sigma", "parzen_log_likelihood")
    ll = _parzen_log_density(s, t, sigma, batch)
    err = ll.std(ddof=1) / np.sqrt(len(ll)) if len(ll) > 1 else float("nan")
    return ParzenResult(float(ll.mean()), float(err), sigma)

# Image metrics (a digit classifier trained with cgan, FD in its features, ...): image_metrics.py
from .image_metrics import DigitClassifier, NearestImages, ClassHistogram, nearest_image_distance  # noqa: E402,F401
