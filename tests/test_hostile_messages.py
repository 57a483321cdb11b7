"""Every error from a public entry point says what was wrong with which argument.

A scan: each public function of cgan.ops, each Tensor method and operator, the RNG, the
optimizers and the GAN's methods is called with a table of hostile values in each
argument position (the other arguments valid). Whatever happens (a result or an
exception), no message may be pybind11's "Unable to cast ..." or "Internal error ...",
which name neither the function nor the argument, and a refusal is a ValueError,
TypeError, MemoryError or FileNotFoundError. (nn constructors: test_hostile_nn.py.)
"""
import numpy as np
import pytest

import cgan

HOSTILE = [None, "x", "", b"ab", True, 2**63, -2**63 - 1, 10**400, -1, 0, 1.5,
           float("nan"), float("inf"), [], [[1.0, 2.0], [3.0]], {}, object(),
           np.zeros((2, 2), complex), np.zeros((2, 2), object), np.float64("nan"),
           np.bool_(True), np.ones((2, 2, 1, 1, 1))]
ALLOWED = (ValueError, TypeError, MemoryError, FileNotFoundError, FloatingPointError)
SILENT = ("Unable to cast", "Internal error", "error_already_set")


def check_message(what, call):
    try:
        call()
    except ALLOWED as e:
        msg = str(e)
        for bad in SILENT:
            assert bad not in msg, f"{what}: {type(e).__name__}: {msg}"
    except Exception as e:  # noqa: BLE001 - any other type is itself the failure
        pytest.fail(f"{what}: unexpected {type(e).__name__}: {e}")


def scan(name, f, valid):
    """f(*valid) with each position replaced by each hostile value."""
    for i in range(len(valid)):
        for h in HOSTILE:
            args = list(valid)
            args[i] = h
            check_message(f"{name} arg {i} = {h!r:.40}", lambda: f(*args))


A = np.array([[1.0, -2.0], [3.0, 0.5]], np.float32)

OPS = {
    **{n: (A,) for n in ["neg", "exp", "log", "log1p", "sqrt", "square", "abs", "tanh",
                         "sigmoid", "softplus", "log_sigmoid", "relu", "lambertw",
                         "lambertw_exp", "transpose", "row_norm"]},
    "leaky_relu": (A, 0.2), "elu": (A, 1.0), "pow": (A, 2.0), "clamp": (A, -1.0, 1.0),
    "add": (A, A), "sub": (A, A), "mul": (A, A), "div": (A, A),
    "matmul": (A, A, False, False), "linear": (A, A, A[0]), "sum": (A, 0, False),
    "mean": (A, 1, True), "reshape": (A, [4]), "concat": ([A, A],), "slice": (A, 0, 1),
}


def test_every_op_is_in_the_scan():
    public = {n for n in dir(cgan.ops) if not n.startswith("_")}
    assert public == set(OPS), public ^ set(OPS)


@pytest.mark.parametrize("name", sorted(OPS))
def test_ops_messages_name_the_argument(name):
    scan(f"ops.{name}", getattr(cgan.ops, name), OPS[name])


TENSOR_METHODS = {
    "sum": (0, False), "mean": (0, False), "reshape": ([4],), "astype": ("float64",),
    "backward": (np.ones((2, 2), np.float32), True, False), "requires_grad_": (True,),
    "__add__": (1.0,), "__radd__": (1.0,), "__sub__": (A,), "__rsub__": (A,),
    "__mul__": (2,), "__rmul__": (2,), "__truediv__": (A,), "__rtruediv__": (A,),
    "__matmul__": (A,), "__rmatmul__": (A,), "__pow__": (2.0,), "__getitem__": (slice(0, 1),),
}


@pytest.mark.parametrize("name", sorted(TENSOR_METHODS))
def test_tensor_method_messages_name_the_argument(name):
    def call(*args):
        t = cgan.tensor(A.copy(), requires_grad=True)
        target = (t * 1.0) if name == "backward" else t
        return getattr(target, name)(*args)
    scan(f"Tensor.{name}", call, TENSOR_METHODS[name])


def test_tensor_attribute_assignment_messages():
    t = cgan.tensor(A.copy(), requires_grad=True)
    for h in HOSTILE:
        check_message(f"Tensor.grad = {h!r:.40}", lambda: setattr(t, "grad", h))
        check_message(f"Tensor.requires_grad = {h!r:.40}", lambda: setattr(t, "requires_grad", h))


