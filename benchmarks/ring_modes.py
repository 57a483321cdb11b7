"""Every objective on the eight-Gaussian ring, same short fixed-seed run: modes covered.

    python benchmarks/ring_modes.py [--steps 1000] [--width 64] [--lr 3e-4] [--seed 0]

One table row per objective: modes covered (of 8) and the high-quality rate of 4000
samples (within 5 std of a mode), plus the wall time. Not a test: GAN training on a
short budget is noisy, and the table is for comparing objectives, as in the lecture.
"""
import argparse
import time

import cgan


def run(loss, steps, width, seed, batch=128, lr=3e-4):
    data = cgan.datasets.ring(20000, seed=seed)
    G = cgan.nn.MLP(2, [width] * 3, 2, seed=seed)
    d_out = 2 if loss == "ebgan" else 1
    D = cgan.nn.MLP(2, [width] * 3, d_out, seed=seed + 1)
    gan = cgan.GAN(G, D, loss=loss, z_dim=2, d_steps=5 if loss.startswith("wgan") else 1,
                   seed=seed,
                   g_optimizer=cgan.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.9)),
                   d_optimizer=cgan.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.9)))
    t = time.perf_counter()
    try:
        gan.fit(data, steps, batch, progress=False)
    except FloatingPointError as e:
        return None, None, time.perf_counter() - t, str(e)
    dt = time.perf_counter() - t
    s = gan.sample(4000, seed=1)
    c, std = cgan.datasets.modes("ring")
    return (cgan.metrics.mode_coverage(s, c, std, threshold=5),
            cgan.metrics.high_quality_rate(s, c, std, threshold=5), dt, "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-4,
                    help="Adam lr of G and D (1e-3 is unstable on the WGAN-GP ring's scale)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    cgan.set_num_threads(args.threads)
    print(f"{args.steps} steps, G and D 2-{args.width}x3-(1|2), batch 128, Adam {args.lr:g} (0.5, 0.9), "
          f"d_steps 5 for wgan*, seed {args.seed}, {args.threads} threads")
    print(f"{'objective':34s} {'modes':>5s} {'hq %':>6s} {'time s':>7s}")
    for loss in cgan.losses.available():
        modes, hq, dt, err = run(loss, args.steps, args.width, args.seed, lr=args.lr)
        if err:
            print(f"{loss:34s} {'-':>5s} {'-':>6s} {dt:7.1f}  diverged: {err}")
        else:
            print(f"{loss:34s} {modes:5d} {100 * hq:6.1f} {dt:7.1f}")


if __name__ == "__main__":
    main()
