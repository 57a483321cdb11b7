"""cgan.GAN: a generator, a discriminator, an objective and the training loop.

The loop itself runs in C++ (cgan._core.GANCore) with the GIL released; this file
chooses default optimizers, shows progress, turns the log into NumPy arrays and
saves/loads checkpoints.
"""
import numbers

import numpy as np

from . import _core, checkpoint, defaults, losses, nn, optim

__all__ = ["GAN"]

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


def _object_defaults(objective, d_steps, generator, discriminator, g_optimizer, d_optimizer):
    """For an objective object: d_steps 1 and its own default_optimizer() unless given."""
    def build(module, discriminator_side):
        spec = {"type": "adam", "lr": 2e-4, "betas": (0.5, 0.999)}
        if callable(getattr(objective, "default_optimizer", None)):
            spec = objective.default_optimizer(discriminator_side)
        kind = spec.get("type", "adam")
        if kind == "rmsprop":
            return optim.RMSprop(module.parameters(), lr=spec["lr"])
        if kind == "sgd":
            return optim.SGD(module.parameters(), lr=spec["lr"])
        return optim.Adam(module.parameters(), lr=spec["lr"], betas=tuple(spec.get("betas") or (0.5, 0.999)))

    return (1 if d_steps is None else d_steps,
            g_optimizer if g_optimizer is not None else build(generator, False),
            d_optimizer if d_optimizer is not None else build(discriminator, True))


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
    loss : str or objective
        An objective of ``cgan.losses.available()`` (aliases ``mmgan``, ``nsgan``), an
        object from ``cgan.losses.get(...)``, or your own objective: a subclass of
        ``cgan.losses.Objective`` with ``d_loss(D, real, fake, rng)`` and ``g_loss(D,
        fake)`` returning 0-d Tensors (see that class).
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
    pack : int
        PacGAN packing (Lin et al. 2018, "PacGAN: the power of two samples in generative
        adversarial networks"): the discriminator judges ``pack`` samples at once,
        concatenated along the first feature axis, real packs against fake packs. Flat
        data (B, d) becomes (B/m, m*d) and images (B, C, H, W) become (B/m, m*C, H, W),
        so D must take m*d features (m*C channels). A pack of fakes is far less likely
        to look real when G has collapsed onto a few modes, which penalises mode
        collapse; the paper's 2-D benchmarks use m = 2 to 4. The batch size must be a
        multiple of ``pack``; ``discriminate`` takes unpacked samples and returns one
        output per pack. Not defined for conditional GANs (a pack would mix labels).
    ema : float or None
        Generator weight averaging (Yazici et al. 2019, "The unusual effectiveness of
        averaging in GAN training"): after every generator update the C++ loop sets
        avg = d * avg + (1 - d) * theta, with d = min(ema, (1 + n) / (10 + n)) at the
        n-th update (TensorFlow's warm-up: a short run's average is not stuck at G's
        initial weights, where avg starts).
        ``sample`` and ``generate`` then use the averaged weights by default, which
        smooths out the players' late oscillation around the equilibrium; typical
        decays are 0.999 (or 0.99 for short runs). Batch-norm running statistics are
        G's own (not averaged). None: off.
    lr_schedule : str, cgan.optim.LRSchedule, or a pair of them
        Learning-rate schedule of both optimizers (``"constant"``, ``"linear"``,
        ``"cosine"`` with ``total_steps``; ``cgan.optim.LRSchedule("step", step_size=...,
        gamma=...)``), or ``(g_schedule, d_schedule)`` to give each player its own
        (None: leave that optimizer's lr alone). Applied per iteration in the C++ loop,
        from each optimizer's lr at construction; see ``cgan.optim.LRSchedule``.
    total_steps : int
        Length of a ``"linear"`` or ``"cosine"`` schedule given by name (usually the
        number of iterations you will train).
    historical_averaging : float
        Historical averaging (Salimans et al. 2016, "Improved techniques for training
        GANs", Sec. 3.3): each player's loss gets lambda * ||theta - mean_theta||^2,
        mean_theta being the running mean of every value its parameters have had
        (the initial ones included), kept in C++. It pulls the players towards their
        past average and damps the circling that gradient descent shows on games
        (e.g. on x*y). 0: off; the paper's value is not stated, 1e-3..1e-1 is a range.
    feature_matching : bool or int
        Feature matching (Salimans et al. 2016, Sec. 3.1): G minimises
        ||E f(x_real) - E f(G(z))||^2 instead of its objective's loss, f being D's
        activations before its last layer (``True``) or after layer k of a Sequential
        D (an int k, as ``D[k]``); the real batch is the iteration's last real batch.
        A discriminator written in Python provides ``features(x)``. D keeps training
        with the objective's loss. Useful when G over-trains on the current D (the
        paper's semi-supervised setting); unconditional GANs only.
    virtual_batch_norm : int or None
        Virtual batch normalisation (Salimans et al. 2016, Sec. 3.4) for a generator
        built with ``cgan.nn.VirtualBatchNorm1d/2d`` layers: the size of a reference
        batch of noise drawn once from the seed. Before every forward of G the reference
        batch goes through G first; each VBN layer then normalises every sample with
        the reference batch's statistics plus the sample's own (weight 1/(n+1)), so no
        sample's output depends on the rest of its batch (batch norm's coupling of G's
        outputs is what VBN removes) at the cost of a second forward. Required when G
        has such layers; e.g. 128.
    **options
        The objective's options (e.g. ``lambda_gp=10``, ``clip=0.01``, ``margin=1``);
        ``gan.options`` holds every option with the value used, defaults included. The
        options every objective takes (``r1``, ``r2``, ``consistency``, ``ct_margin``)
        apply to an objective written in Python too (``loss=MyObjective(), r1=10``).
        Penalties on per-sample gradients (wgan-gp, dragan, loss-sensitive's lambda_gp,
        r1, r2) and the consistency term refuse a D with batch norm (ValueError).
    """

    def __init__(self, generator, discriminator, loss="non-saturating", z_dim=None,
                 prior="normal", d_steps=None, g_steps=1, g_optimizer=None, d_optimizer=None,
                 seed=0, spectral_norm=False, pack=1, ema=None, lr_schedule=None,
                 total_steps=None, historical_averaging=0.0, feature_matching=False,
                 virtual_batch_norm=None, **options):
        for m, which in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(m, nn.Module):
                raise TypeError(f"{which} must be a cgan.nn module, got {type(m).__name__}")
        if not isinstance(prior, str):
            raise TypeError(f"prior must be a string, got {type(prior).__name__}")
        loss, objective, options = _resolve_objective(loss, options)
        if z_dim is None:
            z_dim = generator.in_features
            if z_dim is None:
                raise ValueError("z_dim is required when the generator does not fix its input "
                                 "width (its first layer is not a Linear)")
        for k in options:
            if not isinstance(k, str):
                raise TypeError(f"objective option names must be strings, got {k!r}")
        _check_optimizer(g_optimizer, generator, "g_optimizer")
        _check_optimizer(d_optimizer, discriminator, "d_optimizer")
        if objective is None:
            d_steps, options, g_optimizer, d_optimizer = _resolve_defaults(
                loss, options, d_steps, generator, discriminator, g_optimizer, d_optimizer)
        else:
            d_steps, g_optimizer, d_optimizer = _object_defaults(
                objective, d_steps, generator, discriminator, g_optimizer, d_optimizer)
        for name, v in (("z_dim", z_dim), ("d_steps", d_steps), ("g_steps", g_steps)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{name} must be an integer, got {v!r}")
            if not 1 <= v <= 2**31:
                raise ValueError(f"{name} must be an integer in [1, 2**31], got {v!r}")
        seed = _seed("seed", seed)
        pack = _count("pack", pack, high=2**31)
        ema = _ema(ema)
        historical_averaging = _nonnegative("historical_averaging", historical_averaging)
        schedules = _schedules(lr_schedule, total_steps, g_optimizer, d_optimizer)
        features = _features(feature_matching, discriminator)
        if virtual_batch_norm is not None:
            virtual_batch_norm = _count("virtual_batch_norm", virtual_batch_norm, high=2**20)
        if not isinstance(spectral_norm, (bool, np.bool_)):
            raise TypeError(f"spectral_norm must be True or False, got {spectral_norm!r}")
        if objective is None:  # the options, checked before spectral norm changes D
            losses.get(loss, **options)
        _refuse_batch_norm_with_penalty(loss, options, discriminator)
        # In place: the parameters stay the same Tensors, so an optimizer built on
        # D.parameters() before this call still updates them. A Python module gets its
        # layer attributes replaced by their wrappers; undone if the GAN cannot be built.
        undo_spectral_norm = (nn._spectral_norm_with_undo(discriminator, seed) if spectral_norm
                              else lambda: None)
        self.spectral_norm = bool(spectral_norm)
        self.generator, self.discriminator = generator, discriminator
        self.g_optimizer, self.d_optimizer = g_optimizer, d_optimizer
        self.z_dim, self.prior = int(z_dim), prior
        self.d_steps, self.g_steps, self.seed = int(d_steps), int(g_steps), int(seed)
        self.options = dict(options)
        self.pack, self.ema = pack, ema
        self.historical_averaging, self.feature_matching = historical_averaging, feature_matching
        self.lr_schedule = schedules  # (generator's, discriminator's), base_lr filled in
        try:
            self._core = _core.GANCore(
                generator, discriminator, g_optimizer, d_optimizer, loss, self.z_dim, prior,
                self.d_steps, self.g_steps, self.seed, self.options, objective, pack=pack,
                ema=ema or 0.0, historical_averaging=historical_averaging,
                g_schedule=None if schedules[0] is None else schedules[0].to_dict(),
                d_schedule=None if schedules[1] is None else schedules[1].to_dict(),
                feature_matching=features, virtual_batch_norm=virtual_batch_norm or 0)
        except BaseException:
            undo_spectral_norm()
            raise
        self.virtual_batch_norm = virtual_batch_norm
        self.loss = self._core.loss_name
        # The objective object when one was given (None for a name): saved by import path.
        self.objective = objective
        self.history = None

    # ---- training ------------------------------------------------------------------
    @property
    def steps_done(self):
        """Iterations (generator updates) completed so far."""
        return self._core.steps_done

    @property
    def num_classes(self):
        """Classes a conditional GAN's networks take (0: unconditional)."""
        return self._core.num_classes

    def step(self, real_batch, labels=None):
        """One iteration on a batch you provide: d_steps critic updates (each on this
        batch with fresh noise), then g_steps generator updates. Returns the losses.
        A conditional GAN needs the batch's class `labels`."""
        if labels is not None or self.num_classes:
            labels = self._labels(labels, len(real_batch))
        return self._core.step(real_batch, labels)

    def fit(self, data, steps, batch_size=256, progress=True, log_every=None, callback=None,
            labels=None):
        """Train for `steps` iterations on minibatches drawn from `data` (N, d).

        The loop runs in C++; every ~0.25 s it returns to Python to advance the tqdm
        bar, call ``callback(gan, record)`` with the latest logged record, and let
        Ctrl-C through: KeyboardInterrupt stops after the current step, the model intact.

        A conditional GAN (networks built with ``num_classes``) needs ``labels``: the
        integer class of each row of `data`; each minibatch's fakes are made for the
        labels of its real rows (Mirza and Osindero 2014).

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
        labels = self._labels(labels, len(data))
        if batch_size > len(data):
            raise ValueError(f"batch_size {batch_size} is larger than the data ({len(data)} rows)")

        start, end = self.steps_done, self.steps_done + int(steps)
        records = []
        bar = _progress_bar(int(steps), progress)
        try:
            while self.steps_done < end:
                before = self.steps_done
                chunk = self._core.fit_chunk(data, end - before, batch_size, 0.25,
                                             int(log_every), end, labels)
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

    def pretrain_discriminator(self, data, steps, batch_size=256, progress=True):
        """Pretrain EBGAN's discriminator, an autoencoder, on real data alone: `steps`
        updates of D minimising its mean reconstruction error E(x) = ||D(x) - x||^2 / d
        on minibatches of `data`, with D's optimizer; no generator is involved.

        The lecture's stated benefit of EBGAN (Zhao et al. 2017, "Energy-based generative
        adversarial network"): "the auto-encoder can be pre-trained by real images without
        generator", so that training starts with a D whose energy is already low on the
        data and G gets a useful signal from the first step. ``loss="ebgan"`` only
        (ValueError otherwise). Uses the training RNG; the iteration count, EMA and
        historical averages are left alone; a failure (NaN) keeps the last good state.
        Returns ``{"step": ..., "loss": ...}``, one entry per update."""
        steps = _count("steps", steps)
        batch_size = _count("batch_size", batch_size)
        if not isinstance(progress, (bool, np.bool_)):
            raise TypeError(f"progress must be True or False, got {progress!r}")
        if self.loss != "ebgan":
            raise ValueError(f"pretrain_discriminator needs loss='ebgan' (an autoencoder "
                             f"discriminator pretrained on its reconstruction error); this GAN's "
                             f"loss is {self.loss!r}")
        if not isinstance(data, _core.Tensor):
            data = _core.tensor(np.asarray(data) if isinstance(data, (list, tuple)) else data,
                                dtype=self.generator.dtype)
        self._core.check_data(data, "data")
        if batch_size > len(data):
            raise ValueError(f"batch_size {batch_size} is larger than the data ({len(data)} rows)")
        losses = []
        bar = _progress_bar(steps, progress)
        try:
            while len(losses) < steps:
                chunk = self._core.pretrain_chunk(data, steps - len(losses), batch_size, 0.25)
                losses.extend(chunk)
                if bar is not None:
                    bar.update(len(chunk))
                    bar.set_postfix(loss=f"{chunk[-1]:.4g}", refresh=False)
        finally:
            if bar is not None:
                bar.close()
        return {"step": np.arange(1, len(losses) + 1), "loss": np.array(losses, dtype=np.float64)}

    # ---- using the model -------------------------------------------------------------
    def sample(self, n, seed=None, training=False, labels=None, ema=None):
        """n samples G(z) as a NumPy array (n, *data_shape). With a seed the noise comes
        from a fresh RNG; without, from the GAN's sampling RNG (training is never
        affected). G runs in eval mode (batch norm's running statistics, no dropout)
        unless ``training=True``; no running state moves either way. A conditional GAN
        takes `labels`: one class for all (an int), one per sample (n ints), or None for
        classes drawn uniformly. ``ema``: with the averaged generator weights (None:
        whenever the GAN keeps them, ``GAN(..., ema=0.999)``; False: G's own weights)."""
        n = _count("n", n)
        if seed is not None:
            seed = _seed("seed", seed)
        if labels is not None and isinstance(labels, (numbers.Integral, np.integer)) and not isinstance(labels, bool):
            labels = np.full(n, int(labels), np.int64)
        if labels is not None:
            labels = self._labels(labels, n)
        return self._core.sample(n, seed, _flag("training", training), labels, self._use_ema(ema))

    def generate(self, z, training=False, labels=None, ema=None):
        """G(z) for noise you provide, shape (n, z_dim); eval mode unless training=True;
        ``ema`` as in ``sample``."""
        labels = None if labels is None else self._labels(labels, len(z))
        return self._core.generate(z, _flag("training", training), labels, self._use_ema(ema))

    def _use_ema(self, ema):
        if ema is None:
            return self.ema is not None
        return _flag("ema", ema)

    def generator_loss(self, real_batch, z, labels=None):
        """The generator's loss on `real_batch` and the noise `z` (as many rows): the
        objective's, or feature matching's when on (historical averaging's term left
        out). Backpropagates, so ``p.grad`` of G's parameters holds its gradient; no
        parameter, optimizer or RNG of training changes. For inspecting and testing."""
        labels = None if labels is None else self._labels(labels, len(real_batch))
        return self._core.generator_loss(real_batch, z, labels)

    def discriminate(self, x, training=False, labels=None):
        """The discriminator's raw output on x (n, *data_shape): logits, critic values
        or, for ebgan, reconstructions; eval mode unless training=True. With
        ``pack=m`` the n samples (n a multiple of m) are packed as in training and the
        output has n/m rows, one per pack."""
        labels = None if labels is None else self._labels(labels, len(x))
        return self._core.discriminate(x, _flag("training", training), labels)

    def _labels(self, labels, n):
        """Labels as an int64 array, checked against the GAN and the batch size."""
        if labels is not None:
            a = np.asarray(labels)
            if a.dtype == bool or a.dtype.kind not in "iu":
                raise TypeError(f"labels must be integers (class indices), got dtype {a.dtype}")
            labels = a.astype(np.int64, copy=False)
        self._core.check_labels(labels, n)
        return labels

    @property
    def data_shape(self):
        """Per-sample shape of the data: what G makes and D takes, e.g. (1, 28, 28)."""
        return self._core.data_shape

    # ---- checkpoints ---------------------------------------------------------------------
    def save(self, path):
        """Write one .npz with both architectures, weights, optimizer states, RNG state,
        step counter and options (no pickle: loads with allow_pickle=False).

        The file is written next to `path` under a temporary name and then renamed over
        it, so an existing checkpoint is replaced whole or not at all. As with
        ``numpy.savez``, ``.npz`` is appended to a path without it."""
        return checkpoint.save(self, path)

    @classmethod
    def load(cls, path, generator=None, discriminator=None, loss=None):
        """Rebuild a GAN saved by ``save``; training resumes exactly where it stopped.

        A checkpoint is data, never code: pickled entries are refused, and a truncated,
        corrupted or incompatible file raises ValueError. Files of format 1 (cgan 0.1's
        MLP-only checkpoints) load too. Modules and objectives written in Python are
        rebuilt from their import path; where that fails, pass fresh instances of them
        (``generator=``, ``discriminator=``, ``loss=``) and the file's weights load into them."""
        return checkpoint.load(cls, path, generator, discriminator, loss)

    def __repr__(self):
        return (f"GAN(loss={self.loss!r}, z_dim={self.z_dim}, prior={self.prior!r}, "
                f"d_steps={self.d_steps}, g_steps={self.g_steps}, steps_done={self.steps_done})")


def _resolve_objective(loss, options):
    """(name, objective object or None, options) for GAN(loss=...)."""
    if isinstance(loss, str):
        return loss, None, options
    if isinstance(loss, losses.Regularized):  # cgan.losses.regularize(mine, r1=...)
        if options:
            raise ValueError(f"options {sorted(options)} given beside cgan.losses.regularize(...); "
                             f"pass them to regularize instead")
        return loss.name, loss.objective, dict(loss.options)
    core = getattr(loss, "_core", None)
    if isinstance(loss, losses.Objective) and core is not None:  # from cgan.losses.get
        if options:
            raise ValueError(f"options {sorted(options)} given beside an objective object; pass "
                             f"them to cgan.losses.get({loss.name!r}, ...) instead")
        return loss.name, None, dict(loss.options)
    if isinstance(loss, losses.Objective):
        for method in ("d_loss", "g_loss"):
            if getattr(type(loss), method) is getattr(losses.Objective, method):
                raise TypeError(f"{type(loss).__name__} subclasses cgan.losses.Objective but does "
                                f"not implement {method}; an objective needs d_loss and g_loss")
    if callable(getattr(loss, "d_loss", None)) and callable(getattr(loss, "g_loss", None)):
        # Only the options every objective takes (r1, r2, consistency, ct_margin); checked
        # here, before anything (spectral norm) changes D: ValueError naming the closest.
        losses.regularize(loss, **options)
        return getattr(loss, "name", type(loss).__name__), loss, dict(options)
    raise TypeError(f"loss must be an objective name, an object from cgan.losses.get, or an "
                    f"objective with d_loss and g_loss methods; got {type(loss).__name__}")


def _ema(v):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"ema must be a decay in (0, 1) such as 0.999, or None, got {v!r}")
    if not 0 < v < 1:
        raise ValueError(f"ema must be a decay in (0, 1) such as 0.999, or None (off), got {v!r}")
    return float(v)


def _nonnegative(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a number, got {v!r}")
    if not (np.isfinite(v) and v >= 0):
        raise ValueError(f"{name} must be a finite number >= 0 (0: off), got {v!r}")
    return float(v)


def _schedules(lr_schedule, total_steps, g_optimizer, d_optimizer):
    """(generator's, discriminator's) LRSchedule or None, base_lr filled in from the
    optimizers (their lr when the GAN is built)."""
    if isinstance(lr_schedule, (tuple, list)):
        if len(lr_schedule) != 2:
            raise ValueError("lr_schedule as a sequence must be a pair (g_schedule, d_schedule)")
        pair = tuple(lr_schedule)
    else:
        pair = (lr_schedule, lr_schedule)
    if total_steps is not None:
        total_steps = _count("total_steps", total_steps)
    out = []
    for s, opt in zip(pair, (g_optimizer, d_optimizer)):
        if isinstance(s, str):
            if s == "step":
                raise ValueError("lr_schedule='step' needs a step size: use "
                                 "cgan.optim.LRSchedule('step', step_size=..., gamma=...)")
            needs = s in ("linear", "cosine")
            s = optim.LRSchedule(s, total_steps=total_steps if needs else None)
        elif s is not None and not isinstance(s, optim.LRSchedule):
            raise TypeError(f"lr_schedule must be a name, a cgan.optim.LRSchedule, a pair of "
                            f"them, or None; got {type(s).__name__}")
        if s is not None and s.base_lr is None:
            s = optim.LRSchedule.from_dict(s.to_dict(base_lr=opt.lr))
        out.append(s)
    return tuple(out)


def _features(feature_matching, D):
    """What the core takes for feature matching: None (off), the number of leading
    layers of a Sequential D, or a Python module's bound features method."""
    if feature_matching is None or feature_matching is False:
        return None
    is_int = isinstance(feature_matching, (numbers.Integral, np.integer))
    if not (feature_matching is True or is_int) or isinstance(feature_matching, np.bool_):
        raise TypeError(f"feature_matching must be True, False or a layer index, got {feature_matching!r}")
    if isinstance(D, nn.Sequential):
        n = len(D)
        if feature_matching is True:
            end = n - 1
        else:
            k = int(feature_matching)
            if not (-n <= k < n and k % n <= n - 2):
                raise ValueError(f"feature_matching={k}: the discriminator has {n} layers and the "
                                 f"features must come from a layer before the last, so the index "
                                 f"must be in [0, {n - 2}] (or [{-n}, -2] from the end)")
            end = k % n + 1
        if end < 1:
            raise ValueError("feature_matching: the discriminator has a single layer, so it has "
                             "no intermediate features")
        return end
    features = getattr(D, "features", None)
    if not callable(features):
        raise ValueError(f"feature_matching needs D's intermediate features: use a Sequential or "
                         f"MLP discriminator, or give {type(D).__name__} a features(x) method "
                         f"returning its activations before the last layer")
    if feature_matching is not True:
        raise ValueError(f"feature_matching={feature_matching}: a layer index needs a Sequential "
                         f"discriminator; {type(D).__name__}.features(x) decides the features "
                         f"(pass feature_matching=True)")
    return features


def _flag(name, v):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {v!r}")
    return bool(v)


# Objectives whose critic loss has a per-sample gradient penalty, and the option that
# turns it off (None: always on).
_PENALTY_OPTION = {"wgan-gp": None, "dragan": None, "loss-sensitive": "lambda_gp"}
# The options of every objective that look at D sample by sample, and why batch norm breaks them.
_PER_SAMPLE_OPTIONS = {
    "r1": "the R1 penalty takes each real sample's gradient of D",
    "r2": "the R2 penalty takes each fake sample's gradient of D",
    "consistency": "the consistency term compares each sample's outputs of two dropout forwards of D",
}


def _modules(m):
    yield m
    for _, child in m.named_children():
        yield from _modules(child)


def _per_sample_terms(loss, options):
    """(what, why) of each term of the critic's loss that treats samples one by one."""
    name = {"wgangp": "wgan-gp"}.get(loss, loss)
    terms = []
    if name in _PENALTY_OPTION:
        option = _PENALTY_OPTION[name]
        if option is None or options.get(option, 1) != 0:
            terms.append((f"loss '{loss}'", "it penalises per-sample gradients of D"))
    for option, why in _PER_SAMPLE_OPTIONS.items():
        value = options.get(option)
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and value > 0:
            terms.append((f"option {option}={value}", why))
    return terms


def _refuse_batch_norm_with_penalty(loss, options, D):
    """A gradient penalty treats each sample's gradient on its own; batch norm makes
    every output depend on the whole batch, so the penalised gradient is not the
    per-sample one the method assumes (Gulrajani et al. 2017, Sec. 4: use layer norm).
    The same holds for R1 / R2 and the consistency term's per-sample distances."""
    terms = _per_sample_terms(loss, options)
    if not terms:
        return
    for m in _modules(D):
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            what, why = terms[0]
            raise ValueError(f"{what}: {why}, but D has {type(m).__name__}, which couples the "
                             f"samples of a batch (each output depends on the batch's statistics), "
                             f"so the term is not the per-sample one the method defines; use "
                             f"LayerNorm (norm='layer'), no normalisation, or spectral_norm=True "
                             f"in the critic instead")


def _history(records):
    return {k: np.array([r[k] for r in records],
                        dtype=np.int64 if k == "step" else np.float64) for k in _HISTORY_KEYS}


def _progress_bar(total, progress):
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="step", mininterval=0.25)
