"""Networks and objectives written in Python inside the training loop: a cgan.nn.Module
subclass and a cgan.losses.Objective subclass behave bitwise like their built-in twins."""
import threading

import numpy as np
import pytest

import cgan
from cgan import nn, ops


class PyMLP(nn.Module):
    """Linear -> relu -> ... -> Linear, written in Python."""

    def __init__(self, sizes, seed=0):
        super().__init__()
        self.sizes = list(sizes)
        self.n = len(sizes) - 1
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            setattr(self, f"fc{i}", nn.Linear(a, b, seed=seed + i))

    def get_config(self):
        return {"sizes": self.sizes}

    def forward(self, x):
        for i in range(self.n):
            x = getattr(self, f"fc{i}")(x)
            if i < self.n - 1:
                x = ops.relu(x)
        return x


class PyNonSaturating(cgan.losses.Objective):
    """The built-in non-saturating objective, re-written with public ops."""

    def d_loss(self, D, real, fake, rng):
        return ops.softplus(-D(real)).mean() + ops.softplus(D(fake)).mean()

    def g_loss(self, D, fake):
        return ops.softplus(-D(fake)).mean()


class R1(cgan.losses.Objective):
    """The docstring's first example: non-saturating + (gamma/2) E_r ||grad D||^2."""

    def __init__(self, gamma=10.0):
        super().__init__()
        self.gamma = gamma

    def get_config(self):
        return {"gamma": self.gamma}

    def d_loss(self, D, real, fake, rng):
        x = real.detach().requires_grad_()
        v_real = D(x)
        g, = cgan.grad(v_real.sum(), [x], create_graph=True)
        r1 = (g * g).sum(axis=tuple(range(1, g.ndim))).mean()
        game = ops.softplus(-v_real).mean() + ops.softplus(D(fake)).mean()
        return {"loss": game + 0.5 * self.gamma * r1, "penalty": r1.item()}

    def g_loss(self, D, fake):
        return ops.softplus(-D(fake)).mean()


class RelativisticAverage(cgan.losses.Objective):
    def d_loss(self, D, real, fake, rng):
        self.real = real.detach()
        vr, vf = D(real), D(fake)
        return ops.softplus(-(vr - vf.mean())).mean() + ops.softplus(vf - vr.mean()).mean()

    def g_loss(self, D, fake):
        vr, vf = D(self.real), D(fake)
        return ops.softplus(-(vf - vr.mean())).mean() + ops.softplus(vr - vf.mean()).mean()


def twin_mlp(sizes, seed):
    """A built-in MLP with PyMLP(sizes, seed)'s weights."""
    py = PyMLP(sizes, seed)
    ref = nn.MLP(sizes[0], sizes[1:-1], sizes[-1], seed=99)
    state = {}
    for i in range(py.n):
        lin = getattr(py, f"fc{i}")
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = lin.weight.numpy(), lin.bias.numpy()
    ref.load_state_dict(state)
    return py, ref


def test_attributes_register_as_in_pytorch():
    m = PyMLP([3, 5, 2])
    m.scale = nn.Parameter(np.ones(2))
    m.constant = cgan.tensor(np.ones(2))  # not a parameter
    m.register_buffer("count", np.zeros(1))
    assert [k for k, _ in m.named_parameters()] == ["scale", "fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"]
    assert list(m.state_dict()) == ["scale", "count", "fc0.weight", "fc0.bias", "fc1.weight", "fc1.bias"]
    assert m.num_parameters() == 2 + 3 * 5 + 5 + 5 * 2 + 2
    m.eval()
    assert not m.training and not m.fc0.training
    m.fc1 = nn.Linear(5, 3, seed=0)  # reassignment replaces the child
    assert m.out_shape((3,)) == (3,)
    del_state = m.state_dict()
    m2 = PyMLP([3, 5, 3])
    m2.scale = nn.Parameter(np.zeros(2))
    m2.register_buffer("count", np.ones(1))
    m2.load_state_dict(del_state)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_array_equal(m2(x), m(x))


def test_forward_backward_double_backward_equal_the_builtin_bitwise():
    py, ref = twin_mlp([2, 16, 16, 1], seed=0)
    x = np.random.default_rng(0).normal(size=(8, 2)).astype(np.float32)
    np.testing.assert_array_equal(py(x), ref(x))
    outs = []
    for m in (py, ref):
        t = cgan.tensor(x, requires_grad=True)
        g, = cgan.grad(m(t).sum(), [t], create_graph=True)
        pen = ((g * g).sum(axis=1) ** 0.5 - 1) ** 2
        grads = cgan.grad(pen.mean(), m.parameters() + [t], allow_unused=True)
        outs.append([a.numpy() for a in grads])
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)


