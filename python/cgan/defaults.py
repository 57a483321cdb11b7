"""The one table of per-objective defaults: optimizer, learning rate, betas, critic steps
and options. ``cgan.GAN``, ``cgan train``, ``cgan losses NAME``, metrics.json and the
checkpoint all read it, so a setting left out means the same thing everywhere.

>>> import cgan.defaults
>>> cgan.defaults.resolve("wgan-gp")["d_steps"]
5
>>> cgan.defaults.resolve("nsgan", {"label_smoothing": 0.1})["options"]
{'label_smoothing': 0.1}

The objectives themselves (cpp/gan) apply the same option defaults when an option is left
out; tests/test_cli.py checks that the two agree.
"""
from collections import namedtuple

from . import optim as _optim
from ._core import losses as _core_losses

__all__ = ["Defaults", "Option", "COMMON_OPTIONS", "canonical", "table", "options_of", "resolve", "optimizer"]

# One row of the table. lr and betas apply to both networks (betas only for Adam).
Defaults = namedtuple("Defaults", "optimizer lr betas d_steps why")
# An option of an objective: its default (None: not passed on, the objective decides),
# meaning, and how `cgan losses` shows a None default.
Option = namedtuple("Option", "name default meaning shown", defaults=(None,))

# DCGAN's Adam (Radford et al. 2016): lr 2e-4, beta1 0.5; the papers of the objectives
# below that use Adam took it over.
_DCGAN = Defaults("adam", 2e-4, (0.5, 0.999), 1, "DCGAN's Adam (Radford et al. 2016)")

_TABLE = {
    "minimax": _DCGAN,
    "non-saturating": _DCGAN,
    "f-gan": _DCGAN,
    "lsgan": _DCGAN._replace(why="Mao et al. 2017: Adam 2e-4, beta1 0.5"),
    "wgan": Defaults("rmsprop", 5e-5, None, 5, "Arjovsky et al. 2017, Algorithm 1"),
    # The paper's betas and critic steps; lr 2e-4 rather than its 1e-4, which needs several
    # times more steps on the 2-D toy data (README; tests/test_gan.py, 5 seeds).
    "wgan-gp": Defaults("adam", 2e-4, (0.5, 0.9), 5,
                        "Gulrajani et al. 2017, Algorithm 1 (n_critic 5, betas (0.5, 0.9)); "
                        "lr 2e-4 instead of 1e-4, which needs several times more steps"),
    "dragan": Defaults("adam", 1e-4, (0.5, 0.9), 1, "Kodali et al. 2017: Adam 1e-4"),
    # Miyato et al.'s hinge-loss runs (SN-GAN's ResNets; the projection discriminator's code,
    # pfnet-research/sngan_projection): Adam 2e-4, betas (0, 0.9), 5 critic steps. With
    # DCGAN's Adam and 1 step the 1-D fit swings in std (tests/test_objective_defaults_1d.py).
    "hinge": Defaults("adam", 2e-4, (0.0, 0.9), 5,
                      "Miyato et al. 2018 (SN-GAN, hinge loss): Adam 2e-4, betas (0, 0.9), n_dis 5"),
    "ebgan": _DCGAN,
    "loss-sensitive": _DCGAN,
}

