"""OpenBLAS for cgan's float32 matrix products, from the scipy_openblas32 package.

cgan's import calls load(): when scipy_openblas32 (a dependency) is installed, its library
becomes the backend of float32 products (`cgan.gemm_backend()` says which one runs);
otherwise, or with the environment variable CGAN_BLAS=builtin, cgan's own packed AVX2
kernel does them. Either way a run with a fixed seed and thread count is bitwise repeatable.
"""
import os
import warnings

from . import _core

_CHOICES = ("openblas", "builtin")


def load():
    """Loads OpenBLAS unless CGAN_BLAS says "builtin"; returns the backend now in use."""
    choice = os.environ.get("CGAN_BLAS", "openblas").strip().lower() or "openblas"
    if choice not in _CHOICES:
        warnings.warn(f"CGAN_BLAS={os.environ['CGAN_BLAS']!r} is not one of {_CHOICES}; using "
                      f"'openblas' when installed", RuntimeWarning, stacklevel=2)
        choice = "openblas"
    if choice == "builtin":
        return _core.gemm_backend()
    try:
        with _one_openblas_thread():  # importing the package loads the library
            import scipy_openblas32
    except ImportError:
        return _core.gemm_backend()
    try:
        lib = os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(fullname=True))
        _core._load_openblas(lib)
    except (OSError, IndexError, RuntimeError) as e:  # a broken install: run on our own kernel
        warnings.warn(f"cgan: cannot use scipy_openblas32's OpenBLAS ({e}); float32 products run "
                      f"on cgan's own kernel", RuntimeWarning, stacklevel=2)
    return _core.gemm_backend()


class _one_openblas_thread:
    """OPENBLAS_NUM_THREADS=1 while the library loads (restored after). OpenBLAS reads it
    once, at load, and otherwise starts a server thread per extra core; cgan's pool does the
    splitting, so such a thread would only sit there, spinning after start-up on a core
    that cgan's own threads need."""

    def __enter__(self):
        self.old = os.environ.get("OPENBLAS_NUM_THREADS")
        os.environ["OPENBLAS_NUM_THREADS"] = "1"

    def __exit__(self, *exc):
        if self.old is None:
            del os.environ["OPENBLAS_NUM_THREADS"]
        else:
            os.environ["OPENBLAS_NUM_THREADS"] = self.old
