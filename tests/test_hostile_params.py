"""No sentinel values: every public parameter is valid (and used as given) or refused.

A refusal is a ValueError (a wrong value: negative, zero, NaN, inf, out of range) or a
TypeError (a wrong kind: bool for a number, string, None, -1 for a flag) whose message
names the parameter; the object involved is left as it was. Modules' parameters (the
nn redesign) are in test_hostile_nn.py.
"""
import json

import numpy as np
import pytest

import cgan

nan, inf = float("nan"), float("inf")
HUGE = 10**400  # no float64 holds it
BAD = (ValueError, TypeError)


def params():
    return cgan.nn.Linear(2, 2, seed=0).parameters()


# ---- ops -----------------------------------------------------------------------------------

X32 = np.array([44.0, -1.0], np.float32)


@pytest.mark.parametrize("call, name", [
    *[(lambda v=v: cgan.ops.leaky_relu(X32, v), "negative_slope")
      for v in (nan, inf, -inf, 1e308, True, None, "x", HUGE)],
    *[(lambda v=v: cgan.ops.elu(X32, v), "alpha") for v in (nan, inf, -inf, 1e300, False, None, "1")],
    *[(lambda v=v: cgan.ops.pow(X32, v), "p") for v in (True, None, "2", HUGE)],
    *[(lambda v=v: cgan.ops.clamp(X32, v, 1.0), "min") for v in (True, "0", HUGE, [0])],
    *[(lambda v=v: cgan.ops.clamp(X32, -1.0, v), "max") for v in (False, "0", HUGE)],
    (lambda: cgan.ops.clamp(X32, 1.0, -1.0), "min"),
])
def test_op_parameters_are_refused_by_name(call, name):
    with pytest.raises(BAD, match=name):
        call()


@pytest.mark.parametrize("slope", [-0.5, 0.0, 1.0, 3.0, -1e30])
def test_any_finite_slope_is_used_as_given(slope):
    # torch's F.leaky_relu accepts any slope, negative ones included; so do we.
    x = np.array([2.0, -3.0, 0.0, -0.5])
    np.testing.assert_array_equal(cgan.ops.leaky_relu(x, slope).numpy(),
                                  np.where(x < 0, slope * x, x))


@pytest.mark.parametrize("call, name", [
    (lambda t: t.sum(axis=2**63), "axis"),
    (lambda t: t.sum(axis="0"), "axis"),
    (lambda t: t.sum(axis=1.0), "axis"),
    (lambda t: t.sum(axis=True), "axis"),
    (lambda t: t.mean(axis=-3), "axis"),
    (lambda t: t.sum(keepdims="yes"), "keepdims"),
    (lambda t: t.mean(keepdims=1), "keepdims"),
    (lambda t: cgan.ops.sum(t, axis=np.float64(0)), "axis"),
    (lambda t: t.reshape([2**63]), "shape"),
    (lambda t: t.reshape("22"), "shape"),
    (lambda t: t.reshape([2.0, 2]), "shape"),
    (lambda t: cgan.ops.slice(t, 0, 2**64), "end"),
    (lambda t: cgan.ops.slice(t, "0", 1), "begin"),
    (lambda t: cgan.ops.matmul(t, t, transpose_a=1), "transpose_a"),
    (lambda t: cgan.ops.matmul(t, t, transpose_b="no"), "transpose_b"),
    (lambda t: t.backward(retain_graph="yes"), "retain_graph"),
    (lambda t: t.sum().backward(retain_graph=-1), "retain_graph"),
    (lambda t: t.sum().backward(create_graph=None), "create_graph"),
    (lambda t: cgan.grad([t.sum()], [t], allow_unused=2), "allow_unused"),
    (lambda t: cgan.grad([t.sum()], [t], create_graph="yes"), "create_graph"),
    (lambda t: t.requires_grad_(-1), "requires_grad"),
    (lambda t: cgan.tensor(np.ones(2), requires_grad=-1), "requires_grad"),
    (lambda t: cgan.tensor(np.ones(2), requires_grad=None), "requires_grad"),
    (lambda t: t + HUGE, "operand"),
    (lambda t: HUGE * t, "operand"),
    (lambda t: t ** "2", "exponent"),
    (lambda t: t ** HUGE, "exponent"),
    (lambda t: cgan.set_grad_enabled("no"), "mode"),
    (lambda t: cgan.set_flush_denormal(-1), "mode"),
])
def test_tensor_parameters_are_refused_by_name(call, name):
    t = cgan.tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(BAD, match=name):
        call(t)
    assert cgan.is_grad_enabled()


