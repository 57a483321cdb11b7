"""cgan.recipes: settings that reproduce a measured result, ready to train.

    gan, fit_kwargs = cgan.recipes.get("pacgan-ring", seed=0)
    gan.fit(cgan.datasets.pacgan_ring(100000), **fit_kwargs)

``get`` returns an untrained ``cgan.GAN`` built with that seed and the keyword arguments
of ``fit`` (steps, batch size) of the recipe's best setting, so that anyone (with their
own data and metric) reruns it. ``available()`` lists the names; ``describe(name)`` says
what a recipe is (objective, techniques, settings), what it gets (measured by
benchmarks/mode_collapse.py), and which paper it follows. ``build(spec, seed)`` makes a
GAN and fit kwargs from a settings dict: the benchmark builds every row with it.
"""
import difflib
from dataclasses import dataclass, field

from . import defaults, losses, nn
from .gan import GAN

__all__ = ["available", "get", "describe", "build", "Recipe", "RECIPES"]

# Every setting a spec understands, with its default (None: leave it to cgan.GAN).
SPEC_DEFAULTS = {
    "loss": "non-saturating", "x_dim": 2, "z_dim": 2, "g_hidden": (128, 128, 128),
    "d_hidden": (128, 128, 128), "activation": "relu", "pack": 1, "d_steps": 1,
    "optimizer": "adam", "g_lr": 2e-4, "d_lr": 2e-4, "betas": (0.5, 0.999), "spectral_norm": False,
    "ema": None, "lr_schedule": None, "options": None, "steps": 2000, "batch_size": 256,
}


def build(spec, seed=0):
    """(untrained GAN, fit kwargs) for a settings dict `spec` (keys of SPEC_DEFAULTS).

    G is an MLP x_dim <- z_dim, D an MLP pack*x_dim -> 1 (D judges `pack` samples at
    once; for ebgan an autoencoder pack*x_dim -> pack*x_dim), both seeded from `seed` (G with 2*seed + 1, D with 2*seed + 2), and the GAN's
    own RNG (noise, minibatches) with `seed`: a seed gives one repeatable run. The
    optimizer is "adam" (with `betas`), "rmsprop" or "sgd", the same kind for both
    networks, each with its learning rate."""
    unknown = sorted(set(spec) - set(SPEC_DEFAULTS))
    if unknown:
        raise ValueError(f"build: unknown setting(s) {unknown}; expected keys of "
                         f"cgan.recipes.SPEC_DEFAULTS")
    s = {**SPEC_DEFAULTS, **spec}
    if s["optimizer"] not in ("adam", "rmsprop", "sgd"):
        raise ValueError(f"build: optimizer must be 'adam', 'rmsprop' or 'sgd', got "
                         f"{s['optimizer']!r}")
    G = nn.MLP(s["z_dim"], list(s["g_hidden"]), s["x_dim"], activation=s["activation"],
               seed=2 * seed + 1)
    d_in = s["pack"] * s["x_dim"]  # an autoencoder D (ebgan) gives back what it takes
    D = nn.MLP(d_in, list(s["d_hidden"]), losses.get(s["loss"]).d_out_features(d_in),
               activation=s["activation"], seed=2 * seed + 2)
    extra = {k: s[k] for k in ("ema", "lr_schedule") if s[k] is not None}  # GAN's loop tips
    if isinstance(s["lr_schedule"], str) and s["lr_schedule"] != "constant":
        extra["total_steps"] = s["steps"]  # a named decay runs over the recipe's steps
    gan = GAN(G, D, loss=s["loss"], z_dim=s["z_dim"], d_steps=s["d_steps"], seed=seed,
              spectral_norm=s["spectral_norm"], pack=s["pack"],
              g_optimizer=defaults.optimizer(s, G, s["g_lr"]),
              d_optimizer=defaults.optimizer(s, D, s["d_lr"]),
              **extra, **(s["options"] or {}))
    return gan, {"steps": s["steps"], "batch_size": s["batch_size"]}


@dataclass(frozen=True)
class Recipe:
    """A named setting: its spec (for ``build``) and what it is, gets and follows."""
    name: str
    spec: dict = field(repr=False)
    techniques: str
    summary: str
    result: str
    paper: str

    def describe(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.spec.items())
        return (f"{self.name}: {self.summary}\n  techniques: {self.techniques}\n"
                f"  settings: {settings}\n"
                f"  result: {self.result}\n  follows: {self.paper}")


_PACGAN = ("Lin et al. 2018, PacGAN: the power of two samples in generative adversarial "
           "networks (packing; the 2-D benchmarks of its Table 1, after VEEGAN, Srivastava "
           "et al. 2017)")

