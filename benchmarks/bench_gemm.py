"""float32 matrix products: cgan's two GEMM backends against NumPy, side by side.

GFLOP/s of `cgan.ops.matmul` on OpenBLAS (scipy_openblas32, cgan's default when installed)
and on cgan's own packed AVX2 kernel ("builtin"), and of NumPy's `@` (its own OpenBLAS),
for a 4096^3 product and the shapes of workloads 2 and 4 (run.py: batch 256 / 4096, 512
wide; forward x @ W^T, weight gradient g^T @ x, input gradient g @ W) plus small squares.
The three alternate repeat by repeat, so load from other processes hits them alike; the
table gives the best of the repeats. Each product is checked against float64 first.

    PYTHONPATH=python python benchmarks/bench_gemm.py [--threads 1] [--quick]
"""
import argparse
import os
import time

import numpy as np

import cgan
from cgan import _core

# (m, n, k, transpose_a, transpose_b, what)
SHAPES = [
    (4096, 4096, 4096, False, False, "square 4096"),
    (4096, 512, 512, False, True, "wl 4 forward"),
    (512, 512, 4096, True, False, "wl 4 weight grad"),
    (4096, 512, 512, False, False, "wl 4 input grad"),
    (256, 512, 512, False, True, "wl 2 forward"),
    (512, 512, 256, True, False, "wl 2 weight grad"),
    (256, 512, 512, False, False, "wl 2 input grad"),
    (128, 128, 128, False, False, "square 128"),
    (256, 256, 256, False, False, "square 256"),
    (512, 512, 512, False, False, "square 512"),
]


def numpy_threads(n):
    """NumPy's OpenBLAS at n threads (threadpoolctl when installed; else as it is)."""
    try:
        from threadpoolctl import threadpool_limits
        return threadpool_limits(n, user_api="blas")
    except ImportError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1, help="threads for cgan (and NumPy, via threadpoolctl)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    args = ap.parse_args()
    cgan.set_num_threads(args.threads)
    limiter = numpy_threads(args.threads)
    backends = ["builtin"] + (["openblas"] if _core._openblas_config() else [])
    print(f"threads {args.threads}; cgan backends {backends} ({_core._openblas_config() or 'no OpenBLAS'}); "
          f"NumPy threads {'limited' if limiter else 'its default'}; load average {os.getloadavg()[0]:.2f}")
    print("| shape (m, n, k) | what | " + " | ".join(f"cgan {b}" for b in backends) + " | numpy | "
          + " | ".join(f"{b} / numpy" for b in backends) + " |")
    print("|---|---|" + "---|" * (2 * len(backends) + 1))
    rng = np.random.default_rng(0)
    for m, n, k, ta, tb, what in SHAPES:
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        A, B = cgan.tensor(a), cgan.tensor(b)
        an, bn = (a.T if ta else a), (b.T if tb else b)
        ref = an.astype(np.float64) @ bn.astype(np.float64)
        flops = 2.0 * m * n * k
        reps = max(1, min(500, int(3e8 / flops)))  # ~0.5-5 ms a repeat
        runs = {f"cgan {be}": (lambda be=be: (_core._set_gemm_backend(be), cgan.ops.matmul(A, B, ta, tb))[1])
                for be in backends}
        runs["numpy"] = lambda: an @ bn
        for name, f in runs.items():  # warm-up, and the result checked
            out = np.asarray(f().numpy() if name != "numpy" else f())
            err = np.abs(out - ref).max() / np.abs(ref).max()
            assert err < 1e-5, f"{name} {m}x{n}x{k}: relative error {err:.1e}"
        best = {name: float("inf") for name in runs}
        for _ in range(2 if args.quick else (3 if m * n * k > 1e10 else 7)):
            for name, f in runs.items():
                t = time.perf_counter()
                for _ in range(reps):
                    f()
                best[name] = min(best[name], (time.perf_counter() - t) / reps)
        rate = {name: flops / t / 1e9 for name, t in best.items()}
        print(f"| {m} x {n} x {k}{' (A^T)' if ta else ''}{' (B^T)' if tb else ''} | {what} | "
              + " | ".join(f"{rate[f'cgan {b}']:.1f}" for b in backends) + f" | {rate['numpy']:.1f} | "
              + " | ".join(f"{rate[f'cgan {b}'] / rate['numpy']:.2f}" for b in backends) + " |", flush=True)
    _core._set_gemm_backend(backends[-1])
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
