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
    "SpectralNorm", "spectral_norm", "Parameter", "ModuleList",
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
    keep working.

    A module written in Python has its layer attributes (and the items of its
    ``ModuleList`` attributes) replaced. A forward that reaches layers through a plain
    list, tuple or dict would still call the unnormalised layers, so such an attribute
    holding a Linear or Conv2d is refused (TypeError, module unchanged): hold the layers
    in a ``cgan.nn.ModuleList`` instead."""
    if isinstance(module, (Linear, Conv2d)):
        return SpectralNorm(module, power_iterations=power_iterations, seed=seed)
    if not isinstance(module, Module):
        raise TypeError(f"spectral_norm: expected a cgan.nn module, got {type(module).__name__}")
    _refuse_hidden_layers(module, "")
    _normalise_children(module, power_iterations, seed, "", [])
    return module


def _spectral_norm_with_undo(module, seed):
    """spectral_norm(module, seed=seed) in place, returning a function that puts the
    original layers back (for a caller whose next step may fail: a failed call leaves
    the model as it was)."""
    _refuse_hidden_layers(module, "")
    replaced = []
    _normalise_children(module, 1, seed, "", replaced)

    def undo():
        for parent, name, layer in reversed(replaced):
            parent._replace_child(name, layer)
    return undo


def _refuse_hidden_layers(module, prefix):
    """Layers that spectral norm cannot replace: held by a Python module in a plain
    container, where its forward would keep calling the raw layer."""
    for attr, value in vars(module).items() if hasattr(module, "__dict__") else ():
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else ()
        if any(isinstance(v, (Linear, Conv2d)) for v in items):
            raise TypeError(
                f"spectral_norm: {type(module).__name__}.{attr} ({prefix + attr}) is a plain "
                f"{type(value).__name__} holding layers; spectral norm replaces registered layers "
                f"only, so a forward through this {type(value).__name__} would skip the "
                f"normalisation. Hold them in cgan.nn.ModuleList([...]) instead")
    for name, child in module.named_children():
        _refuse_hidden_layers(child, prefix + name + ".")


def _normalise_children(module, power_iterations, seed, prefix, replaced):
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
            replaced.append((module, name, child))
        else:
            _normalise_children(child, power_iterations, seed, path + ".", replaced)


class ModuleList(Module):
    """A list of modules that registers its items, as torch.nn.ModuleList: held by a
    Python module, the items' parameters are in ``parameters()`` and ``state_dict()``
    (as "<attribute>.<index>.weight"), ``train()``/``eval()`` reach them, and
    ``spectral_norm`` replaces them in place, so ``for layer in self.layers`` calls the
    normalised layers. A container only: it has no forward of its own."""

    def __init__(self, modules=()):
        super().__init__()
        self._count = 0
        self.extend(modules)

    def append(self, module):
        if isinstance(module, dict):  # an item's config, as get_config() gives them
            module = from_config(module)
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected a cgan.nn module, got {type(module).__name__}")
        setattr(self, str(self._count), module)
        self._count += 1
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __len__(self):
        return self._count

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(self._count)[index]]
        if not isinstance(index, int) or not -self._count <= index < self._count:
            raise IndexError(f"ModuleList index {index!r} out of range for {self._count} modules")
        return getattr(self, str(index % self._count))

    def __iter__(self):
        return (self[i] for i in range(self._count))

    def get_config(self):
        return {"modules": [config(m) for m in self]}

    def forward(self, x):
        raise TypeError("ModuleList is a container and has no forward: call its items")


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
