"""The training-loop tips of issue 13, each against an independent NumPy/PyTorch
computation: PacGAN packing, generator EMA, learning-rate schedules, historical
averaging, feature matching, EBGAN pretraining."""
import numpy as np
import pytest

import cgan
from cgan import nn, optim


def _mlp(i, o, seed, hidden=(8,)):
    return nn.MLP(i, list(hidden), o, activation="relu", seed=seed)


def _data(n=64, d=2, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


class Recorder(nn.Module):
    """A Linear discriminator that keeps a copy of every input it is given."""

    def __init__(self, d):
        super().__init__()
        self.fc = nn.Linear(d, 1, seed=0)
        self.seen = []

    def forward(self, x):
        self.seen.append(x.numpy().copy())
        return self.fc(x)


# ---- PacGAN --------------------------------------------------------------------------------

def test_pack_feeds_d_the_reshaped_batch():
    D = Recorder(3 * 2)
    gan = cgan.GAN(_mlp(2, 2, 1), D, loss="nsgan", z_dim=2, pack=3, seed=0)
    real = _data(12)
    gan.step(real)
    packed = [x for x in D.seen if x.shape == (4, 6)]
    assert packed, [x.shape for x in D.seen]
    assert any(np.array_equal(x, real.reshape(4, 6)) for x in packed)
    # rows i*3 .. i*3+2 side by side: sample 4 is columns 2:4 of packed row 1
    assert np.array_equal(real.reshape(4, 6)[1, 2:4], real[4])
    D.seen.clear()
    x = _data(9, seed=1)
    out = gan.discriminate(x)
    assert out.shape == (3, 1)
    assert np.array_equal(D.seen[-1], x.reshape(3, 6))


def test_pack_images_concatenate_channels():
    G = nn.Sequential(nn.Linear(4, 2 * 3 * 3, seed=0), nn.Unflatten((2, 3, 3)))
    D = nn.Sequential(nn.Conv2d(2 * 2, 1, 3, seed=0), nn.Flatten())
    gan = cgan.GAN(G, D, loss="nsgan", z_dim=4, pack=2, seed=0)
    x = np.random.default_rng(0).normal(size=(6, 2, 3, 3)).astype(np.float32)
    assert np.allclose(gan.discriminate(x), D(x.reshape(3, 4, 3, 3)), atol=1e-6)
    gan.fit(x, steps=2, batch_size=4, progress=False)


def test_pack_errors():
    with pytest.raises(ValueError, match=r"must take \(N, 6\) \(3 \* d features\)"):
        cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), z_dim=2, pack=3)
    G = nn.Sequential(nn.Linear(4, 2 * 3 * 3, seed=0), nn.Unflatten((2, 3, 3)))
    D = nn.Sequential(nn.Conv2d(2, 1, 3, seed=0), nn.Flatten())
    with pytest.raises(ValueError, match=r"C channels"):
        cgan.GAN(G, D, z_dim=4, pack=2)
    for bad, err in ((0, ValueError), (1.5, ValueError), ("2", TypeError)):
        with pytest.raises(err, match="pack"):
            cgan.GAN(_mlp(2, 2, 1), _mlp(4, 1, 2), z_dim=2, pack=bad)
    gan = cgan.GAN(_mlp(2, 2, 1), _mlp(4, 1, 2), z_dim=2, pack=2)
    before = [p.numpy().copy() for p in gan.discriminator.parameters()]
    with pytest.raises(ValueError, match="batch_size is 7, not a multiple of pack=2"):
        gan.fit(_data(), steps=1, batch_size=7, progress=False)
    with pytest.raises(ValueError, match="not a multiple of pack=2"):
        gan.step(_data(5))
    assert gan.steps_done == 0
    assert all(np.array_equal(a, p.numpy()) for a, p in zip(before, gan.discriminator.parameters()))
    G = nn.MLP(2, [8], 2, num_classes=3, seed=0)
    D = nn.MLP(4, [8], 1, num_classes=3, seed=1)
    with pytest.raises(ValueError, match="conditional"):
        cgan.GAN(G, D, z_dim=2, pack=2)


