"""The module system: shape contract, train/eval, the registry (config/from_config for
every type), PyTorch-compatible state dicts, running state, checkpoints of any module
tree, and (when torch is installed) equality with PyTorch's layers in float64."""
import os

import numpy as np
import pytest

import cgan
from cgan import nn

DATA = os.path.join(os.path.dirname(__file__), "data")


def every_module():
    """One instance of each registered type (containers nested), with its input shape."""
    return [
        (nn.Linear(3, 4, seed=0), (3,)),
        (nn.Conv2d(2, 3, 3, stride=2, padding=1, seed=0), (2, 7, 6)),
        (nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(0, 1), bias=False, seed=0), (2, 5, 5)),
        (nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1, output_padding=1, seed=0), (3, 4, 5)),
        (nn.BatchNorm1d(3), (3,)),
        (nn.BatchNorm1d(3, affine=False), (3, 4)),
        (nn.BatchNorm2d(2, eps=1e-3, momentum=0.3), (2, 3, 3)),
        (nn.LayerNorm((2, 3, 3)), (2, 3, 3)),
        (nn.LayerNorm(3, elementwise_affine=False), (2, 3)),
        (nn.VirtualBatchNorm1d(3), (3,)),
        (nn.VirtualBatchNorm2d(2, eps=1e-3), (2, 3, 3)),
        (nn.Flatten(), (2, 3, 3)),
        (nn.Unflatten((2, 3, 3)), (18,)),
        (nn.Upsample(2), (2, 3, 3)),
        (nn.Upsample((1, 3)), (2, 3, 3)),
        (nn.Dropout(0.3, seed=0), (5,)),
        (nn.Activation("leaky_relu", -0.5), (4,)),
        (nn.Tanh(), (4,)),
        (nn.MLP(3, [5, 4], 2, activation="elu", spectral_norm=True, seed=0), (3,)),
        (nn.SpectralNorm(nn.Conv2d(2, 4, 3, seed=0), seed=1), (2, 5, 5)),
        (nn.Embedding(3, 5, seed=0), ()),
        (nn.MinibatchDiscrimination(3, 4, 2, seed=0), (3,)),
        (nn.Conditional(nn.Sequential(nn.Conv2d(2, 3, 3, seed=0), nn.ReLU(), nn.Flatten(),
                                      nn.Linear(27, 1, seed=1)), 3, mode="projection", seed=2), (2, 5, 5)),
        (nn.MLP(3, [4], 2, num_classes=3, seed=0), (3,)),
        (nn.Sequential(nn.Linear(4, 18, seed=0), nn.Unflatten((2, 3, 3)),
                       nn.ConvTranspose2d(2, 3, 4, 2, 1, seed=1), nn.BatchNorm2d(3), nn.ReLU(),
                       nn.Sequential(nn.Conv2d(3, 2, 3, padding=1, seed=2), nn.LayerNorm((2, 6, 6))),
                       nn.Flatten(), nn.Linear(72, 1, seed=3)), (4,)),
    ]


def test_every_type_is_covered():
    types = set()

    def walk(cfg):
        types.add(cfg["type"])
        for c in cfg.get("layers", []):
            walk(c)
        if "module" in cfg:
            walk(cfg["module"])

    modules = every_module()
    assert len(modules) == N_MODULES
    for m, _ in modules:
        walk(nn.config(m))
    assert types == set(nn.module_types())


N_MODULES = 25


@pytest.mark.parametrize("i", range(N_MODULES))
def test_config_round_trip_and_state_dict_give_bitwise_equal_outputs(i):
    m, shape = every_module()[i]
    labels = np.array([0, 2, 1, 2])  # for the conditional ones; the others ignore them
    x = np.random.default_rng(0).normal(size=(4, *shape)).astype(np.float32)
    if isinstance(m, nn.Embedding):
        x = labels.astype(np.float32)
    m.train()
    m(cgan.tensor(x), labels=labels)  # move running statistics off their initial values
    m.eval()
    y = m(x, labels=labels)
    assert y.shape == (4, *m.out_shape(shape))
    m2 = nn.from_config(nn.config(m), seed=123)
    assert nn.config(m2) == nn.config(m)
    assert nn.parameter_count(nn.config(m)) == sum(v.size for v in m.state_dict().values())
    m2.load_state_dict(m.state_dict())
    m2.eval()
    np.testing.assert_array_equal(m2(x, labels=labels), y)
    assert list(m2.state_dict()) == list(m.state_dict())


