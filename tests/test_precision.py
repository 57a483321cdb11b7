"""cgan.set_matmul_precision / get_matmul_precision and the CPU feature detection."""
import numpy as np
import pytest

import cgan


def cpuinfo_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def test_default_is_float32():
    assert cgan.get_matmul_precision() == "float32"


def test_cpu_features_agree_with_the_kernel_flags():
    f = cgan.cpu_features()
    assert set(f) == {"avx2_fma", "avx512f", "avx512_bf16", "amx_bf16"}
    flags = cpuinfo_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo")
    # Linux lists a feature only when the OS supports it too, as cpu_features() requires.
    assert f["avx2_fma"] == ({"avx2", "fma"} <= flags)
    assert f["avx512f"] == ("avx512f" in flags)
    assert f["avx512_bf16"] == ("avx512_bf16" in flags)
    assert f["amx_bf16"] == ({"amx_bf16", "amx_tile"} <= flags)


def test_bf16_runs_where_the_cpu_has_avx512_bf16_and_says_what_is_missing_elsewhere():
    if cgan.cpu_features()["avx512_bf16"]:  # the kernel, after its self-check (test_bf16_kernel.py)
        with cgan.matmul_precision("bf16"):
            assert cgan.get_matmul_precision() == "bf16"
        assert cgan.get_matmul_precision() == "float32"
        return
    with pytest.raises(RuntimeError) as e:
        cgan.set_matmul_precision("bf16")
    msg = str(e.value)
    assert "no AVX512_BF16" in msg and "AVX-512 Foundation" in msg and '"bf16-emulated"' in msg
    assert cgan.get_matmul_precision() == "float32"


def test_float32_can_be_set_and_bad_values_are_refused():
    cgan.set_matmul_precision("float32")
    assert cgan.get_matmul_precision() == "float32"
    with pytest.raises(ValueError, match='"float32", "bf16" or "bf16-emulated".*did you mean "bf16"'):
        cgan.set_matmul_precision("bfloat16")
    with pytest.raises(ValueError, match="fp16"):
        cgan.set_matmul_precision("fp16")
    with pytest.raises(TypeError, match="precision must be a string"):
        cgan.set_matmul_precision(16)
    assert cgan.get_matmul_precision() == "float32"


# ---- "bf16-emulated": bfloat16 operands, float32 sums, on any CPU -------------------------

def bf16_nearest(x):
    """x (float32) rounded to the nearest bfloat16, ties to even, by the definition: of the
    two bfloat16 neighbours (the top 16 bits, and one unit up) the nearer in float64, the
    one with an even last bit on a tie. Infinities stay; NaN stays NaN; beyond the largest
    bfloat16 the upper neighbour is infinity."""
    x = np.asarray(x, np.float32)
    u = x.view(np.uint32)
    lo = (u & np.uint32(0xFFFF0000)).view(np.float32).astype(np.float64)
    hi_bits = (u & np.uint32(0xFFFF0000)) + np.uint32(0x10000)  # one unit further from 0
    with np.errstate(invalid="ignore", over="ignore"):
        hi = hi_bits.view(np.float32).astype(np.float64)
        at_inf = np.isinf(hi) & np.isfinite(x)  # the neighbour past the largest: 2^128 away
        hi_dist = np.where(at_inf, np.copysign(2.0 ** 128, hi), hi)
        xd = x.astype(np.float64)
        d_lo, d_hi = np.abs(xd - lo), np.abs(hi_dist - xd)
        even_lo = ((u >> 16) & 1) == 0
        pick_hi = (d_hi < d_lo) | ((d_hi == d_lo) & ~even_lo)
    out = np.where(pick_hi, hi, lo).astype(np.float32)
    out[np.isinf(x)] = x[np.isinf(x)]
    out[np.isnan(x)] = np.nan
    return out


@pytest.fixture
def emulated():
    with cgan.matmul_precision("bf16-emulated"):
        yield
    assert cgan.get_matmul_precision() == "float32"


def special_values():
    bits = np.array([0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001, 0xBF818000, 0x7F7FFFFF, 0xFF7FFFFF,
                     0x7F7F7FFF, 0x7F7F8000, 0x00008000, 0x00018000, 0x80000001, 0x7F800000, 0xFF800000,
                     0x7FC00001, 0x7F800001, 0xFFFFFFFF, 0x00000000, 0x3F800000], np.uint32)
    rng = np.random.default_rng(0)
    rand = rng.standard_normal(2000).astype(np.float32) * np.float32(10.0) ** rng.integers(-30, 30, 2000)
    return np.concatenate([bits.view(np.float32), rand.astype(np.float32)])


def test_bf16_emulated_rounds_operands_to_nearest_even(emulated):
    x = special_values()
    # x (m, 1) @ [[1]]: one exact product per entry, so the output is the rounded operand.
    y = cgan.ops.matmul(cgan.tensor(x[:, None]), cgan.tensor(np.ones((1, 1), np.float32))).numpy()[:, 0]
    ref = bf16_nearest(x)
    np.testing.assert_array_equal(y, ref)  # NaN where NaN, infinities, ties to even
    assert np.all((y[np.isfinite(y)].view(np.uint32) & 0xFFFF) == 0)
    assert np.isinf(y[5]) and y[5] > 0  # the largest float32 rounds up past bfloat16's range
    assert y[0] == np.float32(1.0) and y[1] == np.uint32(0x3F820000).view(np.float32)  # ties


