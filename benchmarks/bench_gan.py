"""Whole GAN training on the CPU: cgan.GAN.fit vs a hand-written PyTorch loop.

Cases (eight-Gaussian ring, cgan.datasets.ring; z_dim 2; ReLU MLPs G 2-h-h-h-2, D 2-h-h-h-1):
  wgan-gp     h 256, batch 256, WGAN-GP (lambda 10), d_steps 5, Adam 1e-4 (0.5, 0.9)
  nsgan       h 256, batch 256, non-saturating GAN, d_steps 1, Adam 2e-4 (0.5, 0.999)
  wgan-gp-64  h 64,  batch 128, WGAN-GP, d_steps 5, Adam 1e-4 (0.5, 0.9)  (notebook-sized)

The PyTorch loop is what a PyTorch user would write for the same algorithm as cgan's
(cpp/gan/gan.cpp): per generator iteration, d_steps critic updates, each on a fresh
minibatch (uniform indices with replacement) and fresh noise, then one generator update
with D's parameters frozen (requires_grad_(False)); torch.optim.Adam with its defaults,
the penalty through torch.autograd.grad(create_graph=True). Both start from the same
weights and use the same thread count.

One process; per case a warm-up, then repeats of N generator iterations, cgan and torch
interleaved. Reports ms per generator iteration (best and median of the repeats), the
ratio cgan/torch of the medians, and iterations per second. Afterwards each model's mode
coverage (5000 samples) is printed as a check that both loops train; it is not a claim
about sample quality (the runs are short and the RNG streams differ).

    python benchmarks/bench_gan.py [--threads 2] [--quick] [--cases wgan-gp,nsgan,wgan-gp-64]
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np

CASES = {
    #             width batch loss              d_steps lr    betas
    "wgan-gp":    (256, 256, "wgan-gp",        5, 1e-4, (0.5, 0.9)),
    "nsgan":      (256, 256, "non-saturating", 1, 2e-4, (0.5, 0.999)),
    "wgan-gp-64": (64,  128, "wgan-gp",        5, 1e-4, (0.5, 0.9)),
}
# (generator iterations per repeat, repeats, warm-up iterations); full run / --quick
ITERS = {"wgan-gp": (100, 5, 20), "nsgan": (300, 5, 50), "wgan-gp-64": (500, 5, 100)}
ITERS_QUICK = {"wgan-gp": (10, 3, 3), "nsgan": (30, 3, 5), "wgan-gp-64": (50, 3, 10)}
LAMBDA_GP = 10.0


def cgan_trainer(case, data, threads):
    """A cgan.GAN for the case; returns (run(n) training n iterations, sample(n), G, D)."""
    import cgan
    cgan.set_num_threads(threads)
    width, batch, loss, d_steps, lr, betas = CASES[case]
    G = cgan.nn.MLP(2, [width] * 3, 2, activation="relu", seed=0)
    D = cgan.nn.MLP(2, [width] * 3, 1, activation="relu", seed=1)
    gan = cgan.GAN(G, D, loss=loss, z_dim=2, d_steps=d_steps, seed=0,
                   g_optimizer=cgan.optim.Adam(G.parameters(), lr=lr, betas=betas),
                   d_optimizer=cgan.optim.Adam(D.parameters(), lr=lr, betas=betas))
    last = {}

    def run(n):
        h = gan.fit(data, n, batch_size=batch, progress=False)
        last["d_loss"], last["g_loss"] = h["d_loss"][-1], h["g_loss"][-1]
        return last

    return run, lambda n: gan.sample(n, seed=1), G, D


def torch_trainer(case, data, threads, G_cgan, D_cgan):
    """The same training as a plain PyTorch loop, starting from cgan's initial weights."""
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(threads)
    width, batch, loss, d_steps, lr, betas = CASES[case]

    def mlp(m_cgan, out):
        widths = [2, width, width, width, out]
        layers = []
        for i in range(4):
            layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
            if i < 3:
                layers.append(torch.nn.ReLU())
        net = torch.nn.Sequential(*layers)
        sd = m_cgan.state_dict()  # keys "0.weight", "0.bias", "2.weight", ...
        net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in sd.items()})
        x = np.random.default_rng(2).normal(size=(64, 2)).astype(np.float32)
        with torch.no_grad():  # the same function in both libraries before training
            np.testing.assert_allclose(net(torch.from_numpy(x)).numpy(), m_cgan(x), rtol=1e-4, atol=1e-5)
        return net

    G, D = mlp(G_cgan, 2), mlp(D_cgan, 1)
    g_opt = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
    d_opt = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
    x_all = torch.from_numpy(data)
    gen = torch.Generator().manual_seed(0)
    ones, zeros = torch.ones(batch, 1), torch.zeros(batch, 1)
    last = {}

    def d_loss_wgan_gp(real, fake):
        critic = D(fake).mean() - D(real).mean()
        eps = torch.rand(batch, 1, generator=gen)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        (g,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((g.norm(2, dim=1) - 1) ** 2).mean()
        return critic + LAMBDA_GP * penalty

    def d_loss_nsgan(real, fake):
        return (F.binary_cross_entropy_with_logits(D(real), ones)
                + F.binary_cross_entropy_with_logits(D(fake), zeros))

    def g_loss(fake):
        if loss == "wgan-gp":
            return -D(fake).mean()
        return F.binary_cross_entropy_with_logits(D(fake), ones)

    d_loss = d_loss_wgan_gp if loss == "wgan-gp" else d_loss_nsgan

    def run(n):
        for _ in range(n):
            for _ in range(d_steps):
                real = x_all[torch.randint(0, len(x_all), (batch,), generator=gen)]
                with torch.no_grad():
                    fake = G(torch.randn(batch, 2, generator=gen))
                ld = d_loss(real, fake)
                d_opt.zero_grad()
                ld.backward()
                d_opt.step()
            D.requires_grad_(False)
            lg = g_loss(G(torch.randn(batch, 2, generator=gen)))
            g_opt.zero_grad()
            lg.backward()
            g_opt.step()
            D.requires_grad_(True)
        last["d_loss"], last["g_loss"] = ld.item(), lg.item()
        return last

    def sample(n):
        with torch.no_grad():
            return G(torch.randn(n, 2, generator=torch.Generator().manual_seed(1))).numpy()

    return run, sample


def timed(run, n):
    t = time.perf_counter()
    last = run(n)
    dt = time.perf_counter() - t
    if not (np.isfinite(last["d_loss"]) and np.isfinite(last["g_loss"])):
        raise FloatingPointError(f"non-finite loss: {last}")
    return dt / n * 1e3  # ms per generator iteration


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="short run (~15 s)")
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ", ".join(CASES))
    args = ap.parse_args()
    cases = args.cases.split(",")
    for c in cases:
        if c not in CASES:
            ap.error(f"unknown case {c!r}")
    iters = ITERS_QUICK if args.quick else ITERS

    import cgan
    import torch
    data = cgan.datasets.ring(50000, seed=0)
    centers, std = cgan.datasets.ring_centers(), cgan.datasets.ring_std
    print(f"cgan {cgan.__version__}, torch {torch.__version__} | threads {args.threads}"
          f" | {platform.machine()}, {os.cpu_count()} CPUs, load avg {os.getloadavg()[0]:.2f}")
    print("ms per generator iteration (incl. its d_steps critic updates): best / median of repeats")
    header = (f"{'case':<11}{'N x rep':>9}{'cgan best':>11}{'cgan med':>10}{'torch best':>12}"
              f"{'torch med':>11}{'cgan/torch':>12}{'cgan it/s':>11}{'torch it/s':>12}")
    print(header)
    checks = []
    for case in cases:
        n, repeats, warmup = iters[case]
        c_run, c_sample, G, D = cgan_trainer(case, data, args.threads)
        t_run, t_sample = torch_trainer(case, data, args.threads, G, D)
        timed(c_run, warmup)
        timed(t_run, warmup)
        tc, tt = [], []
        for _ in range(repeats):  # interleaved: load on the machine hits both alike
            tc.append(timed(c_run, n))
            tt.append(timed(t_run, n))
        mc, mt = statistics.median(tc), statistics.median(tt)
        print(f"{case:<11}{f'{n}x{repeats}':>9}{min(tc):>11.2f}{mc:>10.2f}{min(tt):>12.2f}"
              f"{mt:>11.2f}{mc / mt:>12.2f}{1e3 / mc:>11.1f}{1e3 / mt:>12.1f}")
        steps = warmup + n * repeats
        cov = [cgan.metrics.mode_coverage(s(5000), centers, std, threshold=4) for s in (c_sample, t_sample)]
        checks.append(f"{case}: after {steps} iterations, modes covered (of 8): cgan {cov[0]}, torch {cov[1]}")
    print(f"load avg after: {os.getloadavg()[0]:.2f}")
    print("check that both train (losses finite; not a quality comparison):")
    for line in checks:
        print("  " + line)


if __name__ == "__main__":
    main()
