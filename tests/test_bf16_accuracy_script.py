"""benchmarks/bf16_accuracy.py --quick: runs, and writes both precisions and the verdicts."""
import os
import pathlib
import subprocess
import sys

import cgan

REPO = pathlib.Path(__file__).resolve().parent.parent


def test_the_bf16_accuracy_study_runs_in_quick_mode(tmp_path):
    out, png = tmp_path / "bf16.md", tmp_path / "bf16.png"
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(cgan.__file__).resolve().parent.parent),
           "CGAN_CACHE": str(tmp_path / "cache")}  # the quick digit classifier stays in tmp
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bf16_accuracy.py"), "--quick",
         "--workers", "2", "--out", str(out), "--png", str(png)],
        capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    for needle in ("| ring | non-saturating | float32 |", "| ring | non-saturating | bf16-emulated |",
                   "| grid | wgan-gp | float32 |", "| grid | wgan-gp | bf16-emulated |",
                   "| mnist | non-saturating | float32 |", "| mnist | non-saturating | bf16-emulated |",
                   "| verdict |", "| reference |", "2 SE", "null median", "quick mode"):
        assert needle in text, needle
    # every bf16 row carries a verdict, every float32 row is the reference
    rows = [line for line in text.splitlines()
            if line.startswith(("| ring |", "| grid |", "| mnist |")) and "| bf16-emulated |" in line]
    assert len(rows) == 5 and all(("| within |" in r) or ("| OUTSIDE" in r) for r in rows)
    assert png.stat().st_size > 10000