def test_module_level_functions_messages():
    try:
        scan("tensor", lambda d, rg, dt: cgan.tensor(d, requires_grad=rg, dtype=dt),
             (A, False, "float32"))
        t = cgan.tensor(A, requires_grad=True)
        scan("grad", lambda o, i, go, cg, rg, au: cgan.grad(o, i, go, cg, rg, au),
             ([(t * t).sum()], [t], None, False, True, False))
        scan("set_grad_enabled", cgan.set_grad_enabled, (True,))
        scan("set_num_threads", cgan.set_num_threads, (1,))
        scan("set_flush_denormal", cgan.set_flush_denormal, (False,))
    finally:
        cgan.set_grad_enabled(True)
        cgan.set_flush_denormal(False)
        cgan.set_num_threads(2)


def test_rng_messages():
    r = cgan.RNG(0)
    scan("RNG", cgan.RNG, (0,))
    scan("RNG.normal", r.normal, ([2, 2], "float32"))
    scan("RNG.uniform", r.uniform, ([2], 0.0, 1.0, None))
    scan("RNG.integers", r.integers, (5, 3))
    scan("RNG.set_state", r.set_state, (r.get_state(),))


def test_optimizer_messages():
    def fresh():
        return cgan.nn.Linear(2, 2, seed=0).parameters()
    scan("SGD", lambda *a: cgan.optim.SGD(fresh(), *a), (0.1, 0.0, 0.0, False, 0.0))
    scan("Adam", lambda *a: cgan.optim.Adam(fresh(), *a), (1e-3, (0.9, 0.999), 1e-8, 0.0))
    scan("RMSprop", lambda *a: cgan.optim.RMSprop(fresh(), *a),
         (1e-2, 0.99, 1e-8, 0.0, False, 0.0))
    scan("clip_", cgan.optim.clip_, (fresh(), 0.01))
    for h in HOSTILE:
        check_message(f"Adam({h!r:.40})", lambda: cgan.optim.Adam(h))
    opt = cgan.optim.Adam(fresh(), lr=0.1)
    for h in HOSTILE:
        check_message(f"lr = {h!r:.40}", lambda: setattr(opt, "lr", h))
        check_message(f"load_state_dict({h!r:.40})", lambda: opt.load_state_dict(h))
        check_message(f"load_state_dict(steps={h!r:.40})", lambda: opt.load_state_dict({"steps": h}))
        check_message(f"load_state_dict(0.exp_avg={h!r:.40})",
                      lambda: opt.load_state_dict({"steps": 1, "0.exp_avg": h}))


def test_gan_messages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # save("x") would write x.npz here
    data = cgan.datasets.ring(64, seed=0)

    def gan(**kw):
        G, D = cgan.nn.MLP(2, [4], 2, seed=0), cgan.nn.MLP(2, [4], 1, seed=1)
        return cgan.GAN(G, D, **{"z_dim": 2, "seed": 0, **kw})

    g = gan()
    for key in ("loss", "z_dim", "prior", "d_steps", "g_steps", "g_optimizer", "d_optimizer",
                "seed", "lambda_gp", "label_smoothing", "clip"):
        loss = {"lambda_gp": "wgan-gp", "clip": "wgan"}.get(key, "non-saturating")
        for h in HOSTILE:
            check_message(f"GAN({key}={h!r:.40})", lambda: gan(**{"loss": loss, key: h}))
    scan("GAN.fit", lambda d, s, b, lg: g.fit(d, s, b, progress=False, log_every=lg),
         (data, 1, 16, 1))
    scan("GAN.step", g.step, (data[:16],))
    scan("GAN.sample", g.sample, (4, 0))
    scan("GAN.generate", g.generate, (np.zeros((3, 2), np.float32),))
    scan("GAN.discriminate", g.discriminate, (np.zeros((3, 2), np.float32),))
    scan("GAN.save", g.save, ("ok.npz",))
    scan("GAN.load", cgan.GAN.load, ("ok.npz",))
    scan("GAN._core.set_rng_state", g._core.set_rng_state, (g._core.get_rng_state(),))
