"""The published mode-collapse tables as a benchmark: VEEGAN's and PacGAN's 2-D ring and grid.

    python benchmarks/mode_collapse.py [--seeds 1] [--recipe-seeds 10] [--workers 2]
    python benchmarks/mode_collapse.py --quick --out /tmp/mc.md     # seconds: the test's run

Protocol of Srivastava et al. 2017 (VEEGAN, Table 1) and Lin et al. 2018 (PacGAN, Table 1;
their code: fjxmlzn/PacGAN, synthetic_data_experiments): ring of 8 Gaussians (radius 1,
std 0.01) and grid of 25 (means {-4, -2, 0, 2, 4}^2, std 0.05), 100,000 training points,
2,500 generated samples scored with ``cgan.metrics.mode_collapse_scores``: a sample is high
quality within 3 std of its nearest mode, a mode is captured when it is the nearest mode of
at least one high-quality sample, and the KL of the captured histogram to uniform.

Every objective runs without techniques (its plain setting) and with them (PacGAN packing
m = 2, generator EMA, linear learning-rate decay), then the recipes of ``cgan.recipes`` over
more seeds. Writes a Markdown table (mean +- std over seeds, the published rows beside).
Runs are processes of one thread each (`--workers` at a time), under the caller's `nice`.
"""
import argparse
import concurrent.futures
import os
import sys
import time

import numpy as np

import cgan
from cgan import recipes

# Published rows: (data, method, modes, high quality %, KL); PacGAN's Table 1 is mean +-
# standard error over 10 trials (its Table1.png in fjxmlzn/PacGAN, read 2026-11-30);
# VEEGAN's row is from its Table 1 as quoted in cgan's issue 13 (not re-checked here).
PUBLISHED = [
    ("ring", "GAN (PacGAN Table 1)", "6.3 +- 0.5", "98.2 +- 0.2", "0.45 +- 0.09"),
    ("ring", "ALI (PacGAN Table 1)", "6.6 +- 0.3", "97.6 +- 0.4", "0.36 +- 0.04"),
    ("ring", "PacGAN2 (PacGAN Table 1)", "7.9 +- 0.1", "95.6 +- 2.0", "0.07 +- 0.03"),
    ("ring", "PacGAN3 (PacGAN Table 1)", "7.8 +- 0.1", "97.7 +- 0.3", "0.10 +- 0.02"),
    ("ring", "PacGAN4 (PacGAN Table 1)", "7.8 +- 0.1", "95.9 +- 1.4", "0.07 +- 0.02"),
    ("ring", "VEEGAN (VEEGAN Table 1)", "8", "52.9", "-"),
    ("grid", "GAN (PacGAN Table 1)", "17.3 +- 0.8", "94.8 +- 0.7", "0.70 +- 0.07"),
    ("grid", "ALI (PacGAN Table 1)", "24.1 +- 0.4", "95.7 +- 0.6", "0.14 +- 0.03"),
    ("grid", "PacGAN2 (PacGAN Table 1)", "23.8 +- 0.7", "91.3 +- 0.8", "0.13 +- 0.04"),
    ("grid", "PacGAN3 (PacGAN Table 1)", "24.6 +- 0.4", "94.2 +- 0.4", "0.06 +- 0.02"),
    ("grid", "PacGAN4 (PacGAN Table 1)", "24.8 +- 0.2", "93.6 +- 0.6", "0.04 +- 0.01"),
]

TRAIN_SIZE, SCORED = 100000, 2500
DATA_SEED, SAMPLE_SEED = 0, 12345

# The plain setting of each objective (shared 2-128x3 ReLU MLPs, 2000 steps, batch 256);
# wgan-gp keeps its paper's optimizer and 5 critic steps. (More objectives: add rows here;
# on a shared 2-core machine every run costs 0.5-1.5 CPU-minutes.)
OBJECTIVES = {
    "non-saturating": {"loss": "non-saturating", "g_lr": 1e-3, "d_lr": 1e-3},
    "hinge": {"loss": "hinge", "g_lr": 1e-3, "d_lr": 1e-3},
    "wgan-gp": {"loss": "wgan-gp", "d_steps": 5, "g_lr": 1e-4, "d_lr": 1e-4,
                "betas": (0.5, 0.9)},
}
TECHNIQUES = {"pack": 2, "ema": 0.99, "lr_schedule": "linear"}
QUICK = {"steps": 30, "g_hidden": (16, 16), "d_hidden": (16, 16), "batch_size": 64}


def data(name, n=TRAIN_SIZE):
    return {"ring": cgan.datasets.pacgan_ring, "grid": cgan.datasets.pacgan_grid}[name](
        n, seed=DATA_SEED)


def run_one(job):
    """One training run in this process: job = (data name, spec, seed, train size).
    Returns (modes, high quality, kl, seconds, the first 1000 samples); a run stopped by NaN
    scores as nothing (and has no samples)."""
    name, spec, seed, n = job
    cgan.set_num_threads(1)
    gan, fit_kwargs = recipes.build(spec, seed)
    t = time.perf_counter()
    try:
        gan.fit(data(name, n), progress=False, **fit_kwargs)
    except FloatingPointError:
        return (0, 0.0, float("nan"), time.perf_counter() - t, None)
    dt = time.perf_counter() - t
    x = gan.sample(SCORED, seed=SAMPLE_SEED)
    s = cgan.metrics.mode_collapse_scores(x, *cgan.datasets.modes("pacgan-" + name))
    print(f"{name} {spec.get('loss')} pack {spec.get('pack', 1)} seed {seed}: {s.modes} modes, "
          f"{100 * s.high_quality:.1f}% hq, kl {s.kl:.3f}, {dt:.0f} s", flush=True)
    return (s.modes, s.high_quality, s.kl, dt, x[:1000])


