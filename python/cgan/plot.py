"""Plots of the lecture's toy experiments (needs matplotlib: ``pip install "cgan[plot]"``).

Every function draws on the Axes you pass (``ax=...``) or on the current Axes, and
returns that Axes, so figures compose with ``plt.subplots``::

    import matplotlib.pyplot as plt, cgan.plot
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(12, 4))
    cgan.plot.samples(data, gan.sample(2000), ax=a)
    cgan.plot.critic_contour(gan, (-3, 3), (-3, 3), ax=b, data=data, fake=gan.sample(500))
    cgan.plot.loss_curves(history, ax=c)

matplotlib is imported only when a function is called; ``import cgan`` never needs it.
"""
import numpy as np

__all__ = ["samples", "critic_contour", "density_1d", "loss_curves", "curves", "histogram",
           "matrix", "image_grid", "CLASSIFIER_LOSSES"]

# Objectives whose raw output v is a logit: D(x) = sigmoid(v) is the probability that
# x is real (f-gan:gan has T = g_f(v) = log sigmoid(v), so the same D).
CLASSIFIER_LOSSES = ("minimax", "non-saturating", "dragan", "f-gan:gan")

_REAL_COLOR = "tab:blue"
_DATA_COLOR = "#08306b"  # dark blue: visible on top of the orange samples
_FAKE_COLOR = "tab:orange"
_D_COLOR = "tab:green"


def _plt():
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:  # pragma: no cover - exercised by monkeypatching in the tests
        raise ImportError(
            'cgan.plot needs matplotlib, which is not installed; install it with '
            'pip install "cgan[plot]" (or pip install matplotlib)') from e
    return plt


def _axes(ax):
    plt = _plt()
    return plt.gca() if ax is None else ax


def _points(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"{name} must be an (n, 2) array of 2-D points, got shape {x.shape}")
    return x


def _check_lim(lim, name):
    lo, hi = (float(v) for v in lim)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be (lo, hi) with finite lo < hi, got {lim!r}")
    return lo, hi


def _sigmoid(v):
    return 0.5 * (1.0 + np.tanh(0.5 * v))  # overflow-free


def _label_axes(ax):
    """x1, x2 on the axes of a 2-D plot, unless the caller labelled them already."""
    if not ax.get_xlabel():
        ax.set_xlabel("x1")
    if not ax.get_ylabel():
        ax.set_ylabel("x2")


def samples(real, fake, ax=None, s=4, alpha=0.5):
    """Scatter of 2-D generator samples `fake` (orange) with the data `real` (dark blue)
    drawn on top, smaller and opaque, so that the data stay visible where the samples
    pile up (both (n, 2)); axes labelled x1, x2.

    real or fake may be None to draw only the other. Returns the Axes (two collections,
    real first, then fake; equal aspect).
    """
    ax = _axes(ax)
    if real is not None:
        r = _points(real, "real")
        ax.scatter(r[:, 0], r[:, 1], s=max(s * 0.4, 1), alpha=0.9, c=_DATA_COLOR, label="data",
                   linewidths=0, zorder=3)
    if fake is not None:
        f = _points(fake, "fake")
        ax.scatter(f[:, 0], f[:, 1], s=s * 2, alpha=alpha, c=_FAKE_COLOR, label="G(z)",
                   linewidths=0, zorder=2)
    ax.set_aspect("equal", adjustable="box")
    _label_axes(ax)
    ax.legend(loc="upper right", markerscale=3, fontsize="small")
    return ax


def _critic_values(gan, x):
    """D's scalar output per point: the raw output v, or for an autoencoder D (ebgan)
    the energy = mean squared reconstruction error."""
    x32 = np.ascontiguousarray(x, dtype=np.dtype(gan.discriminator.dtype))
    v = np.asarray(gan.discriminate(x32), dtype=np.float64)
    if v.ndim == 2 and v.shape[1] == 1:
        return v[:, 0], "D(x) raw output"
    if v.shape == x.shape:
        return ((v - x) ** 2).mean(axis=1), "energy ‖D(x) - x‖²/d"
    raise ValueError(f"discriminate returned shape {v.shape} for input {x.shape}")


