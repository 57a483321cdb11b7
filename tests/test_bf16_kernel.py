"""The bfloat16 kernel of cgan.set_matmul_precision("bf16") (cpp/tensor/bf16_gemm.*).

Every CPU tests the portable kernel, which shares the packing and blocking with the
AVX512_BF16 one, bitwise against a NumPy model of VDPBF16PS's arithmetic, and the whole
"bf16" path (matmul, convolutions, training) on it against "bf16-emulated". Where the CPU
has AVX512_BF16 the hardware kernel is checked against the portable one as well.
"""
import numpy as np
import pytest

import cgan
from cgan import _core

HAS_AVX512_BF16 = cgan.cpu_features()["avx512_bf16"]
KC = 256  # the kernel's depth block: sums restart at each one and are added onto C


def bf16(x):
    """x rounded to the nearest bfloat16 (ties to even), as float32 (no NaNs here)."""
    u = np.ascontiguousarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)


def model(a, b, c, accumulate):
    """C [+]= bf16(A) @ bf16(B) as the kernel sums it: per depth block of KC, each pair of k
    terms added to a float32 sum odd term first (a product of two bfloat16 is exact in
    float32, so each step is one float32 addition, as VDPBF16PS's fused step rounds once),
    and each block's sum added onto C."""
    a, b = bf16(a), bf16(b)
    m, k = a.shape
    out = c.copy() if accumulate else None
    for pc in range(0, k, KC):
        kc = min(KC, k - pc)
        s = np.zeros((m, b.shape[1]), np.float32)
        for q in range(0, kc, 2):
            p = pc + q
            if q + 1 < kc:
                s = s + a[:, p + 1:p + 2] * b[p + 1:p + 2, :]
            s = s + a[:, p:p + 1] * b[p:p + 1, :]
        out = s if out is None else out + s
    return out


def operands(m, n, k, ta, tb, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, (k, m) if ta else (m, k)).astype(np.float32)
    b = rng.uniform(-2, 2, (n, k) if tb else (k, n)).astype(np.float32)
    return (a.T if ta else a), (b.T if tb else b)  # transposed views: strided operands


# sizes across every block edge: the 12x32 tile, odd depths, two depth blocks (k > 256),
# two row blocks (m > 192), two column blocks (n > 4096), a single row and column
SHAPES = [(29, 45, 37), (12, 32, 2), (13, 70, 301), (1, 33, 1), (200, 40, 600), (5, 4100, 3), (40, 1, 9)]


@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("accumulate", [False, True])
def test_portable_kernel_is_the_model_bitwise(m, n, k, ta, tb, accumulate):
    a, b = operands(m, n, k, ta, tb)
    c = np.random.default_rng(1).uniform(-2, 2, (m, n)).astype(np.float32)
    expected = model(a, b, c, accumulate)
    _core._bf16_gemm(a, b, c, accumulate, "portable")
    np.testing.assert_array_equal(c, expected)


def test_portable_kernel_reads_bf16_subnormals_as_zero_and_rounds_the_rest():
    # VDPBF16PS's rules: a bfloat16 subnormal operand counts as zero; the rounding of the
    # other operands is to nearest even (1 + 2^-8 is a tie that goes down to 1).
    a = np.array([[1e-39, 1 + 2.0 ** -8, 3.0]], np.float32)
    b = np.array([[1e30], [1.0], [1 + 2.0 ** -7 + 2.0 ** -9]], np.float32)
    c = np.zeros((1, 1), np.float32)
    _core._bf16_gemm(a, b, c, False, "portable")
    assert c[0, 0] == np.float32(1.0 + 3 * (1 + 2.0 ** -7))  # 1e-39 * 1e30 dropped, not 1e-9


def test_hardware_kernel_refuses_to_run_without_the_instruction():
    if HAS_AVX512_BF16:
        pytest.skip("this CPU has AVX512_BF16")
    a, b = operands(4, 4, 4, False, False)
    with pytest.raises(RuntimeError, match="AVX512_BF16"):
        _core._bf16_gemm(a, b, np.zeros((4, 4), np.float32), False, "avx512_bf16")
    assert "AVX512_BF16" in _core._bf16_self_check()
    with pytest.raises(ValueError, match="portable"):
        _core._bf16_gemm(a, b, np.zeros((4, 4), np.float32), False, "amx")