def test_pack_saved(tmp_path):
    gan = cgan.GAN(_mlp(2, 2, 1), _mlp(4, 1, 2), z_dim=2, pack=2, seed=3)
    gan.fit(_data(), steps=3, batch_size=8, progress=False)
    back = cgan.GAN.load(gan.save(tmp_path / "p.npz"))
    assert back.pack == 2
    gan.fit(_data(), steps=2, batch_size=8, progress=False)
    back.fit(_data(), steps=2, batch_size=8, progress=False)
    assert np.array_equal(gan.sample(5, seed=1), back.sample(5, seed=1))


# ---- generator EMA -------------------------------------------------------------------------

def _params(m):
    return [p.numpy().copy() for p in m.parameters()]


def test_ema_update_and_sampling():
    G = _mlp(2, 2, 1)
    decay = 0.9
    gan = cgan.GAN(G, _mlp(2, 1, 2), loss="nsgan", z_dim=2, ema=decay, seed=0)
    avg = [a.astype(np.float64) for a in _params(G)]
    for n in range(3):  # avg = d avg + (1 - d) theta after every G update, rounded once
        gan.step(_data(16))
        d = min(decay, (1 + n) / (10 + n))  # the warm-up: 0.1, 0.18, 0.25
        avg = [(d * a + (1 - d) * t.astype(np.float64)).astype(np.float32).astype(np.float64)
               for a, t in zip(avg, _params(G))]
        got = gan._core.get_tips_state()["ema"]
        assert all(np.array_equal(g, a.astype(np.float32)) for g, a in zip(got, avg))
    z = np.random.default_rng(1).normal(size=(5, 2)).astype(np.float32)
    own = _params(G)
    raw = gan.generate(z, ema=False)
    assert np.array_equal(raw, G(z))
    averaged = gan.generate(z)  # the default when EMA is on
    assert all(np.array_equal(a, b) for a, b in zip(own, _params(G)))  # G's weights put back
    for p, a in zip(G.parameters(), avg):
        p.numpy()[...] = a
    assert np.array_equal(averaged, G(z))
    assert not np.array_equal(averaged, raw)
    assert np.array_equal(gan.sample(4, seed=2), gan.sample(4, seed=2, ema=True))


def test_ema_errors():
    for bad, err in ((1.0, ValueError), (0, ValueError), (-0.5, ValueError), ("0.9", TypeError),
                     (True, TypeError)):
        with pytest.raises(err, match="ema"):
            cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), z_dim=2, ema=bad)
    gan = cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), z_dim=2)
    with pytest.raises(ValueError, match="keeps no weight average"):
        gan.sample(3, ema=True)
    assert gan.sample(3, seed=0).shape == (3, 2)


# ---- learning-rate schedules ---------------------------------------------------------------

def _torch_lrs(make, lr, n):
    torch = pytest.importorskip("torch")
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = make(torch.optim.lr_scheduler, opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    out.append(opt.param_groups[0]["lr"])
    return np.array(out)


@pytest.mark.parametrize("schedule, make", [
    (optim.LRSchedule("linear", total_steps=12, end_factor=0.1),
     lambda s, o: s.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=12)),
    (optim.LRSchedule("step", step_size=5, gamma=0.5), lambda s, o: s.StepLR(o, step_size=5, gamma=0.5)),
    (optim.LRSchedule("cosine", total_steps=16, eta_min=0.01),
     lambda s, o: s.CosineAnnealingLR(o, T_max=16, eta_min=0.01)),
    (optim.LRSchedule("constant"), lambda s, o: s.LambdaLR(o, lambda t: 1.0)),
])
def test_schedule_matches_torch(schedule, make):
    G, D = _mlp(2, 2, 1), _mlp(2, 1, 2)
    gan = cgan.GAN(G, D, z_dim=2, g_optimizer=optim.SGD(G.parameters(), lr=0.1),
                   d_optimizer=optim.SGD(D.parameters(), lr=0.1), lr_schedule=schedule, seed=0)
    n = 16
    seen = [gan.g_optimizer.lr]
    for _ in range(n):
        gan.step(_data(8))
        seen.append(gan.g_optimizer.lr)
    assert np.allclose(seen, _torch_lrs(make, 0.1, n), rtol=1e-12, atol=1e-15)
    assert gan.d_optimizer.lr == gan.g_optimizer.lr


