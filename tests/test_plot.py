"""cgan.plot: each function draws what it should on a tiny trained GAN."""
import importlib

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import cgan  # noqa: E402
import cgan.plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def tiny_gan(loss, dim, steps=20, seed=0):
    G = cgan.nn.MLP(dim, [16], dim, seed=seed)
    D = cgan.nn.MLP(dim, [16], dim if loss == "ebgan" else 1, seed=seed + 1)
    gan = cgan.GAN(G, D, loss=loss, z_dim=dim, seed=seed)
    data = (cgan.datasets.ring(2000, seed=seed) if dim == 2
            else cgan.datasets.gaussian_1d(2000, seed=seed))
    hist = gan.fit(data, steps, 64, progress=False, log_every=2)
    return gan, data, hist


@pytest.fixture(scope="module")
def gan2d():
    return tiny_gan("wgan-gp", 2)


@pytest.fixture(scope="module")
def gan1d():
    return tiny_gan("minimax", 1)


def test_samples_draws_real_then_fake(gan2d):
    gan, data, _ = gan2d
    fake = gan.sample(300, seed=0)
    ax = cgan.plot.samples(data[:500], fake)
    assert ax is plt.gca()
    assert len(ax.collections) == 2
    assert ax.collections[0].get_offsets().shape == (500, 2)
    assert ax.collections[1].get_offsets().shape == (300, 2)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["data", "G(z)"]
    # the data are drawn over the samples, so that they stay visible where G piles up
    assert ax.collections[0].get_zorder() > ax.collections[1].get_zorder()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")


def test_samples_uses_given_axes_and_accepts_none():
    fig, (a, b) = plt.subplots(1, 2)
    out = cgan.plot.samples(None, np.zeros((10, 2)), ax=b)
    assert out is b and len(b.collections) == 1 and len(a.collections) == 0


def test_samples_rejects_non_2d_points():
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        cgan.plot.samples(np.zeros((10, 3)), None)


def test_critic_contour_matches_discriminate(gan2d):
    gan, data, _ = gan2d
    fig, ax = plt.subplots()
    out = cgan.plot.critic_contour(gan, (-3, 3), (-2.5, 2.5), ax=ax, data=data[:200],
                                   fake=gan.sample(100, seed=0), n=30)
    assert out is ax
    assert ax.get_xlim() == (-3, 3) and ax.get_ylim() == (-2.5, 2.5)
    # the contour set, the data and the fakes
    from matplotlib.contour import ContourSet
    assert any(isinstance(c, ContourSet) for c in ax.collections + ax.get_children())
    offsets = [c.get_offsets().shape for c in ax.collections if hasattr(c, "get_offsets")
               and c.get_offsets().shape[0] in (100, 200)]
    assert (200, 2) in offsets and (100, 2) in offsets
    data_dots = next(c for c in ax.collections if c.get_label() == "data")
    fake_dots = next(c for c in ax.collections if c.get_label() == "G(z)")
    assert data_dots.get_zorder() > fake_dots.get_zorder()
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    # contour levels span the critic's range over the grid (raw output for wgan-gp)
    g = np.stack(np.meshgrid(np.linspace(-3, 3, 30), np.linspace(-2.5, 2.5, 30)), -1)
    v = gan.discriminate(g.reshape(-1, 2).astype(np.float32)).ravel()
    cs = next(c for c in ax.get_children() if isinstance(c, ContourSet))
    assert cs.levels.min() <= v.min() + 1e-5 and cs.levels.max() >= v.max() - 1e-5


def test_critic_contour_probability_for_classifiers_and_energy_for_ebgan():
    from matplotlib.contour import ContourSet
    gan, _, _ = tiny_gan("non-saturating", 2, steps=5)
    ax = cgan.plot.critic_contour(gan, (-3, 3), (-3, 3), n=20, colorbar=False)
    cs = next(c for c in ax.get_children() if isinstance(c, ContourSet))
    assert cs.levels.min() >= -1e-6 - 0.1 and cs.levels.max() <= 1.1  # D(x) in [0, 1]
    plt.close("all")
    eb, _, _ = tiny_gan("ebgan", 2, steps=5)
    ax = cgan.plot.critic_contour(eb, (-3, 3), (-3, 3), n=20, colorbar=False)
    cs = next(c for c in ax.get_children() if isinstance(c, ContourSet))
    assert cs.levels.min() >= -1e-6 - 0.5  # an energy is non-negative


def test_critic_contour_rejects_bad_limits(gan2d):
    with pytest.raises(ValueError, match="xlim"):
        cgan.plot.critic_contour(gan2d[0], (3, -3), (-3, 3))


def test_density_1d_draws_data_fakes_and_d(gan1d):
    gan, _, _ = gan1d
    fig, ax = plt.subplots()
    pdf = lambda x: np.exp(-0.5 * x ** 2) / np.sqrt(2 * np.pi)  # noqa: E731
    out = cgan.plot.density_1d(gan, pdf, (-4, 4), ax=ax, n_samples=2000, bins=40, n=200)
    assert out is ax and ax.get_xlim() == (-4, 4)
    labels = [l.get_label() for l in ax.lines]
    assert labels == ["p_data", "D(x)"]
    assert len(ax.patches) == 40  # the histogram of G's samples
    d = ax.lines[1].get_ydata()
    assert np.all((d >= 0) & (d <= 1))
    v = gan.discriminate(np.linspace(-4, 4, 200).reshape(-1, 1).astype(np.float32)).ravel()
    np.testing.assert_allclose(d, 1 / (1 + np.exp(-v)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), pdf(np.linspace(-4, 4, 200)))