# ---- RNG -------------------------------------------------------------------------------------

@pytest.mark.parametrize("state, exc", [
    (np.array([nan, 1, 2, 3]), TypeError),              # float words (NaN cast to 0 before)
    (np.array([1.5, 1, 2, 3]), TypeError),
    (np.array([-1, 1, 2, 3]), ValueError),               # negative
    ([2**64, 1, 2, 3], ValueError),                      # beyond 64 bits
    (np.zeros(4, np.uint64), ValueError),                # all zero: xoshiro stays at 0
    (np.ones(3, np.uint64), ValueError),
    (np.ones((2, 2), np.uint64), ValueError),
    ("abcd", TypeError),
    ([True, 1, 2, 3], TypeError),
    (None, TypeError),
])
def test_rng_set_state_refuses_bad_words_and_keeps_its_state(state, exc):
    r = cgan.RNG(5)
    before = r.get_state()
    with pytest.raises(exc, match="state"):
        r.set_state(state)
    np.testing.assert_array_equal(r.get_state(), before)
    r.set_state([2**64 - 1, 0, 0, 1])  # any nonzero 64-bit words are fine
    assert r.get_state()[0] == 2**64 - 1


@pytest.mark.parametrize("call, name", [
    (lambda r: cgan.RNG(True), "seed"),
    (lambda r: cgan.RNG(1.5), "seed"),
    (lambda r: cgan.RNG(-1), "seed"),
    (lambda r: r.uniform([2], nan, 1.0), "low"),
    (lambda r: r.uniform([2], 0.0, inf), "high"),
    (lambda r: r.uniform([2], -1e308, 1e308), "high - low"),
    (lambda r: r.uniform([2], "0", 1), "low"),
    (lambda r: r.integers(0, 3), "n"),
    (lambda r: r.integers(5, -1), "size"),
    (lambda r: r.integers(5, 2.0), "size"),
    (lambda r: r.normal([2, "3"]), "shape"),
    (lambda r: r.normal(3), "shape"),
])
def test_rng_parameters_are_refused_by_name(call, name):
    r = cgan.RNG(0)
    with pytest.raises(BAD, match=name):
        call(r)


def test_gan_rng_state_is_all_or_nothing():
    G, D = cgan.nn.MLP(2, [4], 2, seed=0), cgan.nn.MLP(2, [4], 1, seed=1)
    gan = cgan.GAN(G, D, z_dim=2, seed=0)
    before = gan._core.get_rng_state()
    half_zero = before.copy()
    half_zero[4:] = 0  # the sampling half would be the all-zero state
    for bad in (half_zero, before.astype(np.float64), before[:7], np.append(before, 1)):
        with pytest.raises(BAD, match="(?i)rng state"):
            gan._core.set_rng_state(bad)
        np.testing.assert_array_equal(gan._core.get_rng_state(), before)


# ---- optimizers ------------------------------------------------------------------------------

OPTIMIZER_BAD = {
    "SGD": (lambda p, **kw: cgan.optim.SGD(p, **{"lr": 0.1, **kw}),
            {"lr": [nan, inf, -1, True, None, "x", HUGE],
             "momentum": [nan, inf, -0.5, True, "x"],
             "dampening": [nan, -inf, -1, False],
             "weight_decay": [nan, inf, -1, True, HUGE],
             "nesterov": [-1, 1, 0, "yes", None]}),
    "Adam": (lambda p, **kw: cgan.optim.Adam(p, **kw),
             {"lr": [nan, inf, -1, True, None, "x"],
              "betas": [(nan, 0.9), (0.5, inf), (1.0, 0.9), (-0.1, 0.9), (True, 0.9), "ab", (0.5,), None],
              "eps": [nan, inf, -1e-8, True],
              "weight_decay": [nan, inf, -1, False]}),
    "RMSprop": (lambda p, **kw: cgan.optim.RMSprop(p, **kw),
                {"lr": [nan, inf, -1, True],
                 "alpha": [nan, inf, 1.0, -0.1, True],
                 "eps": [nan, inf, -1, True],
                 "momentum": [nan, inf, -1, True],
                 "weight_decay": [nan, -1, True],
                 "centered": [-1, 1, 0, "yes", None, 2.0]}),
}
OPTIMIZER_CASES = [(kind, key, v) for kind, (_, table) in OPTIMIZER_BAD.items()
                   for key, vs in table.items() for v in vs]


