"""Multithreaded training is bitwise reproducible, and the thread knob round-trips."""
import numpy as np
import pytest

import cgan
from cgan import nn, optim


@pytest.fixture
def restore_threads():
    prev = cgan.get_num_threads()
    yield
    cgan.set_num_threads(prev)


def _train(steps=100, batch=512, seed=0):
    m = nn.MLP(2, [64, 64], 1, activation="leaky_relu", seed=seed)
    opt = optim.Adam(m.parameters(), lr=1e-3, betas=(0.5, 0.999))
    rng = cgan.RNG(seed + 1)
    for _ in range(steps):
        x = rng.normal([batch, 2])
        target = x.sum(axis=1, keepdims=True) * 0.5
        opt.zero_grad()
        loss = ((m(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
    return m.state_dict(), float(loss.item())


def test_two_thread_training_is_bitwise_reproducible(restore_threads):
    cgan.set_num_threads(2)
    assert cgan.get_num_threads() == 2
    a, la = _train()
    b, lb = _train()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes(), k
    assert la == lb
    # The runs did train (the loss went down from its start).
    _, l0 = _train(steps=1)
    assert la < l0


def test_one_and_two_threads_agree_closely(restore_threads):
    # Not necessarily bitwise (reduction order may differ), but the same computation.
    cgan.set_num_threads(1)
    a, _ = _train(steps=20)
    cgan.set_num_threads(2)
    b, _ = _train(steps=20)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-3, atol=1e-5)


def test_num_threads_round_trip(restore_threads):
    for n in (1, 3, 2):
        cgan.set_num_threads(n)
        assert cgan.get_num_threads() == n
    with pytest.raises(ValueError):
        cgan.set_num_threads(0)
    with pytest.raises(ValueError):
        cgan.set_num_threads(-2)
    assert cgan.get_num_threads() == 2
