"""Hostile input through every public entry point: modules, ops, optimizers, GAN, load.

Each bad call raises a clear ValueError/TypeError (MemoryError for sizes no machine
holds), and the objects involved stay usable: the same outputs as before, and they
still train. Input that only looks unusual (Fortran order, strided views, float16,
small integers, big-endian) gives the same result as the plain float32 array.
"""
import json
import os
import zipfile

import numpy as np
import pytest

import cgan

X = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32)


@pytest.fixture(scope="module")
def data():
    return cgan.datasets.ring(256, seed=2)


def make_gan(**kw):
    G = cgan.nn.MLP(2, [8], 2, seed=0)
    D = cgan.nn.MLP(2, [8], 1, seed=1)
    return cgan.GAN(G, D, loss=kw.pop("loss", "non-saturating"), z_dim=2, seed=0, **kw)


def fingerprint(gan):
    """Outputs that change if anything about the model changed."""
    params = [p.numpy().tobytes() for m in (gan.generator, gan.discriminator)
              for p in m.parameters()]
    return (params, gan.sample(4, seed=7).tobytes(), gan.discriminate(X).tobytes(),
            gan.steps_done, gan._core.get_rng_state().tobytes(),
            gan.g_optimizer.steps, gan.d_optimizer.steps)


def assert_intact_and_trains(gan, before, data):
    assert fingerprint(gan) == before
    n = gan.steps_done
    gan.fit(data, 2, 16, progress=False)
    assert gan.steps_done == n + 2


# ---- modules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda x: np.asfortranarray(x),
    lambda x: np.ascontiguousarray(np.repeat(x, 2, axis=1)[:, ::2]),
    lambda x: np.repeat(x, 2, axis=1)[:, ::2],           # strided view
    lambda x: x[::-1].copy()[::-1],                            # negative strides
    lambda x: x.astype(">f4"),                                 # big-endian
    lambda x: x.astype(np.float64),
    lambda x: x.tolist(),
], ids=["fortran", "copy", "strided", "reversed", "big-endian", "float64", "list"])
def test_unusual_layouts_give_the_plain_result(make):
    m = cgan.nn.MLP(2, [8], 3, seed=0)
    np.testing.assert_array_equal(m(make(X)), m(X))


@pytest.mark.parametrize("dtype", [np.float16, np.int8, np.int16, np.int32, np.int64,
                                   np.uint8, np.uint16, np.uint64, np.bool_])
def test_lossless_dtypes_are_converted(dtype):
    m = cgan.nn.MLP(2, [8], 3, seed=0)
    x = (np.arange(12).reshape(6, 2) % 3).astype(dtype)
    np.testing.assert_array_equal(m(x), m(x.astype(np.float32)))


@pytest.mark.parametrize("bad", [
    np.zeros((6, 2), object), np.zeros((6, 2), complex), np.array([["a", "b"]]),
    np.zeros((6, 2), "datetime64[s]"), np.zeros((6, 2), [("a", "f4")]), None, "text",
    np.full((6, 2), 2**40, np.int64),     # not exactly representable in float32
    np.full((6, 2), 2**63, np.uint64),
], ids=["object", "complex", "str", "datetime", "structured", "None", "text", "int64-big",
        "uint64-big"])
def test_unconvertible_inputs_raise_typeerror(bad):
    m = cgan.nn.MLP(2, [8], 1, seed=0)
    before = m(X)
    with pytest.raises(TypeError, match="input"):
        m(bad)
    np.testing.assert_array_equal(m(X), before)


def test_big_integers_are_exact_in_float64():
    m = cgan.nn.Linear(2, 1, seed=0).astype("float64")
    x = np.full((3, 2), 2**40, np.int64)
    np.testing.assert_array_equal(m(x), m(x.astype(np.float64)))
    with pytest.raises(TypeError, match="2\\^53"):
        m(np.full((3, 2), 2**60, np.int64))


@pytest.mark.parametrize("shape", [(6,), (6, 3), (6, 0), (1, 6, 2), (), (1, 1, 1, 6, 2)])
def test_wrong_shapes_raise_valueerror(shape):
    m = cgan.nn.MLP(2, [8], 1, seed=0)
    with pytest.raises(ValueError):
        m(np.zeros(shape, np.float32))