def test_density_1d_with_data_samples_and_a_critic_on_a_twin_axis():
    gan, data, _ = tiny_gan("wgan-gp", 1, steps=5)
    fig, ax = plt.subplots()
    cgan.plot.density_1d(gan, data, (-4, 4), ax=ax, n_samples=1000, bins=30)
    assert len(fig.axes) == 2  # twin axis for the unbounded critic
    assert [l.get_label() for l in fig.axes[1].lines] == ["critic v(x)"]


def test_density_1d_rejects_2d_generator(gan2d):
    with pytest.raises(ValueError, match="1-D generator"):
        cgan.plot.density_1d(gan2d[0], lambda x: x, (-1, 1))


def test_loss_curves_skips_nan_series(gan1d, gan2d):
    _, _, hist = gan1d  # minimax: divergence finite, penalty NaN
    ax = cgan.plot.loss_curves(hist)
    assert [l.get_label() for l in ax.lines] == ["D loss", "G loss", "divergence estimate"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), hist["step"])
    assert ax.get_xlabel() == "generator step" and ax.get_ylabel()
    plt.close("all")
    _, _, hist = gan2d  # wgan-gp: everything finite
    ax = cgan.plot.loss_curves(hist)
    assert len(ax.lines) == 4
    plt.close("all")
    ax = cgan.plot.loss_curves(hist, keys=["d_loss"])
    assert len(ax.lines) == 1


def test_loss_curves_rejects_non_history():
    with pytest.raises(ValueError, match="history"):
        cgan.plot.loss_curves([1, 2, 3])


@pytest.mark.parametrize("images,kw", [
    (np.random.default_rng(0).random((10, 8, 8)), {}),
    (np.random.default_rng(0).random((10, 1, 8, 8)), {}),
    (np.random.default_rng(0).random((10, 3, 8, 8)), {}),
    (np.random.default_rng(0).random((10, 64)), {"shape": (8, 8)}),
])
def test_image_grid_layout(images, kw):
    ax = cgan.plot.image_grid(images, 4, **kw)
    assert len(ax.images) == 1
    arr = ax.images[0].get_array()
    # 3 rows x 4 columns of 8x8 tiles with 1-pixel padding
    assert arr.shape[:2] == (3 * 9 + 1, 4 * 9 + 1)
    assert not ax.axison


def test_image_grid_bad_input():
    with pytest.raises(ValueError, match="shape="):
        cgan.plot.image_grid(np.zeros((4, 64)), 2)
    with pytest.raises(ValueError, match="reshaped"):
        cgan.plot.image_grid(np.zeros((4, 63)), 2, shape=(8, 8))
    with pytest.raises(ValueError, match="nrow"):
        cgan.plot.image_grid(np.zeros((4, 8, 8)), 0)


def test_missing_matplotlib_gives_install_hint(hide_modules):
    hide_modules("matplotlib")
    plot = importlib.reload(cgan.plot)  # importing cgan.plot itself needs no matplotlib
    with pytest.raises(ImportError, match=r'pip install "cgan\[plot\]"'):
        plot.samples(np.zeros((3, 2)), None)
    with pytest.raises(ImportError, match="matplotlib"):
        plot.image_grid(np.zeros((2, 4, 4)), 2)


def test_curves_draws_each_series_in_order():
    fig, ax = plt.subplots()
    y = np.exp(-np.arange(10.0))
    out = cgan.plot.curves({"JS": y, "W": (np.arange(5) * 10, np.ones(5))}, ax=ax, logy=True,
                           xlabel="step")
    assert out is ax and [l.get_label() for l in ax.lines] == ["JS", "W"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), y)
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(10))
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), np.arange(5) * 10)
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step"
    with pytest.raises(ValueError, match="one length"):
        cgan.plot.curves({"bad": (np.arange(3), np.arange(4))})
    with pytest.raises(ValueError, match="dict"):
        cgan.plot.curves([1, 2])


def test_histogram_counts_finite_values():
    v = np.concatenate([np.random.default_rng(0).standard_normal(1000), [np.nan, np.inf]])
    ax = cgan.plot.histogram(v, bins=20, density=False, label="grad norm")
    assert len(ax.patches) == 20
    assert sum(p.get_height() for p in ax.patches) == 1000
    with pytest.raises(ValueError, match="finite"):
        cgan.plot.histogram([np.nan])


def test_matrix_shows_entries():
    plan = np.array([[0.25, 0.0], [0.0, 0.5], [0.25, 0.0]])
    ax = cgan.plot.matrix(plan, xlabel="to", ylabel="from")
    assert len(ax.images) == 1
    np.testing.assert_array_equal(ax.images[0].get_array(), plan)
    assert [t.get_text() for t in ax.texts] == ["0.25", "0.00", "0.00", "0.50", "0.25", "0.00"]
    with pytest.raises(ValueError, match="2-D"):
        cgan.plot.matrix(np.zeros(3))