@pytest.mark.skipif(not HAS_AVX512_BF16, reason="needs a CPU with AVX512_BF16")
@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_hardware_kernel_matches_the_portable_one(m, n, k, ta, tb):
    assert _core._bf16_self_check() == ""
    a, b = operands(m, n, k, ta, tb)
    c0 = np.random.default_rng(1).uniform(-2, 2, (m, n)).astype(np.float32)
    c1 = c0.copy()
    _core._bf16_gemm(a, b, c0, True, "portable")
    _core._bf16_gemm(a, b, c1, True, "avx512_bf16")
    # the SDM's order makes them equal; allow a CPU that associates the pair differently
    scale = 1 + np.abs(bf16(a)).astype(np.float64) @ np.abs(bf16(b)).astype(np.float64)
    assert np.all(np.abs(c0.astype(np.float64) - c1) <= scale * 2.0 ** -20)


# ---- the "bf16" path through matmul, convolutions and training ------------------------------

@pytest.fixture(params=["portable"] + (["avx512_bf16"] if HAS_AVX512_BF16 else []))
def bf16_kernel(request):
    """"bf16" products on the given kernel (the portable one makes "bf16" settable anywhere)."""
    _core._set_bf16_kernel(request.param)
    try:
        yield request.param
    finally:
        cgan.set_matmul_precision("float32")
        _core._set_bf16_kernel("avx512_bf16")


def both_precisions(f):
    """f() under "bf16" and under "bf16-emulated" (the same operands, another sum order)."""
    with cgan.matmul_precision("bf16"):
        x = f()
    with cgan.matmul_precision("bf16-emulated"):
        y = f()
    return x, y


def close(x, y, scale):
    """Equal up to float32 sums in another order: a few ulps of the sum of |terms|."""
    np.testing.assert_array_less(np.abs(np.asarray(x, np.float64) - y), 2.0 ** -18 * scale + 1e-30)


@pytest.mark.parametrize("m,n,k", [(64, 48, 40), (3, 40, 5), (2, 50, 30), (40, 2, 30), (0, 20, 20)])
@pytest.mark.parametrize("threads", [1, 2])
def test_bf16_matmul_agrees_with_emulation_on_every_path(bf16_kernel, m, n, k, threads):
    # (64, 48, 40) goes to the kernel, split over two threads; the others are the thin
    # products (small k, matrix-vector shapes), which "bf16" runs on rounded copies.
    a, b = operands(m, n, k, False, True)
    bias = np.linspace(-1, 1, n).astype(np.float32)
    old = cgan.get_num_threads()
    cgan.set_num_threads(threads)
    try:
        with cgan.no_grad():
            w = cgan.tensor(np.ascontiguousarray(b.T))  # linear's weight is (out, in)
            x, y = both_precisions(lambda: cgan.ops.linear(cgan.tensor(a), w, cgan.tensor(bias)).numpy())
    finally:
        cgan.set_num_threads(old)
    close(x, y, 1 + np.abs(a) @ np.abs(b) + np.abs(bias))
    if m and n:
        assert not np.array_equal(x, a @ b + bias)  # bfloat16, not float32


@pytest.mark.parametrize("transposed", [False, True])
def test_bf16_convolution_and_gradients_agree_with_emulation(bf16_kernel, transposed):
    rng = np.random.default_rng(2)
    x0 = rng.standard_normal((3, 20, 6, 6)).astype(np.float32)  # 20 channels: every product has k >= 20
    w0 = rng.standard_normal((20, 5, 3, 3) if transposed else (5, 20, 3, 3)).astype(np.float32)

    def run():
        x, w = cgan.tensor(x0, requires_grad=True), cgan.tensor(w0, requires_grad=True)
        f = cgan.ops.conv_transpose2d if transposed else cgan.ops.conv2d
        y = f(x, w, stride=2, padding=1)
        gx, gw = cgan.grad(cgan.ops.sum(y * y), [x, w])
        return [t.numpy() for t in (y, gx, gw)]
    got, want = both_precisions(run)
    for g, e in zip(got, want):
        close(g, e, np.abs(e).max())  # within 2^-18 of the largest entry: sum order only
        assert np.isfinite(g).all()


def test_bf16_training_stays_with_emulation(bf16_kernel):
    data = cgan.datasets.ring(512, seed=0).astype(np.float32)

    def fit():
        G = cgan.nn.MLP(2, [32, 32], 2, seed=0)
        D = cgan.nn.MLP(2, [32, 32], 1, seed=1)
        gan = cgan.GAN(G, D, loss="wgan-gp", z_dim=2, d_steps=2, seed=0)
        h = gan.fit(data, 5, 64, progress=False)
        return np.array(h["d_loss"]), gan.sample(64, seed=3)
    (d1, s1), (d2, s2) = both_precisions(fit)
    np.testing.assert_allclose(d1, d2, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(s1, s2, rtol=1e-3, atol=1e-4)
    with cgan.matmul_precision("bf16"):
        assert cgan.get_matmul_precision() == "bf16"
    assert cgan.get_matmul_precision() == "float32"