def test_zero_rows_give_zero_rows():
    m = cgan.nn.MLP(2, [8], 3, seed=0)
    assert m(np.zeros((0, 2), np.float32)).shape == (0, 3)


@pytest.mark.parametrize("build, exc, match", [
    (lambda: cgan.nn.MLP(2, [8], 1, activation="swish"), ValueError, "swish"),
    (lambda: cgan.nn.MLP(2, [8], 1, out_activation="swish"), ValueError, "swish"),
    (lambda: cgan.nn.MLP(2, [8], 1, init="orthogonal"), ValueError, "orthogonal"),
    (lambda: cgan.nn.Linear(2, 1, init="orthogonal"), ValueError, "orthogonal"),
    (lambda: cgan.nn.Activation("swish"), ValueError, "swish"),
    (lambda: cgan.nn.MLP(0, [8], 1), ValueError, "in_features"),
    (lambda: cgan.nn.MLP(2, [-1], 1), ValueError, "hidden"),
    (lambda: cgan.nn.Linear(2, -3), ValueError, "out_features"),
    (lambda: cgan.nn.MLP(2, [8], 1, negative_slope=float("nan")), ValueError, "negative_slope"),
    (lambda: cgan.nn.Activation("elu", float("inf")), ValueError, "param"),
    (lambda: cgan.nn.Activation("elu", "big"), TypeError, "param"),
    (lambda: cgan.nn.MLP(2, [8], 1, seed=1.5), TypeError, "seed"),
    (lambda: cgan.nn.MLP(2, [8], 1, seed="s"), TypeError, "seed"),
    (lambda: cgan.nn.MLP(2, [8], 1, seed=-1), ValueError, "seed"),
    (lambda: cgan.nn.MLP(2, [8], 1, seed=2**64), ValueError, "seed"),
    (lambda: cgan.nn.MLP(2, [2.5], 1), TypeError, None),
    (lambda: cgan.nn.SpectralNorm(cgan.nn.Linear(2, 2), power_iterations=0), ValueError, "power"),
    (lambda: cgan.nn.Sequential(cgan.nn.Linear(2, 2), "relu"), TypeError, "Sequential"),
    (lambda: cgan.nn.Linear(2, 2).astype("float16"), TypeError, "float16"),
])
def test_bad_module_construction(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_bad_state_dicts_leave_the_module_unchanged():
    m = cgan.nn.MLP(2, [8], 1, seed=0)
    good = m.state_dict()
    before = m(X)
    bad = [
        {k: v * np.nan for k, v in good.items()},
        {k: v[:1] for k, v in good.items()},
        {k: v for k, v in list(good.items())[1:]},
        {**good, "extra": np.zeros(1)},
        {k: v.astype(object) for k, v in good.items()},
    ]
    for d in bad:
        with pytest.raises((ValueError, TypeError)):
            m.load_state_dict(d)
        np.testing.assert_array_equal(m(X), before)


# ---- ops ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, exc", [
    (lambda: cgan.ops.matmul(np.ones((2, 3)), np.ones((2, 3))), ValueError),
    (lambda: cgan.ops.matmul(np.ones(3), np.ones(3)), ValueError),
    (lambda: cgan.ops.add(np.ones((2, 3)), np.ones((4, 5))), ValueError),
    (lambda: cgan.ops.exp(np.ones((2, 2), complex)), TypeError),
    (lambda: cgan.ops.exp(None), TypeError),
    (lambda: cgan.ops.sum(np.ones((2, 2)), axis=5), ValueError),
    (lambda: cgan.ops.reshape(np.ones((2, 2)), [3, 3]), ValueError),
    (lambda: cgan.ops.reshape(np.ones((2, 2)), [-4, -1]), ValueError),
    (lambda: cgan.ops.slice(np.ones((2, 2)), 1, 5), ValueError),
    (lambda: cgan.ops.concat([np.ones((2, 2)), np.ones((2, 3))]), ValueError),
    (lambda: cgan.ops.concat([]), ValueError),
    (lambda: cgan.ops.leaky_relu(np.ones(2), "x"), TypeError),
    (lambda: cgan.tensor(np.ones(2)).backward(), ValueError),
    (lambda: cgan.RNG(0).normal([-1, 2]), ValueError),
    (lambda: cgan.RNG(-1), ValueError),  # as MLP(seed=-1)
    (lambda: cgan.RNG(0).normal([2**62, 2**62]), ValueError),
])
def test_bad_op_calls(call, exc):
    with pytest.raises(exc):
        call()


