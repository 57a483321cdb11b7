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
