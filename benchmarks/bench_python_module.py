"""What a network written in Python costs inside GAN.fit: a cgan.nn.Module subclass (an MLP
whose forward is Python calling cgan's Linear and relu) against the built-in MLP with the
same weights, as both G and D.

The training loop runs in C++ with the GIL released; with a Python module it takes the GIL
for each forward call of that module (G on the noise, D on real and fake batches) and
runs the Python body, while backward and the optimizer stay in C++. The two runs are first
checked to give bitwise the same losses and samples (the same work), then timed with the
two kinds alternating, repeat by repeat, so that load from other processes hits both alike.

    PYTHONPATH=python python benchmarks/bench_python_module.py [--threads 1] [--repeats 7]

Prints ms per generator iteration (median of the repeats) for each kind and the difference
(the Python overhead per iteration, and per Python forward call), for a small and a medium
MLP, and the load average:
on a shared machine read the difference and the ratio, the absolute times move with load.
"""
import argparse
import os
import statistics
import time

import numpy as np

import cgan
from cgan import nn, ops

# (name, loss, d_steps, G sizes, D sizes, batch, steps per timed repeat)
CASES = [
    ("small", "non-saturating", 1, [2, 128, 128, 2], [2, 128, 128, 1], 256, 50),
    ("medium", "non-saturating", 1, [2, 512, 512, 512, 2], [2, 512, 512, 512, 1], 256, 10),
    ("medium wgan-gp", "wgan-gp", 5, [2, 512, 512, 512, 2], [2, 512, 512, 512, 1], 256, 3),
]


class PyMLP(nn.Module):
    """Linear -> relu -> ... -> Linear, the built-in MLP's layers, written in Python."""

    def __init__(self, sizes, seed=0):
        super().__init__()
        self.calls = [0]  # forward calls (a list: counting must not go through __setattr__)
        self.n = len(sizes) - 1
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            setattr(self, f"fc{i}", nn.Linear(a, b, seed=seed + i))

    def forward(self, x):
        self.calls[0] += 1
        for i in range(self.n):
            x = getattr(self, f"fc{i}")(x)
            if i < self.n - 1:
                x = ops.relu(x)
        return x


def twins(sizes, seed):
    """A PyMLP and a built-in MLP holding the same weights."""
    py = PyMLP(sizes, seed)
    builtin = nn.MLP(sizes[0], sizes[1:-1], sizes[-1], activation="relu", seed=seed + 100)
    state = {}
    for i in range(py.n):
        layer = getattr(py, f"fc{i}")
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = layer.weight.numpy(), layer.bias.numpy()
    builtin.load_state_dict(state)
    return py, builtin


def gans(case, seed=0):
    """{"python": GAN, "built-in": GAN} with identical weights, optimizers and seeds."""
    _, loss, d_steps, g_sizes, d_sizes, _, _ = case
    g_py, g_builtin = twins(g_sizes, seed)
    d_py, d_builtin = twins(d_sizes, seed + 10)
    out = {}
    for kind, G, D in (("python", g_py, d_py), ("built-in", g_builtin, d_builtin)):
        out[kind] = cgan.GAN(G, D, loss=loss, z_dim=g_sizes[0], d_steps=d_steps, seed=seed,
                             g_optimizer=cgan.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9)),
                             d_optimizer=cgan.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9)))
    return out


def check_same_work(case, data):
    """Both kinds give bitwise the same losses and samples over a few iterations."""
    batch = case[5]
    runs = gans(case)
    h = {k: g.fit(data, 3, batch, progress=False, log_every=1) for k, g in runs.items()}
    for key in ("d_loss", "g_loss"):
        if not np.array_equal(h["python"][key], h["built-in"][key]):
            raise SystemExit(f"{case[0]}: {key} differs between the Python and built-in MLP")
    if not np.array_equal(runs["python"].sample(64, seed=1), runs["built-in"].sample(64, seed=1)):
        raise SystemExit(f"{case[0]}: samples differ between the Python and built-in MLP")


def time_case(case, data, repeats):
    name, _, _, _, _, batch, steps = case
    runs = gans(case, seed=1)
    for g in runs.values():  # warm-up: buffers, first-call costs
        g.fit(data, 2, batch, progress=False)
    times = {k: [] for k in runs}
    py = runs["python"]
    before = py.generator.calls[0] + py.discriminator.calls[0]
    py.fit(data, 1, batch, progress=False)
    calls = py.generator.calls[0] + py.discriminator.calls[0] - before
    for _ in range(repeats):
        for kind, g in runs.items():
            t = time.perf_counter()
            g.fit(data, steps, batch, progress=False)
            times[kind].append((time.perf_counter() - t) / steps * 1e3)
    return {k: statistics.median(v) for k, v in times.items()}, calls


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    cgan.set_num_threads(args.threads)
    data = cgan.datasets.ring(4096, seed=0)
    load_before = os.getloadavg()[0]
    print(f"{args.threads} thread(s), median of {args.repeats} repeats, ms per generator iteration")
    print(f"{'case':15s} {'G / D':>34s} {'built-in':>9s} {'python':>9s} {'overhead':>9s} "
          f"{'ratio':>6s} {'calls':>6s} {'us/call':>8s}")
    for case in CASES:
        check_same_work(case, data)
        ms, calls = time_case(case, data, args.repeats)
        sizes = "-".join(map(str, case[3])) + " / " + "-".join(map(str, case[4]))
        diff = ms["python"] - ms["built-in"]
        print(f"{case[0]:15s} {sizes:>34s} {ms['built-in']:9.2f} {ms['python']:9.2f} "
              f"{diff:+9.2f} {ms['python'] / ms['built-in']:6.3f} {calls:6d} "
              f"{1e3 * diff / calls:+8.0f}", flush=True)
    print(f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after; losses and "
          f"samples checked bitwise equal first")


if __name__ == "__main__":
    main()
