"""cgan.sweep: studies on Dask's distributed scheduler.

The clusters are LocalClusters of 2 single-threaded worker processes started here. Trials
are tiny (MLP 2-[16]-2, tens of steps) so that the file stays fast; what is checked is
the bookkeeping: every trial exactly once, bitwise the same as a run in this process,
across worker deaths, interrupted drivers and successive halving's checkpoints.
"""
import json
import math
import os
import signal
import sys
import time

import numpy as np
import pytest

import cgan

pd = pytest.importorskip("pandas")
distributed = pytest.importorskip("distributed")

NOWHERE = "tcp://127.0.0.1:9"  # nothing listens there: a trial that ran would fail to connect
TINY = {"hidden": [[16]], "batch_size": 64}
SPACE = {"loss": ["non-saturating", "hinge"], **TINY}
SEEDS = [0, 1]
STEPS = 30
EVAL = 200  # generated samples per measurement (2000 by default)
VOLATILE = ["seconds"]  # the only column allowed to differ between two runs of one study


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=50)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def run(client, space, **kwargs):
    """A study on the test cluster, with this file's defaults."""
    kwargs = {"seeds": SEEDS, "steps": STEPS, "progress": False, "eval_samples": EVAL, **kwargs}
    return cgan.sweep(space, address=client, **kwargs)


def stable(df):
    return df.drop(columns=VOLATILE).reset_index(drop=True)


def sequential(row, data="ring"):
    """The same trial, run in this process."""
    settings = {k: row[k] for k in ("loss", "hidden", "batch_size", "lr", "optimizer")
                if k in row and not (isinstance(row[k], float) and math.isnan(row[k]))}
    return cgan.sweep.run_trial(settings, int(row["seed"]), data, int(row["steps"]),
                                eval_samples=EVAL)


def text(v):
    """A text cell of a DataFrame: pandas shows a missing one as NaN."""
    return v if isinstance(v, str) else None


def assert_same_as_sequential(row, data="ring"):
    ref = sequential(row, data)
    assert text(row["error"]) == ref["error"]
    assert text(row["digest"]) == ref["digest"]
    for m in ("modes", "hq", "w1"):
        a, b = float(row[m]), float(ref[m])
        assert (a == b) or (math.isnan(a) and math.isnan(b)), (m, a, b)


# ---- the public shape -----------------------------------------------------------------------

def test_sweep_is_callable_and_holds_its_helpers():
    assert callable(cgan.sweep)
    for name in ("uniform", "loguniform", "choice", "report", "run_trial", "load", "cli_main",
                 "boxplot", "best_of_budget"):
        assert callable(getattr(cgan.sweep, name))


# ---- bad input: a clear error before any trial runs ------------------------------------------