def test_schedule_per_player_and_by_name():
    G, D = _mlp(2, 2, 1), _mlp(2, 1, 2)
    gan = cgan.GAN(G, D, z_dim=2, g_optimizer=optim.Adam(G.parameters(), lr=1e-3),
                   d_optimizer=optim.Adam(D.parameters(), lr=4e-3),
                   lr_schedule=("cosine", None), total_steps=4, seed=0)
    gan.fit(_data(), steps=4, batch_size=8, progress=False)
    assert gan.g_optimizer.lr == 0.0 and gan.d_optimizer.lr == 4e-3
    for kw, err, match in (({"lr_schedule": "cosin", "total_steps": 5}, ValueError, "did you mean 'cosine'"),
                           ({"lr_schedule": "linear"}, ValueError, "total_steps"),
                           ({"lr_schedule": "step", "total_steps": 5}, ValueError, "step_size"),
                           ({"lr_schedule": 3}, TypeError, "lr_schedule"),
                           ({"lr_schedule": ("cosine",), "total_steps": 5}, ValueError, "pair")):
        with pytest.raises(err, match=match):
            cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), z_dim=2, **kw)
    with pytest.raises(ValueError, match="gamma"):
        optim.LRSchedule("step", step_size=2, gamma=1.5)


# ---- historical averaging ------------------------------------------------------------------

@pytest.mark.parametrize("player", ["discriminator", "generator"])
def test_historical_averaging_gradient(player):
    lam, lr = 0.5, 0.1
    d_lr = lr if player == "discriminator" else 0.0  # a fixed D makes G's second step comparable

    def make(h):
        G, D = _mlp(2, 2, 1), _mlp(2, 1, 2)
        return cgan.GAN(G, D, loss="nsgan", z_dim=2, g_optimizer=optim.SGD(G.parameters(), lr=lr),
                        d_optimizer=optim.SGD(D.parameters(), lr=d_lr), historical_averaging=h, seed=0)

    a, b = make(lam), make(0.0)
    net_a, net_b = getattr(a, player), getattr(b, player)
    theta0 = _params(net_a)
    a.step(_data(16))
    b.step(_data(16))  # the running mean starts at theta0: the first step has no term
    theta1 = _params(net_a)
    assert all(np.array_equal(x, y) for x, y in zip(theta1, _params(net_b)))
    a.step(_data(16, seed=1))
    b.step(_data(16, seed=1))
    # the term's gradient 2*lam*(theta1 - (theta0 + theta1)/2) = lam*(theta1 - theta0)
    for t0, t1, pa, pb in zip(theta0, theta1, _params(net_a), _params(net_b)):
        assert np.allclose(pa - pb, -lr * lam * (t1.astype(np.float64) - t0), atol=2e-6)
    key = "hist_d" if player == "discriminator" else "hist_g"
    mean = a._core.get_tips_state()[key]
    for m, t0, t1, t2 in zip(mean, theta0, theta1, _params(net_a)):
        assert np.allclose(m, (t0.astype(np.float64) + t1 + t2) / 3, atol=1e-6)
    for bad, err in ((-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError)):
        with pytest.raises(err, match="historical_averaging"):
            make(bad)


# ---- feature matching ----------------------------------------------------------------------

