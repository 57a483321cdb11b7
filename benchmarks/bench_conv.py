"""cgan vs torch: one convolution layer's forward + backward at DCGAN-on-MNIST shapes.

Each case is a single layer without bias, batch 64, float32: y = layer(x), then the
gradients of <y, g> with respect to the input and the weight (a fixed random g). Both
libraries run in one process, interleaved case by case, with the same thread count
(cgan.set_num_threads / torch.set_num_threads); times are medians over repeats.

    python benchmarks/bench_conv.py [--threads 1 2] [--repeats 15] [--only fwd]

The machine's load average is printed with the table: on a shared machine the ratio is
the number to read, the absolute times move with the load.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np

BATCH = 64
# (name, transposed, in_channels, out_channels, image size); kernel 4, stride 2, padding 1.
CASES = [
    ("Conv2d(1,64,4,s2,p1) 28x28", False, 1, 64, 28),
    ("Conv2d(64,128,4,s2,p1) 14x14", False, 64, 128, 14),
    ("ConvTranspose2d(128,64,4,s2,p1) 7x7", True, 128, 64, 7),
    ("ConvTranspose2d(64,1,4,s2,p1) 14x14", True, 64, 1, 14),
]


def median_ms(fn, repeats, clock=time.perf_counter, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = clock()
        fn()
        times.append((clock() - t) * 1e3)
    return statistics.median(times)


def arrays(transposed, cin, cout, size, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, cin, size, size)).astype(np.float32)
    wshape = (cin, cout, 4, 4) if transposed else (cout, cin, 4, 4)
    w = (rng.standard_normal(wshape) * 0.05).astype(np.float32)
    out = size * 2 if transposed else size // 2
    g = rng.standard_normal((BATCH, cout, out, out)).astype(np.float32)
    return x, w, g


def cgan_step(transposed, x_np, w_np, g_np, fwd_only):
    import cgan
    op = cgan.ops.conv_transpose2d if transposed else cgan.ops.conv2d
    x = cgan.tensor(x_np, requires_grad=True)
    w = cgan.tensor(w_np, requires_grad=True)
    g = cgan.tensor(g_np)

    def step():
        y = op(x, w, stride=2, padding=1)
        if not fwd_only:
            cgan.grad(y, [x, w], grad_outputs=g)
    return step


def torch_step(transposed, x_np, w_np, g_np, fwd_only):
    import torch
    import torch.nn.functional as F
    op = F.conv_transpose2d if transposed else F.conv2d
    x = torch.tensor(x_np, requires_grad=True)
    w = torch.tensor(w_np, requires_grad=True)
    g = torch.tensor(g_np)

    def step():
        y = op(x, w, stride=2, padding=1)
        if not fwd_only:
            torch.autograd.grad(y, (x, w), g)
    return step


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", choices=["fwd"], help="time the forward pass alone")
    ap.add_argument("--cpu-time", action="store_true",
                    help="CPU time of the process instead of wall time (steadier on a busy "
                         "machine; with 1 thread only, as it adds up every thread)")
    args = ap.parse_args()
    import cgan
    import torch
    fwd_only = args.only == "fwd"
    what = "forward" if fwd_only else "forward + backward (input and weight grads)"
    what += ", CPU time" if args.cpu_time else ", wall time"
    print(f"{what}, batch {BATCH}, float32; cgan {cgan.__version__}, torch {torch.__version__}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs")
    print(f"load average before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"{'layer':40s} {'thr':>3s} {'cgan ms':>9s} {'torch ms':>9s} {'ratio':>6s}")
    for nt in args.threads:
        cgan.set_num_threads(nt)
        torch.set_num_threads(nt)
        for name, transposed, cin, cout, size in CASES:
            x, w, g = arrays(transposed, cin, cout, size)
            clock = time.process_time if args.cpu_time else time.perf_counter
            tc = median_ms(cgan_step(transposed, x, w, g, fwd_only), args.repeats, clock)
            tt = median_ms(torch_step(transposed, x, w, g, fwd_only), args.repeats, clock)
            print(f"{name:40s} {nt:3d} {tc:9.2f} {tt:9.2f} {tc / tt:6.2f}")
    print(f"load average after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