def test_inside_sequential_and_shape_by_dry_run():
    s = nn.Sequential(PyMLP([2, 4, 3], seed=1), nn.Tanh(), nn.Linear(3, 1, seed=0))
    assert s(np.zeros((5, 2), np.float32)).shape == (5, 1)
    assert PyMLP([2, 4, 3]).out_shape((2,)) == (3,)
    with pytest.raises(ValueError, match=r"PyMLP cannot take input \(N, 5\)"):
        PyMLP([2, 4, 3]).out_shape((5,))


def _gan(D, loss, seed=0):
    G = nn.MLP(2, [16], 2, seed=7)
    return cgan.GAN(G, D, loss=loss, z_dim=2, seed=seed)


def test_python_discriminator_trains_bitwise_like_the_builtin():
    data = cgan.datasets.ring(512, seed=0)
    py, ref = twin_mlp([2, 16, 1], seed=3)
    a, b = _gan(py, "nsgan"), _gan(ref, "nsgan")
    ha, hb = a.fit(data, 30, 32, progress=False), b.fit(data, 30, 32, progress=False)
    np.testing.assert_array_equal(ha["d_loss"], hb["d_loss"])
    np.testing.assert_array_equal(a.sample(20, seed=1), b.sample(20, seed=1))


def test_python_objective_trains_bitwise_like_the_builtin():
    data = cgan.datasets.ring(512, seed=0)
    runs = []
    for loss in ("non-saturating", PyNonSaturating()):
        gan = _gan(nn.MLP(2, [16], 1, seed=3), loss)
        h = gan.fit(data, 30, 32, progress=False, log_every=1)
        runs.append((h, gan.sample(20, seed=1)))
    np.testing.assert_array_equal(runs[0][0]["d_loss"], runs[1][0]["d_loss"])
    np.testing.assert_array_equal(runs[0][0]["g_loss"], runs[1][0]["g_loss"])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_objects_from_losses_get_are_accepted():
    data = cgan.datasets.ring(256, seed=0)
    a = _gan(nn.MLP(2, [8], 1, seed=3), cgan.losses.get("wgan-gp", lambda_gp=5))
    b = _gan(nn.MLP(2, [8], 1, seed=3), "wgan-gp")
    b2 = cgan.GAN(nn.MLP(2, [16], 2, seed=7), nn.MLP(2, [8], 1, seed=3), loss="wgan-gp", z_dim=2, lambda_gp=5)
    assert a.loss == "wgan-gp" and a.options["lambda_gp"] == 5
    ha, hb = a.fit(data, 5, 32, progress=False), b2.fit(data, 5, 32, progress=False)
    np.testing.assert_array_equal(ha["d_loss"], hb["d_loss"])
    with pytest.raises(ValueError, match="beside an objective object"):
        cgan.GAN(nn.MLP(2, [8], 2, seed=0), nn.MLP(2, [8], 1, seed=0), loss=cgan.losses.get("hinge"),
                 z_dim=2, clip=1)
    del b


def test_r1_penalty_is_what_it_says_and_trains():
    D = nn.MLP(2, [8], 1, activation="tanh", seed=3).astype("float64")
    real = np.random.default_rng(0).normal(size=(6, 2))
    terms = R1(gamma=2.0).d_loss(D, cgan.tensor(real), cgan.tensor(real[::-1].copy()), None)
    # ||grad_x D(x)||^2 by central differences, per sample
    eps, sq = 1e-6, []
    for row in real:
        g = [(D(np.array([row + eps * e])) - D(np.array([row - eps * e])))[0, 0] / (2 * eps) for e in np.eye(2)]
        sq.append(np.sum(np.square(g)))
    assert terms["penalty"] == pytest.approx(np.mean(sq), rel=1e-6)
    gan = _gan(nn.MLP(2, [16], 1, seed=3), R1(gamma=1.0))
    h = gan.fit(cgan.datasets.ring(512, seed=0), 20, 32, progress=False, log_every=1)
    assert np.all(np.isfinite(h["penalty"])) and np.all(h["penalty"] >= 0)


