"""The f-divergences of the lecture (Nowozin, Cseke & Tomioka 2016, "f-GAN", Tables 1-2).

``D_f(P||Q) = ∫ q(x) f(p(x)/q(x)) dx`` for a convex ``f`` with ``f(1) = 0``. Its
variational lower bound ``sup_T E_P[T] - E_Q[f*(T)]`` is what the discriminator of
``cgan.losses.get("f-gan:<name>")`` maximises, with ``T = g_f(v)``: the output activation
``g_f`` (:meth:`Divergence.activation`) maps the raw output ``v`` into ``dom f*``.

The functions are computed by the C++ core in float64 (NumPy in, NumPy out). The
conventions are the table's ``f`` column: ``jensen-shannon`` is 2·JSD (the table's D_f
column carries a ½ its f does not), ``gan`` is 2·JSD - log 4, ``hellinger`` is the
un-halved ∫(√p - √q)², ``pearson`` is ∫(p - q)²/q and ``neyman`` is ∫(q - p)²/p.
"""
import numpy as np

from ._core import divergences as _core

__all__ = ["names", "get", "Divergence"]

# f(u) and f*(t) for each name, as the lecture's table writes them (for docstrings).
FORMULAS = {
    "total-variation": ("½|u - 1|", "t on |t| <= ½", "½ tanh(v)"),
    "kl": ("u log u", "exp(t - 1)", "v"),
    "reverse-kl": ("-log u", "-1 - log(-t)", "-exp(-v)"),
    "pearson": ("(u - 1)²", "t²/4 + t", "v"),
    "neyman": ("(1 - u)²/u", "2 - 2 sqrt(1 - t)", "1 - exp(-v)"),
    "hellinger": ("(sqrt(u) - 1)²", "t / (1 - t)", "1 - exp(-v)"),
    "jeffrey": ("(u - 1) log u", "W(e^(1-t)) + 1/W(e^(1-t)) + t - 2", "v"),
    "jensen-shannon": ("-(u + 1) log((1 + u)/2) + u log u", "-log(2 - exp(t))",
                       "log 2 - log(1 + exp(-v))"),
    "jensen-shannon-weighted": ("pi u log u - (1 - pi + pi u) log(1 - pi + pi u)",
                                "(1 - pi) log((1 - pi) / (1 - pi exp(t/pi)))",
                                "pi (log sigmoid(v) - log pi)"),
    "gan": ("u log u - (u + 1) log(u + 1)", "-log(1 - exp(t))", "-log(1 + exp(-v))"),
}


def names():
    """The ten divergence names, in the lecture's order."""
    return list(_core.names())


def _apply(fn, x):
    arr = np.asarray(x, dtype=np.float64)
    out = np.asarray(fn(np.ascontiguousarray(arr.reshape(-1)))).reshape(arr.shape).copy()
    return float(out) if arr.ndim == 0 else out


def _simpson_weights(n, h):
    w = np.ones(n)
    w[1:-1:2], w[2:-1:2] = 4.0, 2.0
    return w * h / 3.0


class Divergence:
    """One row of the f-divergence table.

    Attributes: ``name``, ``pi`` (jensen-shannon-weighted only), ``f_prime_at_1``,
    ``domain`` = (lo, hi) of dom f*, ``f_at_0`` = lim f(u) as u -> 0 and
    ``f_slope_at_inf`` = lim f(u)/u as u -> inf (what regions with p = 0 or q = 0
    contribute to D_f).
    """

    def __init__(self, core):
        self._core = core
        self.name = core.name
        self.pi = core.pi if core.name == "jensen-shannon-weighted" else None
        self.f_prime_at_1 = core.f_prime_at_1
        self.f_at_0 = core.f_at_0
        self.f_slope_at_inf = core.f_slope_at_inf
        self.domain = tuple(core.domain)
        f, conj, act = FORMULAS[self.name]
        self.__doc__ = (f"f-divergence '{self.name}': f(u) = {f}; f*(t) = {conj}; "
                        f"g_f(v) = {act}; dom f* = {self.domain}.")

    def f(self, u):
        """The generator f(u) for u = p/q > 0."""
        return _apply(self._core.f, u)

    def conjugate(self, t):
        """Fenchel conjugate f*(t) = sup_u (u t - f(u)); +inf outside dom f*."""
        return _apply(self._core.conjugate, t)

    def activation(self, v):
        """Output activation g_f: maps any raw output v into dom f*."""
        return _apply(self._core.activation, v)

    def conjugate_of_activation(self, v):
        """f*(g_f(v)) in a stable closed form (finite for every finite v)."""
        return _apply(self._core.conjugate_of_activation, v)

    def divergence(self, p, q, lo, hi, n=20001):
        """∫_lo^hi q(x) f(p(x)/q(x)) dx for two 1-D density callables, by Simpson's rule.

        Where p = 0 < q the integrand is q·f(0); where q = 0 < p it is p·lim f(u)/u
        (either may be +inf, e.g. KL with q = 0 < p); where both vanish it is 0.
        """
        n = int(n)
        if n < 3:
            raise ValueError("divergence: n must be at least 3")
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError("divergence: need finite lo < hi")
        x = np.linspace(lo, hi, n)
        pv = np.broadcast_to(np.asarray(p(x), dtype=np.float64), x.shape)
        qv = np.broadcast_to(np.asarray(q(x), dtype=np.float64), x.shape)
        if not (np.all(np.isfinite(pv)) and np.all(np.isfinite(qv))):
            raise ValueError("divergence: the densities must be finite on [lo, hi]")
        if np.any(pv < 0) or np.any(qv < 0):
            raise ValueError("divergence: densities must be non-negative")
        both = (pv > 0) & (qv > 0)
        integrand = np.zeros_like(x)
        if np.any(both):
            with np.errstate(over="ignore", invalid="ignore"):
                integrand[both] = qv[both] * self.f(pv[both] / qv[both])
        # Where q underflowed to a denormal, p/q (or f of it) overflows: there
        # q·f(p/q) takes its u -> inf limit p·f(u)/u, as where q is exactly 0.
        overflowed = both & ~np.isfinite(integrand)
        only_q = (pv == 0) & (qv > 0)
        only_p = ((qv == 0) & (pv > 0)) | overflowed
        with np.errstate(invalid="ignore"):
            integrand[only_q] = qv[only_q] * self.f_at_0
            integrand[only_p] = pv[only_p] * self.f_slope_at_inf
        h = (hi - lo) / (n - 1)
        if n % 2 == 1:
            return float(np.dot(_simpson_weights(n, h), integrand))
        return float(h * (integrand.sum() - 0.5 * (integrand[0] + integrand[-1])))

    def __repr__(self):
        extra = f", pi={self.pi}" if self.pi is not None else ""
        return f"cgan.divergences.get({self.name!r}{extra})"


def get(name, pi=0.5):
    """The divergence `name` (see :func:`names`); `pi` weights P in jensen-shannon-weighted."""
    if not isinstance(name, str):
        raise TypeError(f"divergence name must be a string, got {type(name).__name__}")
    return Divergence(_core.make(name, float(pi)))
