"""Threads: the GIL is released while C++ trains, GANs trained from several Python threads
at once match sequential runs bit for bit, and set_num_threads holds in every thread."""
import threading
import time

import numpy as np
import pytest

import cgan
from cgan import _core


@pytest.fixture(scope="module")
def data():
    return cgan.datasets.ring(1024, seed=5)


def make_gan(seed, loss="wgan-gp"):
    G = cgan.nn.MLP(2, [32, 32], 2, seed=seed)
    D = cgan.nn.MLP(2, [32, 32], 1, seed=seed + 100)
    return cgan.GAN(G, D, loss=loss, z_dim=2, seed=seed)


def snapshot(gan):
    return [p.numpy().tobytes() for m in (gan.generator, gan.discriminator) for p in m.parameters()]


def test_gil_is_released_while_cpp_trains(data):
    # One C++ call (a single fit chunk with no time limit) trains for a while; a Python
    # thread records timestamps meanwhile. Holding the GIL, the call would leave no
    # timestamp strictly inside its interval: CPython never takes the GIL from C code.
    cgan.set_num_threads(1)
    gan = make_gan(0)
    gan.fit(data, 2, 64, progress=False)
    stamps, stop = [], threading.Event()

    def count():
        while not stop.is_set():
            stamps.append(time.perf_counter())

    t = threading.Thread(target=count)
    t.start()
    try:
        time.sleep(0.05)
        t0 = time.perf_counter()
        gan._core.fit_chunk(data, 300, 64, float("inf"), 10**9, -1)
        t1 = time.perf_counter()
    finally:
        stop.set()
        t.join()
    assert gan.steps_done == 302
    margin = 0.1 * (t1 - t0)
    inside = [s for s in stamps if t0 + margin < s < t1 - margin]
    assert len(inside) > 1000, (len(inside), t1 - t0)


def _train(seed, data, out, steps=60):
    gan = make_gan(seed)
    gan.fit(data, steps, 64, progress=False)
    out[seed] = (snapshot(gan), gan.sample(32, seed=1).tobytes(), gan.history["d_loss"].tobytes())


@pytest.mark.parametrize("threads", [1, 2])
def test_concurrent_training_matches_sequential_bitwise(data, threads):
    cgan.set_num_threads(threads)
    sequential, concurrent = {}, {}
    for seed in (0, 1):
        _train(seed, data, sequential)
    workers = [threading.Thread(target=_train, args=(seed, data, concurrent)) for seed in (0, 1)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(concurrent) == [0, 1]
    for seed in (0, 1):
        assert concurrent[seed] == sequential[seed], seed
    assert sequential[0] != sequential[1]  # two different runs, not one trivially copied


def test_set_num_threads_round_trips_and_rejects_bad_values():
    for n in (1, 3, 2):
        cgan.set_num_threads(n)
        assert cgan.get_num_threads() == n
    limit = max(64, 8 * __import__("os").cpu_count())
    for bad in (0, -1, limit + 1, 10**6, 2**40):
        with pytest.raises(ValueError, match="between 1 and"):
            cgan.set_num_threads(bad)
    for bad in (2.0, "2", None, True):
        with pytest.raises(TypeError):
            cgan.set_num_threads(bad)
    assert cgan.get_num_threads() == 2  # failed calls change nothing


@pytest.mark.parametrize("n", [1, 2, 3])
def test_parallel_regions_use_the_set_count_in_every_thread(n):
    # The count is process-wide: a thread Python starts later must see it too, and a
    # parallel job must really run on that many OS threads.
    cgan.set_num_threads(n)
    assert _core._threads_in_parallel_region() == n
    seen = {}

    def worker():
        seen["get"] = cgan.get_num_threads()
        seen["region"] = _core._threads_in_parallel_region()

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == {"get": n, "region": n}
