"""Where the float32 loss differences of run.py's equivalence check come from.

For a few iterations of a workload (same weights, same minibatches, noise and penalty
weights, as run.py's check), the per-iteration critic and generator losses of
  cgan (float32), JAX-jit (float32), PyTorch (float32, oneDNN convolutions),
  PyTorch (float32 with oneDNN off: its native convolution kernels)
against PyTorch in float64 as the reference (every rounding error ~1e-16 there).
If one float32 library sits far further from float64 than the others, its kernels
round differently (not the objective, not the draws).

    PYTHONPATH=python python benchmarks/equivalence_f64.py [--workloads 5,6] [--steps 2]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


class TorchF64Runner(run.TorchRunner):
    lib = "torch float64"

    def __init__(self, wl, data, threads, weights):
        super().__init__(wl, data, threads, weights)
        torch = self.torch
        self.G.double()  # in place: the optimizers keep the same Parameter objects
        self.D.double()
        self.ones, self.zeros = self.ones.double(), self.zeros.double()
        self.x_all = self.x_all.double()

    def step_given(self, it):
        it = {k: ([np.asarray(a, np.float64) for a in v] if isinstance(v, list) else np.asarray(v, np.float64))
              for k, v in it.items()}
        return super().step_given(it)


class TorchNoOneDnnRunner(run.TorchRunner):
    lib = "torch (oneDNN off)"

    def step_given(self, it):
        with self.torch.backends.mkldnn.flags(enabled=False):
            return super().step_given(it)


def losses(wid, steps, threads):
    wl = run.WORKLOADS[wid]
    data = run.load_data(wl["data"])
    c = run.CganRunner(wl, data, threads)
    w = c.weights()
    draws = c.replay_draws(steps)
    peers = [TorchF64Runner(wl, data, threads, w), run.TorchRunner(wl, data, threads, w),
             TorchNoOneDnnRunner(wl, data, threads, w)]
    if run.jax_available():
        peers.append(run.JaxRunner(wl, data, threads, w))
    out = {"cgan": []}
    out.update({r.lib: [] for r in peers})
    for it in draws:
        out["cgan"].append(c.step_losses())
        for r in peers:
            out[r.lib].append(r.step_given(it))
    return {k: np.array(v) for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default="5,6")
    ap.add_argument("--steps", type=int, default=None, help="iterations (default: run.py's EQUIV_STEPS)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--adam-eps", type=float, default=None,
                    help="Adam's eps in every library (default 1e-8, as run.py); a larger eps damps "
                         "the amplification of near-zero gradients")
    args = ap.parse_args()
    if args.adam_eps is not None:
        for wl in run.WORKLOADS.values():
            wl["adam_eps"] = args.adam_eps
    for wid in (int(w) for w in args.workloads.split(",")):
        steps = args.steps or run.EQUIV_STEPS[wid]
        L = losses(wid, steps, args.threads)
        ref = L.pop("torch float64")
        scale = np.maximum(np.abs(ref), 1e-3)  # run.py's relative measure
        print(f"\nworkload {wid} {run.WORKLOADS[wid]['name']}, {steps} iterations, {args.threads} thread(s), "
              f"Adam eps {run.WORKLOADS[wid].get('adam_eps', 1e-8):g}; "
              f"float64 losses (critic, generator) per iteration: {ref.round(6).tolist()}")
        print("| float32 run | max rel. diff to float64 | per iteration (critic, generator) |")
        print("|---|---|---|")
        for lib, v in L.items():
            rel = np.abs(v - ref) / scale
            print(f"| {lib} | {rel.max():.1e} | " + ", ".join(f"({a:.1e}, {b:.1e})" for a, b in rel) + " |")
        c = L["cgan"]
        print("| (torch float32 vs cgan, as run.py) | "
              f"{(np.abs(L['torch'] - c) / np.maximum(np.abs(c), 1e-3)).max():.1e} | |")


if __name__ == "__main__":
    main()
