"""Module parameters without sentinels (issue 17).

Every test here describes the behaviour of cgan.nn: a parameter is valid and used as
given, or refused with a ValueError/TypeError naming it; no message is pybind11's
"Unable to cast".
"""
import numpy as np
import pytest

import cgan


X = np.array([[2.0, -3.0], [-0.5, 0.25]], np.float32)


def test_leaky_relu_activation_keeps_a_negative_slope():
    # torch's nn.LeakyReLU(-0.5) uses -0.5; 0.2 ("default") was silently substituted.
    a = cgan.nn.Activation("leaky_relu", -0.5)
    assert a.param == -0.5
    np.testing.assert_array_equal(a(X), cgan.ops.leaky_relu(X, -0.5).numpy())


def test_elu_activation_keeps_its_alpha():
    a = cgan.nn.Activation("elu", -1.0)
    assert a.param == -1.0
    np.testing.assert_array_equal(a(X), cgan.ops.elu(X, -1.0).numpy())


def test_mlp_uses_the_negative_slope_it_reports():
    m = cgan.nn.MLP(2, [3], 1, activation="leaky_relu", negative_slope=-0.5, seed=0)
    assert cgan.nn.config(m)["negative_slope"] == -0.5
    twin = cgan.nn.MLP(2, [3], 1, activation="leaky_relu", negative_slope=0.2, seed=0)
    assert not np.array_equal(m(X), twin(X))  # the slope is used, not replaced by 0.2


def test_negative_slope_none_is_not_stored_as_minus_one():
    try:
        m = cgan.nn.MLP(2, [3], 1, activation="leaky_relu", negative_slope=None, seed=0)
    except TypeError as e:
        assert "negative_slope" in str(e)
        return
    assert cgan.nn.config(m)["negative_slope"] != -1


@pytest.mark.parametrize("build, exc, name", [
    (lambda: cgan.nn.MLP(True, [3], 1), TypeError, "in_features"),
    (lambda: cgan.nn.MLP(2, [True], 1), TypeError, "hidden"),
    (lambda: cgan.nn.MLP(2, [3], False), TypeError, "out_features"),
    (lambda: cgan.nn.Linear(2.0, 3), TypeError, "in_features"),
    (lambda: cgan.nn.MLP(2, [3], 1, out_activation=3), TypeError, "out_activation"),
    (lambda: cgan.nn.MLP(2, [3], 1, activation=None), TypeError, "activation"),
    (lambda: cgan.nn.MLP(2, [3], 1, negative_slope=float("inf")), ValueError, "negative_slope"),
    (lambda: cgan.nn.MLP(2, [3], 1, negative_slope="x"), TypeError, "negative_slope"),
    (lambda: cgan.nn.Activation("elu", float("nan")), ValueError, "param"),
    (lambda: cgan.nn.Activation("leaky_relu", True), TypeError, "param"),
    (lambda: cgan.nn.Linear(2, 3, bias="yes"), TypeError, "bias"),
    (lambda: cgan.nn.MLP(2, [3], 1, spectral_norm=-1), TypeError, "spectral_norm"),
    (lambda: cgan.nn.SpectralNorm(cgan.nn.Linear(2, 2), power_iterations=2**63), ValueError,
     "power_iterations"),
])
def test_module_parameters_are_refused_by_name(build, exc, name):
    with pytest.raises(exc, match=name):
        build()


HOSTILE = [None, "x", True, 2**63, 10**400, -1, 1.5, float("nan"), float("inf"), [], {},
           object(), np.zeros((2, 2), complex)]


@pytest.mark.parametrize("name, build, valid", [
    ("Linear", lambda *a: cgan.nn.Linear(*a), (2, 3)),
    ("MLP", lambda i, h, o, act, out_act, slope, sn, seed: cgan.nn.MLP(
        i, h, o, activation=act, out_activation=out_act, negative_slope=slope,
        spectral_norm=sn, seed=seed), (2, [3], 1, "leaky_relu", "identity", 0.2, False, 0)),
    ("Activation", lambda *a: cgan.nn.Activation(*a), ("elu", 1.0)),
    ("SpectralNorm", lambda p: cgan.nn.SpectralNorm(cgan.nn.Linear(2, 2), power_iterations=p), (1,)),
])
def test_module_constructor_messages_name_the_argument(name, build, valid):
    for i in range(len(valid)):
        for h in HOSTILE:
            args = list(valid)
            args[i] = h
            try:
                build(*args)
            except (ValueError, TypeError, MemoryError) as e:
                assert "Unable to cast" not in str(e), f"{name} arg {i} = {h!r}: {e}"