def test_feature_matching_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    G, D = _mlp(3, 2, 1, hidden=(5,)), _mlp(2, 1, 2, hidden=(6, 4))
    G.astype("float64")
    D.astype("float64")
    gan = cgan.GAN(G, D, z_dim=3, feature_matching=True, seed=0)
    rng = np.random.default_rng(0)
    real, z = rng.normal(size=(7, 2)), rng.normal(size=(7, 3))
    loss = gan.generator_loss(real, z)

    def torch_mlp(m, sizes):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers += [torch.nn.Linear(a, b).double(), torch.nn.ReLU()]
        t = torch.nn.Sequential(*layers[:-1])
        t.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in m.state_dict().items()})
        return t

    tg, td = torch_mlp(G, [3, 5, 2]), torch_mlp(D, [2, 6, 4, 1])
    f = td[:-1]  # D's activations before its last layer
    tl = ((f(tg(torch.from_numpy(z))).mean(0) - f(torch.from_numpy(real)).mean(0)) ** 2).sum()
    tl.backward()
    assert np.isclose(loss, tl.item(), rtol=1e-12)
    for p, tp in zip(G.parameters(), tg.parameters()):
        assert np.allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-10, atol=1e-12)
    # feature_matching=1: D[1]'s output (the first ReLU)
    gan1 = cgan.GAN(G, D, z_dim=3, feature_matching=1, seed=0)
    l1 = gan1.generator_loss(real, z)
    f1 = td[:2]
    assert np.isclose(l1, ((f1(tg(torch.from_numpy(z))).mean(0) - f1(torch.from_numpy(real)).mean(0)) ** 2).sum().item())


class FeatureD(nn.Module):
    def __init__(self, with_features=True):
        super().__init__()
        self.fc0, self.fc1 = nn.Linear(2, 6, seed=3), nn.Linear(6, 1, seed=4)
        if not with_features:
            self.features = None

    def features(self, x):
        return cgan.ops.relu(self.fc0(x))

    def forward(self, x):
        return self.fc1(self.features(x))


def test_feature_matching_python_module_and_errors():
    D = FeatureD()
    seq = nn.Sequential(D.fc0, nn.ReLU(), D.fc1)
    rng = np.random.default_rng(0)
    real, z = rng.normal(size=(6, 2)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    a = cgan.GAN(_mlp(2, 2, 1), D, z_dim=2, feature_matching=True, seed=0)
    b = cgan.GAN(_mlp(2, 2, 1), seq, z_dim=2, feature_matching=True, seed=0)
    assert np.isclose(a.generator_loss(real, z), b.generator_loss(real, z), rtol=1e-6)
    a.fit(_data(), steps=3, batch_size=8, progress=False)
    with pytest.raises(ValueError, match="features"):
        cgan.GAN(_mlp(2, 2, 1), FeatureD(with_features=False), z_dim=2, feature_matching=True)
    with pytest.raises(ValueError, match="layer index needs a Sequential"):
        cgan.GAN(_mlp(2, 2, 1), FeatureD(), z_dim=2, feature_matching=0)
    for k in (2, -1, 3, -4):  # _mlp has 3 layers: indices 0, 1 (or -3, -2) are before the last
        with pytest.raises(ValueError, match=r"must be in \[0, 1\] \(or \[-3, -2\] from the end\)"):
            cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), z_dim=2, feature_matching=k)
    with pytest.raises(TypeError, match="feature_matching"):
        cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), z_dim=2, feature_matching="yes")


# ---- checkpoints: train 60 + save + load + train 40 == train 100 ---------------------------

