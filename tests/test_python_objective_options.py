"""The options every objective takes (r1, r2, consistency, ct_margin) on objectives
written in Python, and the batch-norm refusal of every per-sample term: a Python
re-implementation of a built-in objective with r1=gamma gives the built-in's D loss and
gradients (float64, 1e-12), also against PyTorch's double backward."""
import numpy as np
import pytest

import cgan
from cgan import losses, nn, ops

torch = pytest.importorskip("torch")


class PyNonSaturating(losses.Objective):
    """The built-in non-saturating objective, re-written with public ops."""

    def d_loss(self, D, real, fake, rng):
        return ops.softplus(-D(real)).mean() + ops.softplus(D(fake)).mean()

    def g_loss(self, D, fake):
        return ops.softplus(-D(fake)).mean()


class PyHinge(losses.Objective):
    def d_loss(self, D, real, fake, rng):
        return ops.relu(1 - D(real)).mean() + ops.relu(1 + D(fake)).mean()

    def g_loss(self, D, fake):
        return -D(fake).mean()


class ScaledScore(PyNonSaturating):
    """R1 / R2 differentiate score(D, x) when the objective defines it."""

    def score(self, D, x):
        return D(x) * 3.0


def critic(seed=0):
    return nn.MLP(2, [5], 1, activation="tanh", seed=seed).astype("float64")


def batches(seed=0, n=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + 1.0


def torch_forward(params, x):
    h = torch.tanh(x @ params["0.weight"].T + params["0.bias"])
    return h @ params["2.weight"].T + params["2.bias"]


def torch_ns_r1(D, real, fake, gamma):
    """softplus game + gamma/2 E_r ||grad_x D(x)||^2 in torch (create_graph), and its leaves."""
    params = {k: torch.tensor(v, requires_grad=True) for k, v in D.state_dict().items()}
    xr = torch.tensor(real, requires_grad=True)
    vr = torch_forward(params, xr)
    (g,) = torch.autograd.grad(vr.sum(), xr, create_graph=True)
    r1 = (g ** 2).sum(1).mean()
    game = torch.nn.functional.softplus(-vr).mean() + torch.nn.functional.softplus(
        torch_forward(params, torch.tensor(fake))).mean()
    return game + gamma / 2 * r1, r1, params


def grads(D, loss):
    return [g.numpy() for g in cgan.grad(loss, [p for _, p in D.named_parameters()])]


@pytest.mark.parametrize("gamma", [0.5, 10.0])
def test_python_objective_r1_equals_the_builtin_and_torch(gamma):
    D, (real, fake) = critic(seed=1), batches(seed=1)
    mine = losses.regularize(PyNonSaturating(), r1=gamma)
    builtin = losses.get("non-saturating", r1=gamma)
    a, b = mine.d_loss(D, real, fake), builtin.d_loss(D, real, fake)
    assert a.item() == pytest.approx(b.item(), rel=1e-12)
    mine_grads = grads(D, a)
    for ga, gb in zip(mine_grads, grads(D, b)):
        np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-14)
    ref, r1, params = torch_ns_r1(D, real, fake, gamma)
    assert a.item() == pytest.approx(ref.item(), rel=1e-12)
    ref_grads = torch.autograd.grad(ref, list(params.values()))
    for (name, _), g, r in zip(D.named_parameters(), mine_grads, ref_grads):
        np.testing.assert_allclose(g, r.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
    assert mine.d_loss_terms(D, real, fake)["penalty"] == pytest.approx(r1.item(), rel=1e-12)
    # the term is really there: without it the loss differs by gamma/2 * R1
    plain = PyNonSaturating().d_loss(D, cgan.tensor(real), cgan.tensor(fake), None).item()
    assert a.item() - plain == pytest.approx(gamma / 2 * r1.item(), rel=1e-10)
    assert mine.g_loss(D, fake).item() == builtin.g_loss(D, fake).item()


def test_python_objective_r2_consistency_equal_the_builtin():
    D = nn.Sequential(nn.Linear(2, 6, seed=0), nn.LeakyReLU(0.2), nn.Dropout(0.5, seed=3),
                      nn.Linear(6, 1, seed=1)).astype("float64")
    real, fake = batches(seed=2)
    opts = dict(r2=2.0, consistency=2.0, ct_margin=0.1)
    a = losses.regularize(PyHinge(), **opts).d_loss_terms(D, real, fake, seed=5)
    D2 = nn.Sequential(nn.Linear(2, 6, seed=0), nn.LeakyReLU(0.2), nn.Dropout(0.5, seed=3),
                       nn.Linear(6, 1, seed=1)).astype("float64")
    b = losses.get("hinge", **opts).d_loss_terms(D2, real, fake, seed=5)
    assert a["loss"].item() == pytest.approx(b["loss"].item(), rel=1e-12)
    assert a["penalty"] == pytest.approx(b["penalty"], rel=1e-12) and a["penalty"] > 0


def test_score_method_is_what_r1_differentiates():
    D, (real, fake) = critic(seed=3), batches(seed=3)
    plain = losses.regularize(PyNonSaturating(), r1=1.0).d_loss_terms(D, real, fake)["penalty"]
    scaled = losses.regularize(ScaledScore(), r1=1.0).d_loss_terms(D, real, fake)["penalty"]
    assert scaled == pytest.approx(9.0 * plain, rel=1e-12)


def _twins(loss, **options):
    G = nn.MLP(2, [8], 2, seed=7).astype("float64")
    D = critic(seed=4)
    return cgan.GAN(G, D, loss=loss, z_dim=2, seed=3,
                    g_optimizer=cgan.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999)),
                    d_optimizer=cgan.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999)), **options)


