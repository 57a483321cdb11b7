"""Sizes are checked from shapes and headers before any element is read or allocated.

A broadcast view of 2**40 elements takes no memory but was scanned element by element
(the integer-exactness check) for minutes before anything looked at its size; a
checkpoint member whose header claims (2**40,) allocated (MemoryError), and a small
deflated checkpoint was inflated whole (a 9 MB file to 2.1 GB) before any shape was
checked. Peak memory is measured here with tracemalloc (NumPy reports its buffers
to it), so a loader that inflates first fails the test.
"""
import io
import json
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import cgan


# ---- conversion ------------------------------------------------------------------------------

REFUSE_HUGE_VIEWS = """
import numpy as np, cgan
for shape in [(2**40,), (2**20, 2**20), (2**14, 2**14, 2**14)]:
    for value in [np.int8(0), np.int64(1), np.float16(0), np.bool_(True)]:
        x = np.broadcast_to(value, shape)
        try:
            cgan.tensor(x)
        except (MemoryError, ValueError) as e:
            assert "tensor" in str(e) and "bytes" in str(e), e
        else:
            raise AssertionError(f"accepted {shape} {x.dtype}")
G, D = cgan.nn.MLP(2, [4], 2, seed=0), cgan.nn.MLP(2, [4], 1, seed=1)
gan = cgan.GAN(G, D, z_dim=2)
try:
    gan.fit(np.broadcast_to(np.int8(0), (2**39, 2)), 1, 4, progress=False)
except (MemoryError, ValueError) as e:
    assert "data" in str(e) or "tensor" in str(e), e
else:
    raise AssertionError("fit accepted 2**40 elements")
print("refused")
"""


def test_huge_broadcast_views_are_refused_from_the_shape():
    # A deadline, not a timing: the old code scanned 2**40 elements (many minutes).
    out = subprocess.run([sys.executable, "-c", REFUSE_HUGE_VIEWS], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "refused"


@pytest.mark.parametrize("value, ok", [(np.int64(5), True), (np.int64(-2**24), True),
                                       (np.int64(2**40), False), (np.uint64(2**63), False)])
def test_exactness_check_on_broadcast_views_reads_each_value_once(value, ok):
    x = np.broadcast_to(value, (1000, 3))
    if ok:
        np.testing.assert_array_equal(cgan.tensor(x).numpy(), np.full((1000, 3), value, np.float32))
    else:
        with pytest.raises(TypeError, match="representable"):
            cgan.tensor(x)
    # a partly broadcast view: the distinct rows still decide
    y = np.broadcast_to(np.array([[1], [2**30]], np.int64), (2, 5))
    with pytest.raises(TypeError, match="representable"):
        cgan.tensor(y)
    np.testing.assert_array_equal(cgan.tensor(y, dtype="float64").numpy(), y.astype(np.float64))


def test_a_memoryerror_during_conversion_names_the_argument(monkeypatch):
    def no_memory(*a, **k):
        raise MemoryError("Unable to allocate 1.00 TiB")
    monkeypatch.setattr(np, "asarray", no_memory)
    for call in (lambda: cgan.tensor(np.ones(3, np.int8)),
                 lambda: cgan.ops.exp(np.ones(3, np.int8)),
                 lambda: cgan.nn.Linear(2, 1, seed=0)(np.ones((3, 2), np.int8))):
        with pytest.raises(MemoryError) as e:
            call()
        assert "Internal error" not in str(e.value)
        assert "not enough memory" in str(e.value)


# ---- checkpoints -----------------------------------------------------------------------------

def _npy_header(shape, dtype=np.float32):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False,
              "shape": shape})
    return buf.getvalue()


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    G, D = cgan.nn.MLP(2, [32], 2, seed=0), cgan.nn.MLP(2, [32], 1, seed=1)
    gan = cgan.GAN(G, D, z_dim=2, seed=0)
    gan.fit(cgan.datasets.ring(64, seed=0), 2, 16, progress=False)
    path = tmp_path_factory.mktemp("ckpt") / "good.npz"
    gan.save(path)
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    return path, arrays, gan.sample(8, seed=3)


def _write(path, arrays, extra=(), compression=zipfile.ZIP_STORED):
    """An .npz of `arrays` plus raw members `extra` = [(name, bytes or generator)]."""
    with zipfile.ZipFile(path, "w", compression) as z:
        for k, v in arrays.items():
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, np.asanyarray(v), allow_pickle=False)
        for name, blob in extra:
            with z.open(name, "w", force_zip64=True) as f:
                for part in ([blob] if isinstance(blob, bytes) else blob):
                    f.write(part)


