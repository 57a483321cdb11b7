"""The command line: ``cgan train`` (or ``python -m cgan train``) and ``cgan losses``.

    cgan train                                  # WGAN-GP on the eight-Gaussian ring
    cgan train --dataset grid --loss hinge --steps 3000 --out runs/grid
    cgan losses                                 # the objectives, one line each

``train`` writes into --out: samples.png, critic.png, losses.png (with matplotlib),
metrics.json and checkpoint.npz (load it with ``cgan.GAN.load``).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from . import __version__, datasets, get_num_threads, losses, metrics, nn, optim, set_num_threads
from .gan import GAN

__all__ = ["main"]

# dataset name -> sampler(n, seed) and the name of its modes (None: no modes to count)
_DATASETS = {
    "ring": (datasets.ring, "ring"),
    "grid": (datasets.grid, "grid"),
    "swiss-roll": (datasets.swiss_roll, None),
    "two-moons": (datasets.two_moons, None),
}

# Settings of the default run, chosen so that `cgan train` finishes in about a minute on
# two cores and covers the ring (see the README).
_DEFAULT_STEPS = 3000
_DEFAULT_WIDTH = 128
_DEFAULT_DEPTH = 3
_DEFAULT_BATCH = 256
_DATA_SIZE = 50000      # training set drawn once from the sampler
_EVAL_SIZE = 2000       # default samples for the metrics and plots
# Adam's learning rate for every Adam objective: most papers' 2e-4 (DCGAN's); WGAN-GP's
# 1e-4 needs tens of thousands of steps on the ring, 5e-4 is unstable at this width.
_DEFAULT_ADAM_LR = 2e-4


def _describe(name):
    """A one-line description of an objective: its paper, from its docstring."""
    obj = losses.get(name)
    first = (type(obj).__doc__ or "").strip().splitlines()[0]
    head, _, paper = first.partition(": ")
    if name.startswith("f-gan:"):
        return f"{paper.rstrip('.')}, divergence {name[len('f-gan:'):]}"
    return paper.rstrip(".") or head


def _option_value(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _parse_options(items, parser):
    options = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq or not key:
            parser.error(f"--option expects KEY=VALUE, got {item!r}")
        options[key.strip().replace("-", "_")] = _option_value(value.strip())
    return options


def _positive(kind, what):
    """An argparse type: `kind` (int or float) parsed from text, finite and > 0."""
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not (np.isfinite(v) and v > 0):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return v

    parse.__name__ = what  # argparse names the type in its messages
    return parse


_positive_int = _positive(int, "a positive integer")
_positive_float = _positive(float, "a positive number")


def _parser():
    ap = argparse.ArgumentParser(
        prog="cgan", description="cgan: GANs on the CPU. Train a GAN on a toy data set, "
        "or list the objectives.")
    ap.add_argument("--version", action="version", version=f"cgan {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    tr = sub.add_parser(
        "train", help="train a GAN on a 2-D toy data set and write plots, metrics, a checkpoint",
        description="Train a GAN (MLP generator and discriminator) on a 2-D toy data set with "
        "a progress bar; write samples.png, critic.png, losses.png, metrics.json and "
        "checkpoint.npz into --out. Every option has a default: `cgan train` alone trains "
        "WGAN-GP on the eight-Gaussian ring in about a minute on two cores.")
    tr.add_argument("--dataset", default="ring", choices=sorted(_DATASETS),
                    help="data set (cgan.datasets; ring and grid at the WGAN-GP paper's scale; "
                    "default ring)")
    tr.add_argument("--loss", default="wgan-gp", metavar="NAME",
                    help="objective: one of `cgan losses` (aliases mmgan, nsgan; default wgan-gp)")
    tr.add_argument("--option", action="append", metavar="KEY=VALUE",
                    help="an option of the objective, e.g. lambda_gp=10, clip=0.01, "
                    "one_sided=1 (repeatable)")
    tr.add_argument("--steps", type=_positive_int, default=_DEFAULT_STEPS,
                    help=f"generator iterations (default {_DEFAULT_STEPS})")
    tr.add_argument("--batch-size", type=_positive_int, default=_DEFAULT_BATCH,
                    help=f"minibatch size (default {_DEFAULT_BATCH})")
    tr.add_argument("--width", type=_positive_int, default=_DEFAULT_WIDTH,
                    help=f"hidden units per layer of G and D (default {_DEFAULT_WIDTH})")
    tr.add_argument("--depth", type=_positive_int, default=_DEFAULT_DEPTH,
                    help=f"hidden layers of G and D (default {_DEFAULT_DEPTH})")
    tr.add_argument("--activation", default="relu",
                    help="hidden activation of G and D (relu, leaky_relu, tanh, elu, ...; default relu)")
    tr.add_argument("--spectral-norm", action="store_true",
                    help="spectral normalisation of every layer of D (Miyato et al. 2018)")
    tr.add_argument("--z-dim", type=_positive_int, default=2, help="width of the noise z (default 2)")
    tr.add_argument("--lr", type=_positive_float, default=None,
                    help="learning rate of G and D (default: RMSprop 5e-5 for wgan as in its "
                    f"paper, else Adam {_DEFAULT_ADAM_LR:g} with the objective's betas)")
    tr.add_argument("--d-lr", type=_positive_float, default=None,
                    help="learning rate of D alone (TTUR); default --lr")
    tr.add_argument("--d-steps", type=_positive_int, default=None,
                    help="critic updates per generator update (default 5 for wgan and "
                    "wgan-gp, else 1)")
    tr.add_argument("--eval-samples", type=_positive_int, default=_EVAL_SIZE,
                    help=f"generated and fresh data samples for the metrics and plots (default "
                    f"{_EVAL_SIZE}; the exact Wasserstein distance costs O(n^3))")
    tr.add_argument("--seed", type=int, default=0, help="seeds data, networks and training (default 0)")
    tr.add_argument("--threads", type=_positive_int, default=None,
                    help="threads of the C++ core (default: cgan's default)")
    tr.add_argument("--out", default=None,
                    help="output directory (default runs/<dataset>-<loss>)")
    tr.add_argument("--no-progress", action="store_true", help="no progress bar")

    sub.add_parser("losses", help="list the objectives",
                   description="List every objective name with its paper.")
    return ap, tr


def _networks(args, loss, dim):
    hidden = [args.width] * args.depth
    G = nn.MLP(args.z_dim, hidden, dim, activation=args.activation, seed=args.seed)
    D = nn.MLP(dim, hidden, loss.d_out_features(dim), activation=args.activation,
               spectral_norm=args.spectral_norm, seed=args.seed + 1)
    return G, D


def _optimizer(loss, module, discriminator, lr):
    spec = loss.default_optimizer(discriminator)
    if spec["type"] == "rmsprop":
        return optim.RMSprop(module.parameters(), lr=lr or spec["lr"])
    if spec["type"] == "sgd":
        return optim.SGD(module.parameters(), lr=lr or spec["lr"])
    return optim.Adam(module.parameters(), lr=lr or _DEFAULT_ADAM_LR, betas=spec["betas"])


_W_SAMPLES = 4000


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
    # is taken between the first _W_SAMPLES of each set (documented in metrics.json).
    n_w = min(len(fake), _W_SAMPLES)
    out["wasserstein_samples"] = n_w
    try:
        out["wasserstein_to_data"] = metrics.wasserstein_2d(fake[:n_w], fresh[:n_w])
    except ImportError as e:
        out["wasserstein_to_data"] = None
        out["wasserstein_note"] = str(e)
    return out, fake, fresh


def _plots(gan, history, data, fake, out_dir):
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
    written = []
    for name, draw in (
            ("samples.png", lambda ax: plot.samples(data[:len(fake)], fake, ax=ax)),
            ("critic.png", lambda ax: plot.critic_contour(gan, lim[0], lim[1], ax=ax,
                                                          data=data[:500], fake=fake[:500])),
            ("losses.png", lambda ax: plot.loss_curves(history, ax=ax))):
        fig, ax = plt.subplots(figsize=(6, 5))
        try:
            draw(ax)
            ax.set_title(f"{gan.loss}, {gan.steps_done} steps")
            fig.tight_layout()
            fig.savefig(os.path.join(out_dir, name), dpi=110)
        finally:
            plt.close(fig)
        written.append(name)
    return written


def _train(args, parser):
    try:
        loss = losses.get(args.loss, **_parse_options(args.option, parser))
    except (ValueError, TypeError) as e:
        parser.error(str(e))
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    if args.threads:
        set_num_threads(args.threads)
    out_dir = args.out or os.path.join("runs", f"{args.dataset}-{loss.name.replace(':', '-')}")
    os.makedirs(out_dir, exist_ok=True)

    sampler, mode_name = _DATASETS[args.dataset]
    data = sampler(_DATA_SIZE, seed=args.seed)
    G, D = _networks(args, loss, data.shape[1])
    d_steps = args.d_steps or (5 if loss.name in ("wgan", "wgan-gp") else 1)
    gan = GAN(G, D, loss=loss.name, z_dim=args.z_dim, d_steps=d_steps, seed=args.seed,
              g_optimizer=_optimizer(loss, G, False, args.lr),
              d_optimizer=_optimizer(loss, D, True, args.d_lr or args.lr), **loss.options)
    print(f"cgan {__version__}: {loss.name} on {args.dataset}, {args.steps} steps of batch "
          f"{args.batch_size}, d_steps {d_steps}, G/D {G.num_parameters()}/"
          f"{D.num_parameters()} parameters, {get_num_threads()} threads -> {out_dir}")

    t0 = time.perf_counter()
    history = gan.fit(data, args.steps, args.batch_size, progress=not args.no_progress)
    seconds = time.perf_counter() - t0
    gan.save(os.path.join(out_dir, "checkpoint.npz"))

    numbers, fake, _ = _evaluate(gan, args, mode_name)
    g_opt, d_opt = gan.g_optimizer, gan.d_optimizer
    report = {
        "cgan_version": __version__, "dataset": args.dataset, "objective": loss.name,
        "options": loss.options, "steps": gan.steps_done, "batch_size": args.batch_size,
        "d_steps": d_steps, "width": args.width, "depth": args.depth,
        "activation": args.activation, "spectral_norm": args.spectral_norm,
        "z_dim": args.z_dim, "g_optimizer": type(g_opt).__name__, "g_lr": g_opt.lr,
        "d_optimizer": type(d_opt).__name__, "d_lr": d_opt.lr, "seed": args.seed,
        "threads": get_num_threads(), "seconds": seconds,
        "ms_per_step": 1000.0 * seconds / args.steps,
        "final_d_loss": float(history["d_loss"][-1]), "final_g_loss": float(history["g_loss"][-1]),
        **numbers, "checkpoint": "checkpoint.npz",
    }
    try:
        report["plots"] = _plots(gan, history, data, fake, out_dir)
    except ImportError:
        report["plots"] = []
        print('matplotlib is not installed: no PNGs written; install it with '
              'pip install "cgan[plot]" (or pip install matplotlib) to get them')
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(report, f, indent=2, default=_json_default)
        f.write("\n")

    print(f"trained {gan.steps_done} steps in {seconds:.1f} s "
          f"({report['ms_per_step']:.1f} ms/step)")
    if mode_name is not None:
        print(f"modes covered {report['modes_covered']}/{report['modes_total']}, high-quality "
              f"samples {100 * report['high_quality_rate']:.1f}% (data "
              f"{100 * report['data_high_quality_rate']:.1f}%), mode KL "
              f"{report['mode_kl']:.3f}")
    if report.get("wasserstein_to_data") is not None:
        print(f"Wasserstein-1 to fresh data: {report['wasserstein_to_data']:.4f}")
    print(f"wrote {', '.join(report['plots'] + ['metrics.json', 'checkpoint.npz'])} "
          f"in {out_dir}")
    return report


def _json_default(v):
    if isinstance(v, (np.integer, np.floating)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")


def _list_losses():
    names = losses.available()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:<{width}}  {_describe(name)}")
    print("aliases: mmgan = minimax, nsgan = non-saturating; options: help(cgan.losses)")
    return names


def main(argv=None):
    """Run the command line with `argv` (default sys.argv[1:]); returns the exit status 0.
    Usage errors exit with status 2 and argparse's message (SystemExit)."""
    parser, train_parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "train":
        _train(args, train_parser)
    else:
        _list_losses()
    return 0
