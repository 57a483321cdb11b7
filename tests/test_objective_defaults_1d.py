"""Each objective's documented defaults (optimizer, learning rate, d_steps, options from
cgan.defaults) fitted to N(4, 1.25^2) from a fixed start: small ReLU MLPs (1-16-16-1, z_dim
1), batch 64, 2500 generator steps, seed 0. The generator's samples must land within 0.3 of
the mean and of the std. The objectives that do not are the documented exceptions (each
objective's docstring says why); they are strict xfails, so a change that makes one fit
shows up and its docstring gets updated."""
import numpy as np
import pytest

import cgan

MEAN, STD, TOL = 4.0, 1.25, 0.3

# name -> the reason its docstring gives (measured with this very setup: mean / std)
EXCEPTIONS = {
    "f-gan:total-variation": "bounded critic T = tanh(v)/2: G's signal is weak (2.3 / 0.65)",
    "wgan": "RMSprop lr 5e-5 with clipping is still on the way at 2500 steps (3.7 / 0.82)",
    "wgan-gp": "the method oscillates: the generator's mean swings around the data "
               "(Gulrajani's settings; PyTorch swings the same way)",
    "dragan": "in 1-D the two-sided penalty's minimum |D'| = 1 is two points; D starts with "
              "D' < 0 at the data, lambda_gp = 10 keeps it at D' = -1, and G sits at D's maximum "
              "(0.45 / 0.01); PyTorch with the same start does the same; no perturb/lambda/lr fits",
    "ebgan": "too narrow (3.86 / 0.84): the autoencoder reconstructs the whole line, so the "
             "energy is flat where G's samples lie (no fake reaches the margin)",
    "loss-sensitive": "its default critic is WGAN-GP's (one-sided), oscillation included "
                      "(4.5 / 0.89)",
}


def fit(name, steps=2500, flip_d=False):
    data = np.random.default_rng(0).normal(MEAN, STD, size=(20000, 1)).astype(np.float32)
    G = cgan.nn.MLP(1, [16, 16], 1, activation="relu", seed=0)
    D = cgan.nn.MLP(1, [16, 16], 1, activation="relu", seed=1)
    if flip_d:  # D -> -D: the sign of its slope at the data flips
        state = D.state_dict()
        D.load_state_dict({**state, "4.weight": -state["4.weight"], "4.bias": -state["4.bias"]})
    gan = cgan.GAN(G, D, loss=name, z_dim=1, seed=0)
    gan.fit(data, steps, 64, progress=False)
    s = gan.sample(20000, seed=1).astype(np.float64)
    return s.mean(), s.std()


def cases():
    for name in cgan.losses.available():
        marks = [pytest.mark.xfail(strict=True, reason=EXCEPTIONS[name])] if name in EXCEPTIONS else []
        yield pytest.param(name, marks=marks, id=name)


@pytest.fixture(autouse=True)
def one_thread():
    # tiny models: one thread is fastest, and the run does not depend on the pool size
    before = cgan.get_num_threads()
    cgan.set_num_threads(1)
    yield
    cgan.set_num_threads(before)


@pytest.mark.parametrize("name", list(cases()))
def test_defaults_fit_a_1d_gaussian(name):
    mean, std = fit(name)
    assert abs(mean - MEAN) < TOL and abs(std - STD) < TOL, f"{name}: N({mean:.2f}, {std:.2f}^2)"


def test_dragan_is_trapped_by_the_sign_of_ds_initial_slope():
    """DRAGAN's documented reason: D starts decreasing at the data, and the penalty that
    holds |D'| = 1 there keeps it at D' = -1; the same run with D negated reaches the data."""
    D = cgan.nn.MLP(1, [16, 16], 1, activation="relu", seed=1)
    assert D(np.array([[4.5]], np.float32))[0, 0] < D(np.array([[3.5]], np.float32))[0, 0]
    trapped, _ = fit("dragan")
    freed, _ = fit("dragan", steps=1500, flip_d=True)
    assert trapped < 1.0 and abs(freed - MEAN) < 0.5


def test_every_exception_is_in_its_objectives_docstring():
    for name in EXCEPTIONS:
        doc = type(cgan.losses.get(name)).__doc__
        assert "N(4, 1.25" in doc, f"{name}'s docstring does not say how it fits N(4, 1.25^2)"