def test_gan_with_python_objective_and_r1_trains_like_the_builtin():
    data = cgan.datasets.ring(256, seed=0).astype(np.float64)
    mine = _twins(PyNonSaturating(), r1=5.0)
    wrapped = _twins(losses.regularize(PyNonSaturating(), r1=5.0))
    builtin = _twins("non-saturating", r1=5.0)
    without = _twins(PyNonSaturating())
    hs = [g.fit(data, 8, 32, progress=False, log_every=1) for g in (mine, wrapped, builtin, without)]
    for h in hs[1:3]:
        np.testing.assert_allclose(hs[0]["d_loss"], h["d_loss"], rtol=1e-12)
        np.testing.assert_allclose(hs[0]["penalty"], h["penalty"], rtol=1e-12)
    assert np.all(hs[0]["penalty"] > 0) and np.all(np.isnan(hs[3]["penalty"]))
    assert not np.allclose(hs[0]["d_loss"], hs[3]["d_loss"])
    for a, b in zip(mine.discriminator.parameters(), builtin.discriminator.parameters()):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-14)
    assert mine.options == {"r1": 5.0} and wrapped.options == {"r1": 5.0}


def test_python_objective_options_round_trip_through_a_checkpoint(tmp_path):
    data = cgan.datasets.ring(256, seed=0).astype(np.float64)
    gan = _twins(PyNonSaturating(), r1=2.0, r2=1.0)
    gan.fit(data, 3, 32, progress=False)
    again = cgan.GAN.load(gan.save(str(tmp_path / "py.npz")))
    assert again.options == {"r1": 2.0, "r2": 1.0}
    batch = data[:32]
    assert again.step(batch)["penalty"] == gan.step(batch)["penalty"]


@pytest.mark.parametrize("options, match", [
    ({"r_1": 1.0}, "unknown option 'r_1' \\(did you mean 'r1'\\?\\)"),
    ({"consistancy": 2.0}, "did you mean 'consistency'"),
    ({"lambda_gp": 10.0}, "unknown option 'lambda_gp'.*only the options every objective"),
    ({"r1": -1.0}, "'r1' must be a finite number >= 0"),
    ({"ct_margin": 0.1}, "needs consistency > 0"),
])
def test_bad_options_of_a_python_objective_name_the_closest(options, match):
    G, D = nn.MLP(2, [4], 2, seed=0), nn.MLP(2, [4], 1, seed=1)
    before = {k: v.copy() for k, v in D.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        cgan.GAN(G, D, loss=PyNonSaturating(), z_dim=2, spectral_norm=True, **options)
    with pytest.raises(ValueError, match=match):
        losses.regularize(PyNonSaturating(), **options)
    assert [type(m).__name__ for _, m in D.named_children()] == ["Linear", "Activation", "Linear"]
    assert all(np.array_equal(v, before[k]) for k, v in D.state_dict().items())


def test_unknown_builtin_option_names_the_closest_and_leaves_d_alone():
    with pytest.raises(ValueError, match="unknown option 'clipp' \\(did you mean 'clip'\\?\\)"):
        losses.get("wgan", clipp=0.1)
    G, D = nn.MLP(2, [4], 2, seed=0), nn.MLP(2, [4], 1, seed=1)
    with pytest.raises(ValueError, match="did you mean 'r2'"):
        cgan.GAN(G, D, loss="hinge", z_dim=2, spectral_norm=True, rr2=1.0)
    assert [type(m).__name__ for _, m in D.named_children()] == ["Linear", "Activation", "Linear"]


def bn_critic(kind="batch"):
    norm = nn.BatchNorm1d(8) if kind == "batch" else nn.LayerNorm(8)
    return nn.Sequential(nn.Linear(2, 8, seed=1), norm, nn.LeakyReLU(0.2), nn.Dropout(0.5),
                         nn.Linear(8, 1, seed=2))


@pytest.mark.parametrize("option, why", [
    ("r1", "R1 penalty takes each real sample's gradient"),
    ("r2", "R2 penalty takes each fake sample's gradient"),
    ("consistency", "consistency term compares each sample's outputs"),
])
@pytest.mark.parametrize("loss", ["hinge", "wgan", PyHinge()])
def test_per_sample_options_refuse_batch_norm_and_leave_d_alone(option, why, loss):
    G, D = nn.MLP(2, [4], 2, seed=0), bn_critic()
    before = {k: v.copy() for k, v in D.state_dict().items()}
    with pytest.raises(ValueError, match=f"option {option}=2.0: the {why}.*BatchNorm1d.*couples the "
                                         f"samples.*LayerNorm.*no normalisation.*spectral_norm"):
        cgan.GAN(G, D, loss=loss, z_dim=2, spectral_norm=True, **{option: 2.0})
    assert [type(m).__name__ for _, m in D.named_children()] == [
        "Linear", "BatchNorm1d", "Activation", "Dropout", "Linear"]
    assert all(np.array_equal(v, before[k]) for k, v in D.state_dict().items())
    cgan.GAN(G, D, loss=loss, z_dim=2, **{option: 0.0})  # off: allowed
    cgan.GAN(G, bn_critic("layer"), loss=loss, z_dim=2, **{option: 2.0})  # LayerNorm: allowed


def test_builtin_penalties_still_refuse_batch_norm_with_the_alternatives():
    G, D = nn.MLP(2, [4], 2, seed=0), bn_critic()
    for loss in ("wgan-gp", "dragan"):
        with pytest.raises(ValueError, match=f"loss '{loss}'.*BatchNorm1d.*LayerNorm.*spectral_norm"):
            cgan.GAN(G, D, loss=loss, z_dim=2)
