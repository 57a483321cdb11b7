"""What the critic's LayerNorm costs in workload 6 (DCGAN WGAN-GP), cgan vs PyTorch: the
same workload with norm="layer" and norm="none", CPU time per iteration (1 thread, process
time, so other processes' load counts less), medians of 3 x 2 iterations. The difference is
the norm's forward, backward and the penalty's double backward through it.

    PYTHONPATH=python python benchmarks/norm_cost.py
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

data = run.load_data("mnist")
out = {}
for norm in ("layer", "none"):
    wl = dict(run.WORKLOADS[6], d_norm=norm)
    rs = run.make_runners(wl, data, 1, ["cgan", "torch"])
    for r in rs: r.run(1)
    ts = {r.lib: [] for r in rs}
    for _ in range(3):
        for r in rs:
            t = time.process_time(); r.run(2); ts[r.lib].append((time.process_time() - t) / 2 * 1e3)
    out[norm] = {k: statistics.median(v) for k, v in ts.items()}
    print(norm, {k: f"{v:.0f} ms" for k, v in out[norm].items()}, f"load {os.getloadavg()[0]:.1f}", flush=True)
for lib in ("cgan", "torch"):
    print(f"{lib}: LayerNorm's share of a workload-6 iteration (CPU time, 1 thread): "
          f"{out['layer'][lib] - out['none'][lib]:.0f} ms of {out['layer'][lib]:.0f}")
