"""Tests of cgan.nn: MLP forward/backward against a NumPy reference, initialisers,
seeding, state_dict round trips, input validation and spectral normalisation."""
import math

import numpy as np
import pytest

import cgan
from cgan import nn

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid", "elu", "softplus", "identity"]


# ---- NumPy reference --------------------------------------------------------------------------

def np_act(name, z, slope=0.2, alpha=1.0):
    """(activation(z), d activation / dz) in float64."""
    if name == "relu":
        return np.maximum(z, 0), (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z), np.where(z > 0, 1.0, slope)
    if name == "tanh":
        t = np.tanh(z)
        return t, 1 - t * t
    if name == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s, s * (1 - s)
    if name == "elu":
        return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0))), np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0)))
    if name == "softplus":
        return np.logaddexp(0, z), 1 / (1 + np.exp(-z))
    if name == "identity":
        return z, np.ones_like(z)
    raise AssertionError(name)


def np_mlp_forward_backward(weights, biases, acts, x, c, slope):
    """Forward of Linear/activation layers and the gradients of loss = sum(c * y)."""
    hs, zs = [x], []
    h = x
    for W, b, a in zip(weights, biases, acts):
        z = h @ W.T + b
        zs.append(z)
        h, _ = np_act(a, z, slope)
        hs.append(h)
    y = h
    g = c
    dW, db = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        _, d = np_act(acts[i], zs[i], slope)
        g = g * d
        dW[i] = g.T @ hs[i]
        db[i] = g.sum(axis=0)
        g = g @ weights[i]
    return y, dW, db, g  # g: gradient w.r.t. the input


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("out_act", ["identity", "sigmoid", "tanh"])
def test_mlp_forward_backward_matches_numpy(act, out_act):
    slope = 0.13
    m = nn.MLP(5, [7, 6], 3, activation=act, out_activation=out_act, negative_slope=slope,
               seed=11).astype("float64")
    assert m.dtype == np.float64
    sd = m.state_dict()
    lin = sorted({k.split(".")[0] for k in sd}, key=int)
    assert len(lin) == 3
    W = [sd[f"{i}.weight"] for i in lin]
    b = [sd[f"{i}.bias"] for i in lin]
    assert [w.shape for w in W] == [(7, 5), (6, 7), (3, 6)]
    # named_parameters are the same values as the state_dict, in order.
    names = [n for n, _ in m.named_parameters()]
    assert names == [f"{i}.{k}" for i in lin for k in ("weight", "bias")]

    rng = np.random.default_rng(0)
    x = rng.normal(size=(9, 5)) * 1.5
    c = rng.normal(size=(9, 3))
    acts = [act, act, out_act]
    y_ref, dW_ref, db_ref, dx_ref = np_mlp_forward_backward(W, b, acts, x, c, slope)

    # Inference (NumPy in, NumPy out).
    np.testing.assert_allclose(m(x), y_ref, rtol=1e-12, atol=1e-13)
    # Graph mode.
    xt = cgan.tensor(x, requires_grad=True)
    y = m(xt)
    np.testing.assert_allclose(y.numpy(), y_ref, rtol=1e-12, atol=1e-13)
    loss = (y * cgan.tensor(c)).sum()
    loss.backward()
    params = dict(m.named_parameters())
    for i, j in enumerate(lin):
        np.testing.assert_allclose(params[f"{j}.weight"].grad.numpy(), dW_ref[i], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(params[f"{j}.bias"].grad.numpy(), db_ref[i], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), dx_ref, rtol=1e-10, atol=1e-12)


def test_mlp_layer_structure_and_leaky_slope_used():
    m = nn.MLP(2, [3], 1, activation="leaky_relu", negative_slope=0.05, out_activation="sigmoid", seed=0)
    kinds = [type(m[i]).__name__ for i in range(len(m))]
    assert kinds == ["Linear", "Activation", "Linear", "Activation"]
    assert m[1].name == "leaky_relu" and m[1].param == pytest.approx(0.05)
    assert m[3].name == "sigmoid"
    assert nn.MLP(2, [3], 1, seed=0)[-1].__class__.__name__ == "Linear"  # identity: no layer


