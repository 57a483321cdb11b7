"""Conditional GANs (Mirza and Osindero 2014; projection discriminator, Miyato and
Koyama 2018): labels reach the networks as the batch's context."""
import numpy as np
import pytest

import cgan
from cgan import nn


def blobs(n=600, seed=0):
    """Three classes: Gaussian blobs at three corners of a triangle."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    return (centers[y] + 0.1 * rng.normal(size=(n, 2))).astype(np.float32), y, centers


def test_conditional_mlp_equals_one_hot_concatenation():
    m = nn.MLP(2, [8], 1, num_classes=3, seed=0)
    assert nn.config(m)["num_classes"] == 3 and "embedding" in m.state_dict()
    x = np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    sd = m.state_dict()
    ref = nn.MLP(5, [8], 1, seed=1)  # input: x concatenated with one-hot(y)
    ref.load_state_dict({"0.weight": np.concatenate([sd["0.weight"], sd["embedding"].T], axis=1),
                         "0.bias": sd["0.bias"], "2.weight": sd["2.weight"], "2.bias": sd["2.bias"]})
    np.testing.assert_allclose(m(x, labels=y), ref(np.concatenate([x, np.eye(3)[y]], 1).astype(np.float32)),
                               rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="needs class labels"):
        m(x)
    m2 = nn.from_config(nn.config(m), seed=4)
    m2.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m2(x, labels=y), m(x, labels=y))


def test_embedding_gradients_sum_over_repeated_labels():
    e = nn.Embedding(4, 3, seed=0).astype("float64")
    y = cgan.tensor(np.array([1.0, 3.0, 1.0]))
    out = e(y)
    np.testing.assert_array_equal(out.numpy(), e.state_dict()["weight"][[1, 3, 1]])
    w = e.parameters()[0]
    g, = cgan.grad((out * out).sum(), [w], create_graph=True)
    expected = np.zeros((4, 3))
    for k in (1, 3, 1):
        expected[k] += 2 * e.state_dict()["weight"][k]
    np.testing.assert_allclose(g.numpy(), expected)
    gg, = cgan.grad(g.sum(), [w])  # second order through scatter/take
    np.testing.assert_allclose(gg.numpy(), np.where(expected != 0, 2.0 * np.array([[0], [2], [0], [1]]), 0))
    with pytest.raises(ValueError, match=r"integers in \[0, 4\)"):
        e(np.array([4.0]))


@pytest.mark.parametrize("loss", ["nsgan", "wgan-gp", "hinge"])
def test_conditional_gan_learns_which_blob_each_class_is(loss):
    data, y, centers = blobs()
    G = nn.MLP(2, [64, 64], 2, num_classes=3, seed=0)
    D = nn.MLP(2, [64, 64], 1, num_classes=3, seed=1)
    gan = cgan.GAN(G, D, loss=loss, z_dim=2, seed=0, d_steps=5 if loss == "wgan-gp" else 1,
                   g_optimizer=cgan.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.9)),
                   d_optimizer=cgan.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.9)))
    gan.fit(data, 600, 64, progress=False, labels=y)
    for k in range(3):
        s = gan.sample(200, seed=k, labels=k)
        nearest = np.argmin(((s[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)
        assert np.mean(nearest == k) > 0.9, (loss, k)


def test_projection_discriminator_and_conditional_dcgan_shapes():
    G = nn.dcgan_generator(16, (1, 28, 28), channels=8, num_classes=10, seed=0)
    for cond in ("concat", "projection"):
        D = nn.dcgan_discriminator((1, 28, 28), channels=8, norm="layer", num_classes=10, conditioning=cond, seed=1)
        gan = cgan.GAN(G, D, loss="wgan-gp", z_dim=16, seed=0)
        data = np.tanh(np.random.default_rng(0).normal(size=(32, 1, 28, 28))).astype(np.float32)
        gan.fit(data, 2, 8, progress=False, labels=np.arange(32) % 10)
        assert gan.sample(10, labels=np.arange(10)).shape == (10, 1, 28, 28)


def test_label_checks():
    data, y, _ = blobs(64)
    cond = cgan.GAN(nn.MLP(2, [8], 2, num_classes=3, seed=0), nn.MLP(2, [8], 1, num_classes=3, seed=1), z_dim=2)
    plain = cgan.GAN(nn.MLP(2, [8], 2, seed=0), nn.MLP(2, [8], 1, seed=1), z_dim=2)
    with pytest.raises(ValueError, match="missing"):
        cond.fit(data, 1, 8, progress=False)
    with pytest.raises(ValueError, match="unconditional"):
        plain.fit(data, 1, 8, progress=False, labels=y)
    with pytest.raises(ValueError, match="63 entries for 64 rows"):
        cond.fit(data, 1, 8, progress=False, labels=y[:-1])
    with pytest.raises(ValueError, match=r"in \[0, 3\), got 3"):
        cond.fit(data, 1, 8, progress=False, labels=np.full(64, 3))
    with pytest.raises(ValueError, match=r"in \[0, 3\), got -1"):
        cond.sample(4, labels=-1)
    with pytest.raises(TypeError, match="integers"):
        cond.fit(data, 1, 8, progress=False, labels=y.astype(float))
    with pytest.raises(TypeError, match="integers"):
        cond.step(data[:8], labels=np.ones(8, bool))
    with pytest.raises(ValueError, match="both or neither"):
        cgan.GAN(nn.MLP(2, [8], 2, num_classes=3, seed=0), nn.MLP(2, [8], 1, seed=1), z_dim=2)
    assert cond.steps_done == 0 and cond.num_classes == 3 and plain.num_classes == 0


def test_conditional_checkpoint_round_trip(tmp_path):
    data, y, _ = blobs(128)
    gan = cgan.GAN(nn.MLP(2, [8], 2, num_classes=3, seed=0), nn.MLP(2, [8], 1, num_classes=3, seed=1), z_dim=2)
    gan.fit(data, 5, 16, progress=False, labels=y)
    path = gan.save(tmp_path / "c.npz")
    gan.fit(data, 3, 16, progress=False, labels=y)
    again = cgan.GAN.load(path)
    again.fit(data, 3, 16, progress=False, labels=y)
    np.testing.assert_array_equal(again.sample(9, seed=3, labels=np.arange(9) % 3),
                                  gan.sample(9, seed=3, labels=np.arange(9) % 3))
