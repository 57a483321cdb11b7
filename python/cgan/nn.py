"""Neural network modules (implemented in C++; this file only names them).

A module maps a batch of shape (N, *in_shape) to (N, *out_shape): ``m.out_shape(in_shape)``
says what it makes of a per-sample shape (ValueError if it cannot take it), and
``Sequential`` checks its layers with it when it is built. Calling a module on a
``cgan.Tensor`` records a graph and returns a Tensor; calling it on a NumPy array runs
inference and returns a NumPy array. ``m.train()`` / ``m.eval()`` switch batch
normalisation and dropout between their two behaviours, recursively, as in PyTorch.

``state_dict()`` keys and weight layouts follow PyTorch ("0.weight", "1.running_mean";
Conv2d weight (out, in, kh, kw), ConvTranspose2d weight (in, out, kh, kw)), so a PyTorch
model's state dict converted to NumPy arrays loads into the same cgan architecture.
"""
from ._core.nn import (
    Activation, BatchNorm1d, BatchNorm2d, Conditional, Conv2d, ConvTranspose2d, Dropout, Embedding,
    Flatten, LayerNorm, Linear, MinibatchDiscrimination, MLP, Module, Sequential, SpectralNorm,
    Unflatten, Upsample, VirtualBatchNorm1d, VirtualBatchNorm2d,
)
from ._core import nn as _nn

__all__ = [
    "Module", "Linear", "Conv2d", "ConvTranspose2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
    "VirtualBatchNorm1d", "VirtualBatchNorm2d",
    "Flatten", "Unflatten", "Upsample", "Dropout", "Activation", "Sequential", "MLP",
    "Embedding", "Conditional", "MinibatchDiscrimination",
    "SpectralNorm", "spectral_norm", "Parameter",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "ELU", "Softplus", "Identity",
    "config", "from_config", "module_types",
]


def ReLU():
    return Activation("relu")


def LeakyReLU(negative_slope=0.2):
    return Activation("leaky_relu", negative_slope)


def Tanh():
    return Activation("tanh")


def Sigmoid():
    return Activation("sigmoid")


def ELU(alpha=1.0):
    return Activation("elu", alpha)


def Softplus():
    return Activation("softplus")


def Identity():
    return Activation("identity")


def spectral_norm(module, power_iterations=1, seed=None):
    """Spectral normalisation (Miyato et al. 2018): W / sigma(W).

    A Linear, Conv2d or ConvTranspose2d comes back wrapped in a ``SpectralNorm``. A
    container (``Sequential``, ``MLP``) has every such layer wrapped in place and is
    returned itself; its parameters stay the same Tensors, so optimizers built on them
    keep working."""
    if isinstance(module, (Linear, Conv2d)):
        return SpectralNorm(module, power_iterations=power_iterations, seed=seed)
    if not isinstance(module, Module):
        raise TypeError(f"spectral_norm: expected a cgan.nn module, got {type(module).__name__}")
    _normalise_children(module, power_iterations, seed, "")
    return module


def _normalise_children(module, power_iterations, seed, prefix):
    import zlib

    for name, child in module.named_children():
        path = prefix + name
        if isinstance(child, SpectralNorm):
            continue
        if isinstance(child, (Linear, Conv2d)):
            # Each layer's u from the seed and the layer's path: repeatable, distinct.
            child_seed = None if seed is None else (seed * 1000003 + zlib.crc32(path.encode())) % 2**63
            module._replace_child(name, SpectralNorm(child, power_iterations=power_iterations,
                                                     seed=child_seed))
        else:
            _normalise_children(child, power_iterations, seed, path + ".")


def Parameter(data):
    """A trainable float32 Tensor holding a copy of `data` (``module.astype("float64")``
    converts it with the rest of the module). Assigned to an attribute of a Python
    module, it is registered as a parameter, as torch.nn.Parameter is."""
    import numpy as np

    from . import tensor

    return tensor(np.array(data, dtype=np.float32, copy=True), requires_grad=True)


def config(module):
    """The module's architecture as a plain dict (JSON-compatible)."""
    if not isinstance(module, Module):
        raise TypeError(f"config: expected a cgan.nn module, got {type(module).__name__}")
    return module._config()


def from_config(cfg, seed=None):
    """Build a module with the architecture `cfg` (from ``config``); weights are fresh.

    Every module type (``module_types()``) is known to the one registry in the C++ core,
    nested containers included."""
    import json

    if isinstance(cfg, str):
        cfg = json.loads(cfg)
    if not isinstance(cfg, dict) or "type" not in cfg:
        raise ValueError("from_config: expected a dict with a 'type' key")
    return _nn._from_config(cfg, seed)


def module_types():
    """The module types ``from_config`` knows."""
    return list(_nn._module_types())


def parameter_count(cfg):
    """Parameters and buffers the module described by `cfg` would hold (no allocation)."""
    return _nn._parameter_count(cfg)


# Ready-made networks (defined on top of the layers above).
from .architectures import dcgan_discriminator, dcgan_generator  # noqa: E402

__all__ += ["dcgan_generator", "dcgan_discriminator"]