def critic_contour(gan, xlim, ylim, ax=None, data=None, fake=None, n=100, levels=20,
                   probability=None, colorbar=True, s=4):
    """Filled contour of the discriminator / critic of a 2-D GAN over a grid, with the
    data and fake samples on top.

    The value drawn is ``gan.discriminate`` (the raw output); with ``probability=True``
    (the default for classifier objectives, see CLASSIFIER_LOSSES) it is D(x) =
    sigmoid(v); for ebgan it is the energy. `n` grid points per axis.
    Returns the Axes (one contour set, then the data and fake scatters).
    """
    ax = _axes(ax)
    x0, x1 = _check_lim(xlim, "xlim")
    y0, y1 = _check_lim(ylim, "ylim")
    gx, gy = np.meshgrid(np.linspace(x0, x1, int(n)), np.linspace(y0, y1, int(n)))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    v, label = _critic_values(gan, grid)
    if probability is None:
        probability = gan.loss in CLASSIFIER_LOSSES
    if probability:
        v, label = _sigmoid(v), "D(x) = sigmoid(v)"
    cs = ax.contourf(gx, gy, v.reshape(gx.shape), levels=levels, cmap="viridis")
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label=label)  # ax's own figure, not pyplot's current
    # the data (white) on top of the samples (orange), so that both stay visible
    if data is not None:
        d = _points(data, "data")
        ax.scatter(d[:, 0], d[:, 1], s=max(s * 0.5, 1), c="white", alpha=0.9, linewidths=0,
                   label="data", zorder=3)
    if fake is not None:
        f = _points(fake, "fake")
        ax.scatter(f[:, 0], f[:, 1], s=s * 1.5, c=_FAKE_COLOR, alpha=0.8, linewidths=0,
                   label="G(z)", zorder=2)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    _label_axes(ax)
    if data is not None or fake is not None:
        ax.legend(loc="upper right", markerscale=3, fontsize="small")
    return ax


def density_1d(gan, p_data, xlim, ax=None, n_samples=20000, bins=60, n=400, seed=0,
               show_d=True):
    """Goodfellow et al. (2014) Figure 1 for a 1-D GAN: the data density (black,
    dashed), a histogram of G's samples (orange) and the discriminator (green).

    p_data: a callable density p(x) (drawn as a line) or 1-D samples (drawn as a
    step histogram). For classifier objectives (CLASSIFIER_LOSSES) the discriminator is
    drawn as D(x) = sigmoid(v) on the same axis (it lives in [0, 1], like the densities
    of the paper's figure); for any other objective the raw critic output is drawn on a
    twin y-axis. Returns the main Axes.
    """
    ax = _axes(ax)
    lo, hi = _check_lim(xlim, "xlim")
    x = np.linspace(lo, hi, int(n))
    if callable(p_data):
        ax.plot(x, np.asarray(p_data(x), dtype=np.float64) * np.ones_like(x), "k--",
                label="p_data")
    else:
        d = np.asarray(p_data, dtype=np.float64).ravel()
        ax.hist(d, bins=bins, range=(lo, hi), density=True, histtype="step", color="k",
                linestyle="--", label="p_data")
    fake = np.asarray(gan.sample(int(n_samples), seed=seed), dtype=np.float64)
    if fake.ndim != 2 or fake.shape[1] != 1:
        raise ValueError(f"density_1d needs a 1-D generator, G's samples have shape {fake.shape}")
    ax.hist(fake[:, 0], bins=bins, range=(lo, hi), density=True, alpha=0.5,
            color=_FAKE_COLOR, label="p_G (samples)")
    if show_d:
        v, _ = _critic_values(gan, x.reshape(-1, 1))
        if gan.loss in CLASSIFIER_LOSSES:
            ax.plot(x, _sigmoid(v), color=_D_COLOR, lw=2, label="D(x)")
        else:
            twin = ax.twinx()
            twin.plot(x, v, color=_D_COLOR, lw=2, label="critic v(x)")
            twin.set_ylabel("critic v(x)", color=_D_COLOR)
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.legend(loc="upper left", fontsize="small")
    return ax


_CURVE_LABELS = (("d_loss", "D loss"), ("g_loss", "G loss"), ("penalty", "gradient penalty"),
                 ("divergence", "divergence estimate"))


def loss_curves(history, ax=None, keys=None):
    """Training curves from ``gan.fit``'s history: d_loss and g_loss, plus penalty and
    divergence when they are finite (they are NaN for objectives without them).

    `keys` restricts the curves drawn. Returns the Axes (one line per curve drawn).
    """
    ax = _axes(ax)
    if not isinstance(history, dict) or "step" not in history:
        raise ValueError("history must be the dict returned by GAN.fit (with a 'step' entry)")
    step = np.asarray(history["step"])
    wanted = [k for k, _ in _CURVE_LABELS] if keys is None else list(keys)
    for key, label in _CURVE_LABELS:
        if key not in wanted or key not in history:
            continue
        y = np.asarray(history[key], dtype=np.float64)
        if len(y) == 0 or not np.any(np.isfinite(y)):
            continue
        ax.plot(step, y, label=label, lw=1)
    ax.set_xlabel("generator step")
    if not ax.get_ylabel():
        ax.set_ylabel("value (loss, penalty, estimate)")
    if ax.lines:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no logged step", ha="center", va="center", transform=ax.transAxes)
    return ax