def test_tips_resume_bitwise(tmp_path):
    def make():
        return cgan.GAN(_mlp(2, 2, 1), _mlp(4, 1, 2), loss="wgan-gp", z_dim=2, pack=2, ema=0.95,
                        lr_schedule=(optim.LRSchedule("cosine", total_steps=100, eta_min=1e-5),
                                     optim.LRSchedule("step", step_size=30, gamma=0.5)),
                        historical_averaging=0.01, feature_matching=True, d_steps=2, seed=5)

    data = _data(200, seed=3)
    whole = make()
    whole.fit(data, steps=100, batch_size=16, progress=False)
    part = make()
    part.fit(data, steps=60, batch_size=16, progress=False)
    back = cgan.GAN.load(part.save(tmp_path / "run.npz"))
    assert (back.ema, back.pack, back.historical_averaging, back.feature_matching) == (0.95, 2, 0.01, True)
    back.fit(data, steps=40, batch_size=16, progress=False)
    for m in ("generator", "discriminator"):
        assert all(np.array_equal(x, y) for x, y in zip(_params(getattr(whole, m)), _params(getattr(back, m))))
    ta, tb = whole._core.get_tips_state(), back._core.get_tips_state()
    for k in ("ema", "hist_g", "hist_d"):
        assert ta[k + "_count"] == tb[k + "_count"] and len(ta[k]) > 0
        assert all(np.array_equal(x, y) for x, y in zip(ta[k], tb[k]))
    assert (whole.g_optimizer.lr, whole.d_optimizer.lr) == (back.g_optimizer.lr, back.d_optimizer.lr)
    assert np.array_equal(whole.sample(20, seed=1), back.sample(20, seed=1))