def test_activation_modules_match_numpy():
    z = np.linspace(-4, 4, 41).reshape(-1, 1)
    for name, mod, kw in [("relu", nn.ReLU(), {}), ("leaky_relu", nn.LeakyReLU(0.3), {"slope": 0.3}),
                          ("tanh", nn.Tanh(), {}), ("sigmoid", nn.Sigmoid(), {}),
                          ("elu", nn.ELU(0.7), {"alpha": 0.7}), ("softplus", nn.Softplus(), {}),
                          ("identity", nn.Identity(), {})]:
        ref, _ = np_act(name, z, **kw)
        np.testing.assert_allclose(mod(z), ref, rtol=1e-6, atol=1e-7, err_msg=name)


def test_linear_weight_shape_and_forward():
    lin = nn.Linear(4, 3, seed=0)
    assert lin.weight.shape == (3, 4)
    assert lin.bias.shape == (3,)
    assert lin.in_features == 4 and lin.out_features == 3
    assert nn.Linear(4, 3, bias=False, seed=0).bias is None
    x = np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32)
    np.testing.assert_allclose(lin(x), x @ lin.weight.numpy().T + lin.bias.numpy(), rtol=1e-5, atol=1e-6)
    nb = nn.Linear(4, 3, bias=False, seed=0)
    np.testing.assert_allclose(nb(x), x @ nb.weight.numpy().T, rtol=1e-5, atol=1e-6)


# ---- initialisers ------------------------------------------------------------------------------

def test_init_he_normal_statistics():
    lin = nn.Linear(800, 1000, init="he_normal", seed=3)
    w = lin.weight.numpy().astype(np.float64)
    assert abs(w.mean()) < 3 * math.sqrt(2 / 800) / math.sqrt(w.size)
    assert w.std() == pytest.approx(math.sqrt(2 / 800), rel=0.01)
    assert np.all(lin.bias.numpy() == 0)


def test_init_he_uniform_and_glorot_statistics():
    fan_in, fan_out = 600, 400
    w = nn.Linear(fan_in, fan_out, init="he_uniform", seed=1).weight.numpy()
    bound = math.sqrt(6 / fan_in)
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)

    lin = nn.Linear(fan_in, fan_out, init="glorot_uniform", seed=2)
    w = lin.weight.numpy()
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert np.all(lin.bias.numpy() == 0)

    w = nn.Linear(fan_in, fan_out, init="glorot_normal", seed=2).weight.numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / (fan_in + fan_out)), rel=0.01)


def test_init_normal_dcgan():
    lin = nn.Linear(500, 500, init="normal", seed=4)
    w = lin.weight.numpy()
    assert w.std() == pytest.approx(0.02, rel=0.01)
    assert abs(w.mean()) < 1e-4
    assert np.all(lin.bias.numpy() == 0)


def test_init_default_pytorch_like():
    fan_in = 400
    lin = nn.Linear(fan_in, 500, seed=5)
    w, b = lin.weight.numpy(), lin.bias.numpy()
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)
    assert np.abs(b).max() <= bound * (1 + 1e-6)
    assert np.abs(b).max() > 0.9 * bound  # biases are drawn too, with the same bound
    assert b.std() == pytest.approx(bound / math.sqrt(3), rel=0.15)


@pytest.mark.parametrize("init", ["default", "he_uniform", "he_normal", "glorot_uniform",
                                  "glorot_normal", "normal"])
def test_mlp_init_applies_to_every_layer(init):
    m = nn.MLP(300, [200], 100, init=init, seed=0)
    sd = m.state_dict()
    w0, w2 = sd["0.weight"], sd["2.weight"]
    expect = {"default": (1 / math.sqrt(300) / math.sqrt(3), 1 / math.sqrt(200) / math.sqrt(3)),
              "he_uniform": (math.sqrt(2 / 300), math.sqrt(2 / 200)),
              "he_normal": (math.sqrt(2 / 300), math.sqrt(2 / 200)),
              "glorot_uniform": (math.sqrt(2 / 500), math.sqrt(2 / 300)),
              "glorot_normal": (math.sqrt(2 / 500), math.sqrt(2 / 300)),
              "normal": (0.02, 0.02)}[init]
    assert w0.std() == pytest.approx(expect[0], rel=0.03)
    assert w2.std() == pytest.approx(expect[1], rel=0.03)


