import pytest

import cgan


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests that change grad mode or the thread count must not leak it to others."""
    threads = cgan.get_num_threads()
    yield
    cgan._core.set_grad_enabled(True)
    cgan.set_num_threads(threads)