class FailsLater(nn.Module):
    """A discriminator whose forward raises from its `after`-th call on."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1, seed=0)
        self.calls, self.after = 0, None

    def forward(self, x):
        self.calls += 1
        if self.after is not None and self.calls >= self.after:
            raise RuntimeError("boom")
        return self.fc(x)


def test_failed_step_leaves_tips_state_unchanged():
    D = FailsLater()
    gan = cgan.GAN(_mlp(2, 2, 1), D, loss="nsgan", z_dim=2, ema=0.9, historical_averaging=0.1,
                   lr_schedule="linear", total_steps=10, seed=0)
    gan.fit(_data(), steps=3, batch_size=8, progress=False)
    before = (gan._core.get_tips_state(), _params(gan.generator), _params(D), gan.g_optimizer.lr)
    D.after = D.calls + 3  # the D update's two calls pass, the G update's fails
    with pytest.raises(RuntimeError, match="boom"):
        gan.step(_data(8))
    after = (gan._core.get_tips_state(), _params(gan.generator), _params(D), gan.g_optimizer.lr)
    for k in ("ema", "hist_g", "hist_d"):
        assert before[0][k + "_count"] == after[0][k + "_count"]
        assert all(np.array_equal(x, y) for x, y in zip(before[0][k], after[0][k]))
    assert all(np.array_equal(x, y) for x, y in zip(before[1] + before[2], after[1] + after[2]))
    assert before[3] == after[3] and gan.steps_done == 3


# ---- EBGAN pretraining ---------------------------------------------------------------------

def test_ebgan_pretraining_trains_d_alone():
    G, D = _mlp(2, 2, 1), _mlp(2, 2, 2)
    lr = 0.05
    gan = cgan.GAN(G, D, loss="ebgan", z_dim=2, d_optimizer=optim.SGD(D.parameters(), lr=lr), seed=0)
    data = _data(16)
    g_before, d_before = _params(G), _params(D)
    hist = gan.pretrain_discriminator(data, steps=1, batch_size=16, progress=False)
    assert hist["loss"].shape == (1,) and np.isfinite(hist["loss"][0])
    assert all(np.array_equal(a, b) for a, b in zip(g_before, _params(G)))  # no generator update
    assert not all(np.array_equal(a, b) for a, b in zip(d_before, _params(D)))
    assert gan.steps_done == 0

    def energy(x):
        return np.mean((D(x).astype(np.float64) - x) ** 2)

    start = energy(data)
    hist = gan.pretrain_discriminator(data, steps=200, batch_size=16, progress=False)
    assert hist["loss"].shape == (200,) and energy(data) < 0.5 * start


def test_ebgan_pretraining_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    D = _mlp(2, 2, 2, hidden=(4,))
    D.astype("float64")
    G = _mlp(2, 2, 1)
    G.astype("float64")
    data = np.random.default_rng(0).normal(size=(6, 2))
    lr = 0.1
    gan = cgan.GAN(G, D, loss="ebgan", z_dim=2, d_optimizer=optim.SGD(D.parameters(), lr=lr), seed=0)
    # batch_size = len(data) still samples with replacement: use one repeated row
    same = np.repeat(data[:1], 6, axis=0)
    t = torch.nn.Sequential(torch.nn.Linear(2, 4).double(), torch.nn.ReLU(), torch.nn.Linear(4, 2).double())
    t.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in D.state_dict().items()})
    x = torch.from_numpy(same)
    loss = ((t(x) - x) ** 2).mean(1).mean()
    loss.backward()
    hist = gan.pretrain_discriminator(same, steps=1, batch_size=6, progress=False)
    assert np.isclose(hist["loss"][0], loss.item(), rtol=1e-12)
    for p, tp in zip(D.parameters(), t.parameters()):
        assert np.allclose(p.numpy(), (tp - lr * tp.grad).detach().numpy(), rtol=1e-12, atol=1e-14)


def test_pretraining_errors():
    gan = cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), loss="nsgan", z_dim=2)
    with pytest.raises(ValueError, match="needs loss='ebgan'"):
        gan.pretrain_discriminator(_data(), steps=2, batch_size=8, progress=False)
    gan = cgan.GAN(_mlp(2, 2, 1), _mlp(2, 2, 2), loss="ebgan", z_dim=2)
    before = _params(gan.discriminator)
    for kw, err in (({"steps": 0}, ValueError), ({"batch_size": 100}, ValueError), ({"steps": "3"}, TypeError)):
        with pytest.raises(err):
            gan.pretrain_discriminator(_data(), **{"steps": 2, "batch_size": 8, "progress": False, **kw})
    assert all(np.array_equal(a, b) for a, b in zip(before, _params(gan.discriminator)))


# ---- virtual batch normalisation -------------------------------------------------------------

def _torch_vbn(torch, h_ref, h, w, b, eps=1e-5):
    """Salimans et al.'s VBN: statistics of the reference batch plus the sample itself."""
    axes = [0] + list(range(2, h.dim()))
    own = list(range(2, h.dim()))
    c = 1.0 / (h_ref.shape[0] + 1)
    shape = [1, -1] + [1] * (h.dim() - 2)

    def normalise(x, m, m2):
        return (x - m) / torch.sqrt(m2 - m ** 2 + eps) * w.view(shape) + b.view(shape)

    ref_m, ref_m2 = h_ref.mean(axes, keepdim=True), (h_ref ** 2).mean(axes, keepdim=True)
    x_m = h.mean(own, keepdim=True) if own else h
    x_m2 = (h ** 2).mean(own, keepdim=True) if own else h ** 2
    return normalise(h, c * x_m + (1 - c) * ref_m, c * x_m2 + (1 - c) * ref_m2)


