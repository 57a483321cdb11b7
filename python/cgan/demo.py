"""The main job: WGAN-GP on the eight-Gaussian ring, then a report of mode coverage.

    python -m cgan.demo [--steps 1500] [--loss wgan-gp] [--threads 2] [--out run.npz]
"""
import argparse
import time

import numpy as np

import cgan


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m cgan.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--loss", default="wgan-gp", help="objective (cgan.losses.available())")
    ap.add_argument("--steps", type=int, default=1500, help="generator iterations")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--width", type=int, default=256, help="hidden width of G and D (3 layers)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="save the trained GAN to this .npz")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    if args.threads:
        cgan.set_num_threads(args.threads)
    data = cgan.datasets.ring(50000, seed=args.seed)
    centers, std = cgan.datasets.ring_centers(), cgan.datasets.ring_std
    h = [args.width] * 3
    G = cgan.nn.MLP(2, h, 2, activation="relu", seed=args.seed)
    D = cgan.nn.MLP(2, h, 1, activation="relu", seed=args.seed + 1)
    gan = cgan.GAN(G, D, loss=args.loss, z_dim=2, d_steps=5 if "wgan" in args.loss else 1,
                   g_optimizer=cgan.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.9)),
                   d_optimizer=cgan.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.9)),
                   seed=args.seed)
    print(f"cgan {cgan.__version__}: {gan!r} on the 8-Gaussian ring, "
          f"{cgan.get_num_threads()} threads, G/D {G.num_parameters()}/{D.num_parameters()} parameters")
    t0 = time.perf_counter()
    hist = gan.fit(data, args.steps, args.batch_size, progress=not args.no_progress)
    dt = time.perf_counter() - t0
    s = gan.sample(5000, seed=1)
    modes = cgan.metrics.mode_coverage(s, centers, std, threshold=4)
    hq = cgan.metrics.high_quality_rate(s, centers, std, threshold=4)
    print(f"trained {args.steps} steps in {dt:.1f} s ({1000 * dt / args.steps:.1f} ms/step)")
    print(f"final d_loss {hist['d_loss'][-1]:.4f}  g_loss {hist['g_loss'][-1]:.4f}")
    print(f"modes covered: {modes}/8   high-quality samples: {100 * hq:.1f}%")
    if args.out:
        gan.save(args.out)
        print(f"saved to {args.out}")
    return modes


if __name__ == "__main__":
    main()