# ---- optimizers ----------------------------------------------------------------------------

@pytest.mark.parametrize("build, exc", [
    (lambda p: cgan.optim.Adam(p, lr=-1), ValueError),
    (lambda p: cgan.optim.Adam(p, lr=float("nan")), ValueError),
    (lambda p: cgan.optim.Adam(p, lr="fast"), TypeError),
    (lambda p: cgan.optim.Adam(p, betas=(0.5, 1.0)), ValueError),
    (lambda p: cgan.optim.Adam(p, betas="ab"), TypeError),
    (lambda p: cgan.optim.Adam(p, betas=(0.5, "x")), TypeError),
    (lambda p: cgan.optim.Adam(p, betas=(0.5,)), ValueError),
    (lambda p: cgan.optim.Adam(p, eps=-1e-8), ValueError),
    (lambda p: cgan.optim.SGD(p, lr=0.1, momentum=-0.5), ValueError),
    (lambda p: cgan.optim.SGD(p, lr=0.1, nesterov=True), ValueError),
    (lambda p: cgan.optim.RMSprop(p, alpha=1.5), ValueError),
    (lambda p: cgan.optim.Adam([]), ValueError),
    (lambda p: cgan.optim.Adam([np.ones(2)]), TypeError),
    (lambda p: cgan.optim.Adam(7), TypeError),
    (lambda p: cgan.optim.Adam(p + p), ValueError),
    (lambda p: cgan.optim.clip_(p, -1), ValueError),
])
def test_bad_optimizer_construction(build, exc):
    m = cgan.nn.Linear(2, 2, seed=0)
    with pytest.raises(exc):
        build(m.parameters())


def test_bad_optimizer_states_are_refused_and_change_nothing():
    m = cgan.nn.Linear(2, 2, seed=0)
    opt = cgan.optim.Adam(m.parameters(), lr=0.1)
    x = cgan.tensor(X)
    (m(x) ** 2).mean().backward()
    opt.step()
    good = opt.state_dict()
    bad = [
        {**good, "0.exp_avg": np.full((2, 2), np.nan, np.float32)},   # NaN moments
        {**good, "0.exp_avg_sq": np.full((2, 2), np.inf, np.float32)},
        {**good, "0.exp_avg": np.zeros((3, 3), np.float32)},          # wrong shape
        {**good, "7.exp_avg": np.zeros((2, 2), np.float32)},          # no such parameter
        {**good, "steps": -1},
        {**good, "steps": "many"},
        {**good, "steps": 2**70},
        {**good, "0.exp_avg": np.zeros((2, 2), object)},
    ]
    for d in bad:
        with pytest.raises((ValueError, TypeError)):
            opt.load_state_dict(d)
        after = opt.state_dict()
        assert after.keys() == good.keys()
        for k in good:
            np.testing.assert_array_equal(after[k], good[k])
    opt.step()  # still works


@pytest.mark.parametrize("value", [-1e-3, float("nan"), float("inf")])
def test_bad_learning_rate_assignment(value):
    opt = cgan.optim.SGD(cgan.nn.Linear(2, 2, seed=0).parameters(), lr=0.1)
    with pytest.raises(ValueError):
        opt.lr = value
    assert opt.lr == 0.1