_OPTIONS = {
    "minimax": (Option("label_smoothing", 0.0, "one-sided: the real target is 1 - s"),),
    "non-saturating": (Option("label_smoothing", 0.0, "one-sided: the real target is 1 - s"),),
    "f-gan": (Option("generator_loss", "saturating",
                     '"saturating": G minimises -E f*(g_f(v)), the saddle point: D_f itself; '
                     '"alternative": -E g_f(v) (Nowozin Sec. 3.2): another divergence, '
                     'see cgan.losses.FGAN'),),
    "lsgan": (Option("a", 0.0, "target of D on fakes"), Option("b", 1.0, "target of D on data"),
              Option("c", 1.0, "what G wants D to say on fakes")),
    "wgan": (Option("clip", 0.01, "D's weights are clipped to [-clip, clip]"),),
    "wgan-gp": (Option("lambda_gp", 10.0, "weight of the gradient penalty"),
                Option("one_sided", 0, "1: penalise only max(0, |grad| - 1)^2")),
    "dragan": (Option("lambda_gp", 10.0, "weight of the gradient penalty"),
               Option("perturb", 0.5, "x~ = x + alpha * perturb * std(x) * U[0, 1), alpha ~ U[0, 1) per sample")),
    "hinge": (),
    "ebgan": (Option("margin", 1.0, "energy margin m of the fakes"),
              Option("pt_weight", 0.0, "weight of the pulling-away term"),
              Option("code_layer", None, "layers of D before the code (default len(D)//2)",
                     "len(D)//2")),
    "loss-sensitive": (Option("lambda_ls", 10.0, "weight of the margin hinge"),
                       Option("lambda_gp", 10.0, "weight of the one-sided gradient penalty"),
                       Option("lambda_real", 0.0, "weight of E_r L(x)"),
                       Option("loss_output", "linear", 'L(v): "linear" (Qi 2017), "softplus" or "relu"')),
}
# The f-gan rows whose saturating generator loss is the minimax game: their default is the
# alternative (Goodfellow's non-saturating) loss; every other row minimises its own D_f.
_ALTERNATIVE_BY_DEFAULT = ("f-gan:gan", "f-gan:jensen-shannon", "f-gan:jensen-shannon-weighted")
_PI = Option("pi", 0.5, "weight of P in the weighted Jensen-Shannon divergence")
# Options every objective takes (cpp/gan/regularizers.hpp); left out, the term is off.
COMMON_OPTIONS = (
    Option("r1", None, "gamma of R1: D's loss += gamma/2 E_r |grad_x D(x)|^2 "
                       "(Mescheder et al. 2018; they use 10 on images)", "off"),
    Option("r2", None, "gamma of R2: the same penalty on fakes (Mescheder et al. 2018)", "off"),
    Option("consistency", None, "lambda of the CT-GAN consistency term on two dropout forwards "
                                "of D (Wei et al. 2018 use 2; D needs Dropout)", "off"),
    Option("ct_margin", None, "M' of the consistency term (Wei et al. 2018: 0.2)", "0.2"),
)


def _family(name):
    return "f-gan" if name.startswith("f-gan:") else name


def canonical(loss):
    """The canonical name of `loss` (aliases mmgan, nsgan resolved); ValueError (listing
    the valid names) for an unknown one."""
    if not isinstance(loss, str):
        raise TypeError(f"loss must be a string, got {type(loss).__name__}")
    return _core_losses.make(loss).name


def table(loss):
    """The Defaults row of an objective (optimizer, lr, betas, d_steps, why)."""
    return _TABLE[_family(canonical(loss))]


def options_of(loss):
    """The options of an objective: a tuple of Option(name, default, meaning, shown), its
    own first, then the COMMON_OPTIONS every objective takes."""
    name = canonical(loss)
    opts = _OPTIONS[_family(name)]
    if name in _ALTERNATIVE_BY_DEFAULT:
        opts = (opts[0]._replace(default="alternative"),) + opts[1:]
    if name == "f-gan:jensen-shannon-weighted":
        opts = opts + (_PI,)
    return opts + COMMON_OPTIONS


def resolve(loss, options=None, d_steps=None, lr=None, d_lr=None):
    """Every setting of an objective with the caller's choices (None: left out) filled in
    from the table: dict(loss, optimizer, g_lr, d_lr, betas, d_steps, options).

    options holds every option with a default, the caller's values taking precedence (an
    option the objective does not know stays in, so that the objective rejects it).
    """
    name = canonical(loss)
    row = table(name)
    merged = {o.name: o.default for o in options_of(name) if o.default is not None}
    merged.update(options or {})
    g_lr = row.lr if lr is None else lr
    return {"loss": name, "optimizer": row.optimizer, "g_lr": g_lr,
            "d_lr": g_lr if d_lr is None else d_lr, "betas": row.betas,
            "d_steps": row.d_steps if d_steps is None else d_steps, "options": merged}


def optimizer(settings, module, lr):
    """The optimizer of a resolved row (see :func:`resolve`) on module's parameters."""
    kind = settings["optimizer"]
    if kind == "rmsprop":
        return _optim.RMSprop(module.parameters(), lr=lr)
    if kind == "sgd":
        return _optim.SGD(module.parameters(), lr=lr)
    return _optim.Adam(module.parameters(), lr=lr, betas=settings["betas"])