def rows(quick, seeds, recipe_seeds):
    """(data, label, techniques text, spec, seeds) of every row of the table."""
    out = []
    shrink = QUICK if quick else {}
    names = ["non-saturating", "wgan-gp"] if quick else list(OBJECTIVES)
    for d in ("ring", "grid"):
        for obj in names:
            base = {**OBJECTIVES[obj], **shrink}
            out.append((d, obj, "none", base, seeds))
            out.append((d, obj, "pack 2, EMA 0.99, linear lr decay",
                        {**base, **TECHNIQUES}, seeds))
        r = recipes.RECIPES["pacgan-" + d]
        out.append((d, f"recipe pacgan-{d}", r.techniques,
                    {**r.spec, **shrink}, recipe_seeds))
    return out


def fmt(values, digits, scale=1.0):
    v = np.asarray(values, float) * scale
    if np.isnan(v).any():
        good = v[~np.isnan(v)]
        tail = f" ({np.isnan(v).sum()} NaN)"
        return (f"{good.mean():.{digits}f} +- {good.std():.{digits}f}" if len(good) else "-") + tail
    return f"{v.mean():.{digits}f} +- {v.std():.{digits}f}"


GOAL = {"ring": (8.0, 96.0), "grid": (24.9, 95.0)}  # issue 13: modes, high quality %


def goal_lines(results):
    """Whether each recipe's mean beats the goal of issue 13 (above every published row)."""
    out = []
    for (d, label, _, _, _), res in results:
        if label.startswith("recipe"):
            r = np.array([x[:4] for x in res], float)
            modes, hq = r[:, 0].mean(), 100 * r[:, 1].mean()
            met = modes >= GOAL[d][0] and hq >= GOAL[d][1]
            out.append(f"- {d}: goal {GOAL[d][0]} modes with >= {GOAL[d][1]:.0f}% high quality; "
                       f"{label}: {modes:.1f} modes, {hq:.1f}%: {'met' if met else 'NOT met'}")
    return "\n".join(out) + "\n"


def table(results, quick):
    lines = ["| data | method | techniques | seeds | modes | high quality % | KL | time s |",
             "|---|---|---|---|---|---|---|---|"]
    for (d, label, tech, _, seeds), res in results:
        r = np.array([x[:4] for x in res], float)
        lines.append(f"| {d} | {label} | {tech} | {len(seeds)} | {fmt(r[:, 0], 1)} | "
                     f"{fmt(r[:, 1], 1, 100)} | {fmt(r[:, 2], 2)} | {r[:, 3].mean():.0f} |")
    for d, label, m, hq, kl in PUBLISHED:
        lines.append(f"| {d} | {label} | published | 10 | {m} | {hq} | {kl} | - |")
    note = ("quick mode: tiny networks and 30 steps, a smoke test, not a result"
            if quick else "mean +- std over seeds (published rows: mean +- standard error)")
    return "\n".join(lines) + f"\n\n{note}\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny runs (the tests' smoke run)")
    ap.add_argument("--seeds", type=int, default=1, help="seeds of each objective's rows")
    ap.add_argument("--recipe-seeds", type=int, default=10, help="seeds of the recipes' rows")
    ap.add_argument("--samples", default=None,
                    help="npz file for the first 1000 samples of each row's first seed (default: "
                         "benchmarks/mode_collapse_samples.npz, or nothing in quick mode)")
    ap.add_argument("--workers", type=int, default=2, help="runs at a time (processes)")
    ap.add_argument("--out", default=None,
                    help="Markdown file to write (default: benchmarks/mode_collapse.md, "
                         "or nothing in quick mode)")
    args = ap.parse_args(argv)
    seeds = list(range(1 if args.quick else args.seeds))
    recipe_seeds = list(range(1 if args.quick else args.recipe_seeds))
    plan = rows(args.quick, seeds, recipe_seeds)
    n = 2000 if args.quick else TRAIN_SIZE
    jobs = [(d, spec, s, n) for d, _, _, spec, ss in plan for s in ss]
    t = time.perf_counter()
    if args.workers > 1:
        with concurrent.futures.ProcessPoolExecutor(args.workers) as pool:
            flat = list(pool.map(run_one, jobs))
    else:
        flat = [run_one(j) for j in jobs]
    results, i = [], 0
    for row in plan:
        results.append((row, flat[i:i + len(row[4])]))
        i += len(row[4])
    text = (f"# Mode collapse: the published 2-D tables\n\n"
            f"`python benchmarks/mode_collapse.py{' --quick' if args.quick else ''} --seeds "
            f"{len(seeds)} --recipe-seeds {len(recipe_seeds)}` "
            f"({len(jobs)} runs, {time.perf_counter() - t:.0f} s wall, {args.workers} workers "
            f"of 1 thread). Protocol and sources: the docstring of benchmarks/mode_collapse.py."
            f"\n\n" + table(results, args.quick) + "\n" + goal_lines(results))
    print(text)
    here = os.path.dirname(os.path.abspath(__file__))
    out = args.out or (None if args.quick else os.path.join(here, "mode_collapse.md"))
    if out:
        with open(out, "w") as f:
            f.write(text)
    samples = args.samples or (None if args.quick else os.path.join(here, "mode_collapse_samples.npz"))
    if samples:  # for notebook 12's pictures: key "data|label|techniques"
        np.savez_compressed(samples, **{f"{r[0]}|{r[1]}|{r[2]}": res[0][4] for r, res in results
                                        if res[0][4] is not None})
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
