"""cgan.datasets: shapes, seeds, the documented geometry and moments, the IDX reader."""
import gzip

import numpy as np
import pytest

import cgan
from cgan import datasets as ds


def nearest(x, centers):
    d2 = ((x[:, None, :].astype(np.float64) - centers[None].astype(np.float64)) ** 2).sum(-1)
    k = d2.argmin(1)
    return k, x - centers[k]


@pytest.mark.parametrize("fn", [ds.ring, ds.grid, ds.swiss_roll, ds.two_moons,
                                lambda n, seed=0: ds.parallel_lines(n, 0.5, seed=seed)])
def test_2d_samplers_shape_dtype_and_seed(fn):
    a, b, c = fn(500, seed=3), fn(500, seed=3), fn(500, seed=4)
    assert a.shape == (500, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("n", [0, -1, 2.5, True])
def test_bad_n(n):
    with pytest.raises(ValueError, match="n must be"):
        ds.ring(n)


def test_ring_matches_the_wgan_gp_toy_code():
    # gan_toy.py: centres 2 * (unit vectors at multiples of 45 degrees), noise 0.02, / 1.414
    c = ds.ring_centers()
    raw = 2.0 * np.array([[np.cos(a), np.sin(a)] for a in np.arange(8) * np.pi / 4])
    np.testing.assert_allclose(c, raw / 1.414, rtol=1e-6)
    assert ds.ring_std == pytest.approx(0.02 / 1.414)
    assert np.linalg.norm(c, axis=1) == pytest.approx(np.full(8, 2 / 1.414), rel=1e-6)
    x = ds.ring(80000, seed=0)
    k, resid = nearest(x, c)
    # equal mixture, each mode isotropic with the documented std
    assert np.bincount(k, minlength=8).min() > 0.95 * 10000
    assert resid.std(0) == pytest.approx([ds.ring_std] * 2, rel=0.02)
    assert np.abs(resid.mean(0)).max() < 3 * ds.ring_std / np.sqrt(len(x))
    # the data set's overall scale: radius^2 + 2 std^2 per sample
    assert (x.astype(np.float64) ** 2).sum(1).mean() == pytest.approx(
        (2 / 1.414) ** 2 + 2 * ds.ring_std ** 2, rel=1e-3)


def test_grid_matches_the_wgan_gp_toy_code():
    c = ds.grid_centers()
    raw = np.array([(2 * i, 2 * j) for j in range(-2, 3) for i in range(-2, 3)], float)
    np.testing.assert_allclose(c, raw / 2.828, rtol=1e-6, atol=1e-7)
    assert ds.grid_std == pytest.approx(0.05 / 2.828)
    x = ds.grid(100000, seed=1)
    k, resid = nearest(x, c)
    assert np.bincount(k, minlength=25).min() > 0.9 * 4000
    assert resid.std(0) == pytest.approx([ds.grid_std] * 2, rel=0.02)


def test_modes_is_the_single_source():
    c, s = ds.modes("ring")
    np.testing.assert_array_equal(c, ds.ring_centers())
    assert s == ds.ring_std
    c, s = ds.modes("grid")
    assert c.shape == (25, 2) and s == ds.grid_std
    with pytest.raises(ValueError, match="ring"):
        ds.modes("spiral")


def test_custom_ring_and_grid_keep_centres_and_samples_consistent():
    x = ds.ring(4000, modes=5, radius=3.0, std=0.1, seed=2)
    k, resid = nearest(x, ds.ring_centers(5, 3.0))
    assert set(np.unique(k)) == set(range(5)) and resid.std() == pytest.approx(0.1, rel=0.05)
    with pytest.raises(ValueError, match="std"):
        ds.grid(10, std=0)


def test_swiss_roll_matches_the_wgan_gp_toy_code():
    # make_swiss_roll(noise=0.25)[:, [0, 2]] / 7.5: without noise, points are
    # (t cos t, t sin t) / 7.5 with t in [1.5 pi, 4.5 pi]
    clean = ds.swiss_roll(20000, noise=0.0, seed=0).astype(np.float64) * 7.5
    t = np.hypot(clean[:, 0], clean[:, 1])
    assert t.min() >= 1.5 * np.pi - 1e-3 and t.max() <= 4.5 * np.pi + 1e-3
    np.testing.assert_allclose(clean[:, 0], t * np.cos(t), atol=2e-4 * t.max())
    # noise: same draw of t with noise, residual std = 0.25 / 7.5 per coordinate
    noisy = ds.swiss_roll(20000, seed=0).astype(np.float64)
    assert (noisy - clean / 7.5).std(0) == pytest.approx([0.25 / 7.5] * 2, rel=0.03)
    assert np.abs(noisy).max() < 2.2


def test_gaussian_and_mixture_moments_and_pdfs():
    x = ds.gaussian_1d(100000, mean=1.5, std=0.5, seed=0)
    assert x.shape == (100000, 1) and x.dtype == np.float32
    assert x.mean() == pytest.approx(1.5, abs=0.01) and x.std() == pytest.approx(0.5, rel=0.01)
    m = ds.mixture_1d(200000, means=(-2, 3), stds=(0.5, 1.0), weights=(1, 3), seed=0)
    assert m.mean() == pytest.approx(0.25 * -2 + 0.75 * 3, abs=0.02)
    assert (m < 0.5).mean() == pytest.approx(0.25, abs=0.005)
    t = np.linspace(-10, 10, 20001)
    pdf = ds.mixture_1d_pdf((-2, 3), (0.5, 1.0), (1, 3))
    assert pdf(t).sum() * (t[1] - t[0]) == pytest.approx(1.0, abs=1e-9)
    assert (t * pdf(t)).sum() * (t[1] - t[0]) == pytest.approx(0.25 * -2 + 0.75 * 3, abs=1e-9)
    g = ds.gaussian_pdf(1.0, 2.0)
    assert g(1.0) == pytest.approx(1 / (2 * np.sqrt(2 * np.pi)))
    assert g(np.zeros((3, 4))).shape == (3, 4)
    # the histogram of samples follows the pdf
    hist, edges = np.histogram(m, bins=50, range=(-4, 7), density=True)
    mid = 0.5 * (edges[1:] + edges[:-1])
    assert np.abs(hist * ((m > -4) & (m < 7)).mean() - pdf(mid)).max() < 0.02
    with pytest.raises(ValueError, match="weights"):
        ds.mixture_1d_pdf((0, 1), (1, 1), (1, -1))
    with pytest.raises(ValueError, match="stds"):
        ds.mixture_1d(10, means=(0, 1), stds=(1,))


def test_parallel_lines():
    x = ds.parallel_lines(5000, -0.7, seed=1)
    assert np.all(x[:, 0] == np.float32(-0.7))
    assert x[:, 1].min() >= 0 and x[:, 1].max() < 1
    assert x[:, 1].mean() == pytest.approx(0.5, abs=0.02)
    with pytest.raises(ValueError, match="theta"):
        ds.parallel_lines(10, np.nan)


def test_digits():
    pytest.importorskip("sklearn")
    x, y = ds.digits(return_labels=True)
    assert x.shape == (1797, 64) and x.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    assert x.min() == -1.0 and x.max() == 1.0
    from sklearn.datasets import load_digits
    raw = load_digits().data
    np.testing.assert_allclose(x, raw / 8 - 1, atol=1e-7)
    xs, ys = ds.digits(seed=0, return_labels=True)
    assert not np.array_equal(xs, x)
    # shuffled together: each shuffled row keeps its label
    order = np.argsort(ys, kind="stable")
    assert np.array_equal(np.sort(ys), np.sort(y))
    row = {tuple(r): l for r, l in zip(x.tolist(), y.tolist())}
    assert all(row[tuple(r)] == l for r, l in zip(xs[order][:50].tolist(), ys[order][:50].tolist()))
    np.testing.assert_array_equal(ds.digits(seed=0), xs)


def test_digits_without_sklearn_names_the_extra(hide_modules):
    hide_modules("sklearn")
    with pytest.raises(ImportError, match=r'pip install "cgan\[digits\]"'):
        ds.digits()


# ---- IDX ---------------------------------------------------------------------------------

def write_idx(path, array, code, compress=False):
    a = np.asarray(array)
    head = bytes([0, 0, code, a.ndim]) + np.asarray(a.shape, ">u4").tobytes()
    dt = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[code]
    raw = head + a.astype(dt).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@pytest.mark.parametrize("code,dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16),
                                        (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trip(tmp_path, code, dtype, compress):
    rng = np.random.default_rng(0)
    a = (rng.integers(0, 100, (3, 4, 5)) - (0 if code == 0x08 else 50)).astype(dtype)
    if dtype in (np.float32, np.float64):
        a = a * 0.37
    p = write_idx(tmp_path / ("a.idx" + (".gz" if compress else "")), a, code, compress)
    b = ds.read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative and b.shape == (3, 4, 5)
    np.testing.assert_array_equal(b, a)
    assert ds.read_idx(str(p)).shape == (3, 4, 5)  # str or PathLike


def test_read_idx_rank_one_and_four(tmp_path):
    v = np.arange(7, dtype=np.int32) - 3
    np.testing.assert_array_equal(ds.read_idx(write_idx(tmp_path / "v", v, 0x0C)), v)
    t = np.arange(2 * 3 * 1 * 2, dtype=np.uint8).reshape(2, 3, 1, 2)
    np.testing.assert_array_equal(ds.read_idx(write_idx(tmp_path / "t", t, 0x08)), t)


def test_read_idx_rejects_bad_files(tmp_path):
    good = write_idx(tmp_path / "g", np.zeros((4, 3), np.uint8), 0x08).read_bytes()
    cases = {
        "magic": b"\x01\x00" + good[2:],
        "type": good[:2] + b"\x07" + good[3:],
        "truncated": good[:-1],
        "trailing": good + b"\x00",
        "header": good[:9],
        "empty": b"",
    }
    for name, raw in cases.items():
        p = tmp_path / name
        p.write_bytes(raw)
        with pytest.raises(ValueError):
            ds.read_idx(p)
    (tmp_path / "gz").write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(ValueError):
        ds.read_idx(tmp_path / "gz")


def test_datasets_are_exported():
    for name in ds.__all__:
        assert hasattr(cgan.datasets, name)
