"""GAN checkpoints: one .npz holding the architectures (as JSON configs of the module
registry), weights and buffers, optimizer states, RNG state, step counter, options, and
the training tips' state (EMA weights, historical averages, learning-rate schedules).
No pickle: a checkpoint is data, never code.

Format 2 stores any tree of registered modules (convolutions, normalisation layers...);
format 1 (cgan 0.1, MLPs only) still loads.
"""
import json
import os
import secrets
import zipfile

import numpy as np

from . import _core, _npz, nn, optim

__all__ = ["save", "load", "FORMAT"]

FORMAT = 2
_READABLE = (1, 2)
_TIPS = ("ema", "hist_g", "hist_d")


def save(gan, path):
    """Write `gan` to `path` (".npz" appended when missing) atomically; returns the path."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    config = {
        "format": FORMAT, "version": _core.__version__, "loss": gan.loss,
        "z_dim": gan.z_dim, "prior": gan.prior, "d_steps": gan.d_steps,
        "g_steps": gan.g_steps, "seed": gan.seed, "options": gan.options,
        "spectral_norm": gan.spectral_norm, "pack": gan.pack, "ema": gan.ema,
        "historical_averaging": gan.historical_averaging,
        "feature_matching": gan.feature_matching, "virtual_batch_norm": gan.virtual_batch_norm,
        "lr_schedule": [None if s is None else s.to_dict() for s in gan.lr_schedule],
        "objective": _objective_spec(gan.objective),
        "steps_done": gan.steps_done,
        "generator": nn.config(gan.generator), "discriminator": nn.config(gan.discriminator),
        "g_optimizer": _optimizer_spec(gan.g_optimizer),
        "d_optimizer": _optimizer_spec(gan.d_optimizer),
        "dtype": str(np.dtype(gan.generator.dtype)),
    }
    tips = gan._core.get_tips_state()
    config["tips_counts"] = {k: tips[k + "_count"] for k in _TIPS}
    arrays = {"config": np.array(json.dumps(config)), "rng": gan._core.get_rng_state()}
    for k in _TIPS:  # EMA and historical averages, one array per parameter
        for i, v in enumerate(tips[k]):
            arrays[f"tips/{k}/{i}"] = v
    for prefix, obj in (("G/", gan.generator), ("D/", gan.discriminator),
                        ("g_opt/", gan.g_optimizer), ("d_opt/", gan.d_optimizer)):
        for k, v in obj.state_dict().items():
            arrays[prefix + k] = np.asarray(v)
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    _write_atomically(path, lambda f: np.savez(f, **arrays))
    return path


def load(cls, path, generator=None, discriminator=None, loss=None):
    """Rebuild a GAN of class `cls` from a checkpoint; damage -> ValueError.

    Modules and objectives written in Python are rebuilt from their import path (and
    ``get_config()``); when that is not possible, pass them: fresh instances of the same
    architecture, whose weights the checkpoint then overwrites."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file at {os.fspath(path)!r}")
    try:
        return _from_arrays(cls, _read_arrays(path), generator, discriminator, loss)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise ValueError(f"{os.fspath(path)}: not a valid cgan checkpoint ({e})") from e


def _from_arrays(cls, arrays, generator=None, discriminator=None, loss=None):
    if "config" not in arrays:
        raise ValueError("no 'config' entry")
    config = json.loads(str(arrays["config"]))
    if not isinstance(config, dict):
        raise ValueError("'config' is not a JSON object")
    if config.get("format") not in _READABLE:
        raise ValueError(f"unsupported checkpoint format {config.get('format')!r} "
                         f"(this version of cgan reads formats {_READABLE})")
    if config["format"] == 1:
        for which in ("generator", "discriminator"):
            config[which] = _upgrade_format1(config[which])

    def part(prefix):
        return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

    for which, prefix in (("generator", "G/"), ("discriminator", "D/")):
        # A tampered architecture must not allocate more than the file holds.
        stored = sum(v.size for v in part(prefix).values())
        if nn.parameter_count(config[which]) > stored:
            raise ValueError(f"the {which}'s architecture needs more weights than "
                             f"the file holds ({stored})")
    G = generator if generator is not None else _build(config["generator"], "generator")
    D = discriminator if discriminator is not None else _build(config["discriminator"], "discriminator")
    objective = loss if loss is not None else _objective_from_spec(config.get("objective"))
    if config["dtype"] not in ("float32", "float64"):
        raise ValueError(f"unsupported dtype {config['dtype']!r}")
    if config["dtype"] == "float64":
        G.astype("float64")
        D.astype("float64")
    spectral_norm = config.get("spectral_norm", False)
    if not isinstance(spectral_norm, bool):
        raise ValueError(f"'spectral_norm' must be true or false, got {spectral_norm!r}")
    if spectral_norm:  # a Python module's config does not record it; built-ins are left as they are
        nn.spectral_norm(D, seed=config["seed"])
    G.load_state_dict(part("G/"))
    D.load_state_dict(part("D/"))
    g_opt = _optimizer_from_spec(config["g_optimizer"], G.parameters())
    d_opt = _optimizer_from_spec(config["d_optimizer"], D.parameters())
    g_opt.load_state_dict(part("g_opt/"))
    d_opt.load_state_dict(part("d_opt/"))
    if not isinstance(config["options"], dict):
        raise ValueError("'options' is not a JSON object")
    if objective is None:
        objective, options = config["loss"], config["options"]
    else:  # a Python objective's options are the common ones (r1, ...), kept beside it
        options = config["options"] if config.get("objective") is not None else {}
    gan = cls(G, D, loss=objective, z_dim=config["z_dim"], prior=config["prior"],
              d_steps=config["d_steps"], g_steps=config["g_steps"], g_optimizer=g_opt,
              d_optimizer=d_opt, seed=config["seed"], spectral_norm=spectral_norm,
              pack=config.get("pack", 1), ema=config.get("ema"),
              historical_averaging=config.get("historical_averaging", 0.0),
              feature_matching=config.get("feature_matching", False),
              virtual_batch_norm=config.get("virtual_batch_norm"),
              lr_schedule=_schedules_from(config.get("lr_schedule")), **options)
    rng = arrays.get("rng")
    if rng is None or rng.dtype != np.uint64 or rng.shape != (8,):
        raise ValueError("'rng' must be 8 uint64 words")
    gan._core.set_rng_state(rng)
    steps = config["steps_done"]
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= 2**62:
        raise ValueError(f"'steps_done' must be an integer in [0, 2**62], got {steps!r}")
    gan._core.steps_done = steps
    counts = config.get("tips_counts", {})
    state = {}
    for k in _TIPS:
        state[k] = [arrays[f"tips/{k}/{i}"] for i in range(len(part(f"tips/{k}/")))]
        state[k + "_count"] = counts.get(k, 0)
    gan._core.set_tips_state(state)
    return gan


