"""Tests of cgan.optim: trajectories against the textbook update formulas (NumPy) and
against torch.optim, state round trips, validation, skipping and clipping."""
import math

import numpy as np
import pytest

import cgan
from cgan import optim

SHAPES = [(3, 4), (4,), (200, 201)]  # the last one exceeds the parallel threshold
STEPS = 20


def _init(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=s) for s in SHAPES]


def _grad(i, w):
    """A nonlinear gradient field (so trajectories depend on every detail of the update)."""
    d = w - 0.3 * (i + 1)
    return d * d * d + 0.5 * w + 0.1 * np.sin(3 * w)


def _params(values):
    return [cgan.tensor(v.copy(), requires_grad=True) for v in values]


def _set_grads(ps):
    for i, p in enumerate(ps):
        p.grad = _grad(i, p.numpy().copy())


def run_cgan(make, steps=STEPS, values=None):
    ps = _params(values if values is not None else _init())
    opt = make(ps)
    for _ in range(steps):
        _set_grads(ps)
        opt.step()
    return [p.numpy().copy() for p in ps], opt


# ---- textbook formulas in NumPy ----------------------------------------------------------------

def ref_sgd(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, steps=STEPS):
    ws = _init()
    bufs = [None] * len(ws)
    for _ in range(steps):
        for i, w in enumerate(ws):
            d = _grad(i, w) + weight_decay * w
            if momentum:
                bufs[i] = d.copy() if bufs[i] is None else momentum * bufs[i] + (1 - dampening) * d
                d = d + momentum * bufs[i] if nesterov else bufs[i]
            ws[i] = w - lr * d
    return ws


def ref_adam(lr, b1, b2, eps, weight_decay=0.0, steps=STEPS):
    ws = _init()
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    for t in range(1, steps + 1):
        for i, w in enumerate(ws):
            g = _grad(i, w) + weight_decay * w
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            mhat = m[i] / (1 - b1 ** t)
            vhat = v[i] / (1 - b2 ** t)
            ws[i] = w - lr * mhat / (np.sqrt(vhat) + eps)
    return ws


def ref_rmsprop(lr, alpha, eps, momentum=0.0, centered=False, weight_decay=0.0, steps=STEPS):
    ws = _init()
    sq = [np.zeros_like(w) for w in ws]
    ga = [np.zeros_like(w) for w in ws]
    buf = [np.zeros_like(w) for w in ws]
    for _ in range(steps):
        for i, w in enumerate(ws):
            g = _grad(i, w) + weight_decay * w
            sq[i] = alpha * sq[i] + (1 - alpha) * g * g
            if centered:
                ga[i] = alpha * ga[i] + (1 - alpha) * g
                avg = np.sqrt(sq[i] - ga[i] ** 2) + eps
            else:
                avg = np.sqrt(sq[i]) + eps
            if momentum:
                buf[i] = momentum * buf[i] + g / avg
                ws[i] = w - lr * buf[i]
            else:
                ws[i] = w - lr * g / avg
    return ws