# ---- GAN: construction ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, match", [
    ({"loss": "nosuch"}, ValueError, "nosuch"),
    ({"loss": "f-gan:nosuch"}, ValueError, "nosuch"),
    ({"loss": 3}, TypeError, "loss"),
    ({"prior": "cauchy"}, ValueError, "prior"),
    ({"prior": 3}, TypeError, "prior"),
    ({"z_dim": 0}, ValueError, "z_dim"),
    ({"z_dim": 2.0}, TypeError, "z_dim"),
    ({"d_steps": -1}, ValueError, "d_steps"),
    ({"d_steps": 2**70}, ValueError, "d_steps"),
    ({"g_steps": "1"}, TypeError, "g_steps"),
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 2**70}, ValueError, "seed"),
    ({"seed": 0.5}, ValueError, "seed"),
    ({"label_smoothing": "x"}, ValueError, "label_smoothing"),
    ({"no_such_option": 1}, ValueError, "no_such_option"),
    ({"loss": "wgan-gp", "lambda_gp": float("nan")}, ValueError, "lambda_gp"),
    ({"loss": "wgan", "clip": -1}, ValueError, "clip"),
    ({"g_optimizer": "adam"}, TypeError, "g_optimizer"),
])
def test_bad_gan_construction(kwargs, exc, match):
    G = cgan.nn.MLP(2, [8], 2, seed=0)
    D = cgan.nn.MLP(2, [8], 1, seed=1)
    args = dict(loss="non-saturating", z_dim=2)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        cgan.GAN(G, D, **args)


# ---- GAN: training and use -----------------------------------------------------------------

BAD_DATA = [
    (np.full((64, 2), np.nan), ValueError, "NaN"),
    (np.full((64, 2), -np.inf), ValueError, "NaN or infinite"),
    (np.zeros((0, 2)), ValueError, "empty"),
    (np.zeros(64), ValueError, r"must have shape \(N, 2\)"),
    (np.zeros((64, 2, 1)), ValueError, r"must have shape \(N, 2\)"),
    (np.zeros((64, 3)), ValueError, r"must have shape \(N, 2\)"),
    (np.zeros((64, 2), object), TypeError, "object"),
    (np.zeros((64, 2), complex), TypeError, "complex"),
    (np.full((64, 2), 2**40), TypeError, "representable"),
    ("data", TypeError, "real numbers"),
    (None, TypeError, "real numbers"),
    ([[1.0, 2.0], [3.0]], ValueError, None),
]


@pytest.mark.parametrize("bad, exc, match", BAD_DATA)
def test_fit_rejects_bad_data_before_training(bad, exc, match, data):
    gan = make_gan()
    gan.fit(data, 2, 16, progress=False)
    before = fingerprint(gan)
    with pytest.raises(exc, match=match):
        gan.fit(bad, 5, 16, progress=False)
    assert_intact_and_trains(gan, before, data)


@pytest.mark.parametrize("bad, exc, match", [b for b in BAD_DATA if b[2] is not None])
def test_step_rejects_bad_batches(bad, exc, match, data):
    gan = make_gan()
    before = fingerprint(gan)
    with pytest.raises(exc, match=match):
        gan.step(bad)
    assert_intact_and_trains(gan, before, data)


@pytest.mark.parametrize("kwargs, exc", [
    ({"steps": 0}, ValueError), ({"steps": -3}, ValueError), ({"steps": 2.5}, ValueError),
    ({"steps": 2**70}, ValueError), ({"steps": "10"}, TypeError), ({"steps": None}, TypeError),
    ({"batch_size": 0}, ValueError), ({"batch_size": 10**12}, ValueError),
    ({"batch_size": True}, TypeError), ({"log_every": 0}, ValueError),
    ({"log_every": "x"}, TypeError), ({"callback": 3}, TypeError),
    ({"progress": "yes"}, TypeError),
])
def test_fit_rejects_bad_arguments(kwargs, exc, data):
    gan = make_gan()
    before = fingerprint(gan)
    args = dict(steps=5, batch_size=16, progress=False)
    args.update(kwargs)
    with pytest.raises(exc):
        gan.fit(data, **args)
    assert_intact_and_trains(gan, before, data)


