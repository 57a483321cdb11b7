"""float32 matrix products on either backend (cpp/tensor/blas.hpp): scipy_openblas32's
OpenBLAS, loaded at import when installed, and cgan's packed AVX2 kernel. Both must give
the float64 product to float32 accuracy for every layout, bitwise the same result on a
repeat with a fixed thread count, and close results across thread counts."""
import os
import subprocess
import sys

import numpy as np
import pytest

import cgan
from cgan import _core

BACKENDS = ["builtin", "openblas"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    if request.param == "openblas" and not _core._openblas_config():
        pytest.skip("scipy_openblas32 is not installed")
    prev, prev_threads = cgan.gemm_backend(), cgan.get_num_threads()
    _core._set_gemm_backend(request.param)
    yield request.param
    _core._set_gemm_backend(prev)
    cgan.set_num_threads(prev_threads)


def _operands(m, n, k, ta, tb, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    return a, b


def _reference(a, b, ta, tb):
    return (a.T if ta else a).astype(np.float64) @ (b.T if tb else b).astype(np.float64)


# Square, thin, wide and odd sizes: partial 6x16 tiles, depth past one 256 block, row
# blocks split over two threads, and the thin shapes that stay with Eigen.
SHAPES = [(16, 16, 9), (37, 53, 300), (300, 17, 513), (64, 600, 70), (513, 129, 257), (2, 512, 64),
          (256, 1, 64), (96, 16, 2048)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("m,n,k", SHAPES)
def test_products_match_float64_in_every_layout(backend, threads, m, n, k):
    cgan.set_num_threads(threads)
    for ta in (False, True):
        for tb in (False, True):
            a, b = _operands(m, n, k, ta, tb)
            out = cgan.ops.matmul(cgan.tensor(a), cgan.tensor(b), ta, tb).numpy()
            ref = _reference(a, b, ta, tb)
            # float32 rounding of a k-term sum: a few ulps of sqrt(k)-sized terms
            tol = 1e-6 * np.sqrt(k) * np.abs(ref).max() + 1e-6
            assert out.shape == (m, n)
            assert np.abs(out - ref).max() < 10 * tol, (backend, ta, tb)


def test_linear_layers_add_the_bias_once(backend):
    # nn.Linear's forward is a product with a bias (C starts as the bias, sgemm adds onto it).
    lin = cgan.nn.Linear(300, 40, seed=0)
    x = np.random.default_rng(1).standard_normal((70, 300)).astype(np.float32)
    w, b = (np.asarray(p.numpy(), np.float64) for p in (lin.weight, lin.bias))
    ref = x.astype(np.float64) @ w.T + b
    out = lin(cgan.tensor(x)).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("threads", [1, 2])
def test_repeated_products_are_bitwise_equal(backend, threads):
    cgan.set_num_threads(threads)
    a, b = _operands(700, 300, 600, False, True, seed=3)
    A, B = cgan.tensor(a), cgan.tensor(b)
    first = cgan.ops.matmul(A, B, False, True).numpy()
    for _ in range(3):
        assert cgan.ops.matmul(A, B, False, True).numpy().tobytes() == first.tobytes()


def test_convolutions_agree_between_backends():
    # The convolution kernels call sgemm on strided operands: both backends, same result
    # to float32 accuracy.
    if not _core._openblas_config():
        pytest.skip("scipy_openblas32 is not installed")
    prev = cgan.gemm_backend()
    x = cgan.tensor(np.random.default_rng(0).standard_normal((8, 16, 14, 14)).astype(np.float32))
    conv = cgan.nn.Conv2d(16, 32, 4, stride=2, padding=1, seed=0)
    try:
        outs = {}
        for be in BACKENDS:
            _core._set_gemm_backend(be)
            outs[be] = conv(x).numpy()
    finally:
        _core._set_gemm_backend(prev)
    scale = np.abs(outs["builtin"]).max()
    assert np.abs(outs["builtin"] - outs["openblas"]).max() < 1e-5 * scale


def test_bad_backend_names_are_refused():
    prev = cgan.gemm_backend()
    with pytest.raises(ValueError, match="openblas.*builtin"):
        _core._set_gemm_backend("mkl")
    with pytest.raises(TypeError):
        _core._set_gemm_backend(3)
    assert cgan.gemm_backend() == prev


def test_environment_variable_selects_the_builtin_kernel():
    env = dict(os.environ, CGAN_BLAS="builtin")
    code = "import cgan; print(cgan.gemm_backend())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "builtin"


def test_openblas_is_used_when_installed():
    try:
        import scipy_openblas32  # noqa: F401
    except ImportError:
        pytest.skip("scipy_openblas32 is not installed")
    env = {k: v for k, v in os.environ.items() if k != "CGAN_BLAS"}
    code = "import cgan; print(cgan.gemm_backend())"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "openblas"


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads through Linux's /proc")
@pytest.mark.parametrize("user_value", [None, "3"])
def test_openblas_starts_no_threads_of_its_own(user_value):
    # cgan's pool splits the products; an OpenBLAS server thread would only compete with it.
    # The user's OPENBLAS_NUM_THREADS (for NumPy's own OpenBLAS, say) is left as it was.
    try:
        import scipy_openblas32  # noqa: F401
    except ImportError:
        pytest.skip("scipy_openblas32 is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("CGAN_BLAS", "OPENBLAS_NUM_THREADS")}
    if user_value is not None:
        env["OPENBLAS_NUM_THREADS"] = user_value
    code = ("import os, numpy; n = lambda: len(os.listdir('/proc/self/task')); before = n(); "
            "import cgan; print(cgan.gemm_backend(), n() - before, os.environ.get('OPENBLAS_NUM_THREADS'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["openblas", "0", str(user_value)]