def test_state_dict_names_follow_pytorch():
    m = nn.Sequential(nn.Conv2d(1, 2, 3, seed=0), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                      nn.Linear(2 * 4 * 4, 1, seed=1))
    sd = m.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean",
                        "1.running_var", "1.num_batches_tracked", "4.weight", "4.bias"]
    assert sd["0.weight"].shape == (2, 1, 3, 3)
    assert nn.ConvTranspose2d(3, 5, (2, 4), seed=0).state_dict()["weight"].shape == (3, 5, 2, 4)


def test_shape_contract_and_sequential_checks():
    assert nn.Conv2d(1, 8, 4, 2, 1, seed=0).out_shape((1, 28, 28)) == (8, 14, 14)
    assert nn.ConvTranspose2d(8, 4, 4, 2, 1, seed=0).out_shape((8, 7, 7)) == (4, 14, 14)
    assert nn.ConvTranspose2d(8, 4, 3, 2, 1, output_padding=1, seed=0).out_shape((8, 7, 7)) == (4, 14, 14)
    assert nn.Flatten().out_shape((2, 3, 4)) == (24,)
    assert nn.Upsample(2).out_shape((3, 4, 5)) == (3, 8, 10)
    assert nn.Tanh().out_shape((3, 4, 5)) == (3, 4, 5)
    G = nn.Sequential(nn.Linear(10, 32, seed=0), nn.Unflatten((2, 4, 4)), nn.ConvTranspose2d(2, 1, 4, 2, 1, seed=1))
    assert G.in_shape == (10,) and G.out_shape((10,)) == (1, 8, 8)
    with pytest.raises(ValueError, match=r"layer 2 \(ConvTranspose2d\)"):
        nn.Sequential(nn.Linear(10, 32, seed=0), nn.Unflatten((2, 4, 4)), nn.ConvTranspose2d(3, 1, 4, seed=1))
    with pytest.raises(ValueError, match=r"layer 1 \(Unflatten\).*\(N, 18\).*\(N, 32\)"):
        nn.Sequential(nn.Linear(10, 32, seed=0), nn.Unflatten((2, 3, 3)))
    with pytest.raises(ValueError, match=r"layer 1 \(Conv2d\).*\(C, H, W\)"):
        nn.Sequential(nn.Linear(4, 4, seed=0), nn.Conv2d(1, 1, 1, seed=0))
    with pytest.raises(ValueError, match=r"layer 0 \(Conv2d\)"):
        nn.Sequential(nn.Conv2d(1, 1, 1, seed=0), nn.Flatten()).out_shape((4,))


@pytest.mark.parametrize("build, match", [
    (lambda: nn.Conv2d(1, 2, 3, stride=0), "stride must be >= 1"),
    (lambda: nn.Conv2d(1, 2, 3, padding=-1), "padding must be >= 0"),
    (lambda: nn.Conv2d(0, 2, 3), "in_channels and out_channels must be >= 1"),
    (lambda: nn.Conv2d(1, 2, 0), "kernel_size must be >= 1"),
    (lambda: nn.ConvTranspose2d(1, 2, 3, stride=2, output_padding=2), "output_padding"),
    (lambda: nn.Conv2d(1, 2, (3, 3, 3)), "pair"),
    (lambda: nn.BatchNorm2d(0), "num_features"),
    (lambda: nn.BatchNorm2d(3, momentum=2), "momentum"),
    (lambda: nn.LayerNorm(3, eps=0), "eps"),
    (lambda: nn.Dropout(1.0), r"p must be in \[0, 1\)"),
    (lambda: nn.Unflatten((2, 0)), "dim < 1"),
    (lambda: nn.Upsample(0), "scale_factor"),
    (lambda: nn.Activation("relu", 0.5), "takes no parameter"),
    (lambda: nn.Activation("leaky_relu", float("nan")), "finite"),
    (lambda: nn.MLP(2, [3], 1, negative_slope=float("inf")), "negative_slope must be finite"),
])
def test_bad_layer_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