def test_virtual_batch_norm_matches_torch():
    torch = pytest.importorskip("torch")
    G = nn.Sequential(nn.Linear(3, 5, seed=0), nn.VirtualBatchNorm1d(5), nn.ReLU(), nn.Linear(5, 2, seed=1))
    D = _mlp(2, 1, 2, hidden=(6,))
    G.astype("float64")
    D.astype("float64")
    gan = cgan.GAN(G, D, loss="nsgan", z_dim=3, virtual_batch_norm=9, seed=0)
    for p in G.parameters()[2:4]:  # VBN's weight and bias away from 1 and 0
        p.numpy()[...] = np.random.default_rng(1).uniform(0.5, 1.5, size=p.numpy().shape)
    sd = {k: torch.from_numpy(np.asarray(v).copy()) for k, v in G.state_dict().items()}
    l0, l1 = torch.nn.Linear(3, 5).double(), torch.nn.Linear(5, 2).double()
    l0.weight.data, l0.bias.data = sd["0.weight"], sd["0.bias"]
    l1.weight.data, l1.bias.data = sd["3.weight"], sd["3.bias"]
    w, b = sd["1.weight"].requires_grad_(), sd["1.bias"].requires_grad_()
    z_ref = torch.from_numpy(gan._core.vbn_reference)
    assert z_ref.shape == (9, 3)

    def tg(z):
        return l1(torch.relu(_torch_vbn(torch, l0(z_ref), l0(z), w, b)))

    rng = np.random.default_rng(0)
    z, real = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    assert np.allclose(gan.generate(z), tg(torch.from_numpy(z)).detach().numpy(), rtol=1e-12, atol=1e-13)
    # each sample's output is independent of the rest of its batch
    assert np.allclose(gan.generate(z[:1]), gan.generate(z)[:1], rtol=1e-13, atol=1e-14)
    # G's gradient flows through the reference batch's statistics too
    td = torch.nn.Sequential(torch.nn.Linear(2, 6).double(), torch.nn.ReLU(), torch.nn.Linear(6, 1).double())
    td.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in D.state_dict().items()})
    loss = torch.nn.functional.softplus(-td(tg(torch.from_numpy(z)))).mean()
    loss.backward()
    assert np.isclose(gan.generator_loss(real, z), loss.item(), rtol=1e-12)
    for p, tp in zip(G.parameters(), [l0.weight, l0.bias, w, b, l1.weight, l1.bias]):
        assert np.allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_virtual_batch_norm_2d_and_errors(tmp_path):
    torch = pytest.importorskip("torch")
    G = nn.Sequential(nn.Linear(2, 2 * 3 * 3, seed=0), nn.Unflatten((2, 3, 3)), nn.VirtualBatchNorm2d(2), nn.Flatten())
    G.astype("float64")
    D = _mlp(18, 1, 2)
    D.astype("float64")
    gan = cgan.GAN(G, D, z_dim=2, virtual_batch_norm=4, seed=0)
    z = np.random.default_rng(0).normal(size=(5, 2))
    W, B = (torch.from_numpy(np.asarray(v)) for v in (G.state_dict()["0.weight"], G.state_dict()["0.bias"]))
    h = lambda x: (torch.from_numpy(x) @ W.T + B).view(-1, 2, 3, 3)
    want = _torch_vbn(torch, h(gan._core.vbn_reference), h(z), torch.ones(2, dtype=torch.float64),
                      torch.zeros(2, dtype=torch.float64)).reshape(5, 18)
    assert np.allclose(gan.generate(z), want.numpy(), rtol=1e-12, atol=1e-13)
    # on its own (no reference pass) the batch is its own reference
    alone = _torch_vbn(torch, h(z), h(z), torch.ones(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64))
    assert np.allclose(G(z), alone.reshape(5, 18).numpy(), rtol=1e-12, atol=1e-13)
    gan.fit(np.random.default_rng(1).normal(size=(40, 18)), steps=2, batch_size=8, progress=False)
    back = cgan.GAN.load(gan.save(tmp_path / "vbn.npz"))
    assert back.virtual_batch_norm == 4 and np.array_equal(back.generate(z), gan.generate(z))
    with pytest.raises(ValueError, match="need a reference batch"):
        cgan.GAN(G, D, z_dim=2)
    with pytest.raises(ValueError, match="no VirtualBatchNorm layer"):
        cgan.GAN(_mlp(2, 2, 1), _mlp(2, 1, 2), z_dim=2, virtual_batch_norm=8)
    with pytest.raises(ValueError, match="virtual_batch_norm"):
        cgan.GAN(G, D, z_dim=2, virtual_batch_norm=0)
