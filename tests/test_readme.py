"""The README's examples run as written and do what it says.

Its Python blocks run verbatim, in order, in one namespace (the autograd block uses the D
of the first), with CGAN_QUICK=1, the short run the README itself names; its `cgan`
command lines parse with the options they show.
"""
import contextlib
import io
import os
import re
import shlex
from pathlib import Path

import pytest

import cgan
import cgan.cli

README = Path(__file__).resolve().parent.parent / "README.md"


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_the_python_blocks_run_and_cover_the_ring(tmp_path, monkeypatch):
    code = blocks("python")
    assert len(code) >= 2 and "CGAN_QUICK" in code[0]
    monkeypatch.chdir(tmp_path)  # the example writes run.npz
    monkeypatch.setenv("CGAN_QUICK", "1")
    namespace = {"__name__": "readme"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code[0], "README.md python block 1", "exec"), namespace)
    # the stated outcome, printed by the example itself
    assert "8 of 8 modes" in out.getvalue()
    gan = namespace["gan"]
    assert isinstance(gan, cgan.GAN) and gan.steps_done == 1000 and gan.loss == "wgan-gp"
    assert gan.options == {"lambda_gp": 10.0, "one_sided": 1}
    assert namespace["x"].shape == (2000, 2) and namespace["v"].shape == (2000, 1)
    assert (tmp_path / "run.npz").is_file()
    for i, block in enumerate(code[1:], start=2):
        exec(compile(block, f"README.md python block {i}", "exec"), namespace)
    assert namespace["penalty"].item() >= 0  # the autograd block's double backward ran


def test_the_command_lines_parse():
    parser, _ = cgan.cli._parser()
    lines = [line.split("#")[0].strip() for block in blocks("bash") for line in block.splitlines()]
    commands = [shlex.split(line.split("&&")[-1]) for line in lines if "cgan " in line]
    assert len(commands) >= 4
    for argv in commands:
        assert argv[0] == "cgan"
        args = parser.parse_args(argv[1:])
        assert args.command in cgan.cli._COMMANDS
        if args.command == "train":  # the options it shows are valid for its objective
            cgan.cli._parse_options(args.option, args.loss or cgan.cli._MAIN_JOB[0])


def test_the_defaults_stated_are_the_tables():
    text = " ".join(README.read_text().split())
    row = cgan.defaults.table("wgan-gp")
    assert (row.optimizer, row.lr, row.betas, row.d_steps) == ("adam", 2e-4, (0.5, 0.9), 5)
    assert "Adam 2e-4 with betas (0.5, 0.9) for `wgan-gp`" in text
    assert "RMSprop 5e-5 for `wgan`" in text and cgan.defaults.table("wgan").lr == 5e-5
    assert cgan.cli._MAIN_JOB == ("wgan-gp", {"one_sided": 1})
    assert "`cgan train` without `--loss`) is WGAN-GP with the one-sided penalty" in text