# (name, cgan constructor, NumPy reference, torch constructor)
CASES = [
    ("sgd", lambda p: optim.SGD(p, lr=0.01), lambda: ref_sgd(0.01),
     lambda t, p: t.optim.SGD(p, lr=0.01)),
    ("sgd_momentum", lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
     lambda: ref_sgd(0.01, momentum=0.9), lambda t, p: t.optim.SGD(p, lr=0.01, momentum=0.9)),
    ("sgd_dampening", lambda p: optim.SGD(p, lr=0.01, momentum=0.8, dampening=0.3),
     lambda: ref_sgd(0.01, momentum=0.8, dampening=0.3),
     lambda t, p: t.optim.SGD(p, lr=0.01, momentum=0.8, dampening=0.3)),
    ("sgd_nesterov", lambda p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
     lambda: ref_sgd(0.01, momentum=0.9, nesterov=True),
     lambda t, p: t.optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True)),
    ("sgd_wd", lambda p: optim.SGD(p, lr=0.01, momentum=0.5, weight_decay=0.1),
     lambda: ref_sgd(0.01, momentum=0.5, weight_decay=0.1),
     lambda t, p: t.optim.SGD(p, lr=0.01, momentum=0.5, weight_decay=0.1)),
    ("adam", lambda p: optim.Adam(p, lr=0.05), lambda: ref_adam(0.05, 0.9, 0.999, 1e-8),
     lambda t, p: t.optim.Adam(p, lr=0.05)),
    ("adam_gan", lambda p: optim.Adam(p, lr=2e-2, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.01),
     lambda: ref_adam(2e-2, 0.5, 0.9, 1e-6, weight_decay=0.01),
     lambda t, p: t.optim.Adam(p, lr=2e-2, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.01)),
    ("adam_b1_zero", lambda p: optim.Adam(p, lr=1e-2, betas=(0.0, 0.99)),
     lambda: ref_adam(1e-2, 0.0, 0.99, 1e-8),
     lambda t, p: t.optim.Adam(p, lr=1e-2, betas=(0.0, 0.99))),
    ("rmsprop", lambda p: optim.RMSprop(p, lr=1e-3), lambda: ref_rmsprop(1e-3, 0.99, 1e-8),
     lambda t, p: t.optim.RMSprop(p, lr=1e-3)),
    ("rmsprop_momentum", lambda p: optim.RMSprop(p, lr=1e-3, alpha=0.9, momentum=0.8),
     lambda: ref_rmsprop(1e-3, 0.9, 1e-8, momentum=0.8),
     lambda t, p: t.optim.RMSprop(p, lr=1e-3, alpha=0.9, momentum=0.8)),
    ("rmsprop_centered", lambda p: optim.RMSprop(p, lr=1e-3, centered=True, weight_decay=0.05),
     lambda: ref_rmsprop(1e-3, 0.99, 1e-8, centered=True, weight_decay=0.05),
     lambda t, p: t.optim.RMSprop(p, lr=1e-3, centered=True, weight_decay=0.05)),
    ("rmsprop_centered_momentum",
     lambda p: optim.RMSprop(p, lr=1e-3, alpha=0.95, eps=1e-6, momentum=0.5, centered=True),
     lambda: ref_rmsprop(1e-3, 0.95, 1e-6, momentum=0.5, centered=True),
     lambda t, p: t.optim.RMSprop(p, lr=1e-3, alpha=0.95, eps=1e-6, momentum=0.5, centered=True)),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trajectory_matches_textbook(case):
    _, make, ref, _ = case
    got, opt = run_cgan(make)
    assert opt.steps == STEPS
    want = ref()
    start = _init()
    for g, w, s in zip(got, want, start):
        assert np.abs(g - s).max() > 1e-3  # the parameters did move
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_trajectory_matches_torch(case):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    _, make, _, make_torch = case
    got, _ = run_cgan(make)
    tp = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in _init()]
    topt = make_torch(torch, tp)
    for _ in range(STEPS):
        for i, p in enumerate(tp):
            p.grad = torch.from_numpy(_grad(i, p.detach().numpy().copy()))
        topt.step()
    for g, p in zip(got, tp):
        np.testing.assert_allclose(g, p.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_tiny_mlp_training_matches_torch():
    """End to end: autograd gradients of a small float64 MLP loss + Adam, against torch."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    m = cgan.nn.MLP(3, [8], 1, activation="tanh", seed=0).astype("float64")
    sd = m.state_dict()
    rng = np.random.default_rng(0)
    x, yt = rng.normal(size=(16, 3)), rng.normal(size=(16, 1))
    opt = optim.Adam(m.parameters(), lr=0.01, betas=(0.5, 0.999))
    W1, b1, W2, b2 = (torch.tensor(sd[k], requires_grad=True) for k in ("0.weight", "0.bias", "2.weight", "2.bias"))
    topt = torch.optim.Adam([W1, b1, W2, b2], lr=0.01, betas=(0.5, 0.999))
    xc, ytc, xtt, ytt = cgan.tensor(x), cgan.tensor(yt), torch.tensor(x), torch.tensor(yt)
    for _ in range(STEPS):
        opt.zero_grad()
        (((m(xc) - ytc) ** 2).mean()).backward()
        opt.step()
        topt.zero_grad()
        ((torch.tanh(xtt @ W1.T + b1) @ W2.T + b2 - ytt) ** 2).mean().backward()
        topt.step()
    got = m.state_dict()
    for k, t in zip(("0.weight", "0.bias", "2.weight", "2.bias"), (W1, b1, W2, b2)):
        np.testing.assert_allclose(got[k], t.detach().numpy(), rtol=1e-9, atol=1e-12)


# ---- state_dict -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_state_dict_resume_is_exact(case):
    _, make, _, _ = case
    full, _ = run_cgan(make, steps=20)
    half, opt = run_cgan(make, steps=10)
    sd = opt.state_dict()
    assert sd["steps"] == 10
    # A restored copy: fresh parameters with the saved values, a fresh optimizer.
    ps = _params(half)
    opt2 = make(ps)
    opt2.load_state_dict(sd)
    assert opt2.steps == 10
    for _ in range(10):
        _set_grads(ps)
        opt2.step()
    for a, b in zip(full, ps):
        np.testing.assert_array_equal(a, b.numpy())
    # The state_dict holds copies: the running optimizer did not change it.
    sd_again = opt2.state_dict()
    assert sd_again["steps"] == 20
    for k in sd:
        if k != "steps":
            assert not np.array_equal(sd[k], sd_again[k])


def test_state_dict_contents_and_bad_loads():
    ps = _params(_init())
    opt = optim.Adam(ps, lr=0.1)
    _set_grads(ps)
    opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"steps"} | {f"{i}.{n}" for i in range(3) for n in ("exp_avg", "exp_avg_sq", "step")}
    assert all(sd[f"{i}.step"] == 1 for i in range(3))
    assert sd["0.exp_avg"].shape == SHAPES[0]
    g0 = _grad(0, _init()[0])
    np.testing.assert_allclose(sd["0.exp_avg"], 0.1 * g0, rtol=1e-12)

    for bad in ({**sd, "0.exp_avg": np.zeros((2, 2))},
                {**sd, "0.momentum_buffer": np.zeros(SHAPES[0])},
                {**sd, "7.exp_avg": np.zeros(SHAPES[0])},
                {**sd, "x.exp_avg": np.zeros(SHAPES[0])},
                {**sd, "steps": -1},
                {**sd, "1.step": np.array(2.0)},  # more than the global step count
                {**sd, "1.step": np.array(0.5)}):
        with pytest.raises(ValueError):
            opt.load_state_dict(bad)
        after = opt.state_dict()
        assert after["steps"] == 1
        for k in sd:
            np.testing.assert_array_equal(after[k], sd[k])


# ---- validation --------------------------------------------------------------------------------------

def test_bad_hyperparameters_raise():
    p = [cgan.tensor(np.zeros(3), requires_grad=True)]
    bad = [
        lambda: optim.SGD(p, lr=-0.1),
        lambda: optim.SGD(p, lr=float("nan")),
        lambda: optim.SGD(p, lr=float("inf")),
        lambda: optim.SGD(p, lr=0.1, momentum=-0.5),
        lambda: optim.SGD(p, lr=0.1, weight_decay=-1),
        lambda: optim.SGD(p, lr=0.1, nesterov=True),  # needs momentum
        lambda: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
        lambda: optim.Adam(p, lr=-1e-3),
        lambda: optim.Adam(p, lr=float("nan")),
        lambda: optim.Adam(p, betas=(1.0, 0.999)),
        lambda: optim.Adam(p, betas=(0.9, 1.0)),
        lambda: optim.Adam(p, betas=(-0.1, 0.999)),
        lambda: optim.Adam(p, betas=(0.9, float("nan"))),
        lambda: optim.Adam(p, betas=(0.9,)),
        lambda: optim.Adam(p, eps=-1e-8),
        lambda: optim.Adam(p, weight_decay=float("nan")),
        lambda: optim.RMSprop(p, lr=-1),
        lambda: optim.RMSprop(p, alpha=1.0),
        lambda: optim.RMSprop(p, eps=float("nan")),
        lambda: optim.RMSprop(p, momentum=-0.1),
        lambda: optim.SGD([], lr=0.1),
        lambda: optim.Adam([]),
    ]
    for i, f in enumerate(bad):
        with pytest.raises(ValueError):
            f()
            pytest.fail(f"case {i} did not raise")
    with pytest.raises(TypeError):
        optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(TypeError):
        optim.Adam([p[0], "w"])
    # The same tensor twice would be updated twice per step.
    with pytest.raises(ValueError, match="once"):
        optim.Adam([p[0], p[0]])
    # A non-leaf tensor cannot be optimised.
    with pytest.raises(ValueError, match="leaf"):
        optim.SGD([p[0] * 2], lr=0.1)
    opt = optim.SGD(p, lr=0.1)
    for v in (-1.0, float("nan")):
        with pytest.raises(ValueError):
            opt.lr = v
    assert opt.lr == 0.1
    opt.lr = 0.05
    assert opt.lr == 0.05
    # A generator of parameters (module.parameters() style) is accepted.
    assert len(optim.Adam(x for x in p).params) == 1
    # Hyperparameters are readable.
    a = optim.Adam(p, lr=0.01, betas=(0.5, 0.9), eps=1e-7, weight_decay=0.1)
    assert a.betas == (0.5, 0.9) and a.eps == 1e-7 and a.weight_decay == 0.1


def test_params_without_grad_are_skipped():
    for make in (lambda p: optim.SGD(p, lr=0.1, momentum=0.9), lambda p: optim.Adam(p, lr=0.1),
                 lambda p: optim.RMSprop(p, lr=0.1, centered=True)):
        ps = _params(_init())
        opt = make(ps)
        ps[0].grad = _grad(0, ps[0].numpy().copy())
        before = [p.numpy().copy() for p in ps]
        opt.step()
        assert not np.array_equal(ps[0].numpy(), before[0])
        for p, b in zip(ps[1:], before[1:]):
            np.testing.assert_array_equal(p.numpy(), b)
        opt.zero_grad()
        assert all(p.grad is None for p in ps)
        opt.step()  # no gradients at all: nothing changes
        for p, b in zip(ps[1:], before[1:]):
            np.testing.assert_array_equal(p.numpy(), b)


def test_adam_skipped_param_bias_correction_like_torch():
    """A parameter that first gets a gradient at step 2 starts its own bias correction
    at 1 in torch (per-parameter step count)."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    vals = _init()[:2]
    ps = _params(vals)
    tp = [torch.tensor(v, requires_grad=True) for v in vals]
    opt, topt = optim.Adam(ps, lr=0.1), torch.optim.Adam(tp, lr=0.1)
    for step in range(5):
        for i, (p, t) in enumerate(zip(ps, tp)):
            if i == 1 and step == 0:
                p.grad, t.grad = None, None
                continue
            g = _grad(i, p.numpy().copy())
            p.grad, t.grad = g, torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ps, tp):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_sgd_momentum_skipped_param_first_buffer_like_torch():
    """torch sets a parameter's momentum buffer to its first gradient, whenever that is."""
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    vals = _init()[:2]
    ps = _params(vals)
    tp = [torch.tensor(v, requires_grad=True) for v in vals]
    kw = dict(lr=0.05, momentum=0.9, dampening=0.5)
    opt, topt = optim.SGD(ps, **kw), torch.optim.SGD(tp, **kw)
    for step in range(4):
        for i, (p, t) in enumerate(zip(ps, tp)):
            if i == 1 and step < 2:
                p.grad, t.grad = None, None
                continue
            g = _grad(i, p.numpy().copy())
            p.grad, t.grad = g, torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, t in zip(ps, tp):
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_resume_from_state_without_per_param_steps():
    """A state dict without '<i>.step' entries (older format) resumes with the global count."""
    full, _ = run_cgan(lambda p: optim.Adam(p, lr=0.05), steps=20)
    half, opt = run_cgan(lambda p: optim.Adam(p, lr=0.05), steps=10)
    sd = {k: v for k, v in opt.state_dict().items() if not k.endswith(".step")}
    ps = _params(half)
    opt2 = optim.Adam(ps, lr=0.05)
    opt2.load_state_dict(sd)
    for _ in range(10):
        _set_grads(ps)
        opt2.step()
    for a, b in zip(full, ps):
        np.testing.assert_array_equal(a, b.numpy())