def test_repr_of_objectives_says_how_to_rebuild_them():
    assert repr(R1(gamma=2.5)) == "R1(gamma=2.5)"
    assert repr(RelativisticAverage()) == "RelativisticAverage()"
    assert repr(cgan.losses.get("wgan-gp", lambda_gp=5)) == "cgan.losses.get('wgan-gp', lambda_gp=5)"


def test_relativistic_average_trains():
    gan = _gan(nn.MLP(2, [16], 1, seed=3), RelativisticAverage())
    h = gan.fit(cgan.datasets.ring(512, seed=0), 20, 32, progress=False)
    assert np.all(np.isfinite(h["g_loss"]))


def test_save_load_rebuilds_python_modules_and_objectives(tmp_path):
    data = cgan.datasets.ring(512, seed=0)
    gan = _gan(PyMLP([2, 8, 1], seed=3), R1(gamma=3.0))
    gan.fit(data, 10, 32, progress=False)
    path = gan.save(tmp_path / "py.npz")
    gan.fit(data, 5, 32, progress=False)
    again = cgan.GAN.load(path)
    assert type(again.discriminator).__name__ == "PyMLP" and again.objective.gamma == 3.0
    again.fit(data, 5, 32, progress=False)
    np.testing.assert_array_equal(again.sample(10, seed=2), gan.sample(10, seed=2))


def test_load_takes_modules_that_cannot_be_imported(tmp_path):
    class Local(nn.Module):  # <locals> in its qualified name: not importable
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 1, seed=0)

        def forward(self, x):
            return self.fc(x)

    gan = _gan(Local(), "hinge")
    path = gan.save(tmp_path / "local.npz")
    with pytest.raises(ValueError, match="discriminator=..."):
        cgan.GAN.load(path)
    again = cgan.GAN.load(path, discriminator=Local())
    np.testing.assert_array_equal(again.discriminate(np.ones((2, 2))), gan.discriminate(np.ones((2, 2))))


class Exploding(nn.Module):
    def __init__(self, after):
        super().__init__()
        self.fc = nn.Linear(2, 1, seed=0)
        self.calls, self.after = 0, after

    def forward(self, x):
        self.calls += 1
        if self.calls > self.after:
            raise RuntimeError("boom in forward")
        return self.fc(x)


def test_exception_in_python_forward_propagates_and_rolls_back():
    data = cgan.datasets.ring(256, seed=0)
    D = Exploding(after=10**9)
    gan = _gan(D, "nsgan")
    gan.fit(data, 3, 16, progress=False)
    before = {k: v.copy() for k, v in D.state_dict().items()}
    g_before = {k: v.copy() for k, v in gan.generator.state_dict().items()}
    D.after = D.calls + 2  # fails inside the next D update
    with pytest.raises(RuntimeError, match="boom in forward"):
        gan.fit(data, 5, 16, progress=False)
    assert gan.steps_done == 3
    for k, v in D.state_dict().items():
        np.testing.assert_array_equal(v, before[k])
    for k, v in gan.generator.state_dict().items():
        np.testing.assert_array_equal(v, g_before[k])


def test_objective_errors_are_clear():
    class NoG(cgan.losses.Objective):
        def d_loss(self, D, real, fake, rng):
            return D(real).mean()

    class NotScalar(PyNonSaturating):
        def d_loss(self, D, real, fake, rng):
            return D(real)

    with pytest.raises(TypeError, match="d_loss and g_loss"):
        _gan(nn.MLP(2, [8], 1, seed=3), 42)
    gan = _gan(nn.MLP(2, [8], 1, seed=3), NotScalar())
    with pytest.raises(ValueError, match="0-d"):
        gan.fit(cgan.datasets.ring(64, seed=0), 1, 8, progress=False)
    assert gan.steps_done == 0
    with pytest.raises(TypeError, match="no g_loss|d_loss and g_loss"):
        _gan(nn.MLP(2, [8], 1, seed=3), NoG())


def test_two_threads_give_the_sequential_results():
    data = cgan.datasets.ring(512, seed=0)

    def run(seed, out):
        gan = _gan(PyMLP([2, 16, 1], seed=seed), PyNonSaturating(), seed=seed)
        gan.fit(data, 20, 32, progress=False)
        out[seed] = gan.sample(10, seed=0)

    sequential, threaded = {}, {}
    for s in (1, 2):
        run(s, sequential)
    threads = [threading.Thread(target=run, args=(s, threaded)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in (1, 2):
        np.testing.assert_array_equal(threaded[s], sequential[s])
