"""The published mode-collapse tables as a benchmark: VEEGAN's and PacGAN's 2-D ring and grid.

    python benchmarks/mode_collapse.py [--seeds 2] [--recipe-seeds 10] [--workers 2]
    python benchmarks/mode_collapse.py --only recipes      # run a part now, the rest later
    python benchmarks/mode_collapse.py --part 1/2          # every 2nd run to do, from the 2nd
    python benchmarks/mode_collapse.py --quick --out /tmp/mc.md     # seconds: the test's run

Protocol of Srivastava et al. 2017 (VEEGAN, Table 1) and Lin et al. 2018 (PacGAN, Table 1;
their code: fjxmlzn/PacGAN, synthetic_data_experiments): ring of 8 Gaussians (radius 1,
std 0.01) and grid of 25 (means {-4, -2, 0, 2, 4}^2, std 0.05), 100,000 training points,
2,500 generated samples scored with ``cgan.metrics.mode_collapse_scores``: a sample is high
quality within 3 std of its nearest mode, a mode is captured when it is the nearest mode of
at least one high-quality sample, and the KL of the captured histogram to uniform.

Every objective of ``cgan.losses`` runs with its documented defaults (``cgan.defaults``:
optimizer, learning rate, critic steps, options) for a fixed budget, without techniques and
with them (R1 gamma 1 and a linear learning-rate decay to 0), then the recipes of
``cgan.recipes`` over more seeds. Writes a Markdown table (mean +- std over seeds, the
published rows beside). Runs are processes of one thread each (`--workers` at a time),
under the caller's `nice`. Each finished run is kept in the cache directory (keyed by its
data, settings and seed), so an interrupted study resumes, and ``--only`` runs a part of it
now: the table is written once every row's runs are in the cache.
"""
import argparse
import concurrent.futures
import hashlib
import json
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

# Every objective at its documented defaults, on shared 2-128x3 ReLU MLPs, batch 256, for
# the same budget of generator steps (critic steps as the defaults say).
OBJECTIVE_STEPS = 2000


def objective_spec(name):
    r = cgan.defaults.resolve(name)
    return {"loss": name, "optimizer": r["optimizer"], "g_lr": r["g_lr"], "d_lr": r["d_lr"],
            "betas": r["betas"] or (0.5, 0.999), "d_steps": r["d_steps"],
            "options": r["options"], "steps": OBJECTIVE_STEPS}


TECHNIQUES_TEXT = "R1 1, linear lr decay"


def with_techniques(spec):
    return {**spec, "options": {**(spec.get("options") or {}), "r1": 1.0},
            "lr_schedule": "linear"}


QUICK = {"steps": 30, "g_hidden": (16, 16), "d_hidden": (16, 16), "batch_size": 64}


def data(name, n=TRAIN_SIZE):
    return {"ring": cgan.datasets.pacgan_ring, "grid": cgan.datasets.pacgan_grid}[name](
        n, seed=DATA_SEED)


def job_key(job):
    name, spec, seed, n = job
    text = json.dumps([name, spec, seed, n], sort_keys=True, default=list)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def cached(job, cache):
    path = cache and os.path.join(cache, job_key(job) + ".npz")
    if not path or not os.path.exists(path):
        return None
    f = np.load(path)
    x = f["samples"] if f["samples"].size else None
    return (int(f["modes"]), float(f["hq"]), float(f["kl"]), float(f["seconds"]), x)


def run_and_keep(job_cache):
    job, cache = job_cache
    res = run_one(job)
    if cache:
        os.makedirs(cache, exist_ok=True)
        modes, hq, kl, dt, x = res
        np.savez_compressed(os.path.join(cache, job_key(job) + ".npz"), modes=modes, hq=hq,
                            kl=kl, seconds=dt, samples=np.zeros(0) if x is None else x)
    return res


def run_one(job):
    """One training run in this process: job = (data name, spec, seed, train size).
    Returns (modes, high quality, kl, CPU seconds, the first 1000 samples); a run stopped
    by NaN scores as nothing (and has no samples). The run has one thread, so its CPU time
    is its wall time on a core of its own, whatever else shares the machine."""
    name, spec, seed, n = job
    cgan.set_num_threads(1)
    gan, fit_kwargs = recipes.build(spec, seed)
    t = time.process_time()
    try:
        gan.fit(data(name, n), progress=False, **fit_kwargs)
    except FloatingPointError:
        return (0, 0.0, float("nan"), time.process_time() - t, None)
    dt = time.process_time() - t
    x = gan.sample(SCORED, seed=SAMPLE_SEED)
    s = cgan.metrics.mode_collapse_scores(x, *cgan.datasets.modes("pacgan-" + name))
    print(f"{name} {spec.get('loss')} pack {spec.get('pack', 1)} seed {seed}: {s.modes} modes, "
          f"{100 * s.high_quality:.1f}% hq, kl {s.kl:.3f}, {dt:.0f} s", flush=True)
    return (s.modes, s.high_quality, s.kl, dt, x[:1000])