def curves(series, ax=None, logy=False, xlabel=None, ylabel=None):
    """Named curves on one Axes, e.g. divergence estimates over training.

    series: a dict {label: y} or {label: (x, y)}; a bare y is drawn against 0, 1, 2, ...
    logy=True puts the y axis on a log scale (non-positive values are then not drawn).
    Returns the Axes (one line per entry, in the dict's order, labelled by its key).
    """
    ax = _axes(ax)
    if not isinstance(series, dict) or not series:
        raise ValueError("series must be a non-empty dict {label: y} or {label: (x, y)}")
    for label, v in series.items():
        if isinstance(v, tuple) and len(v) == 2:
            x, y = np.asarray(v[0], np.float64).ravel(), np.asarray(v[1], np.float64).ravel()
        else:
            y = np.asarray(v, np.float64).ravel()
            x = np.arange(y.size, dtype=np.float64)
        if x.shape != y.shape or y.size == 0:
            raise ValueError(f"curve {label!r}: x and y must be non-empty and of one length, "
                             f"got {x.size} and {y.size}")
        ax.plot(x, y, label=str(label), lw=1.2)
    if logy:
        ax.set_yscale("log")
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.legend(fontsize="small")
    return ax


def histogram(values, ax=None, bins=50, range=None, density=True, label=None, color=None,
              alpha=0.6):
    """A histogram of 1-D values (e.g. critic gradient norms at interpolates, samples of
    a 1-D generator); NaN and Inf are dropped. Returns the Axes (one bar per bin)."""
    ax = _axes(ax)
    v = np.asarray(values, np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("histogram needs at least one finite value")
    ax.hist(v, bins=bins, range=range, density=density, label=label, color=color, alpha=alpha)
    if label is not None:
        ax.legend(fontsize="small")
    return ax


def matrix(m, ax=None, annotate=True, fmt=".2f", cmap="Blues", xlabel=None, ylabel=None,
           colorbar=False):
    """A matrix as an image with row 0 at the top, e.g. an optimal transport plan gamma
    (rows: where mass comes from, columns: where it goes). annotate writes each entry
    (for small matrices). Returns the Axes (one AxesImage, plus one Text per entry)."""
    ax = _axes(ax)
    a = np.asarray(m, np.float64)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"matrix needs a non-empty 2-D array, got shape {a.shape}")
    im = ax.imshow(a, cmap=cmap, interpolation="nearest", aspect="equal")
    if annotate:
        mid = 0.5 * (np.nanmin(a) + np.nanmax(a))
        for (i, j), val in np.ndenumerate(a):
            ax.text(j, i, format(val, fmt), ha="center", va="center", fontsize="small",
                    color="white" if val > mid else "black")
    ax.set_xticks(np.arange(a.shape[1]))
    ax.set_yticks(np.arange(a.shape[0]))
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if colorbar:
        ax.figure.colorbar(im, ax=ax)
    return ax


def image_grid(images, nrow, ax=None, shape=None, cmap="gray", pad=1):
    """Tile images into a grid with `nrow` images per row.

    images: (N, H, W), (N, C, H, W) with C = 1 or 3, or flat (N, H*W[*C]) with
    ``shape=(H, W)`` or ``(C, H, W)``. Each image is scaled to [0, 1] by the batch's
    min and max. Returns the Axes (one AxesImage, axes off).
    """
    ax = _axes(ax)
    x = np.asarray(images, dtype=np.float64)
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if x.ndim != 2 or int(np.prod(shape)) != x.shape[1]:
            raise ValueError(f"images of shape {x.shape} cannot be reshaped to (N, *{shape})")
        x = x.reshape((x.shape[0],) + shape)
    if x.ndim == 2:
        raise ValueError("flat images (N, D) need shape=(H, W) or (C, H, W)")
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] not in (1, 3) or len(x) == 0:
        raise ValueError(f"images must be (N, H, W) or (N, C, H, W) with C in (1, 3), got {x.shape}")
    nrow = int(nrow)
    if nrow < 1:
        raise ValueError(f"nrow must be a positive integer, got {nrow}")
    lo, hi = np.nanmin(x), np.nanmax(x)
    x = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    N, C, H, W = x.shape
    cols, rows = min(nrow, N), -(-N // nrow)
    canvas = np.ones((C, rows * (H + pad) + pad, cols * (W + pad) + pad))
    for i in range(N):
        r, c = divmod(i, nrow)
        y0, x0 = pad + r * (H + pad), pad + c * (W + pad)
        canvas[:, y0:y0 + H, x0:x0 + W] = x[i]
    if C == 1:
        ax.imshow(canvas[0], cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(canvas.transpose(1, 2, 0), interpolation="nearest")
    ax.set_axis_off()
    return ax
