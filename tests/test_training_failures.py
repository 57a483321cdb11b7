"""Failures in the middle of training: the model is never lost or left half-updated.

A loss that turns NaN/inf, Ctrl-C, an exception from the user's callback and a crash
while saving each leave a GAN that gives the same outputs as before and trains on.
"""
import os
import re
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import cgan


def tiny_gan(loss="non-saturating", lr=1e-3, opt="adam", seed=0, **kw):
    G = cgan.nn.MLP(2, [8], 2, seed=seed)
    D = cgan.nn.MLP(2, [8], 1, seed=seed + 1)
    make = {"adam": lambda p: cgan.optim.Adam(p, lr=lr, betas=(0.5, 0.9)),
            "sgd": lambda p: cgan.optim.SGD(p, lr=lr)}[opt]
    return cgan.GAN(G, D, loss=loss, z_dim=2, seed=seed, g_optimizer=make(G.parameters()),
                    d_optimizer=make(D.parameters()), **kw)


def state(gan):
    """Everything training changes, as NumPy copies."""
    out = {}
    for name, obj in (("G", gan.generator), ("D", gan.discriminator),
                      ("g_opt", gan.g_optimizer), ("d_opt", gan.d_optimizer)):
        for k, v in obj.state_dict().items():
            out[f"{name}/{k}"] = np.array(v, copy=True)
    out["rng"] = gan._core.get_rng_state().copy()
    out["steps_done"] = np.array(gan.steps_done)
    return out


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k


@pytest.fixture(scope="module")
def data():
    return cgan.datasets.ring(512, seed=3)


# ---- NaN / inf mid-training ------------------------------------------------------------------

# Two runs that diverge: SGD with lr 1e3 fails at step 4 on the generator's loss (after
# that iteration's critic update), SGD with lr 1e12 on data scaled by 1e3 on the critic's.
DIVERGING = [dict(lr=1e3, scale=1.0), dict(lr=1e12, scale=1e3)]


def _diverging_gan(lr):
    return tiny_gan(lr=lr, opt="sgd")


@pytest.mark.parametrize("run", DIVERGING)
def test_nonfinite_step_names_step_and_objective_and_rolls_back(data, run):
    gan = _diverging_gan(run["lr"])
    batch = data[:32] * run["scale"]
    good = state(gan)
    for _ in range(100):
        try:
            gan.step(batch)
        except FloatingPointError as e:
            msg = str(e)
            break
        good = state(gan)
    else:
        pytest.fail("the run did not diverge")
    assert f"step {int(good['steps_done']) + 1}:" in msg and "non-saturating" in msg
    after = state(gan)
    assert_same_state(good, after)  # the failed iteration's half-made updates are undone
    for v in after.values():
        if v.dtype.kind == "f":
            assert np.all(np.isfinite(v))


@pytest.mark.parametrize("run", DIVERGING)
def test_nonfinite_in_fit_keeps_the_state_after_the_last_good_step(data, run):
    big = data * run["scale"]
    gan = _diverging_gan(run["lr"])
    with pytest.raises(FloatingPointError, match=r"step (\d+).*non-saturating") as info:
        gan.fit(big, 1000, 32, progress=False)
    failed_at = int(re.search(r"step (\d+)", str(info.value)).group(1))
    assert gan.steps_done == failed_at - 1
    # The same seed run for exactly failed_at - 1 steps is, bitwise, what fit left behind
    # (fit restored its copy and replayed the completed steps).
    ref = _diverging_gan(run["lr"])
    if failed_at > 1:
        ref.fit(big, failed_at - 1, 32, progress=False)
    assert_same_state(state(ref), state(gan))


def test_failure_after_the_critic_update_undoes_it(data):
    # lsgan, lr 1e10: the critic's update of step 1 succeeds, then the generator's loss
    # is non-finite. Without the roll-back D kept the update of an iteration that never
    # completed.
    gan = tiny_gan(loss="lsgan", lr=1e10, opt="sgd")
    before = state(gan)
    with pytest.raises(FloatingPointError, match="step 1:.*generator loss.*lsgan"):
        gan.fit(data, 10, 32, progress=False)
    assert_same_state(before, state(gan))
    with pytest.raises(FloatingPointError, match="step 1:.*generator loss.*lsgan"):
        gan.step(data[:32])
    assert_same_state(before, state(gan))


def test_one_bad_batch_costs_nothing(data):
    # A finite but absurd batch overflows the critic's loss; after the roll-back the GAN
    # trains on exactly as if the bad batch had never been offered.
    gan, ref = tiny_gan(), tiny_gan()
    gan.fit(data, 3, 16, progress=False)
    ref.fit(data, 3, 16, progress=False)
    with pytest.raises(FloatingPointError, match="step 4:"):
        gan.step(np.full((32, 2), 3e38))
    gan.fit(data, 5, 16, progress=False)
    ref.fit(data, 5, 16, progress=False)
    assert_same_state(state(ref), state(gan))
    assert np.array_equal(gan.sample(10, seed=0), ref.sample(10, seed=0))


