"""Optimizers (implemented in C++): SGD, Adam, RMSprop, weight clipping, and the
learning-rate schedules the GAN's C++ loop applies once per iteration."""
import difflib
import math
import numbers

from ._core.optim import SGD, Adam, Optimizer, RMSprop, clip_

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "clip_", "LRSchedule"]


class LRSchedule:
    """A learning-rate schedule for one of a GAN's optimizers: ``GAN(...,
    lr_schedule=cgan.optim.LRSchedule("cosine", total_steps=10_000))``.

    The GAN's C++ loop sets the optimizer's lr before iteration t (t = iterations
    completed, from 0) to ``lr(t)``, exactly as the torch.optim.lr_scheduler named
    beside each kind would, stepped once per iteration after ``optimizer.step()``;
    after training the optimizer holds the lr of the next iteration, as in torch.
    ``base`` is the optimizer's lr when the GAN is built (or ``base_lr``):

    ``"constant"``  base.
    ``"linear"``    base * (1 + (end_factor - 1) * min(t, total_steps) / total_steps):
                    ``LinearLR(opt, start_factor=1, end_factor, total_iters=total_steps)``;
                    decays to ``end_factor * base`` (default 0) and stays there.
    ``"step"``      base * gamma ** (t // step_size): ``StepLR(opt, step_size, gamma)``.
    ``"cosine"``    eta_min + (base - eta_min) * (1 + cos(pi t / total_steps)) / 2:
                    ``CosineAnnealingLR(opt, T_max=total_steps, eta_min)``; eta_min from
                    total_steps on (torch would rise again for another half-period).

    Decaying the learning rate damps the late oscillation of a GAN's players around the
    equilibrium (e.g. WGAN-GP on a 1-D Gaussian); a schedule is saved with the
    checkpoint, and training resumed from it continues bitwise as if never stopped.
    """

    KINDS = ("constant", "linear", "step", "cosine")

    def __init__(self, kind, total_steps=None, step_size=None, gamma=0.1, end_factor=0.0,
                 eta_min=0.0, base_lr=None):
        if not isinstance(kind, str):
            raise TypeError(f"lr schedule kind must be a string, got {type(kind).__name__}")
        if kind not in self.KINDS:
            close = difflib.get_close_matches(kind, self.KINDS, n=1, cutoff=0.0)
            raise ValueError(f"unknown lr schedule {kind!r} (did you mean {close[0]!r}? one of "
                             f"{', '.join(map(repr, self.KINDS))})")
        self.kind = kind
        self.total_steps = _steps("total_steps", total_steps, kind in ("linear", "cosine"), kind)
        self.step_size = _steps("step_size", step_size, kind == "step", kind)
        self.gamma = _real("gamma", gamma, 0.0, 1.0, low_open=True)
        self.end_factor = _real("end_factor", end_factor, 0.0, math.inf)
        self.eta_min = _real("eta_min", eta_min, 0.0, math.inf)
        self.base_lr = None if base_lr is None else _real("base_lr", base_lr, 0.0, math.inf)

    def to_dict(self, base_lr=None):
        """The schedule as the core takes it (and checkpoints store it)."""
        base = self.base_lr if self.base_lr is not None else base_lr
        return {"kind": self.kind, "base_lr": float(base), "total_steps": self.total_steps or 0,
                "step_size": self.step_size or 0, "gamma": self.gamma,
                "end_factor": self.end_factor, "eta_min": self.eta_min}

    @classmethod
    def from_dict(cls, d):
        return cls(d["kind"], total_steps=d["total_steps"] or None, step_size=d["step_size"] or None,
                   gamma=d["gamma"], end_factor=d["end_factor"], eta_min=d["eta_min"],
                   base_lr=d["base_lr"])

    def __repr__(self):
        extra = {"linear": f"total_steps={self.total_steps}, end_factor={self.end_factor}",
                 "cosine": f"total_steps={self.total_steps}, eta_min={self.eta_min}",
                 "step": f"step_size={self.step_size}, gamma={self.gamma}"}.get(self.kind, "")
        return f"LRSchedule({self.kind!r}{', ' + extra if extra else ''})"


def _steps(name, v, required, kind):
    if v is None:
        if required:
            raise ValueError(f"a {kind!r} lr schedule needs {name} (a positive integer)")
        return None
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {v!r}")
    if not 1 <= v <= 2**62:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def _real(name, v, low, high, low_open=False):
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"{name} must be a number, got {v!r}")
    v = float(v)
    if not (math.isfinite(v) and (v > low if low_open else v >= low) and v <= high):
        interval = f"{'(' if low_open else '['}{low}, {high}]"
        raise ValueError(f"{name} must be in {interval}, got {v!r}")
    return v
