"""cgan's own thread pool (cpp/tensor/parallel.*): results never depend on which thread
ran a piece, concurrent callers and forked children work, the flush mode reaches workers."""
import os
import sys
import threading

import numpy as np
import pytest

import cgan


@pytest.fixture
def two_threads():
    prev = cgan.get_num_threads()
    cgan.set_num_threads(2)
    yield
    cgan.set_num_threads(prev)


def _train(seed, steps=30):
    data = cgan.datasets.ring(4000, seed=seed)
    G = cgan.nn.MLP(2, [256, 256], 2, seed=seed)
    D = cgan.nn.MLP(2, [256, 256], 1, seed=seed + 1)
    gan = cgan.GAN(G, D, loss="wgan-gp", z_dim=2, d_steps=2, seed=seed)
    gan.fit(data, steps, batch_size=512, progress=False)
    return {k: np.array(v) for k, v in {**G.state_dict(), **{"D" + k: v for k, v in D.state_dict().items()}}.items()}


def test_two_gans_in_two_python_threads_match_sequential_runs_bitwise(two_threads):
    # While one thread's job holds the pool the other runs its pieces serially: the
    # pieces are the same, so the bits are too.
    expected = [_train(0), _train(5)]
    got = [None, None]

    def work(i, seed):
        got[i] = _train(seed)

    ts = [threading.Thread(target=work, args=(i, s)) for i, s in enumerate((0, 5))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for e, g in zip(expected, got):
        assert g is not None and e.keys() == g.keys()
        for k in e:
            assert e[k].tobytes() == g[k].tobytes(), k


def test_large_kernels_agree_with_numpy_on_two_threads(two_threads):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((700, 300)).astype(np.float32)   # above every parallel threshold
    b = rng.standard_normal((300, 500)).astype(np.float32)
    np.testing.assert_allclose((cgan.tensor(a) @ cgan.tensor(b)).numpy(), a @ b, rtol=1e-4, atol=1e-3)
    x = rng.standard_normal(300_001)
    np.testing.assert_allclose(cgan.tensor(x).sum().item(), x.sum(), rtol=1e-12)
    big = rng.standard_normal((400, 300))
    np.testing.assert_allclose(cgan.tensor(big).sum(axis=1).numpy(), big.sum(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(cgan.ops.relu(cgan.tensor(big)).numpy(), np.maximum(big, 0))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_parallel_work_in_a_forked_child(two_threads):
    x = np.arange(200_000, dtype=np.float64)
    cgan.tensor(x).sum()  # the pool's workers exist before the fork
    pid = os.fork()
    if pid == 0:  # child: only this thread survived the fork
        try:
            ok = cgan.tensor(x).sum().item() == x.sum() and cgan.get_num_threads() == 2
            os._exit(0 if ok else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_flush_denormal_reaches_the_pool_threads(two_threads):
    n = 1 << 17  # large enough to be split over both threads
    tiny = np.full(n, 1e-39, np.float32)  # float32 subnormals
    try:
        assert cgan.set_flush_denormal(True)
        assert not np.any((cgan.tensor(tiny) * 1.0).numpy())  # every piece flushed
    finally:
        cgan.set_flush_denormal(False)
    assert np.array_equal((cgan.tensor(tiny) * 1.0).numpy(), tiny)