# ---- exceptions from callbacks ---------------------------------------------------------------

def test_callback_exception_propagates_and_leaves_the_model_intact(data):
    gan = tiny_gan()
    seen = {}

    class Boom(Exception):
        pass

    def callback(g, record):
        seen["state"] = state(g)
        seen["step"] = record["step"]
        raise Boom("from the callback")

    with pytest.raises(Boom, match="from the callback"):
        gan.fit(data, 10**6, 16, progress=False, callback=callback)
    # The callback ran between two chunks: nothing trained after it saw the model.
    assert_same_state(seen["state"], state(gan))
    assert 0 < gan.steps_done < 10**6 and gan.history["step"][-1] <= gan.steps_done
    n = gan.steps_done
    gan.fit(data, 3, 16, progress=False)
    assert gan.steps_done == n + 3


# ---- Ctrl-C ----------------------------------------------------------------------------------

_SIGINT_CHILD = textwrap.dedent("""
    import sys, time, numpy as np, cgan
    cgan.set_num_threads(1)
    G = cgan.nn.MLP(2, [16, 16], 2, seed=0)
    D = cgan.nn.MLP(2, [16, 16], 1, seed=1)
    gan = cgan.GAN(G, D, loss="wgan-gp", z_dim=2, seed=0)
    data = cgan.datasets.ring(1024, seed=0)
    gan.fit(data, 2, 64, progress=False)   # warm-up, so that the parent's signal hits fit
    print("ready", flush=True)
    try:
        gan.fit(data, 10**8, 64, progress=False)
    except KeyboardInterrupt:
        t = time.monotonic()
        n = gan.steps_done
        ok = bool(np.all(np.isfinite(gan.sample(64, seed=0))))
        gan.fit(data, 3, 64, progress=False)
        print("interrupted", repr(t), n, gan.steps_done, ok, flush=True)
    else:
        print("finished", flush=True)
""")


def test_sigint_during_fit_raises_keyboardinterrupt_within_a_second():
    import time

    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    child = subprocess.Popen([sys.executable, "-c", _SIGINT_CHILD], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(0.5)  # fit is running by now
        sent = time.monotonic()
        os.kill(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    words = out.split()
    assert words and words[0] == "interrupted", (out, err[-2000:])
    raised_at, n, after, ok = float(words[1]), int(words[2]), int(words[3]), words[4]
    latency = raised_at - sent  # CLOCK_MONOTONIC is system-wide: comparable across processes
    assert 0 <= latency < 1.0, latency
    assert n > 2 and after == n + 3 and ok == "True"


# ---- atomic save -----------------------------------------------------------------------------

def test_save_is_atomic_when_writing_fails(data, tmp_path, monkeypatch):
    gan = tiny_gan()
    gan.fit(data, 5, 16, progress=False)
    path = tmp_path / "run.npz"
    gan.save(path)
    saved = state(gan)
    gan.fit(data, 5, 16, progress=False)  # now different from the checkpoint

    real_savez = np.savez

    def half_then_crash(file, **arrays):
        real_savez(file, **arrays)
        file.seek(0)
        file.truncate(100)  # the archive is cut short, as by a crash or a full disk
        raise OSError("disk full (injected)")

    monkeypatch.setattr(np, "savez", half_then_crash)
    with pytest.raises(OSError, match="injected"):
        gan.save(path)
    monkeypatch.setattr(np, "savez", real_savez)
    assert sorted(os.listdir(tmp_path)) == ["run.npz"]  # no temporary file left behind
    assert_same_state(saved, state(cgan.GAN.load(path)))

    # A save that succeeds replaces the old file whole.
    gan.save(path)
    assert_same_state(state(gan), state(cgan.GAN.load(path)))
    assert sorted(os.listdir(tmp_path)) == ["run.npz"]


def test_save_appends_npz_and_accepts_pathlike(tmp_path):
    gan = tiny_gan()
    written = gan.save(tmp_path / "ckpt")
    assert written.endswith("ckpt.npz") and os.path.isfile(written)
    with pytest.raises(TypeError, match="path"):
        gan.save(12)


def test_save_keeps_the_usual_file_permissions(tmp_path):
    # The temporary file must not leave the checkpoint private (mkstemp's 0600).
    path = tmp_path / "perm.npz"
    tiny_gan().save(path)
    with open(tmp_path / "plain", "wb"):
        pass
    assert os.stat(path).st_mode & 0o777 == os.stat(tmp_path / "plain").st_mode & 0o777
