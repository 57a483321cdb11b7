"""cgan vs torch on a 2-512-512-512-1 ReLU MLP, batch 256, float32, same thread count.

Measures, in one process:
  fwd+bwd   loss = mean(D(x)), backward to all parameters
  wgan-gp   penalty on the gradient w.r.t. the input (create_graph) + mean(D(x)),
            gradients w.r.t. all parameters (double backward)
  adam      one Adam step over the MLP's parameters (gradients already present)
Reports ms per 1000 passes (best and median over repeats) and the ratio cgan/torch.

    python benchmarks/bench_mlp.py [--threads 2] [--quick] [--only cgan|torch] [--pieces]

--pieces also times the building blocks of one pass (GEMMs of the layer shapes, the
ReLU backward, reductions) in both libraries, to see where a difference comes from.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np

WIDTHS = [2, 512, 512, 512, 1]
BATCH = 256


def timeit(fn, n, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t) / n * 1e6)  # us per pass = ms per 1000 passes
    return min(times), statistics.median(times)


def cgan_cases(threads, x_np, weights):
    import cgan
    cgan.set_num_threads(threads)
    m = cgan.nn.MLP(WIDTHS[0], WIDTHS[1:-1], WIDTHS[-1], activation="relu", seed=0)
    sd = m.state_dict()
    for i, (W, b) in enumerate(weights):
        sd[f"{2 * i}.weight"], sd[f"{2 * i}.bias"] = W, b
    m.load_state_dict(sd)
    params = m.parameters()
    x = cgan.tensor(x_np)

    def fwd_bwd():
        for p in params:
            p.grad = None
        m(x).mean().backward()

    def wgan_gp():
        for p in params:
            p.grad = None
        xi = cgan.tensor(x_np, requires_grad=True)
        out = m(xi)
        (g,) = cgan.grad(out.sum(), xi, create_graph=True)
        gp = ((cgan.ops.row_norm(g) - 1.0) ** 2).mean()
        # grad() to the parameters in both libraries: the same work as backward()
        # without touching .grad (kept so that numbers stay comparable over time).
        cgan.grad(out.mean() + 10.0 * gp, params)

    fwd_bwd()
    opt = cgan.optim.Adam(params, lr=1e-4, betas=(0.5, 0.9))
    # Adam needs gradients present: fwd_bwd() runs before its timing (setup).
    return {"fwd+bwd": (None, fwd_bwd), "wgan-gp": (None, wgan_gp), "adam step": (fwd_bwd, opt.step)}, m


def torch_cases(threads, x_np, weights):
    import torch
    torch.set_num_threads(threads)
    layers = []
    for i, (W, b) in enumerate(weights):
        lin = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i + 1 < len(weights):
            layers.append(torch.nn.ReLU())
    m = torch.nn.Sequential(*layers)
    params = list(m.parameters())
    x = torch.from_numpy(x_np)

    def fwd_bwd():
        for p in params:
            p.grad = None
        m(x).mean().backward()

    def wgan_gp():
        for p in params:
            p.grad = None
        xi = x.clone().requires_grad_(True)
        out = m(xi)
        (g,) = torch.autograd.grad(out.sum(), xi, create_graph=True)
        gp = ((g.norm(dim=1) - 1.0) ** 2).mean()
        torch.autograd.grad(out.mean() + 10.0 * gp, params)  # as cgan's case

    fwd_bwd()
    opt = torch.optim.Adam(params, lr=1e-4, betas=(0.5, 0.9))  # defaults (per-tensor loop on CPU)
    # Adam needs gradients present: fwd_bwd() runs before its timing (setup).
    return {"fwd+bwd": (None, fwd_bwd), "wgan-gp": (None, wgan_gp), "adam step": (fwd_bwd, opt.step)}, m


def pieces(threads, n, repeats, warmup):
    """Building blocks of one training pass, cgan vs torch, microseconds per call."""
    import cgan
    import torch
    cgan.set_num_threads(threads)
    torch.set_num_threads(threads)
    rng = np.random.default_rng(1)
    f = lambda *s: rng.normal(size=s).astype(np.float32)
    x2, h, g, W, W1, W4, g1 = f(BATCH, 2), f(BATCH, 512), f(BATCH, 512), f(512, 512), f(512, 2), f(1, 512), f(BATCH, 1)
    C, T = cgan.tensor, torch.from_numpy
    hc, hr, gc = C(h, requires_grad=True), T(h.copy()).requires_grad_(True), C(g)
    yc, yr = cgan.ops.relu(hc), torch.relu(hr)
    rows = [
        ("x@W^T 256x512x512", lambda: cgan.ops.matmul(C(h), C(W), False, True), lambda: T(h) @ T(W).T),
        ("g@W   256x512x512", lambda: cgan.ops.matmul(C(g), C(W)), lambda: T(g) @ T(W)),
        ("g^T@h 512x256x512", lambda: cgan.ops.matmul(C(g), C(h), True, False), lambda: T(g).T @ T(h)),
        ("x@W1^T (k=2)", lambda: cgan.ops.matmul(C(x2), C(W1), False, True), lambda: T(x2) @ T(W1).T),
        ("g1@W4 (k=1)", lambda: cgan.ops.matmul(C(g1), C(W4)), lambda: T(g1) @ T(W4)),
        ("relu fwd", lambda: cgan.ops.relu(C(h)), lambda: torch.relu(T(h))),
        ("relu bwd", lambda: cgan.grad(yc, hc, gc, retain_graph=True),
         lambda: torch.autograd.grad(yr, hr, T(g), retain_graph=True)),
        ("sum all", lambda: cgan.ops.sum(C(g)), lambda: T(g).sum()),
        ("sum axis 0", lambda: cgan.ops.sum(C(g), 0), lambda: T(g).sum(0)),
    ]
    print(f"\npieces (us per call, best of {repeats})")
    print(f"{'piece':<20}{'cgan':>10}{'torch':>10}{'ratio':>8}")
    with cgan.no_grad(), torch.no_grad():
        for name, cf, tf in rows:
            if name == "relu bwd":
                with cgan.enable_grad(), torch.enable_grad():
                    a, b = timeit(cf, n, repeats, warmup)[0], timeit(tf, n, repeats, warmup)[0]
            else:
                a, b = timeit(cf, n, repeats, warmup)[0], timeit(tf, n, repeats, warmup)[0]
            print(f"{name:<20}{a:>10.1f}{b:>10.1f}{a / b:>8.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="short run (a few seconds)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--only", choices=["cgan", "torch"], default=None)
    ap.add_argument("--pieces", action="store_true", help="also time the building blocks")
    args = ap.parse_args()
    n, repeats, warmup = (20, 3, 5) if args.quick else (200, 7, 30)
    if args.repeats:
        repeats = args.repeats

    rng = np.random.default_rng(0)
    x_np = rng.normal(size=(BATCH, WIDTHS[0])).astype(np.float32)
    weights = []
    for fin, fout in zip(WIDTHS[:-1], WIDTHS[1:]):
        bound = 1 / np.sqrt(fin)
        weights.append((rng.uniform(-bound, bound, (fout, fin)).astype(np.float32),
                        rng.uniform(-bound, bound, fout).astype(np.float32)))

    impls = {}
    if args.only != "torch":
        impls["cgan"], cm = cgan_cases(args.threads, x_np, weights)
    if args.only != "cgan":
        try:
            impls["torch"], tm = torch_cases(args.threads, x_np, weights)
        except ImportError:
            print("torch not installed: cgan only")
    if len(impls) == 2:  # same function computed by both
        import torch
        with torch.no_grad():
            ref = tm(torch.from_numpy(x_np)).numpy()
        np.testing.assert_allclose(cm(x_np), ref, rtol=1e-3, atol=1e-4)

    import cgan
    print(f"cgan {cgan.__version__}" + (f", torch {__import__('torch').__version__}" if "torch" in impls else ""),
          f"| MLP {'-'.join(map(str, WIDTHS))} ReLU, batch {BATCH}, float32, threads {args.threads}",
          f"| {platform.machine()}, {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.2f}")
    print(f"{n} passes x {repeats} repeats after {warmup} warm-up; ms per 1000 passes (best / median)")
    res = {name: {} for name in impls}
    for case in ["fwd+bwd", "wgan-gp", "adam step"]:
        # Interleave the implementations per case so that machine noise hits both alike.
        for name, cases in impls.items():
            setup, fn = cases[case]
            if setup:
                setup()
            res[name][case] = timeit(fn, n, repeats, warmup)
    header = f"{'case':<11}" + "".join(f"{name + ' best':>13}{name + ' med':>12}" for name in impls)
    if len(impls) == 2:
        header += f"{'cgan/torch':>12}"
    print(header)
    for case in ["fwd+bwd", "wgan-gp", "adam step"]:
        row = f"{case:<11}" + "".join(f"{res[name][case][0]:>13.1f}{res[name][case][1]:>12.1f}" for name in impls)
        if len(impls) == 2:
            row += f"{res['cgan'][case][0] / res['torch'][case][0]:>12.2f}"
        print(row)
    print(f"load avg after: {os.getloadavg()[0]:.2f}")
    if args.pieces and len(impls) == 2:
        pieces(args.threads, n, repeats, warmup)


if __name__ == "__main__":
    main()