def _load_peak(path):
    """(result or exception, peak bytes traced) of GAN.load(path)."""
    tracemalloc.start()
    try:
        try:
            result = cgan.GAN.load(path)
        except Exception as e:  # noqa: BLE001
            result = e
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_member_that_inflates_far_beyond_the_file_is_refused_before_inflating(good, tmp_path):
    _, arrays, _ = good
    bomb = tmp_path / "bomb.npz"
    inflated = 64 << 20  # 64 MiB of zeros deflate to ~64 KB

    def zeros():
        yield _npy_header((inflated,), np.uint8)
        for _ in range(inflated >> 20):
            yield bytes(1 << 20)
    # the bomb is the first member, as in the report
    _write(bomb, {}, [("G/0.weight.npy", zeros())], zipfile.ZIP_DEFLATED)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_STORED) as z:
        for k, v in arrays.items():
            if k != "G/0.weight":
                buf = io.BytesIO()
                np.lib.format.write_array(buf, v)
                z.writestr(k + ".npy", buf.getvalue())
    size = bomb.stat().st_size
    assert size < inflated // 50
    result, peak = _load_peak(bomb)
    assert isinstance(result, ValueError) and "bomb.npz" in str(result), result
    assert peak < 4 * size + (2 << 20), (peak, size)  # never near the 64 MiB


@pytest.mark.parametrize("shape", [(2**40,), (2**20, 2**20), (10**30,), (17,), (15,)])
def test_npy_headers_that_lie_about_their_size_are_a_valueerror(good, tmp_path, shape):
    # G/0.bias holds 32 float32 (128 bytes); its header claims another shape.
    _, arrays, _ = good
    bad = tmp_path / "lying.npz"
    data = {k: v for k, v in arrays.items() if k != "G/0.bias"}
    body = np.asarray(arrays["G/0.bias"]).tobytes()[:16 * 4]
    _write(bad, data, [("G/0.bias.npy", _npy_header(shape) + body)])
    result, peak = _load_peak(bad)
    assert isinstance(result, ValueError), result
    assert "G/0.bias" in str(result) and "bytes" in str(result)
    assert peak < 4 * bad.stat().st_size + (2 << 20)


@pytest.mark.parametrize("member, match", [
    (("G/0.bias.npy", b"\x93NUMPY\x03\x00" + bytes(20)), "header"),
    (("G/0.bias.npy", b"not an npy at all"), "header"),
    (("G/0.bias.npy", _npy_header((4,), "V8") + bytes(32)), "dtype"),
    (("G/0.bias.npy", _npy_header((4,), [("a", "f4")]) + bytes(16)), "dtype"),
    (("G/0.bias.txt", b"text"), "not an .npy"),
])
def test_odd_members_are_refused(good, tmp_path, member, match):
    _, arrays, _ = good
    bad = tmp_path / "odd.npz"
    _write(bad, {k: v for k, v in arrays.items() if k != "G/0.bias"}, [member])
    with pytest.raises(ValueError, match=match):
        cgan.GAN.load(bad)


def test_honest_archives_load_deflated_or_not_with_memory_near_the_file_size(good, tmp_path):
    path, arrays, samples = good
    deflated = tmp_path / "deflated.npz"
    np.savez_compressed(deflated, **arrays)
    fortran = tmp_path / "fortran.npz"
    _write(fortran, {k: np.asfortranarray(v) if np.ndim(v) >= 2 else v for k, v in arrays.items()})
    for p in (path, deflated, fortran):
        gan, peak = _load_peak(p)
        assert isinstance(gan, cgan.GAN), gan
        np.testing.assert_array_equal(gan.sample(8, seed=3), samples)
        data_bytes = sum(np.asarray(v).nbytes for v in arrays.values())
        assert peak < 3 * data_bytes + (2 << 20), (p.name, peak, data_bytes)


def test_read_npz_returns_what_savez_wrote(tmp_path):
    from cgan import _npz
    arrays = {"a": np.arange(6.0).reshape(2, 3), "b": np.array("text"), "c": np.zeros((0, 4)),
              "d": np.asfortranarray(np.arange(12, dtype=">i4").reshape(3, 4)),
              "e": np.array([True, False]), "f": np.float32(2.5)}
    np.savez(tmp_path / "x.npz", **arrays)
    got = _npz.read_npz(tmp_path / "x.npz")
    assert got.keys() == arrays.keys()
    for k, v in arrays.items():
        assert got[k].dtype == np.asarray(v).dtype and got[k].shape == np.shape(v)
        np.testing.assert_array_equal(got[k], v)
    json.loads(json.dumps(str(got["b"])))
