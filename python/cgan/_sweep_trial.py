"""One trial of a study (cgan.sweep): build a GAN from settings and a seed, train, measure.

This is the code that runs on a Dask worker; it needs nothing but cgan and NumPy (scipy or
POT for the 2-D Wasserstein distance), so a trial can also be run in the calling process
(``cgan.sweep.run_trial``) to reproduce a row of a study bitwise.
"""
import functools
import hashlib
import os
import tempfile
import time

import numpy as np

from . import (__version__, datasets, get_matmul_precision, get_num_threads, losses, metrics, nn, optim,
               set_matmul_precision, set_num_threads)
from .gan import GAN

__all__ = ["DEFAULTS", "DATASETS", "run_trial", "build_gan", "data_arrays"]

# Every setting a trial understands besides the objective's own options, with its default.
# None means "the objective's paper setting" (cgan.losses.get(loss).default_optimizer).
DEFAULTS = {
    "loss": "non-saturating", "z_dim": 2, "prior": "normal", "d_steps": 1, "g_steps": 1,
    "hidden": [64, 64], "g_hidden": None, "d_hidden": None, "activation": "relu",
    "spectral_norm": False, "optimizer": None, "lr": None, "g_lr": None, "d_lr": None,
    "betas": None, "batch_size": 128, "matmul_precision": "float32",
}

_TRAIN_SIZE = 20000   # rows drawn once (data seed 0) from a named data set
_EVAL_SIZE = 2000     # generated samples for mode counts and 1-D metrics
_W_SIZE = 500         # points of each set for the exact 2-D Wasserstein distance (O(n^3))
_DATA_SEED, _HELD_OUT_SEED, _SAMPLE_SEED = 0, 1, 1


def _ring(n, seed):
    return datasets.ring(n, seed=seed)


def _grid(n, seed):
    return datasets.grid(n, seed=seed)


def _swiss_roll(n, seed):
    return datasets.swiss_roll(n, seed=seed)


def _two_moons(n, seed):
    return datasets.two_moons(n, seed=seed)


def _gaussian_1d(n, seed):
    return datasets.gaussian_1d(n, seed=seed)


def _mixture_1d(n, seed):
    return datasets.mixture_1d(n, seed=seed)


# name -> (sampler(n, seed), metric names, modes name or 1-D density)
DATASETS = {
    "ring": (_ring, ("modes", "hq", "w1"), "ring"),
    "grid": (_grid, ("modes", "hq", "w1"), "grid"),
    "swiss-roll": (_swiss_roll, ("w1",), None),
    "two-moons": (_two_moons, ("w1",), None),
    "gaussian-1d": (_gaussian_1d, ("w1", "js"), datasets.gaussian_pdf),
    "mixture-1d": (_mixture_1d, ("w1", "js"), datasets.mixture_1d_pdf),
}
# what each metric means and which way is better (the default for successive halving)
METRICS = {"modes": "max", "hq": "max", "w1": "min", "js": "min"}


@functools.lru_cache(maxsize=8)
def _named_data(name):
    sampler = DATASETS[name][0]
    return sampler(_TRAIN_SIZE, _DATA_SEED), sampler(max(_EVAL_SIZE, _W_SIZE), _HELD_OUT_SEED)


def data_arrays(data):
    """(training data, held-out data) for a data set name or a user's array (n, d); the
    held-out set of an array is a fixed random subset of it."""
    if isinstance(data, str):
        return _named_data(data)
    pick = np.random.default_rng(_HELD_OUT_SEED).choice(len(data), min(len(data), _EVAL_SIZE),
                                                         replace=False)
    return data, data[np.sort(pick)]


def metric_names(data):
    """The metrics a data set (a name or an array) is measured with."""
    if isinstance(data, str):
        return DATASETS[data][1]
    return ("w1",) if np.shape(data)[1] > 1 else ("w1", "js")


def resolve(settings):
    """Every setting of DEFAULTS, filled in; objective options are returned apart."""
    full = dict(DEFAULTS)
    options = {}
    for k, v in settings.items():
        if k in DEFAULTS:
            full[k] = v
        else:
            options[k] = v
    return full, options


def _optimizer(kind, params, lr, betas):
    if kind == "rmsprop":
        return optim.RMSprop(params, lr=lr)
    if kind == "sgd":
        return optim.SGD(params, lr=lr)
    return optim.Adam(params, lr=lr, betas=betas)


def build_gan(settings, seed, dim):
    """The GAN of one trial: MLPs G (seed) and D (seed + 1) for data of width `dim`."""
    s, options = resolve(settings)
    objective = losses.get(s["loss"], **options)
    g_hidden = list(s["g_hidden"] or s["hidden"])
    d_hidden = list(s["d_hidden"] or s["hidden"])
    G = nn.MLP(s["z_dim"], g_hidden, dim, activation=s["activation"], seed=seed)
    D = nn.MLP(dim, d_hidden, objective.d_out_features(dim), activation=s["activation"],
               spectral_norm=bool(s["spectral_norm"]), seed=seed + 1)
    opts = []
    for module, is_d, own_lr in ((G, False, s["g_lr"]), (D, True, s["d_lr"])):
        paper = objective.default_optimizer(is_d)
        kind = s["optimizer"] or paper["type"]
        lr = own_lr or s["lr"] or paper["lr"]
        betas = tuple(s["betas"] or paper.get("betas", (0.5, 0.9)))
        opts.append(_optimizer(kind, module.parameters(), float(lr), betas))
    return GAN(G, D, loss=objective.name, z_dim=s["z_dim"], prior=s["prior"],
               d_steps=s["d_steps"], g_steps=s["g_steps"], g_optimizer=opts[0],
               d_optimizer=opts[1], seed=seed, **options)


