"""cgan.nn.MinibatchDiscrimination (Salimans et al. 2016) against the usual PyTorch
implementation: forward, backward and double backward on fixed inputs, float64."""
import numpy as np
import pytest

import cgan

torch = pytest.importorskip("torch")


def torch_mbd(x, T, num_kernels, kernel_dim):
    """The common PyTorch layer (T of shape (in, B*C)), with the j = i term removed."""
    m = (x @ T).view(-1, num_kernels, kernel_dim)              # (N, B, C)
    l1 = (m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(3)        # (N, N, B)
    o = torch.exp(-l1).sum(0) - 1                              # (N, B)
    return torch.cat([x, o], 1)


def layer_and_inputs(n=5, a=4, b=3, c=2, seed=0):
    m = cgan.nn.MinibatchDiscrimination(a, b, c, seed=seed).astype("float64")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, a))
    m.load_state_dict({"T": 0.5 * rng.normal(size=(a, b * c))})  # distances of order 1
    return m, x


def test_forward_and_backward_match_torch():
    m, x = layer_and_inputs()
    T = m.state_dict()["T"]
    assert T.shape == (4, 3 * 2) and list(m.state_dict()) == ["T"]
    xt, Tt = torch.tensor(x, requires_grad=True), torch.tensor(T, requires_grad=True)
    ref = torch_mbd(xt, Tt, 3, 2)
    xc = cgan.tensor(x, requires_grad=True)
    out = m(xc)
    assert out.shape == (5, 7)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    o = ref.detach().numpy()[:, 4:]
    assert np.all(o > 0.01) and np.all(o < 4)  # every kernel is in its working range
    w = np.random.default_rng(1).normal(size=(5, 7))
    gx, gT = torch.autograd.grad((ref * torch.tensor(w)).sum(), [xt, Tt])
    mine = cgan.grad((out * cgan.tensor(w)).sum(), [xc, m.T])
    np.testing.assert_allclose(mine[0].numpy(), gx.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine[1].numpy(), gT.numpy(), rtol=1e-10, atol=1e-12)


def test_double_backward_matches_torch():
    # d/dT of ||d out / d x||^2: what a gradient penalty on a D with this layer trains
    m, x = layer_and_inputs(seed=2)
    xt = torch.tensor(x, requires_grad=True)
    Tt = torch.tensor(m.state_dict()["T"], requires_grad=True)
    w = torch.tensor(np.random.default_rng(3).normal(size=(5, 7)))
    (gx,) = torch.autograd.grad((torch_mbd(xt, Tt, 3, 2) * w).sum(), xt, create_graph=True)
    (ref,) = torch.autograd.grad((gx ** 2).sum(), Tt)
    xc = cgan.tensor(x, requires_grad=True)
    (gxc,) = cgan.grad((m(xc) * cgan.tensor(w.numpy())).sum(), [xc], create_graph=True)
    np.testing.assert_allclose(gxc.numpy(), gx.detach().numpy(), rtol=1e-10, atol=1e-12)
    (mine,) = cgan.grad((gxc * gxc).sum(), [m.T])
    np.testing.assert_allclose(mine.numpy(), ref.numpy(), rtol=1e-9, atol=1e-12)


def test_identical_samples_are_told_apart_from_distinct_ones():
    # the point of the layer: a collapsed batch gets o = N - 1, a spread one much less
    m = cgan.nn.MinibatchDiscrimination(2, 4, 3, seed=0)
    same = np.tile([[0.5, -1.0]], (8, 1)).astype(np.float32)
    spread = (10 * np.random.default_rng(0).normal(size=(8, 2))).astype(np.float32)
    np.testing.assert_allclose(m(same)[:, 2:], 7.0, rtol=1e-6)
    assert m(spread)[:, 2:].mean() < 3.0
    assert m(same[:1])[0, 2:].tolist() == [0.0] * 4  # a batch of one has no neighbours


def test_config_registry_and_sequential():
    m = cgan.nn.MinibatchDiscrimination(3, 5, 2, seed=0)
    cfg = cgan.nn.config(m)
    assert cfg == {"type": "MinibatchDiscrimination", "in_features": 3, "num_kernels": 5, "kernel_dim": 2}
    assert "MinibatchDiscrimination" in cgan.nn.module_types()
    assert cgan.nn.from_config(cfg, seed=0).state_dict()["T"].shape == (3, 10)
    assert m.out_shape((3,)) == (8,) and m.num_parameters() == 30
    D = cgan.nn.Sequential(cgan.nn.Linear(2, 3, seed=0), cgan.nn.LeakyReLU(), m, cgan.nn.Linear(8, 1, seed=1))
    gan = cgan.GAN(cgan.nn.MLP(2, [8], 2, seed=0), D, loss="nsgan", z_dim=2, seed=0)
    h = gan.fit(cgan.datasets.ring(256, seed=0), 3, 16, progress=False)
    assert np.all(np.isfinite(h["d_loss"]))
    rebuilt = cgan.nn.from_config(cgan.nn.config(D), seed=1)
    rebuilt.load_state_dict(D.state_dict())
    x = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
    np.testing.assert_array_equal(rebuilt(x), D(x))


@pytest.mark.parametrize("args, match", [
    ((0, 3, 2), "in_features, num_kernels and kernel_dim must be >= 1"),
    ((3, -1, 2), "must be >= 1"),
    ((3, 2, 2**40), "too large"),
])
def test_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        cgan.nn.MinibatchDiscrimination(*args)
    with pytest.raises(ValueError, match="MinibatchDiscrimination expects input of shape"):
        cgan.nn.MinibatchDiscrimination(3, 2, 2)(np.zeros((4, 5), np.float32))
