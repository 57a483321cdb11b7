"""float64 finite-difference checks of cgan's first and second derivatives.

f maps a list of cgan Tensors to one cgan Tensor (any shape). Inputs are NumPy float64
arrays. With a random cotangent v of f's output, the scalar s(x) = <f(x), v> has the
gradient cgan.grad(f(x), x, grad_outputs=v); gradcheck compares every entry of it with
a central difference of s.

gradgradcheck does the same one level up: the first gradient is built with
create_graph=True and contracted with random vectors u, G(x, v) = sum_i <grad_i, u_i>;
its gradient with respect to the inputs AND to v (the rules must be differentiable in
the incoming gradient too) is compared with central differences of G, where G is
evaluated from a plain (create_graph=False) first gradient.
"""
import numpy as np

import cgan

EPS = 1e-6


def _tensors(arrays, requires_grad):
    return [cgan.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad) for a in arrays]


def _numeric_grad(scalar_fn, arrays, eps=EPS):
    """Central differences of scalar_fn(list of arrays) -> float, for every entry."""
    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for a in arrays:
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + eps
            hi = scalar_fn(arrays)
            a[idx] = old - eps
            lo = scalar_fn(arrays)
            a[idx] = old
            g[idx] = (hi - lo) / (2 * eps)
        grads.append(g)
    return grads


def _assert_close(analytic, numeric, what, rtol, atol):
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        assert a.shape == n.shape, f"{what} {i}: shape {a.shape} vs numeric {n.shape}"
        assert np.all(np.isfinite(a)), f"{what} {i}: non-finite analytic gradient {a}"
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol,
                                   err_msg=f"{what} of input {i}: analytic vs finite differences")


def _random_like(rng, shape):
    return rng.standard_normal(shape)


def gradcheck(f, arrays, seed=0, rtol=1e-6, atol=1e-7):
    rng = np.random.default_rng(seed)
    xs = _tensors(arrays, True)
    y = f(xs)
    assert y.dtype == np.float64, f"float64 inputs gave a {y.dtype} output"
    v = _random_like(rng, y.shape)
    analytic = [g.numpy() for g in cgan.grad(y, xs, grad_outputs=cgan.tensor(v), allow_unused=True)]

    def s(arrs):
        return float(np.sum(f(_tensors(arrs, False)).numpy() * v))

    _assert_close(analytic, _numeric_grad(s, arrays), "first derivative", rtol, atol)


def gradgradcheck(f, arrays, seed=1, rtol=1e-5, atol=1e-6):
    rng = np.random.default_rng(seed)
    xs = _tensors(arrays, True)
    y0 = f(xs)
    v0 = _random_like(rng, y0.shape)
    us = [_random_like(rng, np.shape(a)) for a in arrays]

    def first_grads(xs, v, create_graph):
        return cgan.grad(f(xs), xs, grad_outputs=v, create_graph=create_graph, allow_unused=True)

    v = cgan.tensor(v0, requires_grad=True)
    gs = first_grads(xs, v, True)
    G = None
    for g, u in zip(gs, us):
        term = (g * cgan.tensor(u)).sum()
        G = term if G is None else G + term
    if G.requires_grad:
        analytic = [g.numpy() for g in cgan.grad(G, xs + [v], allow_unused=True)]
    else:  # the first gradient is a constant (e.g. of x**0): nothing to differentiate
        analytic = [np.zeros(np.shape(a)) for a in list(arrays) + [v0]]

    def G_num(arrs):
        *xa, va = arrs
        gs = first_grads(_tensors(xa, True), cgan.tensor(va), False)
        return float(sum(np.sum(g.numpy() * u) for g, u in zip(gs, us)))

    numeric = _numeric_grad(G_num, list(arrays) + [v0])
    _assert_close(analytic, numeric, "second derivative", rtol, atol)
