"""The lecture's theory as tests: a discriminator trained against a fixed generator of
known density approaches the optimum the lecture derives.

The generator is G(z) = z + 1 with z ~ N(0, 1) and learning rate 0, so P_G = N(1, 1)
exactly while the real data are N(0, 1).
"""
import numpy as np
import pytest

import cgan

JSD_N01_N11 = 0.11142  # JSD(N(0,1) || N(1,1)) in nats


def npdf(x, mu):
    return np.exp(-0.5 * (x - mu) ** 2) / np.sqrt(2 * np.pi)


def fixed_generator():
    G = cgan.nn.Linear(1, 1, seed=0)
    G.load_state_dict({"weight": np.ones((1, 1), np.float32), "bias": np.ones(1, np.float32)})
    return G


def train_critic(loss, steps=3000, **options):
    G = fixed_generator()
    D = cgan.nn.MLP(1, [32, 32], 1, activation="tanh", seed=1)
    gan = cgan.GAN(G, D, loss=loss, z_dim=1, seed=0,
                   g_optimizer=cgan.optim.SGD(G.parameters(), lr=0.0),
                   d_optimizer=cgan.optim.Adam(D.parameters(), lr=2e-3), **options)
    data = cgan.datasets.gaussian_1d(200000, seed=2)
    hist = gan.fit(data, steps, 512, progress=False, log_every=50)
    assert np.allclose(G.weight.numpy(), 1) and np.allclose(G.bias.numpy(), 1)
    return gan, hist


@pytest.fixture(scope="module")
def classifier():
    return train_critic("minimax")


def test_optimal_discriminator(classifier):
    gan, _ = classifier
    x = np.linspace(-2, 3, 51).reshape(-1, 1).astype(np.float32)
    d = 1 / (1 + np.exp(-gan.discriminate(x).ravel()))
    d_star = npdf(x.ravel(), 0) / (npdf(x.ravel(), 0) + npdf(x.ravel(), 1))
    assert np.abs(d - d_star).max() < 0.05


def test_value_at_optimum_is_jsd(classifier):
    # max_D V(G, D) = -2 log 2 + 2 JSD(P_data || P_G); the D loss is -V.
    _, hist = classifier
    v = -hist["d_loss"][-20:].mean()
    assert abs(v - (-2 * np.log(2) + 2 * JSD_N01_N11)) < 0.02


@pytest.mark.parametrize("name, tol", [("kl", 0.06), ("jensen-shannon", 0.1), ("hellinger", 0.25), ("jeffrey", 0.6)])
def test_fgan_critic_approaches_f_prime_of_density_ratio(name, tol):
    # The f-GAN critic T = g_f(v) maximises E_P[T] - E_Q[f*(T)]; pointwise the optimum is
    # T*(x) = f'(p(x)/q(x)). Here p/q = exp(1/2 - x); f' by central differences of f.
    gan, hist = train_critic(f"f-gan:{name}")
    div = cgan.divergences.get(name)
    x = np.linspace(-1.5, 2.5, 41)
    t = div.activation(gan.discriminate(x.reshape(-1, 1).astype(np.float32)).ravel())
    u, h = np.exp(0.5 - x), 1e-6
    f_prime = (div.f(u + h) - div.f(u - h)) / (2 * h)
    assert np.abs(t - f_prime).max() < tol
    # The critic's estimate of the divergence approaches D_f(N(0,1) || N(1,1)).
    true = div.divergence(npdf_0, npdf_1, -12, 13)
    assert abs(hist["divergence"][-20:].mean() - true) < 0.1 * true + 0.01


def npdf_0(x):
    return npdf(x, 0.0)


def npdf_1(x):
    return npdf(x, 1.0)


def generator_grad_norm(loss, G, D, z):
    fake = G(cgan.tensor(z))
    g = cgan.grad(cgan.losses.get(loss).g_loss(D, fake), G.parameters())
    return np.sqrt(sum(float((t.numpy().astype(np.float64) ** 2).sum()) for t in g))


def test_minimax_saturates_where_non_saturating_does_not():
    # Early in training D rejects the fakes confidently (D(G(z)) ~ 0): log(1 - D) is flat
    # there, -log D is steep. Same G, same D, same noise; only the generator loss differs.
    G = fixed_generator()
    G.load_state_dict({"weight": np.ones((1, 1), np.float32),
                       "bias": np.full(1, 6.0, np.float32)})  # P_G = N(6, 1), far from data
    D = cgan.nn.MLP(1, [32, 32], 1, activation="leaky_relu", seed=1)
    gan = cgan.GAN(G, D, loss="minimax", z_dim=1, seed=1,
                   g_optimizer=cgan.optim.SGD(G.parameters(), lr=0.0),
                   d_optimizer=cgan.optim.Adam(D.parameters(), lr=2e-3))
    gan.fit(cgan.datasets.gaussian_1d(20000, seed=3), 1000, 256, progress=False)
    d_fake = 1 / (1 + np.exp(-gan.discriminate(gan.sample(1000, seed=0))))
    assert np.median(d_fake) < 0.01  # D is confident: the regime the lecture describes
    z = np.random.default_rng(0).standard_normal((512, 1)).astype(np.float32)
    mm = generator_grad_norm("minimax", G, D, z)
    ns = generator_grad_norm("non-saturating", G, D, z)
    assert mm < 0.1 * ns