@pytest.mark.parametrize("build", [
    lambda: nn.Conv2d(1.5, 2, 3), lambda: nn.Conv2d(1, 2, True), lambda: nn.Conv2d(1, 2, "3"),
    lambda: nn.MLP(True, [3], 1), lambda: nn.MLP(2, [3], 1, negative_slope=None),
    lambda: nn.Linear(2, 3, bias=1), lambda: nn.BatchNorm1d(2, affine="yes"),
])
def test_wrong_argument_types(build):
    with pytest.raises(TypeError):
        build()


@pytest.mark.parametrize("build, x, match", [
    (lambda: nn.Conv2d(3, 2, 3, seed=0), np.zeros((2, 1, 5, 5)), r"Conv2d.*channel"),
    (lambda: nn.Conv2d(1, 2, 5, seed=0), np.zeros((2, 1, 3, 3)), r"Conv2d.*kernel"),
    (lambda: nn.Conv2d(1, 2, 3, seed=0), np.zeros((2, 9)), r"Conv2d"),
    (lambda: nn.BatchNorm2d(3), np.zeros((2, 4, 2, 2)), r"BatchNorm2d\(3\).*\(N, 4, 2, 2\)"),
    (lambda: nn.LayerNorm((4, 4)), np.zeros((2, 3, 3)), r"LayerNorm.*\(N, 3, 3\)"),
    (lambda: nn.Unflatten((2, 2)), np.zeros((2, 5)), r"Unflatten.*\(N, 4\).*\(N, 5\)"),
])
def test_bad_inputs_name_the_layer_and_shapes(build, x, match):
    m = build()
    with pytest.raises(ValueError, match=match):
        m(x.astype(np.float32))


def test_modes_recurse_and_eval_is_deterministic():
    m = nn.Sequential(nn.Linear(4, 8, seed=0), nn.Dropout(0.5, seed=1), nn.BatchNorm1d(8),
                      nn.Sequential(nn.Dropout(0.5, seed=2)))
    assert m.training and m[1].training and m[3][0].training
    assert m.eval() is m
    assert not m.training and not m[1].training and not m[3][0].training
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    np.testing.assert_array_equal(m(x), m(x))
    m.train()
    assert m[3][0].training
    a, b = m(cgan.tensor(x)).numpy(), m(cgan.tensor(x)).numpy()
    assert not np.array_equal(a, b)  # dropout draws anew each train-mode forward


def test_dropout_scales_kept_units():
    d = nn.Dropout(0.25, seed=0)
    y = d(cgan.tensor(np.ones((200, 50), np.float32))).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.75)
    assert abs(kept.mean() - 0.75) < 0.02
    d.eval()
    np.testing.assert_array_equal(d(np.ones((3, 4), np.float32)), 1)


def test_batch_norm_running_state_moves_only_in_a_networks_own_update():
    # Each D update forwards a real and a fake batch (2 moves of D's statistics); G's
    # update forwards D once more, frozen; G's own statistics move once per G update.
    G = nn.Sequential(nn.Linear(2, 8, seed=0), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2, seed=1))
    D = nn.Sequential(nn.Linear(2, 8, seed=2), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1, seed=3))
    gan = cgan.GAN(G, D, loss="nsgan", z_dim=2, d_steps=3, seed=0)
    gan.fit(cgan.datasets.ring(256, seed=0), 4, 32, progress=False)
    assert D.state_dict()["1.num_batches_tracked"] == 4 * 3 * 2
    assert G.state_dict()["1.num_batches_tracked"] == 4
    before = {k: v.copy() for k, v in D.state_dict().items()}
    gan.sample(10), gan.discriminate(np.zeros((5, 2), np.float32))
    gan.sample(10, training=True)
    for k, v in D.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_sample_uses_eval_mode_unless_asked():
    G = nn.Sequential(nn.Linear(2, 8, seed=0), nn.BatchNorm1d(8), nn.Linear(8, 2, seed=1))
    D = nn.MLP(2, [8], 1, seed=2)
    gan = cgan.GAN(G, D, z_dim=2, seed=0)
    gan.fit(cgan.datasets.ring(256, seed=0), 3, 32, progress=False)
    assert G.training
    z = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)
    G.eval()
    expected = G(z)
    G.train()
    np.testing.assert_array_equal(gan.generate(z), expected)
    assert G.training  # restored
    assert not np.allclose(gan.generate(z, training=True), expected)


