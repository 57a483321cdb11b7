"""Regressions for memory and undefined-behaviour bugs found with ASan/UBSan builds."""
import os
import subprocess
import sys

import numpy as np
import pytest

import cgan


def test_shape_with_too_many_elements_raises():
    # cpp/tensor/tensor.cpp shape_numel: the element count overflowed int64 (UB) and
    # wrapped to a small number, so the buffer was smaller than the shape said.
    with pytest.raises(ValueError, match="too many elements"):
        cgan.RNG(0).normal([2**32, 2**32])
    empty = cgan.tensor(np.zeros((0,), np.float32))
    with pytest.raises(ValueError):
        empty.reshape([2**62, 4])  # wrapped to 0 elements; sum(axis=1) then wrote past the end
    assert cgan.RNG(0).normal([0, 2**40]).shape == (0, 2**40)


def test_astype_none_raises():
    # bind_tensor.cpp / bind_nn.cpp: astype(None) dereferenced an empty std::optional.
    t = cgan.tensor(np.ones((2, 2), np.float32))
    with pytest.raises(TypeError):
        t.astype(None)
    m = cgan.nn.Linear(2, 2, seed=0)
    with pytest.raises(TypeError):
        m.astype(None)
    assert m.dtype == np.float32


def test_concat_with_none_raises_instead_of_crashing():
    # bind_tensor.cpp concat: a None entry became an undefined Tensor handle that
    # ops::concat dereferenced (SIGSEGV). Run in a subprocess so a crash fails the test.
    code = """
import numpy as np, cgan
t = cgan.tensor(np.ones((2, 2), np.float32))
for xs in ([t, None], [None], [None, t]):
    try:
        cgan.ops.concat(xs)
    except TypeError:
        pass
    else:
        raise SystemExit("no TypeError")
print("ok")
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", (r.returncode, r.stderr[-2000:])


@pytest.mark.parametrize("layer", [1e300, float("inf"), 2.0**63])
def test_ebgan_code_layer_out_of_range_raises(layer):
    # energy_objectives.cpp: int64_t(code_layer) ran before any range check (UB for values
    # beyond int64; UBSan -fsanitize=float-cast-overflow reports it).
    with pytest.raises(ValueError, match="code_layer"):
        cgan.losses.get("ebgan", code_layer=layer)