def test_float32_params_and_mixed_dtype_grad():
    p = cgan.tensor(np.ones(5, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.full(5, 2.0)  # converted to the parameter's dtype
    opt.step()
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.numpy(), 0.9, rtol=1e-6)


def test_clip_keeps_values_in_range():
    rng = np.random.default_rng(0)
    vals = [rng.normal(size=(50, 60)) * 0.05, rng.normal(size=(7,)).astype(np.float32)]
    ps = _params(vals)
    optim.clip_(ps, 0.01)
    for p, v in zip(ps, vals):
        w = p.numpy()
        assert w.min() >= -0.01 and w.max() <= 0.01
        np.testing.assert_array_equal(w, np.clip(v, -0.01, 0.01).astype(v.dtype))
    optim.clip_(ps[0], 0.005)  # a single tensor is accepted
    assert np.abs(ps[0].numpy()).max() <= 0.005
    for c in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            optim.clip_(ps, c)
    m = cgan.nn.MLP(2, [4], 1, seed=0)
    optim.clip_(m.parameters(), 0.1)
    assert all(np.abs(v).max() <= 0.1 for v in m.state_dict().values())


def test_zero_lr_changes_nothing_but_state():
    ps = _params(_init())
    opt = optim.Adam(ps, lr=0.0)
    _set_grads(ps)
    opt.step()
    for p, v in zip(ps, _init()):
        np.testing.assert_array_equal(p.numpy(), v)
    assert opt.steps == 1
    assert math.isfinite(float(np.abs(opt.state_dict()["0.exp_avg"]).sum()))


def test_optimizer_built_before_astype_keeps_working():
    m = cgan.nn.MLP(2, [4], 1, seed=0)
    opt = optim.Adam(m.parameters(), lr=0.1)
    m.astype("float64")
    before = m.state_dict()
    x = cgan.tensor(np.ones((3, 2)))
    (m(x) ** 2).mean().backward()
    opt.step()
    after = m.state_dict()
    assert all(v.dtype == np.float64 for v in after.values())
    assert all(not np.array_equal(after[k], before[k]) for k in before)


def test_astype_after_building_the_optimizer_keeps_its_moments():
    m = cgan.nn.MLP(2, [4], 1, seed=0)
    opt = cgan.optim.Adam(m.parameters(), lr=1e-2, betas=(0.9, 0.99))
    x = np.random.default_rng(0).standard_normal((8, 2))
    for _ in range(3):
        opt.zero_grad()
        m(cgan.tensor(x.astype(np.float32))).mean().backward()
        opt.step()
    before = opt.state_dict()["0.exp_avg"].astype(np.float64)
    m.astype("float64")
    opt.zero_grad()
    m(cgan.tensor(x)).mean().backward()
    g = m.parameters()[0].grad.numpy()
    opt.step()
    after = opt.state_dict()["0.exp_avg"]
    assert after.dtype == np.float64
    np.testing.assert_allclose(after, 0.9 * before + 0.1 * g, rtol=1e-6)