@pytest.mark.parametrize("call, exc", [
    (lambda g: g.sample(0), ValueError),
    (lambda g: g.sample(-5), ValueError),
    (lambda g: g.sample(2.0), ValueError),
    (lambda g: g.sample("3"), TypeError),
    (lambda g: g.sample(3, seed=-1), ValueError),
    (lambda g: g.sample(3, seed=2**64), ValueError),
    (lambda g: g.sample(10**15), (MemoryError, ValueError)),  # no machine holds 16 PB
    (lambda g: g.generate(np.zeros((3, 3))), ValueError),
    (lambda g: g.generate(np.full((3, 2), np.nan)), ValueError),
    (lambda g: g.generate(np.zeros((3, 2), complex)), TypeError),
    (lambda g: g.discriminate(np.zeros((3, 5))), ValueError),
    (lambda g: g.discriminate(np.full((3, 2), np.inf)), ValueError),
    (lambda g: g.discriminate(np.zeros((3, 2), object)), TypeError),
    (lambda g: g.discriminate(np.zeros((0, 2))), ValueError),
])
def test_bad_sample_generate_discriminate(call, exc, data):
    gan = make_gan()
    before = fingerprint(gan)
    with pytest.raises(exc):
        call(gan)
    assert_intact_and_trains(gan, before, data)


def test_fortran_and_strided_data_train_like_plain_data(data):
    runs = []
    for d in (np.ascontiguousarray(data, np.float32), np.asfortranarray(data),
              np.repeat(data, 2, axis=1)[:, ::2], data.astype(np.float64)):
        gan = make_gan()
        gan.fit(d, 5, 16, progress=False)
        runs.append(fingerprint(gan))
    assert all(r == runs[0] for r in runs[1:])


# ---- checkpoints ---------------------------------------------------------------------------

@pytest.fixture
def checkpoint(tmp_path, data):
    gan = make_gan()
    gan.fit(data, 3, 16, progress=False)
    path = tmp_path / "good.npz"
    gan.save(path)
    return path, fingerprint(gan)


