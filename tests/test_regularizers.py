"""R1 / R2 (Mescheder et al. 2018) and the CT-GAN consistency term (Wei et al. 2018):
options of every objective, checked against PyTorch (double backward through
create_graph) on fixed inputs."""
import numpy as np
import pytest

import cgan
import cgan.cli
from cgan import losses

torch = pytest.importorskip("torch")


def mlp(out=1, seed=0):
    return cgan.nn.MLP(2, [5], out, activation="tanh", seed=seed).astype("float64")


def forward(D, params, x, masks=()):
    """D's layers (Linear, tanh / leaky_relu, Dropout) in torch with the parameters
    `params`; each Dropout multiplies by the next of `masks` (already scaled by 1/keep)."""
    masks = list(masks)
    h = x
    for i, layer in enumerate(layers_of(D)):
        kind = type(layer).__name__
        if kind == "Linear":
            h = h @ params[f"{i}.weight"].T + params[f"{i}.bias"]
        elif kind == "Dropout":
            h = h * torch.tensor(masks.pop(0))
        elif layer.name == "tanh":
            h = torch.tanh(h)
        else:
            h = torch.nn.functional.leaky_relu(h, layer.param)
    return h


def layers_of(D):
    return D.layers if isinstance(D, _First) else [m for _, m in D.named_children()]


def leaves(D):
    return {k: torch.tensor(v, requires_grad=True) for k, v in D.state_dict().items()}


def sq_grad_norm(D, params, x, score=None):
    """E ||grad_x sum s(x)||^2 (per-sample norm over the non-batch axes), with create_graph."""
    xt = torch.tensor(x, requires_grad=True)
    s = score(forward(D, params, xt), xt) if score else forward(D, params, xt)
    (g,) = torch.autograd.grad(s.sum(), xt, create_graph=True)
    return (g ** 2).flatten(1).sum(1).mean()


def check_value_and_grads(D, mine, reference):
    """mine: a 0-d cgan Tensor over D; reference(params) the torch value."""
    params = leaves(D)
    ref = reference(params)
    assert mine.item() == pytest.approx(ref.item(), rel=1e-12)
    ref_grads = torch.autograd.grad(ref, list(params.values()))
    named = D.named_parameters()
    my_grads = cgan.grad(mine, [p for _, p in named])
    for (name, _), g, r in zip(named, my_grads, ref_grads):
        np.testing.assert_allclose(g.numpy(), r.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def data(seed=0, n=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 2)), rng.normal(size=(n, 2)) + 1.0


def hinge(D, params, real, fake, masks_real=(), masks_fake=()):
    vr = forward(D, params, torch.tensor(real), masks_real)
    vf = forward(D, params, torch.tensor(fake), masks_fake)
    return torch.relu(1 - vr).mean() + torch.relu(1 + vf).mean()


@pytest.mark.parametrize("gammas", [(3.0, 0.0), (0.0, 5.0), (3.0, 5.0)])
def test_r1_r2_match_torch_double_backward(gammas):
    D, (real, fake) = mlp(seed=2), data(seed=2)
    r1, r2 = gammas
    loss = losses.get("hinge", **{k: g for k, g in (("r1", r1), ("r2", r2)) if g})

    def reference(p):
        return (hinge(D, p, real, fake) + r1 / 2 * sq_grad_norm(D, p, real)
                + r2 / 2 * sq_grad_norm(D, p, fake))
    check_value_and_grads(D, loss.d_loss(D, real, fake), reference)
    # penalty column: the unweighted penalties, summed
    p = leaves(D)
    ref_pen = (r1 > 0) * sq_grad_norm(D, p, real).item() + (r2 > 0) * sq_grad_norm(D, p, fake).item()
    assert loss.d_loss_terms(D, real, fake)["penalty"] == pytest.approx(ref_pen, rel=1e-12)
    # the generator's loss is the objective's own
    assert loss.g_loss(D, fake).item() == losses.get("hinge").g_loss(D, fake).item()


def test_r1_adds_to_an_objectives_own_penalty_and_keeps_its_estimate():
    D, (real, fake) = mlp(seed=4), data(seed=4)
    base = losses.get("wgan-gp").d_loss_terms(D, real, fake, seed=7)
    with_r1 = losses.get("wgan-gp", r1=2.0).d_loss_terms(D, real, fake, seed=7)
    r1 = sq_grad_norm(D, leaves(D), real).item()
    assert with_r1["penalty"] == pytest.approx(base["penalty"] + r1, rel=1e-12)
    assert with_r1["loss"].item() == pytest.approx(base["loss"].item() + 1.0 * r1, rel=1e-12)
    assert with_r1["divergence"] == base["divergence"]


def test_r1_of_ebgan_differentiates_the_energy():
    D, (real, fake) = mlp(out=2, seed=5), data(seed=5)
    xt = torch.tensor(real, requires_grad=True)
    energy = ((forward(D, leaves(D), xt) - xt) ** 2).mean(1)
    (g,) = torch.autograd.grad(energy.sum(), xt)
    r1 = (g ** 2).sum(1).mean().item()
    base = losses.get("ebgan").d_loss(D, real, fake).item()
    assert losses.get("ebgan", r1=4.0).d_loss(D, real, fake).item() == pytest.approx(base + 2.0 * r1, rel=1e-12)


DROPOUTS = ((6, 0.5, 11), (5, 0.3, 12))  # (width, p, the layer's own seed)


