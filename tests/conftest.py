import signal

import pytest

import cgan

# A shell's background job starts with SIGINT ignored, and Python then installs no
# KeyboardInterrupt handler, so the Ctrl-C tests (in this process and in the `cgan`
# children, which inherit an ignored signal but not a handler) would train on forever.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Tests that change grad mode or the thread count must not leak it to others."""
    threads = cgan.get_num_threads()
    yield
    cgan._core.set_grad_enabled(True)
    cgan.set_num_threads(threads)


@pytest.fixture
def hide_modules(monkeypatch):
    """hide_modules("matplotlib", ...): importing those packages (or their submodules)
    raises ImportError for the rest of the test, as on a machine without them."""
    import builtins
    real_import = builtins.__import__

    def hide(*names):
        def fake_import(name, *args, **kwargs):
            if any(name == n or name.startswith(n + ".") for n in names):
                raise ImportError(f"No module named {name!r}")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", fake_import)

    return hide