_R1 = ("Mescheder et al. 2018, Which training methods for GANs do actually converge? (R1); "
       "Goodfellow et al. 2014 (the non-saturating loss)")

# The 2-D tables' recipe: the plain non-saturating GAN of Goodfellow et al. with the R1
# penalty on real data (which keeps D from overshooting where G has no mass, so G's
# modes stop chasing each other) and a linear learning-rate decay to 0 (which lets each
# mode of G shrink onto its Gaussian: the share of high-quality samples climbs with it).
_TABLE_SPEC = {"loss": "non-saturating", "g_hidden": (128, 128, 128),
               "d_hidden": (128, 128, 128), "g_lr": 1e-3, "d_lr": 1e-3, "betas": (0.5, 0.999),
               "options": {"r1": 1.0}, "lr_schedule": "linear", "batch_size": 256}

RECIPES = {r.name: r for r in [
    Recipe(
        name="pacgan-ring",
        spec={**_TABLE_SPEC, "steps": 16000},
        techniques="R1 1, linear lr decay",
        summary="non-saturating GAN with the R1 penalty (gamma 1) on real data and both "
                "learning rates decayed linearly from Adam 1e-3 (0.5, 0.999) to 0; "
                "2-128x3-2 ReLU MLPs (D: 2-128x3-1), z_dim 2, batch 256, 16000 steps; for "
                "cgan.datasets.pacgan_ring",
        result="seeds 0-9: 8.0 +- 0.0 modes, 97.4 +- 0.7% high quality (each seed >= 96.3%), "
               "KL 0.003; 98 CPU-seconds a run on one thread (benchmarks/mode_collapse.md); "
               "PacGAN's best ring rows: 7.9 modes / 95.6%, 7.8 / 97.7%",
        paper=_R1 + "; the benchmark: " + _PACGAN),
    Recipe(
        name="pacgan-grid",
        spec={**_TABLE_SPEC, "steps": 20000},
        techniques="R1 1, linear lr decay",
        summary="the settings of pacgan-ring for 20000 steps instead of 16000 (the grid's 25 modes need the "
                "longer decay); for cgan.datasets.pacgan_grid",
        result="seeds 0-9: 25.0 +- 0.0 modes, 96.7 +- 0.5% high quality (each seed >= 95.7%), "
               "KL 0.008; 132 CPU-seconds a run on one thread (benchmarks/mode_collapse.md); "
               "PacGAN's best grid rows: 24.8 modes / 93.6%, 24.6 / 94.2%",
        paper=_R1 + "; the benchmark: " + _PACGAN),
    Recipe(
        name="gaussian-1d",
        spec={"loss": "non-saturating", "x_dim": 1, "z_dim": 1, "g_hidden": (32, 32),
              "d_hidden": (32, 32), "g_lr": 1e-3, "d_lr": 1e-3, "betas": (0.5, 0.999),
              "options": {"r1": 1.0}, "ema": 0.99, "lr_schedule": "linear", "steps": 2000,
              "batch_size": 256},
        techniques="R1 1.0, EMA 0.99, linear lr decay",
        summary="non-saturating GAN with the R1 penalty (gamma 1) on real data, generator EMA "
                "0.99, linear decay of Adam 1e-3 (0.5, 0.999); 1-32-32-1 ReLU MLPs, batch "
                "256, 2000 steps; for cgan.datasets.gaussian_1d(n, 4, 1.25)",
        result="seeds 0-2 (1 thread): mean 3.99, 3.98, 4.01 and std 1.20, 1.40, 1.11 of "
               "5000 samples (target 4 and 1.25); notebook 12 shows seed 0",
        paper="Goodfellow et al. 2014 (the non-saturating loss); R1: Mescheder et al. 2018, "
              "Which training methods for GANs do actually converge?; EMA: Yazici et al. 2019"),
]}


def available():
    """Names of the recipes, sorted."""
    return sorted(RECIPES)


def _recipe(name, fn):
    if not isinstance(name, str):
        raise TypeError(f"{fn}: name must be a string, one of {available()}; got {name!r}")
    if name not in RECIPES:
        close = difflib.get_close_matches(name, available(), n=1, cutoff=0.0)
        raise ValueError(f"{fn}: unknown recipe {name!r}; did you mean {close[0]!r}? "
                         f"(available: {', '.join(available())})")
    return RECIPES[name]


def get(name, seed=0):
    """(untrained GAN built with `seed`, fit kwargs) of the recipe `name`:
    ``gan.fit(data, **fit_kwargs)`` reruns its setting."""
    return build(_recipe(name, "get").spec, seed)


def describe(name):
    """What the recipe `name` is, the result it gets, and the paper it follows."""
    return _recipe(name, "describe").describe()
