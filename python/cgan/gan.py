"""cgan.GAN: a generator, a discriminator, an objective and the training loop.

The loop itself runs in C++ (cgan._core.GANCore) with the GIL released; this file
chooses default optimizers, shows progress, turns the log into NumPy arrays and
saves/loads checkpoints.
"""
import json
import numbers
import os
import secrets
import zipfile

import numpy as np

from . import _core, defaults, nn, optim

__all__ = ["GAN"]

_FORMAT = 1
_HISTORY_KEYS = ("step", "d_loss", "g_loss", "penalty", "divergence", "d_grad_norm", "g_grad_norm")
_MAX_COUNT = 2**62  # counts beyond this would overflow the core's int64 step arithmetic


def _count(name, v, low=1, high=_MAX_COUNT):
    """v as an int in [low, high]: TypeError for a non-number, ValueError otherwise."""
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be an integer, got {type(v).__name__} {v!r}")
    if not isinstance(v, numbers.Integral) or not low <= v <= high:
        bound = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{name} must be {bound} (at most {high}), got {v!r}")
    return int(v)


def _seed(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not 0 <= v < 2**64:
        raise ValueError(f"{name} must be an integer in [0, 2**64), got {v!r}")
    return int(v)


def _resolve_defaults(loss, options, d_steps, generator, discriminator, g_optimizer,
                      d_optimizer):
    """What the caller left out (None), from the one table of per-objective defaults
    (cgan.defaults): d_steps, every option with its value, and the optimizers.
    Returns (d_steps, options, g_optimizer, d_optimizer)."""
    s = defaults.resolve(loss, options, d_steps)
    if g_optimizer is None:
        g_optimizer = defaults.optimizer(s, generator, s["g_lr"])
    if d_optimizer is None:
        d_optimizer = defaults.optimizer(s, discriminator, s["d_lr"])
    return s["d_steps"], s["options"], g_optimizer, d_optimizer


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


def _check_optimizer(opt, module, which):
    if opt is None:
        return
    if not isinstance(opt, optim.Optimizer):
        raise TypeError(f"{which} must be a cgan.optim optimizer, got {type(opt).__name__}")
    # Tensors are handles; compare the parameters by the memory they live in.
    mine = {p.numpy().__array_interface__["data"][0] for p in module.parameters()}
    theirs = {p.numpy().__array_interface__["data"][0] for p in opt.params}
    if not theirs <= mine:
        raise ValueError(f"{which} was built on parameters that are not the "
                         f"{'discriminator' if which.startswith('d') else 'generator'}'s")


class GAN:
    """A GAN: ``GAN(G, D, loss="wgan-gp", z_dim=2, ...)``; then ``fit``, ``sample``.

    Parameters
    ----------
    generator, discriminator : cgan.nn.Module
        G maps (n, z_dim) noise to (n, d) samples; D maps (n, d) to raw outputs (n, 1)
        (an autoencoder (n, d) -> (n, d) for ``ebgan``).
    loss : str
        An objective of ``cgan.losses.available()`` (aliases ``mmgan``, ``nsgan``).
    z_dim : int
        Width of the noise. prior: ``"normal"`` (N(0, I)) or ``"uniform"`` (U(-1, 1)).
    d_steps, g_steps : int
        Discriminator updates per iteration (k of Algorithm 1) and generator updates.
        d_steps left out comes from the objective's row of ``cgan.defaults`` (5 for wgan
        and wgan-gp, else 1).
    g_optimizer, d_optimizer : cgan.optim optimizers, optional
        Built on G's and D's parameters; separate learning rates give TTUR. Left out,
        each comes from the same row (e.g. RMSprop 5e-5 for wgan, Adam 2e-4 with betas
        (0.5, 0.9) for wgan-gp; ``cgan losses NAME`` prints the row).
    seed : int
        Seeds minibatch sampling, noise and the objective's own draws.
    **options
        The objective's options (e.g. ``lambda_gp=10``, ``clip=0.01``, ``margin=1``);
        ``gan.options`` holds every option with the value used, defaults included.
    """

    def __init__(self, generator, discriminator, loss="non-saturating", z_dim=None,
                 prior="normal", d_steps=None, g_steps=1, g_optimizer=None, d_optimizer=None,
                 seed=0, **options):
        for m, which in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(m, nn.Module):
                raise TypeError(f"{which} must be a cgan.nn module, got {type(m).__name__}")
        for name, v in (("loss", loss), ("prior", prior)):
            if not isinstance(v, str):
                raise TypeError(f"{name} must be a string, got {type(v).__name__}")
        if z_dim is None:
            z_dim = generator.in_features
            if z_dim is None:
                raise ValueError("z_dim is required when the generator accepts any width")
        for k in options:
            if not isinstance(k, str):
                raise TypeError(f"objective option names must be strings, got {k!r}")
        _check_optimizer(g_optimizer, generator, "g_optimizer")
        _check_optimizer(d_optimizer, discriminator, "d_optimizer")
        d_steps, options, g_optimizer, d_optimizer = _resolve_defaults(
            loss, options, d_steps, generator, discriminator, g_optimizer, d_optimizer)
        for name, v in (("z_dim", z_dim), ("d_steps", d_steps), ("g_steps", g_steps)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an integer, got {v!r}")
            if not 1 <= v <= 2**31:
                raise ValueError(f"{name} must be an integer in [1, 2**31], got {v!r}")
        seed = _seed("seed", seed)
        self.generator, self.discriminator = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.z_dim, self.prior = int(z_dim), prior
        self.d_steps, self.g_steps, self.seed = int(d_steps), int(g_steps), int(seed)
        self.options = dict(options)
        self._core = _core.GANCore(generator, discriminator, g_optimizer, d_optimizer, loss,
                                   self.z_dim, prior, self.d_steps, self.g_steps, self.seed,
                                   self.options)
        self.loss = self._core.loss_name
        self.history = None

    # ---- training ------------------------------------------------------------------
    @property
    def steps_done(self):
        """Iterations (generator updates) completed so far."""
        return self._core.steps_done

    def step(self, real_batch):
        """One iteration on a batch you provide: d_steps critic updates (each on this
        batch with fresh noise), then g_steps generator updates. Returns the losses."""
        return self._core.step(real_batch)

    def fit(self, data, steps, batch_size=256, progress=True, log_every=None, callback=None):
        """Train for `steps` iterations on minibatches drawn from `data` (N, d).

        The loop runs in C++; every ~0.25 s it returns to Python to advance the tqdm
        bar, call ``callback(gan, record)`` with the latest logged record, and let
        Ctrl-C through: KeyboardInterrupt stops after the current step, the model intact.

        Returns a dict of NumPy arrays: step, d_loss, g_loss, penalty, divergence,
        d_grad_norm, g_grad_norm (NaN where the objective has no such quantity), one
        entry per logged step (every `log_every` steps, default about 200 entries).
        """
        steps = _count("steps", steps, high=_MAX_COUNT - self.steps_done)
        batch_size = _count("batch_size", batch_size)
        if log_every is None:
            log_every = max(1, steps // 200)
        log_every = _count("log_every", log_every)
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        if not isinstance(progress, (bool, np.bool_)):
            raise TypeError(f"progress must be True or False, got {progress!r}")
        # Converted once, by the same rules as every other input (cgan.tensor): real
        # numbers only, integers only where exact; float data takes the model's dtype.
        if not isinstance(data, _core.Tensor):
            data = _core.tensor(np.asarray(data) if isinstance(data, (list, tuple)) else data,
                                dtype=self.generator.dtype)
        self._core.check_data(data, "data")
        if batch_size > len(data):
            raise ValueError(f"batch_size {batch_size} is larger than the data ({len(data)} rows)")

        start, end = self.steps_done, self.steps_done + int(steps)
        records = []
        bar = _progress_bar(int(steps), progress)
        try:
            while self.steps_done < end:
                before = self.steps_done
                chunk = self._core.fit_chunk(data, end - before, batch_size, 0.25,
                                             int(log_every), end)
                records.extend(chunk)
                if bar is not None:
                    bar.update(self.steps_done - before)
                    if records:
                        r = records[-1]
                        bar.set_postfix(d_loss=f"{r['d_loss']:.4g}", g_loss=f"{r['g_loss']:.4g}",
                                        refresh=False)
                if callback is not None and chunk:
                    callback(self, chunk[-1])
        finally:
            if bar is not None:
                bar.close()
            self.history = _history(records)
        return self.history

    # ---- using the model -------------------------------------------------------------
    def sample(self, n, seed=None):
        """n samples G(z) as a NumPy array (n, d). With a seed the noise comes from a
        fresh RNG; without, from the GAN's sampling RNG (training is never affected)."""
        n = _count("n", n)
        if seed is not None:
            seed = _seed("seed", seed)
        return self._core.sample(n, seed)

    def generate(self, z):
        """G(z) for noise you provide, shape (n, z_dim)."""
        return self._core.generate(z)

    def discriminate(self, x):
        """The discriminator's raw output on x (n, d): logits, critic values or, for
        ebgan, reconstructions."""
        return self._core.discriminate(x)

    # ---- checkpoints ---------------------------------------------------------------------
    def save(self, path):
        """Write one .npz with both architectures, weights, optimizer states, RNG state,
        step counter and options (no pickle: loads with allow_pickle=False).

        The file is written next to `path` under a temporary name and then renamed over
        it, so an existing checkpoint is replaced whole or not at all. As with
        ``numpy.savez``, ``.npz`` is appended to a path without it."""
        config = {
            "format": _FORMAT, "version": _core.__version__, "loss": self.loss,
            "z_dim": self.z_dim, "prior": self.prior, "d_steps": self.d_steps,
            "g_steps": self.g_steps, "seed": self.seed, "options": self.options,
            "steps_done": self.steps_done,
            "generator": nn.config(self.generator), "discriminator": nn.config(self.discriminator),
            "g_optimizer": _optimizer_spec(self.g_optimizer),
            "d_optimizer": _optimizer_spec(self.d_optimizer),
            "dtype": str(np.dtype(self.generator.dtype)),
        }
        arrays = {"config": np.array(json.dumps(config)), "rng": self._core.get_rng_state()}
        for prefix, obj in (("G/", self.generator), ("D/", self.discriminator),
                            ("g_opt/", self.g_optimizer), ("d_opt/", self.d_optimizer)):
            for k, v in obj.state_dict().items():
                arrays[prefix + k] = np.asarray(v)
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        path = os.fspath(path)
        if not path.endswith(".npz"):
            path += ".npz"
        _write_atomically(path, lambda f: np.savez(f, **arrays))
        return path

    @classmethod
    def load(cls, path):
        """Rebuild a GAN saved by ``save``; training resumes exactly where it stopped.

        A checkpoint is data, never code: pickled entries are refused, and a truncated,
        corrupted or incompatible file raises ValueError."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no checkpoint file at {os.fspath(path)!r}")
        try:
            return cls._from_arrays(_read_checkpoint(path))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
            raise ValueError(f"{os.fspath(path)}: not a valid cgan checkpoint ({e})") from e

    @classmethod
    def _from_arrays(cls, arrays):
        if "config" not in arrays:
            raise ValueError("no 'config' entry")
        config = json.loads(str(arrays["config"]))
        if not isinstance(config, dict):
            raise ValueError("'config' is not a JSON object")
        if config.get("format") != _FORMAT:
            raise ValueError(f"unsupported checkpoint format {config.get('format')!r} "
                             f"(this version of cgan reads format {_FORMAT})")

        def part(prefix):
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        for which, prefix in (("generator", "G/"), ("discriminator", "D/")):
            # A tampered width must not allocate more than the file holds.
            stored = sum(v.size for v in part(prefix).values())
            if _param_count(config[which]) > stored:
                raise ValueError(f"the {which}'s architecture needs more weights than "
                                 f"the file holds ({stored})")
        G = nn.from_config(config["generator"], seed=0)
        D = nn.from_config(config["discriminator"], seed=0)
        if config["dtype"] not in ("float32", "float64"):
            raise ValueError(f"unsupported dtype {config['dtype']!r}")
        if config["dtype"] == "float64":
            G.astype("float64")
            D.astype("float64")
        G.load_state_dict(part("G/"))
        D.load_state_dict(part("D/"))
        g_opt = _optimizer_from_spec(config["g_optimizer"], G.parameters())
        d_opt = _optimizer_from_spec(config["d_optimizer"], D.parameters())
        g_opt.load_state_dict(part("g_opt/"))
        d_opt.load_state_dict(part("d_opt/"))
        if not isinstance(config["options"], dict):
            raise ValueError("'options' is not a JSON object")
        gan = cls(G, D, loss=config["loss"], z_dim=config["z_dim"], prior=config["prior"],
                  d_steps=config["d_steps"], g_steps=config["g_steps"], g_optimizer=g_opt,
                  d_optimizer=d_opt, seed=config["seed"], **config["options"])
        rng = arrays.get("rng")
        if rng is None or rng.dtype != np.uint64 or rng.shape != (8,):
            raise ValueError("'rng' must be 8 uint64 words")
        gan._core.set_rng_state(rng)
        gan._core.steps_done = _count("steps_done", config["steps_done"], low=0)
        return gan

    def __repr__(self):
        return (f"GAN(loss={self.loss!r}, z_dim={self.z_dim}, prior={self.prior!r}, "
                f"d_steps={self.d_steps}, g_steps={self.g_steps}, steps_done={self.steps_done})")


def _param_count(cfg):
    """Number of weights the module described by `cfg` (nn.config) has."""
    kind = cfg["type"]

    def linear(i, o, bias=True):
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in (i, o)):
            raise ValueError(f"bad layer widths {i!r}, {o!r}")
        return i * o + (o if bias else 0)

    if kind == "MLP":
        widths = [cfg["in_features"], *cfg["hidden"], cfg["out_features"]]
        return sum(linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
    if kind == "Linear":
        return linear(cfg["in_features"], cfg["out_features"], cfg["bias"])
    if kind == "Sequential":
        return sum(_param_count(c) for c in cfg["layers"])
    if kind == "SpectralNorm":
        return _param_count(cfg["module"])
    if kind == "Activation":
        return 0
    raise ValueError(f"unknown module type {kind!r}")


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


def _read_checkpoint(path):
    """Every array of an .npz, read with allow_pickle=False; damage -> ValueError."""
    if not zipfile.is_zipfile(path):
        raise ValueError("not an .npz (zip) archive")
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
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


def _history(records):
    return {k: np.array([r[k] for r in records],
                        dtype=np.int64 if k == "step" else np.float64) for k in _HISTORY_KEYS}


def _progress_bar(total, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", mininterval=0.25)
