"""Neural network modules (implemented in C++; this file only names them).

Calling a module on a ``cgan.Tensor`` records a graph and returns a Tensor; calling it
on a NumPy array runs inference and returns a NumPy array.
"""
import json

from ._core.nn import Activation, Linear, MLP, Module, Sequential, SpectralNorm

__all__ = [
    "Module", "Linear", "Activation", "Sequential", "MLP", "SpectralNorm", "spectral_norm",
    "ReLU", "LeakyReLU", "Tanh", "Sigmoid", "ELU", "Softplus", "Identity",
    "config", "from_config",
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


def spectral_norm(linear, power_iterations=1, seed=None):
    """Wrap a Linear so that it uses W / sigma(W) (Miyato et al. 2018)."""
    return SpectralNorm(linear, power_iterations=power_iterations, seed=seed)


def config(module):
    """The module's architecture as a plain dict (JSON-compatible)."""
    return json.loads(module._config())


def from_config(cfg, seed=None):
    """Build a module with the architecture `cfg` (from ``config``); weights are fresh."""
    if isinstance(cfg, str):
        cfg = json.loads(cfg)
    if not isinstance(cfg, dict) or "type" not in cfg:
        raise ValueError("from_config: expected a dict with a 'type' key")
    kind = cfg["type"]
    if kind == "MLP":
        return MLP(cfg["in_features"], cfg["hidden"], cfg["out_features"],
                   activation=cfg["activation"], out_activation=cfg["out_activation"],
                   spectral_norm=cfg["spectral_norm"], init=cfg["init"],
                   negative_slope=cfg["negative_slope"], seed=seed)
    if kind == "Linear":
        return Linear(cfg["in_features"], cfg["out_features"], bias=cfg["bias"],
                      init=cfg["init"], seed=seed)
    if kind == "Activation":
        return Activation(cfg["name"], cfg["param"])
    if kind == "Sequential":
        return Sequential(*[from_config(c, seed) for c in cfg["layers"]])
    if kind == "SpectralNorm":
        return SpectralNorm(from_config(cfg["module"], seed),
                            power_iterations=cfg["power_iterations"], seed=seed)
    raise ValueError(f"from_config: unknown module type {kind!r}")