def test_same_seed_same_weights_different_seed_different():
    a = nn.MLP(3, [8, 8], 2, seed=42).state_dict()
    b = nn.MLP(3, [8, 8], 2, seed=42).state_dict()
    c = nn.MLP(3, [8, 8], 2, seed=43).state_dict()
    assert a.keys() == b.keys() == c.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        assert not np.array_equal(a[k], c[k])
    # Layers within one network differ from each other (the RNG advances).
    assert not np.array_equal(a["0.bias"], a["2.bias"])
    l1, l2 = nn.Linear(5, 5, seed=1), nn.Linear(5, 5, seed=1)
    np.testing.assert_array_equal(l1.weight.numpy(), l2.weight.numpy())
    s1 = nn.spectral_norm(nn.Linear(5, 4, seed=1), seed=9).state_dict()
    s2 = nn.spectral_norm(nn.Linear(5, 4, seed=1), seed=9).state_dict()
    np.testing.assert_array_equal(s1["u"], s2["u"])


# ---- state_dict ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: nn.MLP(3, [6, 5], 2, activation="leaky_relu", negative_slope=0.1, out_activation="tanh", seed=1),
    lambda: nn.MLP(3, [6], 2, activation="elu", spectral_norm=True, init="he_normal", seed=2),
    lambda: nn.Sequential(nn.Linear(3, 4, seed=3), nn.LeakyReLU(0.3),
                          nn.spectral_norm(nn.Linear(4, 2, seed=4), power_iterations=2, seed=5),
                          nn.Sigmoid()),
    lambda: nn.Sequential(nn.Linear(3, 5, bias=False, init="glorot_normal", seed=6), nn.ELU(0.5),
                          nn.Linear(5, 2, init="normal", seed=7), nn.Softplus()),
])
def test_state_dict_round_trip_via_config(make):
    m = make()
    # Advance spectral norm's u so that the buffer differs from a fresh module's.
    x = cgan.tensor(np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32))
    for _ in range(3):
        m(x)
    fresh = nn.from_config(nn.config(m), seed=123)
    assert nn.config(fresh) == nn.config(m)
    assert type(fresh) is type(m)
    sd = m.state_dict()
    assert set(fresh.state_dict()) == set(sd)
    assert any(not np.array_equal(fresh.state_dict()[k], sd[k]) for k in sd)
    fresh.load_state_dict(sd)
    for k, v in fresh.state_dict().items():
        np.testing.assert_array_equal(v, sd[k])
    xn = np.random.default_rng(1).normal(size=(7, 3)).astype(np.float32)
    np.testing.assert_array_equal(fresh(xn), m(xn))
    # The state_dict is a copy: changing it does not touch the module.
    k0 = next(iter(sd))
    sd[k0][...] = 0
    assert not np.array_equal(m.state_dict()[k0], sd[k0])


def test_config_is_plain_json():
    import json
    m = nn.MLP(2, [4], 1, activation="leaky_relu", negative_slope=0.25, spectral_norm=True, seed=0)
    cfg = nn.config(m)
    assert cfg["type"] == "MLP" and cfg["hidden"] == [4] and cfg["negative_slope"] == 0.25
    assert json.loads(json.dumps(cfg)) == cfg
    assert nn.config(nn.from_config(json.dumps(cfg))) == cfg
    with pytest.raises(ValueError):
        nn.from_config({"type": "Conv2d"})
    with pytest.raises(ValueError):
        nn.from_config([1, 2])


def _assert_sd_equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_load_state_dict_errors_leave_module_unchanged():
    m = nn.MLP(3, [4], 2, spectral_norm=True, seed=0)
    before = m.state_dict()
    good = {k: v + 1 for k, v in before.items()}  # every entry valid, all different

    bad_shape = dict(good)
    bad_shape["2.module.weight"] = np.zeros((2, 5), np.float32)
    with pytest.raises(ValueError, match="shape"):
        m.load_state_dict(bad_shape)
    _assert_sd_equal(m.state_dict(), before)

    missing = dict(good)
    del missing["2.module.bias"]
    with pytest.raises(ValueError, match="missing"):
        m.load_state_dict(missing)
    _assert_sd_equal(m.state_dict(), before)

    unexpected = dict(good)
    unexpected["9.weight"] = np.zeros((1,), np.float32)
    with pytest.raises(ValueError, match="unexpected"):
        m.load_state_dict(unexpected)
    _assert_sd_equal(m.state_dict(), before)

    for bad in (np.nan, np.inf):
        nan = dict(good)
        nan["2.module.bias"] = np.array([0.0, bad], np.float32)
        with pytest.raises(ValueError, match="NaN|finite"):
            m.load_state_dict(nan)
        _assert_sd_equal(m.state_dict(), before)

    nan_u = dict(good)
    nan_u["0.u"] = np.full_like(before["0.u"], np.nan)
    with pytest.raises(ValueError):
        m.load_state_dict(nan_u)
    _assert_sd_equal(m.state_dict(), before)

    # strict=False tolerates the missing key and loads the rest.
    m.load_state_dict(missing, strict=False)
    after = m.state_dict()
    np.testing.assert_array_equal(after["0.module.weight"], good["0.module.weight"])
    np.testing.assert_array_equal(after["2.module.bias"], before["2.module.bias"])


