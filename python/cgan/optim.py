"""Optimizers (implemented in C++): SGD, Adam, RMSprop, and weight clipping."""
from ._core.optim import SGD, Adam, Optimizer, RMSprop, clip_

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "clip_"]
