"""Every notebook in notebooks/ runs top to bottom in quick mode (CGAN_QUICK=1).

A notebook that breaks fails here, with the failing cell's error. Quick mode shrinks step counts
only; it runs the same code path. The notebook is executed in memory: nothing is written back to
the committed .ipynb, and quick mode must not write figures into the repository either (checked).
"""
import os
import pathlib
import re
import site

import pytest

import cgan

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
REPO_DIR = NOTEBOOK_DIR.parent
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_PER_CELL = 600  # seconds; quick mode is meant to take well under a minute per notebook


def _kernel_env():
    """Environment for the kernel: quick mode, and the same cgan as this test process imports."""
    env = dict(os.environ)
    env["CGAN_QUICK"] = "1"
    env["MPLBACKEND"] = "Agg"
    package_root = str(pathlib.Path(cgan.__file__).resolve().parent.parent)
    installed = {str(pathlib.Path(p).resolve()) for p in site.getsitepackages() + [site.getusersitepackages()]}
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if package_root not in installed and package_root not in paths:
        # cgan comes from a source tree: put it first so that the kernel cannot pick up another
        # installed cgan (an installed cgan is found by the kernel's own sys.path).
        env["PYTHONPATH"] = os.pathsep.join([package_root] + paths)
    return env


def _same_cgan_cell(nbformat):
    """A last cell (in memory only) that fails if the kernel imported another cgan than this process."""
    expected = os.path.realpath(cgan.__file__)
    return nbformat.v4.new_code_cell(
        "import os as _os, cgan as _cgan\n"
        f"assert _os.path.realpath(_cgan.__file__) == {expected!r}, "
        "f'the kernel imported cgan from {_cgan.__file__}'")


def _repo_snapshot():
    """Files (with modification times) that a quick run must leave alone."""
    watched = [NOTEBOOK_DIR, REPO_DIR / "docs"]
    snap = {}
    for root in watched:
        if root.exists():
            for f in root.rglob("*"):
                if f.is_file() and ".ipynb_checkpoints" not in f.parts:
                    snap[str(f)] = f.stat().st_mtime_ns
    return snap


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failed_cell(nb):
    """Index of the first code cell whose outputs hold an error (None if there is none)."""
    for i, c in enumerate(nb.cells):
        if c.cell_type == "code" and any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            return i
    return None


def test_notebooks_found():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_quick_mode(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(str(path), as_version=4)
    code = "\n".join("".join(c.source) for c in nb.cells if c.cell_type == "code")
    assert "CGAN_QUICK" in code, f"{path.name} does not read CGAN_QUICK, so it cannot run in quick mode"
    nb.cells.append(_same_cgan_cell(nbformat))
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_PER_CELL, kernel_name="python3", allow_errors=False,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    before = _repo_snapshot()
    error = None
    try:
        client.execute(env=_kernel_env(), cwd=str(NOTEBOOK_DIR))
    except (CellExecutionError, CellTimeoutError) as exc:
        error = f"{path.name}: code cell {_failed_cell(nb)} failed:\n{_ANSI.sub('', str(exc))}"
    if error is not None:
        pytest.fail(error, pytrace=False)
    after = _repo_snapshot()
    changed = sorted(f for f in after if before.get(f) != after[f])
    assert not changed, f"{path.name} wrote into the repository in quick mode: {changed}"