def test_load_state_dict_keeps_parameter_identity():
    m = nn.MLP(3, [4], 2, seed=0)
    params = m.parameters()
    opt = cgan.optim.SGD(params, lr=0.1)
    other = nn.MLP(3, [4], 2, seed=1)
    m.load_state_dict(other.state_dict())
    np.testing.assert_array_equal(params[0].numpy(), other.state_dict()["0.weight"])
    assert opt.params[0].numpy() is not None
    np.testing.assert_array_equal(opt.params[0].numpy(), other.state_dict()["0.weight"])


# ---- calling conventions and validation ------------------------------------------------------------

def test_call_numpy_returns_numpy_float32_tensor_returns_tensor():
    m = nn.MLP(3, [4], 2, seed=0)
    x = np.random.default_rng(0).normal(size=(5, 3))  # float64 input is converted
    y = m(x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == (5, 2)
    y2 = m(x.tolist())
    assert isinstance(y2, np.ndarray) and y2.dtype == np.float32
    yt = m(cgan.tensor(x.astype(np.float32)))
    assert isinstance(yt, cgan.Tensor) and yt.grad_fn is not None and yt.shape == (5, 2)
    np.testing.assert_allclose(yt.numpy(), y, rtol=1e-6)
    with cgan.no_grad():
        assert m(cgan.tensor(x.astype(np.float32))).grad_fn is None
    # Inference leaves no gradients behind.
    assert all(p.grad is None for p in m.parameters())


def test_wrong_input_width_raises():
    m = nn.MLP(3, [4], 2, seed=0)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        m(np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        m(cgan.tensor(np.zeros((5, 2), np.float32)))
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        m(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        nn.Linear(4, 1, seed=0)(np.zeros((2, 3)))


def test_unknown_activation_or_init_raise():
    with pytest.raises(ValueError, match="activation"):
        nn.MLP(3, [4], 2, activation="swish")
    with pytest.raises(ValueError):
        nn.MLP(3, [4], 2, out_activation="softmax")
    with pytest.raises(ValueError, match="init"):
        nn.MLP(3, [4], 2, init="xavier")
    with pytest.raises(ValueError, match="init"):
        nn.Linear(3, 4, init="orthogonal")
    with pytest.raises(ValueError, match="activation"):
        nn.Activation("gelu")
    with pytest.raises(ValueError):
        nn.Linear(0, 4)
    with pytest.raises(ValueError):
        nn.MLP(3, [0], 2)
    with pytest.raises(ValueError):
        nn.MLP(3, [4], 2, seed=-1)


def test_sequential_width_checks():
    with pytest.raises(ValueError, match=r"layer 2 \(Linear\).*\(N, 5\), got \(N, 4\)"):
        nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(5, 2, seed=0))
    with pytest.raises(ValueError):
        nn.Sequential(nn.Linear(3, 4, seed=0), nn.spectral_norm(nn.Linear(3, 2, seed=0)))
    with pytest.raises(TypeError):
        nn.Sequential(nn.Linear(3, 4, seed=0), "relu")
    s = nn.Sequential(nn.Linear(3, 4, seed=0), nn.ReLU(), nn.Linear(4, 2, seed=1))
    assert s.in_features == 3 and s.out_features == 2 and len(s) == 3
    assert s.num_parameters() == 3 * 4 + 4 + 4 * 2 + 2
    x = cgan.tensor(np.ones((2, 3), np.float32))
    np.testing.assert_allclose(s.forward_until(x, 2).numpy(), s[1](s[0](x)).numpy())


# ---- spectral normalisation ---------------------------------------------------------------------------

def _weight_with_spectrum(out, inp, svals, seed=0):
    rng = np.random.default_rng(seed)
    U, _ = np.linalg.qr(rng.normal(size=(out, out)))
    V, _ = np.linalg.qr(rng.normal(size=(inp, inp)))
    S = np.zeros((out, inp))
    S[np.arange(len(svals)), np.arange(len(svals))] = svals
    return U @ S @ V.T


def _set_weight(sn, W, b=None):
    sd = sn.state_dict()
    sd["module.weight"] = W.astype(sd["module.weight"].dtype)
    if b is not None:
        sd["module.bias"] = b.astype(sd["module.bias"].dtype)
    sn.load_state_dict(sd)


def test_spectral_norm_sigma_converges_to_largest_singular_value():
    W = _weight_with_spectrum(5, 8, [3.0, 2.0, 1.0, 0.5, 0.1], seed=1)
    sn = nn.spectral_norm(nn.Linear(8, 5, seed=0), seed=2)
    _set_weight(sn, W)
    smax = np.linalg.svd(W, compute_uv=False)[0]
    x = cgan.tensor(np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32))
    u0 = sn.state_dict()["u"]
    assert np.linalg.norm(u0) == pytest.approx(1, rel=1e-5)
    sigma0 = sn.sigma()
    assert sigma0 < smax * (1 + 1e-5)  # a power-iteration estimate never exceeds sigma_max
    for _ in range(30):
        sn(x)  # training forward (grad mode on): advances u
    assert not np.array_equal(sn.state_dict()["u"], u0)
    assert sn.sigma() == pytest.approx(smax, rel=1e-4)
    Wn = sn.normalized_weight().numpy()
    assert np.linalg.svd(Wn.astype(np.float64), compute_uv=False)[0] == pytest.approx(1.0, rel=1e-4)
    np.testing.assert_allclose(Wn, W / smax, rtol=1e-4, atol=1e-6)
    # The layer computes x @ (W / sigma)^T + b.
    b = sn.module.bias.numpy()
    np.testing.assert_allclose(sn(x.numpy()), x.numpy() @ Wn.T + b, rtol=1e-5, atol=1e-6)


def test_spectral_norm_random_weight_sigma_with_more_iterations():
    lin = nn.Linear(16, 12, seed=7)
    W = lin.weight.numpy().astype(np.float64)
    sn = nn.spectral_norm(lin, power_iterations=200, seed=3)
    sn(cgan.tensor(np.ones((1, 16), np.float32)))
    assert sn.sigma() == pytest.approx(np.linalg.svd(W, compute_uv=False)[0], rel=1e-3)


def test_spectral_norm_u_moves_only_in_train_mode_forwards():
    # PyTorch's semantics: the power iteration runs in train-mode forwards (with or
    # without a graph); eval mode, NumPy inference and sigma() leave u alone.
    sn = nn.spectral_norm(nn.Linear(6, 4, seed=0), seed=1)
    x = np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32)
    u0 = sn.state_dict()["u"]
    y1 = sn(x)  # NumPy in: inference, no running state moves
    sn.sigma()
    sn.normalized_weight()
    np.testing.assert_array_equal(sn.state_dict()["u"], u0)
    sn.eval()
    np.testing.assert_array_equal(sn(cgan.tensor(x)).numpy(), y1)
    np.testing.assert_array_equal(sn.state_dict()["u"], u0)
    sn.train()
    with cgan.no_grad():
        sn(cgan.tensor(x))  # train-mode forward, no graph: u advances
    u1 = sn.state_dict()["u"]
    assert not np.array_equal(u1, u0)
    sn(cgan.tensor(x))
    assert not np.array_equal(sn.state_dict()["u"], u1)
    # MLP with spectral_norm=True behaves the same.
    m = nn.MLP(6, [5], 1, spectral_norm=True, seed=0)
    us = {k: v for k, v in m.state_dict().items() if k.endswith(".u")}
    assert set(us) == {"0.u", "2.u"}
    m(x)
    m.eval()
    m(cgan.tensor(x))
    for k, v in us.items():
        np.testing.assert_array_equal(m.state_dict()[k], v)