def test_gradient_penalty_with_batch_norm_critic_is_refused():
    G = nn.MLP(2, [8], 2, seed=0)
    D = nn.Sequential(nn.Linear(2, 8, seed=1), nn.BatchNorm1d(8), nn.Linear(8, 1, seed=2))
    for loss in ("wgan-gp", "dragan", "loss-sensitive"):
        with pytest.raises(ValueError, match="BatchNorm1d.*LayerNorm"):
            cgan.GAN(G, D, loss=loss, z_dim=2)
    cgan.GAN(G, D, loss="loss-sensitive", z_dim=2, lambda_gp=0)  # no penalty: allowed
    cgan.GAN(G, D, loss="hinge", z_dim=2)


def test_gan_spectral_norm_wraps_every_weight_of_d():
    D = nn.Sequential(nn.Conv2d(1, 2, 3, seed=0), nn.LeakyReLU(), nn.Flatten(), nn.Linear(8, 1, seed=1))
    params = D.parameters()
    G = nn.Sequential(nn.Linear(2, 16, seed=2), nn.Unflatten((1, 4, 4)))
    gan = cgan.GAN(G, D, loss="hinge", z_dim=2, spectral_norm=True)
    assert [type(l).__name__ for l in D] == ["SpectralNorm", "Activation", "Flatten", "SpectralNorm"]
    assert all(p is q or np.shares_memory(p.numpy(), q.numpy()) for p, q in zip(params, D.parameters()))
    for layer in (D[0], D[3]):
        W = layer.normalized_weight().numpy().reshape(layer.module.weight.shape[0], -1)
        assert np.linalg.svd(W, compute_uv=False)[0] < 1.5  # one power iteration, near 1
    gan.fit(np.random.default_rng(0).normal(size=(64, 1, 4, 4)).astype(np.float32), 2, 8, progress=False)