def rows(quick, seeds, recipe_seeds, objectives):
    """(data, label, techniques text, spec, seeds) of every row of the table."""
    out = []
    shrink = QUICK if quick else {}
    for d in ("ring", "grid"):
        for obj in objectives:
            base = {**objective_spec(obj), **shrink}
            out.append((d, obj, "none", base, seeds))
            out.append((d, obj, TECHNIQUES_TEXT, with_techniques(base), seeds))
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
    lines = ["| data | method | techniques | seeds | modes | high quality % | KL | CPU s |",
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
    ap.add_argument("--seeds", type=int, default=2, help="seeds of each objective's rows")
    ap.add_argument("--recipe-seeds", type=int, default=10, help="seeds of the recipes' rows")
    ap.add_argument("--objectives", default="all",
                    help="comma-separated names of cgan.losses, or 'all' (default)")
    ap.add_argument("--only", choices=("objectives", "recipes"), default=None,
                    help="run only these rows now (the others come from the cache or later)")
    ap.add_argument("--part", default="0/1",
                    help="i/n: run only every n-th of the runs to do, from the i-th (split a "
                         "study over processes or machines that share the cache)")
    ap.add_argument("--cache", default=None,
                    help="directory of finished runs (default: benchmarks/.mode_collapse_runs; "
                         "none in quick mode)")
    ap.add_argument("--samples", default=None,
                    help="npz file for the first 1000 samples of each row's first seed (default: "
                         "benchmarks/mode_collapse_samples.npz, or nothing in quick mode)")
    ap.add_argument("--workers", type=int, default=2, help="runs at a time (processes)")
    ap.add_argument("--out", default=None,
                    help="Markdown file to write (default: benchmarks/mode_collapse.md, "
                         "or nothing in quick mode)")
    args = ap.parse_args(argv)
    here = os.path.dirname(os.path.abspath(__file__))
    if args.objectives == "all":
        objectives = ["non-saturating", "wgan-gp"] if args.quick else cgan.losses.available()
    else:
        objectives = [cgan.defaults.canonical(o.strip()) for o in args.objectives.split(",")]
    cache = args.cache or (None if args.quick else os.path.join(here, ".mode_collapse_runs"))
    seeds = list(range(1 if args.quick else args.seeds))
    recipe_seeds = list(range(1 if args.quick else args.recipe_seeds))
    plan = rows(args.quick, seeds, recipe_seeds, objectives)
    n = 2000 if args.quick else TRAIN_SIZE
    jobs = [(d, spec, s, n) for d, label, _, spec, ss in plan for s in ss
            if args.only is None or label.startswith("recipe") == (args.only == "recipes")]
    i_part, n_parts = (int(v) for v in args.part.split("/"))
    missing = [j for j in jobs if cached(j, cache) is None]
    todo = missing[i_part::n_parts]
    print(f"{len(todo)} runs to do here ({len(missing)} missing, {len(jobs) - len(missing)} in "
          f"the cache {cache})", flush=True)
    if args.workers > 1 and len(todo) > 1:
        with concurrent.futures.ProcessPoolExecutor(args.workers) as pool:
            done = list(pool.map(run_and_keep, [(j, cache) for j in todo]))
    else:
        done = [run_and_keep((j, cache)) for j in todo]
    fresh = {job_key(j): r for j, r in zip(todo, done)}
    results = []
    for row in plan:
        res = [fresh.get(job_key((row[0], row[3], s, n))) or cached((row[0], row[3], s, n), cache)
               for s in row[4]]
        if any(r is None for r in res):
            print("some rows are not done yet (see --only): no table written")
            return None
        results.append((row, res))
    text = (f"# Mode collapse: the published 2-D tables\n\n"
            f"`python benchmarks/mode_collapse.py{' --quick' if args.quick else ''} --seeds "
            f"{len(seeds)} --recipe-seeds {len(recipe_seeds)}` "
            f"({sum(len(r[4]) for r in plan)} runs of one thread each; CPU s: "
            f"a run's training time in CPU seconds of its one thread, the mean over seeds). Protocol and sources: the docstring of "
            f"benchmarks/mode_collapse.py. cgan's float32 products: {cgan.gemm_backend()}."
            f"\n\n" + table(results, args.quick) + "\n"
            + goal_lines(results))
    print(text)
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