def _schedules_from(spec):
    if spec is None:
        return None
    if not isinstance(spec, list) or len(spec) != 2:
        raise ValueError("'lr_schedule' must be a pair")
    return tuple(None if s is None else optim.LRSchedule.from_dict(s) for s in spec)


def _build(cfg, which):
    try:
        return nn.from_config(cfg, seed=0)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"the {which} is a Python module that cannot be imported here ({e}); "
                         f"pass it: GAN.load(path, {which}=...)") from e


def _objective_spec(objective):
    """Import path and constructor keywords of a Python objective (None for a name)."""
    if objective is None:
        return None
    cls = type(objective)
    config = objective.get_config() if hasattr(objective, "get_config") else None
    return {"class": f"{cls.__module__}:{cls.__qualname__}", "config": config}


def _objective_from_spec(spec):
    if spec is None:
        return None
    import importlib

    module, _, qualname = spec["class"].partition(":")
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"the objective {spec['class']} cannot be imported here ({e}); "
                         f"pass it: GAN.load(path, loss=...)") from e
    return obj(**spec["config"]) if spec.get("config") else obj()


def _upgrade_format1(cfg):
    """Format 1 stored every activation's parameter (0 where it had none)."""
    if not isinstance(cfg, dict):
        raise ValueError("a module config is not a JSON object")
    cfg = dict(cfg)
    if cfg.get("type") == "Activation" and cfg.get("name") not in ("leaky_relu", "elu"):
        cfg["param"] = None
    for key in ("module",):
        if key in cfg:
            cfg[key] = _upgrade_format1(cfg[key])
    if isinstance(cfg.get("layers"), list):
        cfg["layers"] = [_upgrade_format1(c) for c in cfg["layers"]]
    return cfg


def _optimizer_spec(opt):
    """Type and hyperparameters of an optimizer, JSON-compatible."""
    if isinstance(opt, optim.Adam):
        return {"type": "Adam", "lr": opt.lr, "betas": list(opt.betas), "eps": opt.eps,
                "weight_decay": opt.weight_decay}
    if isinstance(opt, optim.RMSprop):
        return {"type": "RMSprop", "lr": opt.lr, "alpha": opt.alpha, "eps": opt.eps,
                "momentum": opt.momentum, "centered": opt.centered,
                "weight_decay": opt.weight_decay}
    if isinstance(opt, optim.SGD):
        return {"type": "SGD", "lr": opt.lr, "momentum": opt.momentum,
                "nesterov": opt.nesterov, "weight_decay": opt.weight_decay}
    raise TypeError(f"cannot save an optimizer of type {type(opt).__name__}")


def _optimizer_from_spec(spec, params):
    spec = dict(spec)
    kind = spec.pop("type")
    return {"Adam": optim.Adam, "RMSprop": optim.RMSprop, "SGD": optim.SGD}[kind](params, **spec)


def _write_atomically(path, write):
    """write(file) into a temporary file in path's directory, then rename it to path."""
    # os.open with mode 0o666 lets the umask decide the permissions, as for a plain
    # open(); mkstemp would leave every checkpoint readable by its owner only.
    tmp = f"{os.path.abspath(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _read_arrays(path):
    """Every array of an .npz, never unpickled, sizes checked first; damage -> ValueError."""
    if not zipfile.is_zipfile(path):
        raise ValueError("not an .npz (zip) archive")
    try:
        return _npz.read_npz(path)  # sizes checked from the headers before any read
    except ValueError as e:
        if "pickle" in str(e):
            raise ValueError("the file holds pickled (object) data, which a cgan checkpoint "
                             "never does; refusing to load it") from e
        raise
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, UnicodeDecodeError,
            OverflowError, NotImplementedError, RuntimeError) as e:
        # zipfile's CRC check turns a flipped bit into BadZipFile; a cut-off file into
        # BadZipFile or EOFError; a damaged header into any of the others.
        raise ValueError(f"damaged or truncated archive: {type(e).__name__}: {e}") from e