def _rewrite(src, dst, change):
    """Copy the npz at src to dst with its arrays passed through change(dict)."""
    with np.load(src, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    change(arrays)
    np.savez(dst, **arrays)


def _config_change(fn):
    def change(arrays):
        cfg = json.loads(str(arrays["config"]))
        fn(cfg)
        arrays["config"] = np.array(json.dumps(cfg))
    return change


TAMPER = {
    "missing config": lambda a: a.pop("config"),
    "missing weight": lambda a: a.pop("G/0.weight"),
    "missing optimizer steps": lambda a: a.pop("g_opt/steps"),
    "missing rng": lambda a: a.pop("rng"),
    "wrong weight shape": lambda a: a.update({"D/0.weight": np.zeros((3, 3), np.float32)}),
    "NaN weight": lambda a: a.update({"G/0.bias": np.full(8, np.nan, np.float32)}),
    "NaN moment": lambda a: a.update({"d_opt/0.exp_avg": np.full((8, 2), np.nan, np.float32)}),
    "rng all zeros": lambda a: a.update({"rng": np.zeros(8, np.uint64)}),
    "rng floats": lambda a: a.update({"rng": np.ones(8)}),
    "rng short": lambda a: a.update({"rng": np.ones(3, np.uint64)}),
    "config not json": lambda a: a.update({"config": np.array("{not json")}),
    "config a list": lambda a: a.update({"config": np.array("[1, 2]")}),
    "future format": _config_change(lambda c: c.update(format=99)),
    "unknown loss": _config_change(lambda c: c.update(loss="nosuch")),
    "negative steps_done": _config_change(lambda c: c.update(steps_done=-4)),
    "string z_dim": _config_change(lambda c: c.update(z_dim="2")),
    "huge hidden width": _config_change(lambda c: c["generator"].update(hidden=[10**9])),
    "unknown module": _config_change(lambda c: c["generator"].update(type="Conv9d")),
    "unknown optimizer": _config_change(lambda c: c["g_optimizer"].update(type="Lion")),
    "bad dtype": _config_change(lambda c: c.update(dtype="int8")),
    "options not a dict": _config_change(lambda c: c.update(options=[1])),
}


@pytest.mark.parametrize("name", list(TAMPER))
def test_tampered_checkpoints_raise_valueerror(name, checkpoint, tmp_path):
    path, _ = checkpoint
    bad = tmp_path / "bad.npz"
    _rewrite(path, bad, TAMPER[name])
    with pytest.raises(ValueError, match="bad.npz"):
        cgan.GAN.load(bad)


def test_pickle_bearing_checkpoint_is_refused(checkpoint, tmp_path):
    path, _ = checkpoint
    bad = tmp_path / "pickled.npz"
    _rewrite(path, bad, lambda a: a.update({"G/0.weight": np.array([{"x": 1}], dtype=object)}))
    with pytest.raises(ValueError, match="pickle"):
        cgan.GAN.load(bad)
    raw = tmp_path / "raw.npz"  # a plain pickle stream named .npz
    import pickle
    raw.write_bytes(pickle.dumps({"config": "x"}))
    with pytest.raises(ValueError):
        cgan.GAN.load(raw)


def test_truncated_checkpoints_raise_valueerror(checkpoint, tmp_path):
    path, _ = checkpoint
    blob = path.read_bytes()
    for cut in (0, 1, 22, len(blob) // 3, len(blob) // 2, len(blob) - 30, len(blob) - 1):
        bad = tmp_path / "cut.npz"
        bad.write_bytes(blob[:cut])
        with pytest.raises(ValueError):
            cgan.GAN.load(bad)


def test_bit_flips_never_load_silently(checkpoint, tmp_path):
    # Every flipped bit is caught (the zip CRC covers the data, the structure checks
    # cover the headers) or, in bytes no reader uses, changes nothing.
    path, fp = checkpoint
    blob = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    positions = sorted(set(rng.integers(0, len(blob), 60).tolist()) | {0, 10, len(blob) - 10})
    for pos in positions:
        flipped = bytearray(blob)
        flipped[pos] ^= 1 << int(rng.integers(8))
        bad = tmp_path / "flip.npz"
        bad.write_bytes(bytes(flipped))
        try:
            gan = cgan.GAN.load(bad)
        except ValueError:
            continue
        assert fingerprint(gan) == fp, pos


def test_not_a_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError):
        cgan.GAN.load(tmp_path / "missing.npz")
    with pytest.raises(FileNotFoundError):
        cgan.GAN.load(tmp_path)  # a directory
    with pytest.raises(TypeError):
        cgan.GAN.load(3)
    npy = tmp_path / "array.npz"
    with open(npy, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(ValueError, match="zip"):
        cgan.GAN.load(npy)
    other = tmp_path / "other.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(ValueError, match="config"):
        cgan.GAN.load(other)
    with zipfile.ZipFile(tmp_path / "empty.npz", "w"):
        pass
    with pytest.raises(ValueError):
        cgan.GAN.load(tmp_path / "empty.npz")


def test_good_checkpoint_still_loads_after_all_that(checkpoint):
    path, fp = checkpoint
    assert fingerprint(cgan.GAN.load(path)) == fp
    assert os.path.getsize(path) > 0


def test_impossible_allocation_is_a_memoryerror_and_leaves_the_books_straight(data):
    # tensor.cpp Pool::get: a failed allocation stayed counted as live memory (8 TB here),
    # and the MemoryError said only "std::bad_alloc".
    gan = make_gan()
    before = fingerprint(gan)
    live = cgan._core._pool_live_bytes()
    with pytest.raises(MemoryError, match="cannot allocate 8000000000000 bytes"):
        gan.sample(10**12)  # (10**12, 2) float32 noise
    assert cgan._core._pool_live_bytes() == live
    assert_intact_and_trains(gan, before, data)


# ---- datasets (counts and seeds; metrics' findings are listed in the reliability notes) ----

@pytest.mark.parametrize("name", ["ring", "grid", "swiss_roll", "two_moons", "gaussian_1d",
                                  "mixture_1d"])
@pytest.mark.parametrize("n, exc", [(0, ValueError), (-1, ValueError), (2.5, ValueError),
                                    (True, ValueError), (None, ValueError), ("10", ValueError)])
def test_dataset_counts(name, n, exc):
    with pytest.raises(exc, match="n"):
        getattr(cgan.datasets, name)(n)


@pytest.mark.parametrize("seed, exc", [(-1, ValueError), (1.5, TypeError), ("a", TypeError)])
def test_dataset_seeds(seed, exc):
    with pytest.raises(exc):
        cgan.datasets.ring(5, seed=seed)