def test_spectral_norm_gradient_matches_finite_differences():
    # Converged u: many power iterations per training forward and a spectral gap. Then
    # the implementation's gradient (u, v held fixed: d sigma/dW = u v^T) is the exact
    # gradient of f(W, b, x) = sum(c * (x @ (W / sigma_max(W))^T + b)), which the finite
    # differences evaluate with sigma_max from numpy.linalg.svd (independent of u).
    W = _weight_with_spectrum(4, 6, [2.0, 1.0, 0.7, 0.3], seed=3)
    rng = np.random.default_rng(5)
    b0 = rng.normal(size=4)
    x = rng.normal(size=(5, 6))
    c = rng.normal(size=(5, 4))
    sn = nn.spectral_norm(nn.Linear(6, 4, seed=0), power_iterations=100, seed=1).astype("float64")
    _set_weight(sn, W, b0)

    def f(Wm, bm, xm):
        s = np.linalg.svd(Wm, compute_uv=False)[0]
        return float(np.sum(c * (xm @ (Wm / s).T + bm)))

    xt = cgan.tensor(x, requires_grad=True)
    y = sn(xt)
    (y * cgan.tensor(c)).sum().backward()
    gW = sn.module.weight.grad.numpy()
    gb = sn.module.bias.grad.numpy()
    gx = xt.grad.numpy()
    assert sn.sigma() == pytest.approx(2.0, rel=1e-12)

    h = 1e-6

    def fd(fun, a):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            ap, am = a.copy(), a.copy()
            ap[idx] += h
            am[idx] -= h
            g[idx] = (fun(ap) - fun(am)) / (2 * h)
        return g

    np.testing.assert_allclose(gW, fd(lambda a: f(a, b0, x), W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, fd(lambda a: f(W, a, x), b0), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gx, fd(lambda a: f(W, b0, a), x), rtol=1e-6, atol=1e-8)
    # The gradient is not the naive one (which would ignore sigma's dependence on W).
    naive = (c.T @ x) / 2.0
    assert np.abs(gW - naive).max() > 1e-3


def test_spectral_norm_validation():
    with pytest.raises(ValueError):
        nn.spectral_norm(nn.Linear(3, 2, seed=0), power_iterations=0)
    sn = nn.spectral_norm(nn.Linear(3, 2, seed=0), seed=0)
    assert sn.in_features == 3 and sn.out_features == 2
    assert [n for n, _ in sn.named_parameters()] == ["module.weight", "module.bias"]
    assert [n for n, _ in sn.named_buffers()] == ["u"]
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        sn(np.zeros((1, 2), np.float32))


def test_astype_round_trip_keeps_values():
    m = nn.MLP(3, [4], 2, spectral_norm=True, seed=0)
    sd32 = m.state_dict()
    m.astype(np.float64)
    assert m.dtype == np.float64
    assert all(v.dtype == np.float64 for v in m.state_dict().values())
    m.astype("float32")
    _assert_sd_equal(m.state_dict(), sd32)
    with pytest.raises(TypeError):
        m.astype("int32")


def test_wgan_gp_training_loop_with_backward_does_not_crash():
    """Regression: Tensor.backward() must not read graph nodes freed when the graph is
    released (cpp/autograd/engine.cpp: the gradient map is keyed by raw node pointers).
    The double-backward loop below crashed (SIGSEGV) in every run; it runs in a
    subprocess so that a crash fails this test instead of killing the test session."""
    import os
    import subprocess
    import sys
    code = """
import numpy as np, cgan
m = cgan.nn.MLP(2, [64, 64, 64], 1, seed=0)
params = m.parameters()
x = np.random.default_rng(0).normal(size=(64, 2)).astype(np.float32)
for i in range(300):
    for p in params:
        p.grad = None
    xi = cgan.tensor(x, requires_grad=True)
    out = m(xi)
    (g,) = cgan.grad(out.sum(), xi, create_graph=True)
    gp = ((cgan.ops.row_norm(g) - 1.0) ** 2).mean()
    (out.mean() + 10.0 * gp).backward()
    assert all(p.grad is not None for p in params)
print("ok")
"""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", (r.returncode, r.stderr[-2000:])


def test_shared_layer_parameters_listed_once():
    lin = nn.Linear(3, 3, seed=0)
    s = nn.Sequential(lin, nn.Tanh(), lin)
    assert [n for n, _ in s.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    ps = s.parameters()
    assert len(ps) == 2  # as torch: each parameter once
    assert s.num_parameters() == 12
    # One SGD step moves the shared weight once: w - lr * (total gradient).
    w0 = lin.weight.numpy().copy()
    x = cgan.tensor(np.ones((2, 3), np.float32))
    s(x).sum().backward()
    gw = lin.weight.grad.numpy().copy()
    cgan.optim.SGD(ps, lr=0.1).step()
    np.testing.assert_allclose(lin.weight.numpy(), w0 - 0.1 * gw, rtol=1e-6, atol=1e-7)
