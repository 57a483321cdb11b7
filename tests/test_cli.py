"""The command line, in-process: cgan.cli.main([...]) with short runs."""
import json
import subprocess
import sys

import numpy as np
import pytest

import cgan
import cgan.cli

QUICK = ["--steps", "30", "--width", "16", "--depth", "2", "--batch-size", "64", "--eval-samples", "400",
         "--no-progress"]

EXPECTED_KEYS = {"objective", "dataset", "steps", "seed", "seconds", "ms_per_step", "d_steps",
                 "batch_size", "modes_covered", "modes_total", "high_quality_rate", "mode_kl",
                 "wasserstein_to_data", "final_d_loss", "final_g_loss", "checkpoint", "plots",
                 "g_lr", "d_lr", "threads"}


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def read_metrics(out):
    with open(out / "metrics.json") as f:
        return json.load(f)


def test_train_writes_everything(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "ring"
    assert cgan.cli.main(["train", "--out", str(out), "--seed", "3"] + QUICK) == 0
    for name in ("samples.png", "critic.png", "losses.png", "metrics.json", "checkpoint.npz"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "samples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    m = read_metrics(out)
    assert EXPECTED_KEYS <= set(m)
    assert m["objective"] == "wgan-gp" and m["dataset"] == "ring" and m["steps"] == 30
    assert m["d_steps"] == 5 and m["seed"] == 3 and m["modes_total"] == 8
    assert 0 <= m["modes_covered"] <= 8 and 0 <= m["high_quality_rate"] <= 1
    assert 0 <= m["mode_kl"] <= np.log(8) + 1e-9
    assert m["wasserstein_to_data"] > 0 and m["seconds"] > 0
    assert sorted(m["plots"]) == ["critic.png", "losses.png", "samples.png"]
    # the checkpoint is the trained GAN: it loads, samples, and matches the run's numbers
    gan = cgan.GAN.load(str(out / "checkpoint.npz"))
    assert gan.loss == "wgan-gp" and gan.steps_done == 30
    fake = gan.sample(400, seed=4)  # the run evaluates with seed + 1
    assert fake.shape == (400, 2) and np.all(np.isfinite(fake)) and m["eval_samples"] == 400
    centers, std = cgan.datasets.modes("ring")
    assert cgan.metrics.high_quality_rate(fake, centers, std) == m["high_quality_rate"]


def test_many_eval_samples_take_w_on_a_subset(tmp_path, hide_modules):
    # 12000^2 pairs exceed wasserstein_2d's max_pairs: the CLI measures W on the first
    # 4000 points of each set instead of failing after training.
    hide_modules("matplotlib")
    out = tmp_path / "big"
    argv = ["train", "--out", str(out)] + QUICK[:-2] + ["12000", "--no-progress"]
    assert cgan.cli.main(argv) == 0
    m = read_metrics(out)
    assert m["eval_samples"] == 12000 and m["wasserstein_samples"] == 4000
    assert m["wasserstein_to_data"] > 0


def test_train_is_repeatable_and_options_reach_the_gan(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["train", "--dataset", "grid", "--loss", "hinge", "--lr", "1e-3", "--d-lr", "2e-3",
            "--threads", "1"] + QUICK
    cgan.cli.main(args + ["--out", str(a)])
    cgan.cli.main(args + ["--out", str(b)])
    ma, mb = read_metrics(a), read_metrics(b)
    assert ma["final_d_loss"] == mb["final_d_loss"] and ma["mode_kl"] == mb["mode_kl"]
    assert ma["objective"] == "hinge" and ma["d_steps"] == 1 and ma["modes_total"] == 25
    assert ma["g_lr"] == pytest.approx(1e-3) and ma["d_lr"] == pytest.approx(2e-3)
    assert ma["threads"] == 1
    c = tmp_path / "c"
    cgan.cli.main(["train", "--loss", "wgan-gp", "--option", "lambda_gp=1",
                   "--option", "one_sided=1", "--out", str(c)] + QUICK)
    assert read_metrics(c)["options"] == {"lambda_gp": 1, "one_sided": 1}
    assert cgan.GAN.load(str(c / "checkpoint.npz")).options == {"lambda_gp": 1, "one_sided": 1}


def test_train_swiss_roll_and_ebgan(tmp_path):
    out = tmp_path / "roll"
    cgan.cli.main(["train", "--dataset", "swiss-roll", "--loss", "ebgan", "--out", str(out)]
                  + QUICK)
    m = read_metrics(out)
    assert "modes_covered" not in m  # no modes on a spiral
    gan = cgan.GAN.load(str(out / "checkpoint.npz"))
    assert gan.discriminate(np.zeros((3, 2), np.float32)).shape == (3, 2)  # autoencoder D


def test_train_without_matplotlib_still_writes_metrics(tmp_path, hide_modules, capsys):
    hide_modules("matplotlib")
    out = tmp_path / "noplot"
    cgan.cli.main(["train", "--out", str(out)] + QUICK)
    assert (out / "metrics.json").is_file() and (out / "checkpoint.npz").is_file()
    assert not list(out.glob("*.png")) and read_metrics(out)["plots"] == []
    assert 'pip install "cgan[plot]"' in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["train", "--loss", "nope"], "unknown"),
    (["train", "--steps", "0"], "positive integer"),
    (["train", "--lr", "-1"], "positive number"),
    (["train", "--dataset", "mnist"], "invalid choice"),
    (["train", "--option", "lambda_gp"], "KEY=VALUE"),
    (["train", "--option", "no_such_option=1"], "no_such_option"),
    (["train", "--seed", "-2"], "seed"),
    (["fly"], "invalid choice"),
    ([], "required"),
])
def test_bad_options_exit_with_a_usage_error(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        cgan.cli.main(argv + ["--out", str(tmp_path / "x")] if argv[:1] == ["train"] else argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "usage: cgan" in err and message.lower() in err.lower()
    assert not (tmp_path / "x").exists()


def test_losses_lists_every_objective(capsys):
    assert cgan.cli.main(["losses"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines if line and not line.startswith("aliases")]
    assert names == cgan.losses.available()
    assert any("Gulrajani" in line for line in lines if line.startswith("wgan-gp "))


def test_help_and_version(capsys):
    for argv in (["--help"], ["train", "--help"]):
        with pytest.raises(SystemExit) as e:
            cgan.cli.main(argv)
        assert e.value.code == 0
    out = capsys.readouterr().out
    assert "train" in out and "losses" in out and "--d-steps" in out and "--out" in out
    with pytest.raises(SystemExit):
        cgan.cli.main(["--version"])
    assert cgan.__version__ in capsys.readouterr().out


def test_python_dash_m_cgan_and_the_old_demo_run():
    import os
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    r = subprocess.run([sys.executable, "-m", "cgan", "losses"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0 and "wgan-gp" in r.stdout
    r = subprocess.run([sys.executable, "-m", "cgan.demo", "--help"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and "usage: cgan train" in r.stdout
