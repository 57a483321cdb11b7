"""Memory: long training keeps resident memory flat, for every objective.

Each objective trains tiny networks for 10,000 iterations after a warm-up, in a fresh
subprocess (so pytest's own allocations do not blur the numbers); resident memory
(VmRSS) may not grow by more than a small bound. A leak of one tensor per step would
cost megabytes: 10,000 steps x a (16, 8) float32 buffer is 5 MB.
"""
import os
import subprocess
import sys
import textwrap

import pytest

import cgan

STEPS = 10_000
GROWTH_LIMIT = 1.5e6  # bytes
# Under AddressSanitizer (README, "Sanitizers") freed memory sits in a quarantine of up to
# 256 MB, so resident memory says nothing; the core's live tensor bytes still must not grow,
# and LeakSanitizer checks the rest at exit.
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")

_CHILD = textwrap.dedent("""
    import sys, numpy as np, cgan

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096

    cgan.set_num_threads(1)
    steps = int(sys.argv[1])
    data = np.random.default_rng(0).normal(size=(256, 2)).astype(np.float32)
    for loss in sys.argv[2:]:
        G = cgan.nn.MLP(2, [8], 2, seed=0)
        D = cgan.nn.MLP(2, [8], cgan.losses.get(loss).d_out_features(2), seed=1)
        gan = cgan.GAN(G, D, loss=loss, seed=0)
        gan.fit(data, 500, 16, progress=False, log_every=500)  # warm-up: pools, caches
        before, live_before = rss(), cgan._core._pool_live_bytes()
        # log_every keeps the (Python) history tiny: what is measured is the core.
        gan.fit(data, steps, 16, progress=False, log_every=steps)
        after, live_after = rss(), cgan._core._pool_live_bytes()
        print(loss, before, after, gan.steps_done, live_after - live_before, flush=True)
""")


def run_child(steps, losses):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", _CHILD, str(steps), *losses], capture_output=True,
                       text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = {}
    for line in r.stdout.splitlines():
        name, before, after, done, live = line.split()
        out[name] = (int(before), int(after), int(done), int(live))
    return out


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_ten_thousand_steps_of_every_objective_keep_memory_flat():
    losses = cgan.losses.available()
    result = run_child(STEPS, losses)
    assert sorted(result) == sorted(losses)
    growth = {name: after - before for name, (before, after, _, _) in result.items()}
    for name, (_, _, done, live) in result.items():
        assert done == 500 + STEPS
        assert live == 0, (name, live)  # tensors alive in the core: exactly as many as before
    bad = {k: v for k, v in growth.items() if v > GROWTH_LIMIT}
    assert SANITIZED or not bad, f"resident memory grew (bytes): {bad}"


def test_the_measurement_sees_a_leak():
    # The probe itself works: holding on to 10,000 small arrays in the child is seen.
    code = textwrap.dedent("""
        import numpy as np
        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * 4096
        before = rss()
        kept = [np.ones((16, 8), np.float32) for _ in range(10_000)]
        print(rss() - before)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert int(r.stdout) > GROWTH_LIMIT