def dropout_critic():
    (w1, p1, s1), (w2, p2, s2) = DROPOUTS
    D = cgan.nn.Sequential(cgan.nn.Linear(2, w1, seed=0), cgan.nn.LeakyReLU(0.2), cgan.nn.Dropout(p1, seed=s1),
                            cgan.nn.Linear(w1, w2, seed=1), cgan.nn.LeakyReLU(0.2), cgan.nn.Dropout(p2, seed=s2),
                            cgan.nn.Linear(w2, 1, seed=2))
    return D.astype("float64")


def keep_masks(rngs, n):
    """One forward's dropout masks: each layer draws U[0, 1) of its input's shape."""
    return [(rng.uniform([n, w], dtype="float64").numpy() < 1 - p) / (1 - p)
            for rng, (w, p, _) in zip(rngs, DROPOUTS)]


@pytest.mark.parametrize("margin", [0.0, 0.2, 3.0])
def test_consistency_term_matches_torch(margin):
    D, (real, fake) = dropout_critic(), data(seed=6)
    lam, n = 2.0, len(real)
    loss = losses.get("hinge", consistency=lam, ct_margin=margin)
    # Outside a GAN, the objective's own forwards draw from each Dropout's own rng (real
    # batch, then fake); the two forwards of the consistency term from the seeded rng.
    own = [cgan.RNG(s) for _, _, s in DROPOUTS]
    m_real, m_fake = keep_masks(own, n), keep_masks(own, n)
    seeded = cgan.RNG(9)
    m1, m2 = keep_masks([seeded, seeded], n), keep_masks([seeded, seeded], n)
    # x' draws layer 1 then layer 2, then x'' does: the interleaving keep_masks uses

    def ct(p):
        real_t = torch.tensor(real)
        body = lambda m: forward(_First(D, 6), p, real_t, m)  # noqa: E731 - D_: all but the last Linear
        h1, h2 = body(m1), body(m2)
        o1, o2 = (h @ p["6.weight"].T + p["6.bias"] for h in (h1, h2))
        return torch.relu((o1 - o2).norm(dim=1) + 0.1 * (h1 - h2).norm(dim=1) - margin).mean()

    def reference(p):
        return hinge(D, p, real, fake, m_real, m_fake) + lam * ct(p)
    check_value_and_grads(D, loss.d_loss(D, real, fake, seed=9), reference)
    expected = ct(leaves(D)).item()
    assert (expected > 0) == (margin < 3.0)  # the margin 3 hides every difference
    fresh = dropout_critic()
    assert loss.d_loss_terms(fresh, real, fake, seed=9)["penalty"] == pytest.approx(expected, rel=1e-12)


class _First:
    """The first n layers of D, for forward()."""

    def __init__(self, D, n):
        self.layers = layers_of(D)[:n]


def test_consistency_needs_dropout_in_train_mode():
    D, (real, fake) = mlp(), data()
    with pytest.raises(ValueError, match="consistency: D has no Dropout"):
        losses.get("hinge", consistency=2).d_loss(D, real, fake)
    D = dropout_critic()
    D.eval()
    with pytest.raises(ValueError, match="no Dropout"):
        losses.get("nsgan", consistency=2).d_loss(D, real, fake)


@pytest.mark.parametrize("opts, match", [
    ({"r1": -1.0}, "'r1' must be a finite number >= 0"),
    ({"r2": float("inf")}, "'r2' must be a finite number"),
    ({"r1": True}, "'r1' must be a number, got a bool"),
    ({"consistency": "2"}, "'consistency' must be a number"),
    ({"ct_margin": 0.1}, "'ct_margin'.*needs consistency > 0"),
    ({"r3": 1.0}, "unknown option 'r3' \\(did you mean 'r1'\\?\\); accepted:.* r1 \\(number\\) r2 \\(number\\) consistency"),
])
def test_bad_regularizer_options_name_the_option(opts, match):
    for name in ("hinge", "wgan-gp", "f-gan:kl"):
        with pytest.raises(ValueError, match=match):
            losses.get(name, **opts)
    D, G = mlp(), cgan.nn.MLP(2, [4], 2, seed=0)
    with pytest.raises(ValueError, match=match):
        cgan.GAN(G, D.astype("float32"), loss="hinge", z_dim=2, **opts)


@pytest.mark.parametrize("name", cgan.losses.available())
def test_every_objective_trains_with_r1_r2_and_consistency(name, tmp_path):
    out = 2 if name == "ebgan" else 1
    G = cgan.nn.MLP(2, [8], 2, seed=0)
    D = cgan.nn.Sequential(cgan.nn.Linear(2, 8, seed=1), cgan.nn.LeakyReLU(0.2), cgan.nn.Dropout(0.5),
                            cgan.nn.Linear(8, out, seed=2))
    gan = cgan.GAN(G, D, loss=name, z_dim=2, seed=0, r1=1.0, r2=0.5, consistency=2.0)
    h = gan.fit(cgan.datasets.ring(256, seed=0), 3, 32, progress=False)
    assert np.all(np.isfinite(h["penalty"])) and np.all(h["penalty"] > 0)
    assert gan.options["r1"] == 1.0 and gan.options["consistency"] == 2.0
    gan.save(str(tmp_path / "run.npz"))  # the options round-trip through a checkpoint
    again = cgan.GAN.load(str(tmp_path / "run.npz"))
    assert again.options == gan.options
    batch = cgan.datasets.ring(32, seed=1).astype(np.float32)
    assert again.step(batch)["penalty"] == gan.step(batch)["penalty"]


def test_cli_lists_the_common_options(capsys):
    assert cgan.cli.main(["losses", "lsgan"]) == 0
    out = capsys.readouterr().out
    assert "r1=off" in out and "r2=off" in out and "consistency=off" in out and "ct_margin=0.2" in out
    assert "Mescheder" in out and "Wei et al." in out