@pytest.mark.parametrize("space, kwargs, message", [
    ({"lamda_gp": [1.0]}, {}, "did you mean 'lambda_gp'"),
    ({"los": ["hinge"]}, {}, "did you mean 'loss'"),
    ({}, {}, "space is empty"),
    ({"loss": []}, {}, "empty list"),
    ({"hidden": [64, 64]}, {}, "list of lists"),
    ({"loss": ["hingee"]}, {}, "hingee"),
    ({"loss": ["wgan-gp"], "lambda_gp": [-1.0]}, {}, "lambda_gp"),
    ({"lr": [0.0]}, {}, "lr must be a number > 0"),
    ({"d_steps": [0]}, {}, "d_steps must be a positive integer"),
    ({"seed": [1, 2]}, {}, "seeds="),
    ({"loss": ["hinge"]}, {"trials": 3}, "no distribution"),
    ({"loss": ["hinge"]}, {"data": "rng"}, "did you mean 'ring'"),
    ({"loss": ["hinge"]}, {"metrics": ["w2"]}, "did you mean 'w1'"),
    ({"loss": ["hinge"]}, {"metrics": ["js"]}, "not measured"),
    ({"loss": ["hinge"]}, {"seeds": []}, "seeds must not be empty"),
    ({"loss": ["hinge"]}, {"seeds": [1, 1]}, "distinct"),
    ({"loss": ["hinge"]}, {"steps": 0}, "steps must be a positive integer"),
    ({"loss": ["hinge"]}, {"successive_halving": {"rung": 3}}, "did you mean 'rungs'"),
    ({"loss": ["hinge"]}, {"successive_halving": {"metric": "js"}}, "metric"),
    ({"loss": ["hinge"]}, {"successive_halving": {"mode": "best"}}, "'min' or 'max'"),
    ({"loss": ["hinge"]}, {"successive_halving": {"rungs": 5}, "steps": 20}, "too few"),
    ({"loss": ["hinge"]}, {"n_workers": 0}, "n_workers"),
    ({"matmul_precision": ["bf16_emulated"]}, {}, 'did you mean "bf16-emulated"'),
    ({"matmul_precision": 16}, {}, "matmul_precision: .*must be a string"),
])
def test_bad_input_fails_before_any_trial(space, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        cgan.sweep(space, address=NOWHERE, callback=pytest.fail, **kwargs)


def test_distributions_check_their_bounds():
    with pytest.raises(ValueError, match="must not exceed"):
        cgan.sweep.uniform(2.0, 1.0)
    with pytest.raises(ValueError, match="must not exceed"):
        cgan.sweep.loguniform(1e-2, 1e-4)
    with pytest.raises(ValueError, match="> 0"):
        cgan.sweep.loguniform(0.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        cgan.sweep.uniform(0.0, float("inf"))
    with pytest.raises(ValueError, match="empty"):
        cgan.sweep.choice([])
    with pytest.raises(ValueError, match="trials is required"):
        cgan.sweep({"lr": cgan.sweep.loguniform(1e-4, 1e-3)}, address=NOWHERE)


def test_unreachable_address_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(sys.modules["cgan.sweep"], "_CONNECT_TIMEOUT", 1)
    t0 = time.perf_counter()
    with pytest.raises(ConnectionError, match="no Dask scheduler answered at 'tcp://127.0.0.1:9' "
                                              "within 1 s"):
        cgan.sweep(SPACE, steps=STEPS, address=NOWHERE, progress=False, eval_samples=EVAL)
    assert time.perf_counter() - t0 < 30  # the timeout, not Dask's default of 30 s per try


def test_matmul_precision_is_a_setting_of_the_trial_not_of_the_process():
    tiny = {"hidden": [16], "batch_size": 64}
    trial = lambda settings: cgan.sweep.run_trial(settings, 0, "ring", 20, eval_samples=200)
    f32 = trial(tiny)
    with cgan.matmul_precision("bf16-emulated"):
        f32_again = trial(tiny)  # the process's precision does not leak into a trial
        assert cgan.get_matmul_precision() == "bf16-emulated"
    bf16 = trial({**tiny, "matmul_precision": "bf16-emulated"})
    bf16_again = trial({**tiny, "matmul_precision": "bf16-emulated"})
    assert cgan.get_matmul_precision() == "float32"
    assert f32["error"] is None and bf16["error"] is None
    assert f32["digest"] == f32_again["digest"] and bf16["digest"] == bf16_again["digest"]
    assert bf16["digest"] != f32["digest"]


def test_objective_options_are_known():
    from cgan.sweep import _accepted_options
    common = {o.name for o in cgan.defaults.COMMON_OPTIONS}  # r1, r2, consistency, ct_margin
    assert common == {"r1", "r2", "consistency", "ct_margin"}
    assert _accepted_options("wgan-gp") == {"lambda_gp", "one_sided"} | common
    assert _accepted_options("hinge") == common
    assert {"lambda_ls", "lambda_gp", "lambda_real", "loss_output"} <= _accepted_options(
        "loss-sensitive")
    assert "generator_loss" in _accepted_options("f-gan:kl")
    assert "margin" in _accepted_options("ebgan") and "clip" in _accepted_options("wgan")


# ---- the plan -----------------------------------------------------------------------------

def test_grid_plan_crosses_lists_and_drops_options_an_objective_lacks():
    from cgan.sweep import _plan
    plan = _plan({"loss": ["hinge", "wgan-gp"], "lambda_gp": [1.0, 10.0], "hidden": [[16]]},
                 None, [0, 1], 0)
    settings = [(s["loss"], s.get("lambda_gp")) for s, _, _ in plan]
    # hinge takes no lambda_gp: its two grid points are one trial, not two identical runs
    assert sorted(set(settings)) == [("hinge", None), ("wgan-gp", 1.0), ("wgan-gp", 10.0)]
    assert len(plan) == 3 * 2
    assert sorted(seed for _, seed, _ in plan) == [0, 0, 0, 1, 1, 1]


def test_random_plan_is_seeded_in_bounds_and_shared_across_grid_points():
    from cgan.sweep import _plan
    space = {"loss": ["hinge", "lsgan"], "lr": cgan.sweep.loguniform(1e-4, 1e-2),
             "d_steps": cgan.sweep.choice([1, 5]), "c": cgan.sweep.uniform(0.5, 1.5)}
    a = _plan(space, 20, [0], search_seed=3)
    assert a == _plan(space, 20, [0], search_seed=3)
    assert a != _plan(space, 20, [0], search_seed=4)
    lrs = [s["lr"] for s, _, _ in a]
    assert all(1e-4 <= v <= 1e-2 for v in lrs)
    assert min(lrs) < 1e-3 < max(lrs)  # spread over the decades, not stuck at one end
    # draws are independent: neighbouring draws are not near copies of each other
    u = np.log10([s["lr"] for s, _, _ in _plan({"lr": cgan.sweep.loguniform(1e-4, 1e-2)},
                                                 400, [0], 0)])
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.2
    assert {s["d_steps"] for s, _, _ in a} == {1, 5}
    # c is an lsgan option only; the draw t gives every grid point the same values
    by_draw = {}
    for s, _, draw in a:
        by_draw.setdefault(draw, []).append(s)
    for hinge, lsgan in by_draw.values():
        assert hinge["lr"] == lsgan["lr"] and hinge["d_steps"] == lsgan["d_steps"]
        assert "c" not in hinge and 0.5 <= lsgan["c"] <= 1.5


# ---- on the cluster -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def reference(client):
    """An uninterrupted study with one failing trial (lsgan at SGD lr 1e3 overflows)."""
    space = {"loss": ["non-saturating", "lsgan"], "optimizer": ["sgd"], "lr": [1e-2, 1e3], **TINY}
    return space, run(client, space)


def test_sweep_rows_equal_sequential_runs_bitwise(reference):
    _, df = reference
    assert len(df) == 2 * 2 * len(SEEDS)
    assert list(df["trial"]) == list(range(len(df)))
    assert df["key"].is_unique
    failed = df[df["error"].notna()]
    assert len(failed) >= 1 and all("FloatingPointError" in e or "NonFinite" in e
                                    for e in failed["error"])
    assert df["error"].isna().sum() >= len(SEEDS)
    for _, row in df.iterrows():
        assert_same_as_sequential(row)
    assert set(df["cgan_version"]) == {cgan.__version__}


def test_results_file_and_resume_skips_finished_trials(client, reference, tmp_path):
    space, ref = reference
    out = tmp_path / "study"
    stopped_after = 5

    def stop(row, seen=[]):
        seen.append(row)
        if len(seen) == stopped_after:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(client, space, out=out, callback=stop)
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == stopped_after
    # a crash in the middle of writing a row leaves half a line: it is dropped on resume
    with open(out / "results.jsonl", "a") as f:
        f.write('{"trial": 99, "key": "cut')
    ran = []
    df = run(client, space, out=out, callback=ran.append)
    assert len(ran) == len(ref) - stopped_after
    done_first = {json.loads(x)["key"] for x in lines}
    assert not done_first & {r["key"] for r in ran}
    pd.testing.assert_frame_equal(stable(df), stable(ref))
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(ref) and len({r["key"] for r in rows}) == len(ref)
    pd.testing.assert_frame_equal(stable(cgan.sweep.load(out)), stable(ref))
    # everything done: nothing runs, the same table comes back
    again = run(client, space, out=out, callback=pytest.fail)
    pd.testing.assert_frame_equal(stable(again), stable(ref))
    # another study into the same directory is refused rather than mixed in
    with pytest.raises(ValueError, match="different study"):
        run(client, space, seeds=[0], steps=STEPS, out=out)


def test_driver_interrupted_by_sigint_resumes(client, reference, tmp_path):
    space, ref = reference
    out = tmp_path / "study"

    def sigint(row, seen=[]):
        seen.append(row)
        if len(seen) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C would

    with pytest.raises(KeyboardInterrupt):
        run(client, space, out=out, callback=sigint)
    n_first = len((out / "results.jsonl").read_text().splitlines())
    assert 3 <= n_first < len(ref)
    ran = []
    df = run(client, space, out=out, callback=ran.append)
    assert len(ran) == len(ref) - n_first
    pd.testing.assert_frame_equal(stable(df), stable(ref))


def test_successive_halving_keeps_the_best_and_continues_them_exactly(client, tmp_path):
    space = {"loss": ["non-saturating", "hinge", "lsgan"], "lr": [1e-4, 1e-3, 1e-2], **TINY}
    sh = {"rungs": 3, "eta": 3, "metric": "w1", "mode": "min"}
    out = tmp_path / "sh"
    df = run(client, space, seeds=[0], steps=90, out=out, successive_halving=sh)
    every = cgan.sweep.load(out, all_rungs=True)
    counts = every.groupby("steps").size().to_dict()
    assert counts == {10: 9, 30: 3, 90: 1}
    for lower, upper in ((10, 30), (30, 90)):
        ranked = every[every["steps"] == lower].sort_values(["w1", "trial"])
        kept = set(every.loc[every["steps"] == upper, "key"])
        assert kept == set(ranked["key"].iloc[:len(kept)])
    # one row per trial, its furthest rung; the winner went straight to 90 steps in effect
    assert len(df) == 9 and sorted(df["steps"]) == [10] * 6 + [30] * 2 + [90]
    for _, row in every.iterrows():
        assert_same_as_sequential(row)  # continued from checkpoints = trained straight through
    saved = df.attrs["successive_halving"]
    assert saved["steps_trained"] == 9 * 10 + 3 * 20 + 1 * 60
    assert saved["steps_without_halving"] == 9 * 90
    assert math.isclose(saved["saved"], 1 - 210 / 810)

    # interrupted in the second rung and restarted: the checkpoints come from out
    out2 = tmp_path / "sh2"

    def stop(row, seen=[]):
        seen.append(row)
        if len(seen) == 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(client, space, seeds=[0], steps=90, out=out2, successive_halving=sh, callback=stop)
    assert len(os.listdir(out2 / "checkpoints")) >= 9
    resumed = run(client, space, seeds=[0], steps=90, out=out2, successive_halving=sh)
    pd.testing.assert_frame_equal(stable(resumed), stable(df))


def test_report_and_best_of_budget(reference):
    _, df = reference
    table = cgan.sweep.report(df)
    ok = df[df["error"].isna()]
    for loss, part in ok.groupby("loss"):
        row = table.loc[("ring", loss)]
        assert row["trials"] == (df["loss"] == loss).sum()
        assert row["w1 median"] == part["w1"].median()
        assert row["w1 best"] == part["w1"].min()
        assert row["hq best"] == part["hq"].max()
    assert table["failed"].sum() == df["error"].notna().sum()

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ax = cgan.sweep.boxplot(df, "w1")
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == sorted(ok["loss"].unique()) and ax.get_ylabel() == "w1"
    plt.close(ax.figure)

    synthetic = pd.DataFrame({"data": "ring", "loss": ["a"] * 6 + ["b"] * 6,
                              "error": [None] * 11 + ["FloatingPointError"],
                              "w1": [5.0, 4.0, 3.0, 2.0, 1.0, 6.0] + [1.5] * 5 + [np.nan]})
    curve = cgan.sweep.best_of_budget(synthetic, "w1", [1, 2, 6], samples=500)
    a = curve[curve["loss"] == "a"].set_index("budget")
    assert a.loc[6, "q05"] == a.loc[6, "q95"] == 1.0   # all trials: the best, always
    assert a.loc[1, "mean"] > a.loc[2, "mean"] > a.loc[6, "mean"]
    assert math.isclose(a.loc[1, "mean"], 3.5, abs_tol=0.3)  # the mean of the six values
    b = curve[curve["loss"] == "b"].set_index("budget")
    assert b.loc[6, "q50"] == 1.5  # the failed trial never wins


def test_cli_runs_a_toml_study_and_reports(client, tmp_path, capsys):
    study = tmp_path / "study.toml"
    study.write_text(
        'data = "grid"\nsteps = 20\nseeds = [0, 1]\ntrials = 2\neval_samples = 200\n'
        '[space]\nloss = ["hinge"]\nhidden = [[16]]\nbatch_size = 64\n'
        'lr = {loguniform = [1e-4, 1e-2]}\n')
    out = tmp_path / "runs"
    assert cgan.sweep.cli_main([str(study), "--out", str(out), "--address",
                                client.scheduler.address, "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "4 trials (0 failed)" in printed and "hinge" in printed
    df = cgan.sweep.load(out)
    assert len(df) == 4 and set(df["data"]) == {"grid"} and set(df["draw"]) == {0, 1}
    assert all(1e-4 <= v <= 1e-2 for v in df["lr"])
    for _, row in df.iterrows():
        assert_same_as_sequential(row, "grid")
    assert cgan.sweep.cli_main(["--report", str(out)]) == 0
    assert "w1 median" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('steps = 20\n[space]\nlr = {normal = [0, 1]}\n')
    with pytest.raises(SystemExit):
        cgan.sweep.cli_main([str(bad), "--out", str(out)])
    assert "loguniform" in capsys.readouterr().err
    bad.write_text('steps = 20\n[space]\nlamda_gp = [1.0]\n')
    with pytest.raises(SystemExit):
        cgan.sweep.cli_main([str(bad), "--out", str(tmp_path / "bad")])
    assert "did you mean 'lambda_gp'" in capsys.readouterr().err


# ---- faults -----------------------------------------------------------------------------

def test_worker_killed_mid_trial_reruns_it_and_loses_nothing(client, tmp_path):
    """SIGKILL a worker process while it runs a trial: Dask reruns the trial on a worker
    that lives, the study finishes, every trial is in the results exactly once, and the
    rerun trials equal runs in this process bitwise. (Last in the file: the cluster's
    nanny restarts the killed worker, but other tests need not rely on that.)"""
    killed = {}

    def kill_a_busy_worker(row):
        if killed:
            return
        pids = client.run(os.getpid)
        for address, keys in client.processing().items():
            if keys and address in pids:
                killed["keys"] = {k.split("-")[2] for k in keys}
                os.kill(pids[address], signal.SIGKILL)
                return

    space = {"loss": ["non-saturating", "hinge"], **TINY}
    df = run(client, space, seeds=[0, 1, 2], steps=150, out=tmp_path / "s",
             callback=kill_a_busy_worker)
    assert killed.get("keys"), "no worker was busy when the first trial finished"
    assert len(df) == 6 and df["key"].is_unique and df["error"].isna().all()
    rows = (tmp_path / "s" / "results.jsonl").read_text().splitlines()
    assert len(rows) == 6 and len({json.loads(r)["key"] for r in rows}) == 6
    rerun = df[df["key"].isin(killed["keys"])]
    assert len(rerun) >= 1
    for _, row in rerun.iterrows():
        assert_same_as_sequential(row)