@pytest.mark.parametrize("kind, key, value", OPTIMIZER_CASES,
                         ids=[f"{k}-{p}-{v!r}"[:60] for k, p, v in OPTIMIZER_CASES])
def test_optimizer_hyperparameters_are_refused_by_name(kind, key, value):
    build = OPTIMIZER_BAD[kind][0]
    with pytest.raises(BAD, match=key.rstrip("s") if key == "betas" else key):
        build(params(), **{key: value})


@pytest.mark.parametrize("value", [nan, inf, 0, -1, True, "x", None, HUGE])
def test_clip_and_lr_assignment_refuse_bad_values(value):
    p = params()
    before = [t.numpy().copy() for t in p]
    with pytest.raises(BAD, match="c"):
        cgan.optim.clip_(p, value)
    for t, b in zip(p, before):
        np.testing.assert_array_equal(t.numpy(), b)
    opt = cgan.optim.SGD(p, lr=0.1)
    if value == 0:
        opt.lr = 0  # lr = 0 is a valid (frozen) learning rate
        return
    with pytest.raises(BAD, match="lr"):
        opt.lr = value
    assert opt.lr == 0.1


def _stepped(kind, **kw):
    m = cgan.nn.Linear(2, 2, seed=0)
    opt = getattr(cgan.optim, kind)(m.parameters(), lr=0.01, **kw)
    (m(cgan.tensor(np.ones((3, 2), np.float32))) ** 2).mean().backward()
    opt.step()
    return m, opt


@pytest.mark.parametrize("kind, key, kw", [
    ("Adam", "0.exp_avg_sq", {}),
    ("Adam", "1.exp_avg_sq", {}),
    ("RMSprop", "0.square_avg", {}),
    ("RMSprop", "1.square_avg", {"centered": True, "momentum": 0.5}),
])
def test_negative_second_moments_are_refused(kind, key, kw):
    # A negative running mean of squares makes sqrt NaN at the next step: weights turn NaN.
    m, opt = _stepped(kind, **kw)
    good = opt.state_dict()
    bad = dict(good)
    bad[key] = -np.abs(good[key]) - 1e-3
    with pytest.raises(ValueError, match=key.split(".")[1]):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    for k in good:
        np.testing.assert_array_equal(after[k], good[k])
    opt.step()
    assert all(np.isfinite(p.numpy()).all() for p in m.parameters())


def test_optimizer_state_must_be_a_dict():
    _, opt = _stepped("Adam")
    with pytest.raises(TypeError, match="state"):
        opt.load_state_dict([("steps", 1)])


# ---- GAN objective options -------------------------------------------------------------------

OPTION_BAD = [
    ("wgan-gp", "lambda_gp", [inf, -inf, nan, -1, True, HUGE, "10"]),
    ("wgan-gp", "one_sided", [2, 0.5, -1, inf, nan]),
    ("dragan", "lambda_gp", [inf, nan, -1]),
    ("dragan", "perturb", [inf, nan, -0.5, True]),
    ("wgan", "clip", [inf, nan, 0, -0.01, True, HUGE]),
    ("lsgan", "a", [inf, -inf, nan, True]),
    ("lsgan", "b", [inf, nan]),
    ("lsgan", "c", [-inf, nan, False]),
    ("non-saturating", "label_smoothing", [inf, nan, 1.0, -0.1, True]),
    ("minimax", "label_smoothing", [inf]),
    ("ebgan", "margin", [inf, nan, 0, -1, True]),
    ("ebgan", "pt_weight", [inf, nan, -1, True]),
    ("ebgan", "code_layer", [-1, 0, 1.5, inf, nan, True, 2**70]),
    ("loss-sensitive", "lambda_ls", [inf, nan, -1, True]),
    ("loss-sensitive", "lambda_gp", [inf, nan, -1]),
    ("loss-sensitive", "lambda_real", [inf, nan, -1]),
    ("f-gan:jensen-shannon-weighted", "pi", [nan, inf, 0, 1, -0.5, True]),
]
OPTION_CASES = [(loss, key, v) for loss, key, vs in OPTION_BAD for v in vs]