def test_bf16_emulated_agrees_with_torch_bfloat16(emulated):
    torch = pytest.importorskip("torch")
    x = special_values()
    y = cgan.ops.matmul(cgan.tensor(x[:, None]), cgan.tensor(np.ones((1, 1), np.float32))).numpy()[:, 0]
    np.testing.assert_array_equal(y, torch.tensor(x).to(torch.bfloat16).float().numpy())


@pytest.mark.parametrize("shape", [(300, 200, 100), (5, 7, 40), (40, 3, 64), (64, 64, 4), (128, 96, 1)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("threads", [1, 2])
def test_bf16_emulated_matmul_is_float32_on_rounded_operands(shape, threads):
    m, n, k = shape
    rng = np.random.default_rng(m + n + k)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    old = cgan.get_num_threads()
    cgan.set_num_threads(threads)
    try:
        with cgan.matmul_precision("bf16-emulated"):
            y = cgan.ops.matmul(cgan.tensor(a), cgan.tensor(b)).numpy()
        exact = cgan.ops.matmul(cgan.tensor(bf16_nearest(a)), cgan.tensor(bf16_nearest(b))).numpy()
        plain = cgan.ops.matmul(cgan.tensor(a), cgan.tensor(b)).numpy()
    finally:
        cgan.set_num_threads(old)
    np.testing.assert_array_equal(y, exact)  # the same float32 kernel on the rounded operands
    ref = bf16_nearest(a).astype(np.float64) @ bf16_nearest(b).astype(np.float64)
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-5 * np.sqrt(k) * np.abs(ref).max())
    # and it is really coarser than float32: bfloat16 keeps 8 significant bits
    err = np.abs(y - a.astype(np.float64) @ b.astype(np.float64)).max()
    assert err > 10 * np.abs(plain - a.astype(np.float64) @ b.astype(np.float64)).max()
    # each product is off by at most 2^-7 of its size (two operands rounded to 8 significant
    # bits, 2^-8 each), plus the float32 sums
    bound = (2.0 ** -7 + 2.0 ** -16) * (np.abs(a).astype(np.float64) @ np.abs(b)) + 1e-5 * np.abs(ref).max()
    assert np.all(np.abs(y - a.astype(np.float64) @ b.astype(np.float64)) <= bound)


def test_bf16_emulated_leaves_float64_alone(emulated):
    a = np.random.default_rng(0).standard_normal((20, 30))
    y = cgan.ops.matmul(cgan.tensor(a), cgan.tensor(a.T.copy())).numpy()
    np.testing.assert_allclose(y, a @ a.T, rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("transposed", [False, True])
def test_bf16_emulated_convolution_and_its_gradients(transposed):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 9, 9)).astype(np.float32)
    w = rng.standard_normal((3, 5, 3, 3) if transposed else (5, 3, 3, 3)).astype(np.float32)
    conv = cgan.ops.conv_transpose2d if transposed else cgan.ops.conv2d

    def run(x, w):
        xt, wt = cgan.tensor(x, requires_grad=True), cgan.tensor(w, requires_grad=True)
        y = conv(xt, wt, stride=2, padding=1)
        r = bf16_nearest(np.cos(np.arange(y.numpy().size, dtype=np.float32)).reshape(y.shape))
        gx, gw = cgan.grad(cgan.ops.sum(y * cgan.tensor(r)), [xt, wt])
        return y.numpy(), gx.numpy(), gw.numpy()

    with cgan.matmul_precision("bf16-emulated"):
        emu = run(x, w)
    exact = run(bf16_nearest(x), bf16_nearest(w))  # float32 on rounded operands, same kernels
    plain = run(x, w)
    for e, r, p, what in zip(emu, exact, plain, ["value", "grad x", "grad w"]):
        np.testing.assert_array_equal(e, r, err_msg=what)
        assert not np.array_equal(e, p), what


def test_bf16_emulated_training_is_repeatable_and_stays_close_to_float32():
    data = cgan.datasets.ring(2000, seed=0)

    def fit():
        G = cgan.nn.MLP(2, [32, 32], 2, seed=0)
        D = cgan.nn.MLP(2, [32, 32], 1, seed=1)
        gan = cgan.GAN(G, D, loss="wgan-gp", z_dim=2, seed=0, d_steps=2)
        h = gan.fit(data, 20, 64, progress=False)
        return np.array(h["d_loss"]), gan.sample(100, seed=1)

    with cgan.matmul_precision("bf16-emulated"):
        d1, s1 = fit()
        d2, s2 = fit()
    d0, s0 = fit()
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(s1, s0)
    assert np.abs(s1 - s0).max() < 0.05 * np.abs(s0).max()  # 20 steps apart: rounding, not divergence


def test_bf16_emulated_can_be_set_and_the_hints_point_to_it():
    with cgan.matmul_precision("bf16-emulated"):
        assert cgan.get_matmul_precision() == "bf16-emulated"
        if not cgan.cpu_features()["avx512_bf16"]:
            with pytest.raises(RuntimeError, match="bf16-emulated"):
                cgan.set_matmul_precision("bf16")
            assert cgan.get_matmul_precision() == "bf16-emulated"  # a refused mode leaves it
    assert cgan.get_matmul_precision() == "float32"
    with pytest.raises(ValueError, match='did you mean "bf16-emulated"'):
        cgan.set_matmul_precision("bf16_emulated")
    with pytest.raises(ValueError):
        with cgan.matmul_precision("bf16-emulated"):
            raise ValueError("inside")
    assert cgan.get_matmul_precision() == "float32"
