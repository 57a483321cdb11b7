"""cgan: GANs on the CPU.

A multithreaded C++ core (tensors, reverse-mode autograd with double backward,
networks, optimizers, every GAN objective of the lecture) under a thin NumPy API.
"""
from contextlib import contextmanager as _contextmanager

from ._core import (
    RNG,
    Tensor,
    __version__,
    cpu_features,
    gemm_backend,
    get_matmul_precision,
    get_num_threads,
    grad,
    is_grad_enabled,
    set_flush_denormal,
    set_grad_enabled,
    set_matmul_precision,
    set_num_threads,
    tensor,
)
from ._core import ops
from . import _blas

_blas.load()  # float32 products on OpenBLAS when scipy_openblas32 is installed
from . import datasets, divergences, losses, metrics, nn, optim, plot  # plot imports matplotlib lazily
from .gan import GAN
from . import recipes
from .sweep import sweep  # cgan.sweep(...); cgan.sweep.report etc. (needs the [sweep] extra to run)

__all__ = [
    "RNG", "Tensor", "tensor", "grad", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "set_flush_denormal", "set_num_threads", "get_num_threads",
    "set_matmul_precision", "get_matmul_precision", "matmul_precision", "cpu_features", "gemm_backend",
    "ops", "nn", "optim", "GAN",
    "datasets", "metrics", "losses", "divergences", "plot", "sweep", "recipes", "__version__",
]


@_contextmanager
def no_grad():
    """Within this block no graph is recorded (inference, manual parameter updates)."""
    prev = is_grad_enabled()
    set_grad_enabled(False)
    try:
        yield
    finally:
        set_grad_enabled(prev)


@_contextmanager
def matmul_precision(precision):
    """Within this block products and convolutions run at `precision` (as
    set_matmul_precision: "float32", "bf16" or "bf16-emulated"); the previous precision
    comes back after it, also on an exception."""
    prev = get_matmul_precision()
    set_matmul_precision(precision)
    try:
        yield
    finally:
        set_matmul_precision(prev)


@_contextmanager
def enable_grad():
    """Within this block graphs are recorded again, even inside no_grad."""
    prev = is_grad_enabled()
    set_grad_enabled(True)
    try:
        yield
    finally:
        set_grad_enabled(prev)