def _gan(loss, **options):
    out = 2 if loss == "ebgan" else 1
    G = cgan.nn.MLP(2, [4], 2, seed=0)
    D = cgan.nn.MLP(2, [4], out, seed=1)
    return cgan.GAN(G, D, loss=loss, z_dim=2, seed=0, **options)


@pytest.mark.parametrize("loss, key, value", OPTION_CASES,
                         ids=[f"{lo}-{k}-{v!r}"[:60] for lo, k, v in OPTION_CASES])
def test_objective_options_are_refused_by_name(loss, key, value):
    with pytest.raises(ValueError, match=key):
        _gan(loss, **{key: value})
    with pytest.raises(ValueError, match=key):
        cgan.losses.get(loss, **{key: value}) if hasattr(cgan.losses, "get") else \
            cgan._core.losses.make(loss, **{key: value})


@pytest.mark.parametrize("loss, options", [
    ("wgan-gp", {"one_sided": True}), ("wgan-gp", {"one_sided": 0}),
    ("wgan-gp", {"lambda_gp": 0}), ("wgan", {"clip": 0.5}), ("lsgan", {"a": -1, "b": 1, "c": 0}),
    ("ebgan", {"code_layer": 1, "pt_weight": 0.1}), ("ebgan", {"margin": np.float32(2)}),
    ("f-gan:jensen-shannon-weighted", {"pi": 0.25}),
])
def test_valid_options_are_used_as_given(loss, options):
    gan = _gan(loss, **options)
    assert gan.options == options
    gan.fit(cgan.datasets.ring(64, seed=0), 2, 16, progress=False)


def test_ebgan_code_layer_default_is_the_middle_layer_not_a_sentinel():
    # Left out: the middle layer of D (n // 2); -1 is no longer a way to say "default".
    G = cgan.nn.MLP(2, [4], 2, seed=0)
    D = cgan.nn.MLP(2, [4, 3, 4], 2, seed=1)  # layers: 7 (Linear/act pairs + out)
    a = cgan.GAN(G, D, loss="ebgan", z_dim=2, seed=0, pt_weight=0.5)
    a.step(cgan.datasets.ring(16, seed=0))


# ---- checkpoints that carry sentinels --------------------------------------------------------

@pytest.fixture
def checkpoint(tmp_path):
    G, D = cgan.nn.MLP(2, [8], 2, seed=0), cgan.nn.MLP(2, [8], 1, seed=1)
    gan = cgan.GAN(G, D, loss="wgan", z_dim=2, seed=0)  # RMSprop by default
    gan.fit(cgan.datasets.ring(64, seed=0), 3, 16, progress=False)
    path = tmp_path / "good.npz"
    gan.save(path)
    return path


def _rewrite(src, dst, change):
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    np.savez(dst, **arrays)


def _config(fn):
    def change(arrays):
        cfg = json.loads(str(arrays["config"]))
        fn(cfg)
        arrays["config"] = np.array(json.dumps(cfg))
    return change


@pytest.mark.parametrize("change", [
    _config(lambda c: c["d_optimizer"].update(centered=-1)),
    _config(lambda c: c["d_optimizer"].update(centered=1)),
    _config(lambda c: c["d_optimizer"].update(alpha=float("inf"))),
    _config(lambda c: c["g_optimizer"].update(lr=-1)),
    _config(lambda c: c["options"].update(clip=float("inf"))),
    _config(lambda c: c["options"].update(clip=True)),
    lambda a: a.update({"d_opt/0.square_avg": -np.abs(a["d_opt/0.square_avg"]) - 1}),
    lambda a: a.update({"rng": np.array([np.nan] * 8)}),
    lambda a: a.update({"rng": a["rng"].astype(np.int64) * -1}),
], ids=["centered=-1", "centered=1", "alpha=inf", "lr=-1", "clip=inf", "clip=True",
        "negative square_avg", "NaN rng", "negative rng"])
def test_checkpoints_with_sentinels_or_bad_states_are_refused(change, checkpoint, tmp_path):
    bad = tmp_path / "bad.npz"
    _rewrite(checkpoint, bad, change)
    with pytest.raises(ValueError, match="bad.npz"):
        cgan.GAN.load(bad)
    cgan.GAN.load(checkpoint)  # the good one still loads