def test_gan_that_cannot_be_built_leaves_d_without_spectral_norm():
    # GANCore's own checks (here: D's output is 2 wide, the loss needs 1) run after spectral
    # norm wrapped D's layers; the failed call must put the original layers back.
    G = nn.Sequential(nn.Linear(2, 16, seed=2), nn.Unflatten((1, 4, 4)))
    layers = [nn.Conv2d(1, 2, 3, seed=0), nn.LeakyReLU(), nn.Flatten(), nn.Linear(8, 2, seed=1)]
    D = nn.Sequential(*layers)
    before = {k: v.copy() for k, v in D.state_dict().items()}
    with pytest.raises(ValueError, match="output of shape"):
        cgan.GAN(G, D, loss="hinge", z_dim=2, spectral_norm=True)
    assert [type(l).__name__ for l in D] == ["Conv2d", "Activation", "Flatten", "Linear"]
    assert D[0] is layers[0] and D[3] is layers[3]
    assert D.state_dict().keys() == before.keys()
    for k, v in D.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_images_through_gan_and_checkpoint(tmp_path):
    G = nn.Sequential(nn.Linear(4, 2 * 4 * 4, seed=0), nn.Unflatten((2, 4, 4)), nn.BatchNorm2d(2), nn.ReLU(),
                      nn.ConvTranspose2d(2, 1, 4, 2, 1, seed=1), nn.Tanh())
    D = nn.Sequential(nn.Conv2d(1, 2, 4, 2, 1, seed=2), nn.LeakyReLU(0.2), nn.Dropout(0.2, seed=5),
                      nn.Flatten(), nn.Linear(32, 1, seed=3))
    data = np.tanh(np.random.default_rng(0).normal(size=(64, 1, 8, 8))).astype(np.float32)
    gan = cgan.GAN(G, D, loss="nsgan", z_dim=4, seed=0)
    assert gan.data_shape == (1, 8, 8)
    gan.fit(data, 3, 16, progress=False)
    assert gan.sample(5).shape == (5, 1, 8, 8)
    path = gan.save(tmp_path / "run.npz")
    gan.fit(data, 2, 16, progress=False)
    resumed = cgan.GAN.load(path)
    resumed.fit(data, 2, 16, progress=False)
    np.testing.assert_array_equal(resumed.sample(7, seed=1), gan.sample(7, seed=1))
    for k, v in gan.discriminator.state_dict().items():
        np.testing.assert_array_equal(resumed.discriminator.state_dict()[k], v)
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\).*\(64, 1, 8, 7\)"):
        gan.fit(data[..., :7], 1, 8, progress=False)
    with pytest.raises(ValueError, match="generator makes"):
        cgan.GAN(G, nn.Sequential(nn.Conv2d(2, 2, 3, seed=0), nn.Flatten(), nn.Linear(72, 1, seed=0)), z_dim=4)


def test_every_objective_trains_on_images():
    data = np.tanh(np.random.default_rng(0).normal(size=(32, 1, 6, 6))).astype(np.float32)
    for loss in cgan.losses.available():
        G = nn.Sequential(nn.Linear(3, 36, seed=0), nn.Unflatten((1, 6, 6)), nn.Tanh())
        out = 36 if loss == "ebgan" else 1
        D = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1, seed=1), nn.LayerNorm((2, 6, 6)), nn.ELU(),
                          nn.Flatten(), nn.Linear(72, out, seed=2))
        if loss == "ebgan":
            D = nn.Sequential(D, nn.Unflatten((1, 6, 6)))
        gan = cgan.GAN(G, D, loss=loss, z_dim=3, seed=0)
        h = gan.fit(data, 2, 8, progress=False, log_every=1)
        assert np.all(np.isfinite(h["d_loss"])), loss


def test_format1_checkpoint_still_loads():
    # Written by cgan 0.1 (format 1): an MLP generator with leaky_relu and a Sequential
    # critic with a spectral-normalised Linear, trained 20 steps of wgan-gp.
    gan = cgan.GAN.load(os.path.join(DATA, "format1_wgan_gp.npz"))
    np.testing.assert_array_equal(gan.sample(16, seed=7), np.load(os.path.join(DATA, "format1_wgan_gp_sample.npy")))
    assert gan.steps_done == 20 and gan.loss == "wgan-gp"
    assert nn.config(gan.generator)["negative_slope"] == 0.1
    gan.fit(cgan.datasets.ring(512, seed=0), 2, 32, progress=False)


def test_init_schemes_use_fan_in_of_conv_weights():
    c = nn.Conv2d(16, 64, 5, seed=0)
    w = c.weight.numpy()
    bound = 1 / np.sqrt(16 * 25)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    d = nn.ConvTranspose2d(64, 32, 4, init="dcgan", seed=0)
    assert abs(d.weight.numpy().std() - 0.02) < 0.001 and np.all(d.bias.numpy() == 0)


# ---- against PyTorch, float64 -------------------------------------------------------------------

