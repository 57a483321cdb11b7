"""cgan.nn.ModuleList: the layers of a Python module held in a list register themselves, and
spectral norm reaches them; a plain list of layers is refused by spectral norm, not skipped."""
import numpy as np
import pytest

import cgan
from cgan import nn, ops


class ListNet(nn.Module):
    """Linear layers reached through a container in forward."""

    def __init__(self, sizes=(4, 4), plain=False, seed=0):
        super().__init__()
        layers = [nn.Linear(a, b, seed=seed + i) for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]))]
        self.layers = list(layers) if plain else nn.ModuleList(layers)
        if plain:
            for i, layer in enumerate(layers):  # registered too, as a user might do
                setattr(self, f"fc{i}", layer)

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = ops.relu(x)
        return x


def test_items_register_state_and_mode():
    net = ListNet((3, 5, 2))
    assert [k for k, _ in net.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    assert net.num_parameters() == 3 * 5 + 5 + 5 * 2 + 2
    assert len(net.layers) == 2 and net.layers[-1] is net.layers[1] and len(net.layers[:1]) == 1
    other = ListNet((3, 5, 2), seed=7)
    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    assert not np.array_equal(other(x), net(x))
    other.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(other(x), net(x))
    ml = nn.ModuleList([nn.Linear(2, 2, seed=0), nn.Dropout(0.5)])
    ml.eval()
    assert not ml[1].training
    ml.train()
    assert ml[1].training
    with pytest.raises(TypeError, match="expected a cgan.nn module"):
        ml.append([1, 2])
    with pytest.raises(IndexError, match="out of range"):
        ml[2]
    with pytest.raises(TypeError, match="no forward"):
        ml(np.zeros((1, 2), np.float32))


def test_spectral_norm_reaches_module_list_items():
    net = ListNet((4, 4))
    sd = net.state_dict()
    sd["layers.0.weight"] = 10 * sd["layers.0.weight"]  # largest singular value well above 1
    net.load_state_dict(sd)
    eye, zero = np.eye(4, dtype=np.float32), np.zeros((1, 4), np.float32)
    assert np.linalg.svd(net(eye) - net(zero), compute_uv=False)[0] > 2
    assert nn.spectral_norm(net, power_iterations=30, seed=0) is net
    assert isinstance(net.layers[0], nn.SpectralNorm)
    # the forward through the list now uses W / sigma(W): the linear map has norm 1
    out = net(cgan.tensor(eye)).numpy() - net(zero)
    assert np.linalg.svd(out, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-4)


def test_plain_list_of_layers_is_refused_and_left_unchanged():
    net = ListNet((4, 8, 1), plain=True)
    before = net.state_dict()
    with pytest.raises(TypeError, match=r"ListNet\.layers .*plain list.*ModuleList"):
        nn.spectral_norm(net)
    assert isinstance(net.fc0, nn.Linear) and list(net.state_dict()) == list(before)
    G = nn.MLP(2, [8], 4, seed=0)
    with pytest.raises(TypeError, match="ModuleList"):
        cgan.GAN(G, ListNet((4, 8, 1), plain=True), z_dim=2, spectral_norm=True)


def test_gan_with_spectral_norm_trains_a_module_list_critic():
    D = ListNet((2, 16, 1), seed=3)
    gan = cgan.GAN(nn.MLP(2, [16], 2, seed=0), D, loss="hinge", z_dim=2, seed=0, spectral_norm=True)
    assert all(isinstance(layer, nn.SpectralNorm) for layer in D.layers)
    h = gan.fit(cgan.datasets.ring(256, seed=0), 5, 32, progress=False, log_every=1)
    assert np.all(np.isfinite(h["d_loss"])) and gan.steps_done == 5
