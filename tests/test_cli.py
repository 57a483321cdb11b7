"""The command line, in-process: cgan.cli.main([...]) with short runs."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import cgan
import cgan.cli

QUICK = ["--steps", "30", "--width", "16", "--depth", "2", "--batch-size", "64", "--eval-samples", "400",
         "--no-progress"]

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

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
    assert ma["objective"] == "hinge" and ma["d_steps"] == 5 and ma["modes_total"] == 25
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


# Every bad argument: exit status 2 and one line on stderr naming what was wrong (and the
# closest valid name where there is one); nothing written.
BAD_ARGUMENTS = [
    (["train", "--loss", "nope"], "unknown objective 'nope'"),
    (["train", "--loss", "wgan-gpp"], "did you mean 'wgan-gp'?"),
    (["train", "--loss", "f-gan:kll"], "did you mean 'f-gan:kl'?"),
    (["train", "--activation", "sigmoidd"], "did you mean 'sigmoid'?"),
    (["train", "--dataset", "rnig"], "did you mean 'ring'?"),
    (["train", "--dataset", "minst"], "did you mean 'mnist'?"),
    (["train", "--arch", "dcgann"], "did you mean 'dcgan'?"),
    (["train", "--arch", "dcgan"], "needs image data"),
    (["train", "--steps", "0"], "positive integer"),
    (["train", "--width", "100000"], "at most 8192"),
    (["train", "--batch-size", "60000"], "at most 20000"),
    (["train", "--lr", "-1"], "positive number"),
    (["train", "--lr", "abc"], "positive number"),
    (["train", "--option", "lambda_gp"], "KEY=VALUE"),
    (["train", "--option", "lambda_gpp=1"], "did you mean 'lambda_gp'?"),
    (["train", "--option", "one_sided=2"], "one_sided must be 0 or 1"),
    (["train", "--loss", "hinge", "--option", "clip=1"], "hinge: unknown option 'clip'"),
    (["train", "--seed", "-2"], "integer >= 0"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--spectral-nrom"], "did you mean '--spectral-norm'?"),
    (["losses", "wgann"], "did you mean 'wgan'?"),
    (["fly"], "unknown command 'fly'"),
    (["trian"], "did you mean 'train'?"),
]


@pytest.mark.parametrize("argv,message", BAD_ARGUMENTS)
def test_bad_arguments_give_one_line(argv, message, capsys, tmp_path):
    out = tmp_path / "x"
    assert cgan.cli.main(argv + ["--out", str(out)] if argv[:1] == ["train"] else argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and message in lines[0], captured.err
    assert lines[0].startswith("cgan") and ": error: " in lines[0]
    assert captured.out == "" and not out.exists()


def test_out_naming_an_existing_file_is_refused_before_training(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("keep me")
    assert cgan.cli.main(["train", "--out", str(f)] + QUICK) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"cgan train: error: --out {str(f)!r} is an existing file; give a directory"]
    assert f.read_text() == "keep me"


def test_bad_arguments_in_a_subprocess_print_no_traceback(tmp_path):
    # the installed entry point's path: python -m cgan, exit status and stderr as a user sees
    f = tmp_path / "f"
    f.write_text("")
    for argv in (["train", "--out", str(f)], ["train", "--activation", "sigmoidd"], ["fly"]):
        r = subprocess.run([sys.executable, "-m", "cgan"] + argv, capture_output=True, text=True,
                           env=ENV, timeout=120)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
        assert "Traceback" not in r.stderr and "error" in r.stderr


def test_cgan_alone_lists_the_commands(capsys):
    assert cgan.cli.main([]) == 0
    out = capsys.readouterr().out
    for name in cgan.cli._COMMANDS:
        assert f"  {name}  " in out


def test_losses_lists_every_objective_with_paper_defaults_and_options(capsys):
    assert cgan.cli.main(["losses"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in lines if line and not line[0].isspace()
             and not line.startswith("aliases")]
    assert names == cgan.losses.available()
    row = {line.split()[0]: (line, lines[i + 1]) for i, line in enumerate(lines)
           if line and not line[0].isspace() and not line.startswith("aliases")}
    # whole titles, not cut at the docstring's line break
    assert 'Lipschitz Densities"' in row["loss-sensitive"][0]
    assert "Gulrajani" in row["wgan-gp"][0]
    assert "Adam lr 0.0002 betas (0.5, 0.9), d_steps 5" in row["wgan-gp"][1]
    assert "lambda_gp=10.0, one_sided=0" in row["wgan-gp"][1]
    assert "RMSprop lr 5e-05, d_steps 5; options: clip=0.01" in row["wgan"][1]
    assert "options: none" in row["hinge"][1]
    assert "pi=0.5" in row["f-gan:jensen-shannon-weighted"][1]
    assert "pi=" not in row["f-gan:kl"][1]


def test_losses_name_describes_one_objective(capsys):
    assert cgan.cli.main(["losses", "nsgan"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("non-saturating: Goodfellow et al. 2014")
    assert "G minimises  E_f softplus(-v)" in out  # the formulas of the docstring
    assert "Adam lr 0.0002 betas (0.5, 0.999), d_steps 1" in out
    assert "label_smoothing=0.0" in out and "real target is 1 - s" in out


def test_the_table_is_what_gan_and_the_cli_use(tmp_path):
    # the same row everywhere: cgan.GAN without optimizers, cgan train without --lr
    for name in cgan.losses.available():
        row = cgan.defaults.table(name)
        G = cgan.nn.MLP(2, [4], 2, seed=0)
        D = cgan.nn.MLP(2, [4], 2 if name == "ebgan" else 1, seed=1)
        gan = cgan.GAN(G, D, loss=name, z_dim=2)
        assert gan.d_steps == row.d_steps
        for opt in (gan.g_optimizer, gan.d_optimizer):
            assert type(opt).__name__.lower() == row.optimizer and opt.lr == row.lr
            if row.betas:
                assert tuple(opt.betas) == row.betas
        assert set(gan.options) == {o.name for o in cgan.defaults.options_of(name)
                                    if o.default is not None}
    row = cgan.defaults.table("wgan-gp")
    for argv, options in ((["--loss", "wgan-gp"], {"lambda_gp": 10.0, "one_sided": 0}),
                          ([], {"lambda_gp": 10.0, "one_sided": 1})):  # the main job
        out = tmp_path / f"gp{len(argv)}"
        cgan.cli.main(["train", "--out", str(out)] + argv + QUICK)
        m = read_metrics(out)
        assert (m["d_steps"], m["g_lr"], m["d_lr"], tuple(m["betas"])) == (
            row.d_steps, pytest.approx(row.lr), pytest.approx(row.lr), row.betas)
        assert m["options"] == options  # every option, defaults included
        gan = cgan.GAN.load(str(out / "checkpoint.npz"))
        assert gan.options == options and gan.d_steps == row.d_steps


@pytest.mark.parametrize("name", cgan.losses.available())
def test_the_tables_option_defaults_are_the_objectives(name):
    # Passing every default explicitly gives bitwise the losses of leaving them out: the
    # table and the C++ objectives agree.
    rng = np.random.default_rng(0)
    real, fake = (rng.standard_normal((16, 2)).astype(np.float32) for _ in range(2))
    D = cgan.nn.MLP(2, [8, 8], 2 if name == "ebgan" else 1, seed=3)
    explicit = cgan.defaults.resolve(name)["options"]
    a, b = cgan.losses.get(name), cgan.losses.get(name, **explicit)
    assert a.d_loss(D, real, fake, seed=1).item() == b.d_loss(D, real, fake, seed=1).item()
    assert a.g_loss(D, fake).item() == b.g_loss(D, fake).item()


def test_help_and_version(capsys):
    for argv in (["--help"], ["train", "--help"], ["losses", "--help"]):
        assert cgan.cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "train" in out and "losses" in out and "--d-steps" in out and "--out" in out
    assert cgan.cli.main(["--version"]) == 0
    assert cgan.__version__ in capsys.readouterr().out


def test_python_dash_m_cgan_and_the_old_demo_run():
    env = ENV
    r = subprocess.run([sys.executable, "-m", "cgan", "losses"], capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0 and "wgan-gp" in r.stdout
    r = subprocess.run([sys.executable, "-m", "cgan.demo", "--help"], capture_output=True,
                       text=True, env=env)
    assert r.returncode == 0 and "usage: cgan train" in r.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_training_and_writes_the_steps_done(sig, tmp_path):
    # Ctrl-C (SIGINT) or kill (SIGTERM) mid-training: exit status 130, one line on stderr
    # saying where, and checkpoint, metrics and plots of the steps done.
    out = tmp_path / "run"
    argv = ["train", "--out", str(out), "--steps", "1000000"] + QUICK[2:]
    p = subprocess.Popen([sys.executable, "-m", "cgan"] + argv, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        header = p.stdout.readline()  # printed when training starts
        assert "wgan-gp" in header, header
        time.sleep(1.0)
        p.send_signal(sig)
        stdout, stderr = p.communicate(timeout=600)
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode == 130, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    assert lines[0].startswith("interrupted after ") and str(out) in lines[0]
    for name in ("samples.png", "critic.png", "losses.png", "metrics.json", "checkpoint.npz"):
        assert (out / name).is_file(), name
    m = read_metrics(out)
    assert m["interrupted"] is True and m["steps_asked"] == 1000000
    assert 0 <= m["steps"] < 1000000 and f"after {m['steps']} of 1000000 steps" in lines[0]
    assert cgan.GAN.load(str(out / "checkpoint.npz")).steps_done == m["steps"]
    assert "modes covered" in stdout  # the numbers of the steps done are reported