def _torch_pair(torch):
    """A DCGAN-shaped generator and LayerNorm critic in torch and in cgan, same weights."""
    tnn = torch.nn
    tG = tnn.Sequential(tnn.Linear(8, 16 * 3 * 3), tnn.Unflatten(1, (16, 3, 3)), tnn.BatchNorm2d(16), tnn.ReLU(),
                        tnn.ConvTranspose2d(16, 8, 4, 2, 1), tnn.BatchNorm2d(8), tnn.ReLU(),
                        tnn.ConvTranspose2d(8, 1, 3, 2, 1, output_padding=1), tnn.Tanh()).double()
    tD = tnn.Sequential(tnn.Conv2d(1, 4, 4, 2, 1), tnn.LeakyReLU(0.2), tnn.Conv2d(4, 8, 3, 2, 1),
                        tnn.LayerNorm((8, 3, 3)), tnn.LeakyReLU(0.2), tnn.Flatten(), tnn.Linear(72, 1)).double()
    G = nn.Sequential(nn.Linear(8, 144, seed=0), nn.Unflatten((16, 3, 3)), nn.BatchNorm2d(16), nn.ReLU(),
                      nn.ConvTranspose2d(16, 8, 4, 2, 1, seed=0), nn.BatchNorm2d(8), nn.ReLU(),
                      nn.ConvTranspose2d(8, 1, 3, 2, 1, output_padding=1, seed=0), nn.Tanh()).astype("float64")
    D = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1, seed=0), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 3, 2, 1, seed=0),
                      nn.LayerNorm((8, 3, 3)), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(72, 1, seed=0)).astype("float64")
    with torch.no_grad():  # non-trivial affine parameters
        for p in list(tG.parameters()) + list(tD.parameters()):
            p.add_(0.05 * torch.randn_like(p))
    for t, c in ((tG, G), (tD, D)):
        c.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return tG, tD, G, D


def test_pytorch_state_dict_gives_the_same_outputs():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tG, tD, G, D = _torch_pair(torch)
    z = np.random.default_rng(0).normal(size=(5, 8))
    G.eval(), tG.eval(), D.eval(), tD.eval()
    x = G(z)
    assert x.shape == (5, 1, 12, 12)
    np.testing.assert_allclose(x, tG(torch.from_numpy(z)).detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(D(x), tD(torch.from_numpy(x)).detach().numpy(), rtol=0, atol=1e-10)


def test_batch_norm_running_statistics_match_pytorch_after_five_steps():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tG, _, G, _ = _torch_pair(torch)
    rng = np.random.default_rng(1)
    G.train(), tG.train()
    for _ in range(5):
        z = rng.normal(size=(6, 8))
        np.testing.assert_allclose(G(cgan.tensor(z)).numpy(), tG(torch.from_numpy(z)).detach().numpy(),
                                   rtol=0, atol=1e-10)
    for k, v in tG.state_dict().items():
        np.testing.assert_allclose(G.state_dict()[k], v.numpy(), rtol=0, atol=1e-12, err_msg=k)
    G.eval(), tG.eval()
    z = rng.normal(size=(3, 8))
    np.testing.assert_allclose(G(z), tG(torch.from_numpy(z)).detach().numpy(), rtol=0, atol=1e-10)


def test_wgan_gp_penalty_gradients_through_conv_critic_match_pytorch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    _, tD, _, D = _torch_pair(torch)
    xh = np.random.default_rng(2).normal(size=(4, 1, 12, 12))
    # cgan
    x = cgan.tensor(xh, requires_grad=True)
    g, = cgan.grad(D(x).sum(), [x], create_graph=True)
    norms = (g * g).sum(axis=(1, 2, 3)).__pow__(0.5)
    penalty = ((norms - 1) ** 2).mean()
    params = D.parameters()
    grads = cgan.grad(penalty, params + [x], allow_unused=True)
    # torch
    tx = torch.from_numpy(xh).requires_grad_(True)
    tg, = torch.autograd.grad(tD(tx).sum(), tx, create_graph=True)
    tpen = ((tg.flatten(1).norm(dim=1) - 1) ** 2).mean()
    tparams = list(tD.parameters()) + [tx]
    tgrads = [torch.zeros_like(p) if g is None else g
              for p, g in zip(tparams, torch.autograd.grad(tpen, tparams, allow_unused=True))]
    assert abs(penalty.item() - tpen.item()) < 1e-10
    for a, b in zip(grads, tgrads):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), rtol=0, atol=1e-10)