def warm_up():
    """Import what a trial imports, once per worker process, so that the first trial's
    seconds measure the trial rather than the imports."""
    try:
        import scipy.optimize  # noqa: F401
    except ImportError:
        pass
    for name in DATASETS:
        _named_data(name)


def _wasserstein_2d(a, b):
    """Exact W1 of two equal-size sets; scipy's assignment when present (importing POT
    costs seconds in every fresh worker process), else POT."""
    try:
        import scipy.optimize  # noqa: F401
        backend = "scipy"
    except ImportError:
        backend = None
    return metrics.wasserstein_2d(a, b, backend=backend)


def evaluate(gan, data, held_out, names, eval_samples=_EVAL_SIZE):
    """The data set's metrics of `eval_samples` of `gan`'s samples (the 2-D Wasserstein
    distance on at most 500 of them), as a dict name -> float."""
    fake = gan.sample(eval_samples, seed=_SAMPLE_SEED)
    out = {}
    density = DATASETS[data][2] if isinstance(data, str) else None
    if "modes" in names or "hq" in names:
        centers, std = datasets.modes(density)
        out["modes"] = metrics.mode_coverage(fake, centers, std)
        out["hq"] = metrics.high_quality_rate(fake, centers, std)
    if "w1" in names:
        if fake.shape[1] == 1:
            out["w1"] = metrics.wasserstein_1d(fake, held_out)
        else:
            n = min(_W_SIZE, len(fake), len(held_out))
            out["w1"] = _wasserstein_2d(fake[:n], held_out[:n])
    if "js" in names:
        p = density() if callable(density) else held_out[:, 0]
        out["js"] = metrics.js_1d(p, fake[:, 0])
    return {k: float(out[k]) for k in names}


def digest(gan):
    """A short hash of G's and D's parameters: two rows with one digest trained bitwise alike."""
    h = hashlib.sha256()
    for module in (gan.generator, gan.discriminator):
        for k, v in sorted(module.state_dict().items()):
            h.update(k.encode())
            h.update(np.ascontiguousarray(v).tobytes())
    return h.hexdigest()[:16]


def _to_bytes(gan):
    with tempfile.TemporaryDirectory() as tmp:
        path = gan.save(os.path.join(tmp, "trial.npz"))
        with open(path, "rb") as f:
            return f.read()


def _from_bytes(blob):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "trial.npz")
        with open(path, "wb") as f:
            f.write(blob)
        return GAN.load(path)


def run_trial(settings, seed, data="ring", steps=1000, metrics=None, checkpoint=None,
              return_checkpoint=False, threads=1, eval_samples=_EVAL_SIZE):
    """Train one trial to `steps` generator steps and measure it; never raises for a
    failing trial: the result's "error" holds "ExceptionType: message" instead.

    checkpoint: bytes of a ``GAN.save`` file of this trial at fewer steps; training then
    continues from it (bitwise the same run as training straight through). With
    return_checkpoint=True the result holds the trained GAN's checkpoint as bytes.
    eval_samples: generated samples the metrics see (2000; the 2-D Wasserstein distance
    uses at most 500 of them against as many held-out points).
    Returns a dict: the metrics (NaN when the trial failed), steps, seconds,
    cgan_version, error, digest (and checkpoint).
    """
    names = tuple(metrics or metric_names(data))
    result = {k: float("nan") for k in names}
    result.update(steps=int(steps), seconds=float("nan"), cgan_version=__version__,
                  error=None, digest=None)
    previous = get_num_threads(), get_matmul_precision()
    set_num_threads(threads)   # bitwise repeatable for a fixed thread count
    t0 = time.perf_counter()
    try:
        # training and sampling at the trial's precision, whatever the process had set
        set_matmul_precision(resolve(settings)[0]["matmul_precision"])
        train, held_out = data_arrays(data)
        if checkpoint is None:
            gan = build_gan(settings, seed, train.shape[1])
        else:
            gan = _from_bytes(checkpoint)
        batch = resolve(settings)[0]["batch_size"]
        if gan.steps_done < steps:
            gan.fit(train, steps - gan.steps_done, batch_size=batch, progress=False)
        result["digest"] = digest(gan)
        result.update(evaluate(gan, data, held_out, names, eval_samples))
        if return_checkpoint:
            result["checkpoint"] = _to_bytes(gan)
    except Exception as e:  # noqa: BLE001 -- a failing trial is a result, never fatal
        result["error"] = f"{type(e).__name__}: {e}"
    finally:
        result["seconds"] = time.perf_counter() - t0
        set_num_threads(previous[0])
        set_matmul_precision(previous[1])
    return result
