"""cgan.GAN: a generator, a discriminator, an objective and the training loop.

The loop itself runs in C++ (cgan._core.GANCore) with the GIL released; this file
chooses default optimizers, shows progress, turns the log into NumPy arrays and
saves/loads checkpoints.
"""
import json
import time

import numpy as np

from . import _core, nn, optim

__all__ = ["GAN"]

_FORMAT = 1
_HISTORY_KEYS = ("step", "d_loss", "g_loss", "penalty", "divergence", "d_grad_norm", "g_grad_norm")


def _default_optimizer(loss, options, module, discriminator):
    d = _core.objective_defaults(loss, options, discriminator)
    if d["type"] == "rmsprop":
        return optim.RMSprop(module.parameters(), lr=d["lr"])
    if d["type"] == "sgd":
        return optim.SGD(module.parameters(), lr=d["lr"])
    return optim.Adam(module.parameters(), lr=d["lr"], betas=d["betas"])


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
    g_optimizer, d_optimizer : cgan.optim optimizers, optional
        Built on G's and D's parameters; separate learning rates give TTUR. Left out,
        each defaults to the objective's paper settings (e.g. RMSprop 5e-5 for wgan,
        Adam 1e-4 with betas (0.5, 0.9) for wgan-gp).
    seed : int
        Seeds minibatch sampling, noise and the objective's own draws.
    **options
        The objective's options (e.g. ``lambda_gp=10``, ``clip=0.01``, ``margin=1``).
    """

    def __init__(self, generator, discriminator, loss="non-saturating", z_dim=None,
                 prior="normal", d_steps=1, g_steps=1, g_optimizer=None, d_optimizer=None,
                 seed=0, **options):
        for m, which in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(m, nn.Module):
                raise TypeError(f"{which} must be a cgan.nn module, got {type(m).__name__}")
        if not isinstance(loss, str):
            raise TypeError(f"loss must be a string, got {type(loss).__name__}")
        if z_dim is None:
            z_dim = generator.in_features
            if z_dim is None:
                raise ValueError("z_dim is required when the generator accepts any width")
        for name, v in (("z_dim", z_dim), ("d_steps", d_steps), ("g_steps", g_steps)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an integer, got {v!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        _check_optimizer(g_optimizer, generator, "g_optimizer")
        _check_optimizer(d_optimizer, discriminator, "d_optimizer")
        if g_optimizer is None:
            g_optimizer = _default_optimizer(loss, options, generator, False)
        if d_optimizer is None:
            d_optimizer = _default_optimizer(loss, options, discriminator, True)
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
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if log_every is None:
            log_every = max(1, steps // 200)
        if isinstance(log_every, bool) or not isinstance(log_every, (int, np.integer)) or log_every < 1:
            raise ValueError(f"log_every must be a positive integer, got {log_every!r}")
        if callback is not None and not callable(callback):
            raise TypeError("callback must be callable")
        data = np.asarray(data) if not isinstance(data, _core.Tensor) else data
        if isinstance(data, np.ndarray) and data.dtype != self.generator.dtype:
            data = np.ascontiguousarray(data, dtype=self.generator.dtype)
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
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        return self._core.sample(int(n), seed)

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
        step counter and options (no pickle: loads with allow_pickle=False)."""
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
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path):
        """Rebuild a GAN saved by ``save``; training resumes exactly where it stopped."""
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
        if "config" not in arrays:
            raise ValueError(f"{path} is not a cgan checkpoint (no 'config' entry)")
        config = json.loads(str(arrays["config"]))
        if config.get("format") != _FORMAT:
            raise ValueError(f"{path}: unsupported checkpoint format {config.get('format')!r}")

        def part(prefix):
            return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

        G = nn.from_config(config["generator"], seed=0)
        D = nn.from_config(config["discriminator"], seed=0)
        if config["dtype"] == "float64":
            G.astype("float64")
            D.astype("float64")
        G.load_state_dict(part("G/"))
        D.load_state_dict(part("D/"))
        g_opt = _optimizer_from_spec(config["g_optimizer"], G.parameters())
        d_opt = _optimizer_from_spec(config["d_optimizer"], D.parameters())
        g_state, d_state = part("g_opt/"), part("d_opt/")
        g_state["steps"], d_state["steps"] = int(g_state["steps"]), int(d_state["steps"])
        g_opt.load_state_dict(g_state)
        d_opt.load_state_dict(d_state)
        gan = cls(G, D, loss=config["loss"], z_dim=config["z_dim"], prior=config["prior"],
                  d_steps=config["d_steps"], g_steps=config["g_steps"], g_optimizer=g_opt,
                  d_optimizer=d_opt, seed=config["seed"], **config["options"])
        gan._core.set_rng_state(arrays["rng"])
        gan._core.steps_done = config["steps_done"]
        return gan

    def __repr__(self):
        return (f"GAN(loss={self.loss!r}, z_dim={self.z_dim}, prior={self.prior!r}, "
                f"d_steps={self.d_steps}, g_steps={self.g_steps}, steps_done={self.steps_done})")


def _history(records):
    return {k: np.array([r[k] for r in records],
                        dtype=np.int64 if k == "step" else np.float64) for k in _HISTORY_KEYS}


def _progress_bar(total, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", mininterval=0.25)
