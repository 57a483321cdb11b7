"""cgan.recipes, the benchmarks' data and measures, and benchmarks/mode_collapse.py --quick."""
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import cgan

REPO = pathlib.Path(__file__).resolve().parent.parent
NAMES = ["gaussian-1d", "pacgan-grid", "pacgan-ring"]


def _data(name, n=512):
    if name == "gaussian-1d":
        return cgan.datasets.gaussian_1d(n, 4.0, 1.25, seed=0).reshape(-1, 1)
    return getattr(cgan.datasets, name.replace("-", "_"))(n, seed=0)


def test_available_lists_the_three_recipes_and_each_is_documented():
    assert cgan.recipes.available() == NAMES
    for name in NAMES:
        text = cgan.recipes.describe(name)
        assert name in text and "follows:" in text and "result:" in text


@pytest.mark.parametrize("name", NAMES)
def test_a_recipe_builds_an_untrained_gan_and_its_fit_kwargs_are_accepted(name):
    gan, fit_kwargs = cgan.recipes.get(name, seed=0)
    assert isinstance(gan, cgan.GAN) and gan.steps_done == 0
    assert set(fit_kwargs) == {"steps", "batch_size"} and fit_kwargs["steps"] >= 100
    spec = cgan.recipes.RECIPES[name].spec
    assert gan.loss == spec["loss"] and gan.pack == spec.get("pack", 1)
    # every fit kwarg of the recipe is passed as given; only the length is cut for the test
    history = gan.fit(_data(name), **{**fit_kwargs, "steps": 3}, progress=False)
    assert gan.steps_done == 3 and np.all(np.isfinite(history["d_loss"]))
    x = gan.sample(10, seed=1)
    assert x.shape == (10, spec.get("x_dim", 2)) and np.all(np.isfinite(x))


def _samples_after(name, seed, steps=4):
    gan, fit_kwargs = cgan.recipes.get(name, seed=seed)
    gan.fit(_data(name), steps=steps, batch_size=fit_kwargs["batch_size"], progress=False)
    return gan.sample(50, seed=3)


def test_a_seed_gives_a_repeatable_run_and_other_seeds_other_runs():
    a, b, c = (_samples_after("pacgan-ring", s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3


def test_unknown_names_are_refused_with_the_closest_valid_one():
    with pytest.raises(ValueError, match="unknown recipe 'pacgan-rin'; did you mean 'pacgan-ring'"):
        cgan.recipes.get("pacgan-rin")
    with pytest.raises(ValueError, match="did you mean 'gaussian-1d'"):
        cgan.recipes.describe("gaussian1d")
    with pytest.raises(TypeError, match="name must be a string"):
        cgan.recipes.get(3)
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['widht'\]"):
        cgan.recipes.build({"widht": 3})


def test_the_benchmark_data_sets_have_the_papers_geometry():
    c, std = cgan.datasets.modes("pacgan-ring")
    assert std == 0.01 and len(c) == 8
    np.testing.assert_allclose(np.hypot(c[:, 0], c[:, 1]), 1.0, atol=1e-6)
    np.testing.assert_allclose(c[2], [0.0, 1.0], atol=1e-6)  # angles 2 pi i / 8
    c, std = cgan.datasets.modes("pacgan-grid")
    assert std == 0.05
    assert {tuple(p) for p in np.round(c).astype(int)} == {(i, j) for i in range(-4, 5, 2)
                                                           for j in range(-4, 5, 2)}
    x = cgan.datasets.pacgan_ring(20000, seed=0)
    c, _ = cgan.datasets.modes("pacgan-ring")
    nearest = ((x[:, None] - c[None]) ** 2).sum(-1).argmin(1)
    off = x - c[nearest]
    assert abs(off.std() - 0.01) < 5e-4 and np.bincount(nearest).min() > 2300
    with pytest.raises(ValueError, match="'pacgan-ring'"):
        cgan.datasets.modes("pacgan")


def test_mode_collapse_scores_on_a_hand_made_point_set():
    # 4 modes on the axes, std 0.1: 3 std = 0.3 from a centre is still high quality.
    centers = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], float)
    pts = np.array([
        [1, 0], [1.2, 0], [1, 0.29],     # mode 0: three high-quality samples
        [0, 1.0],                        # mode 1: one (a mode needs only one)
        [-1, 0.31],                      # mode 2's nearest, 3.1 std away: low quality
        [0.5, 0.5],                      # between modes: low quality
    ])
    s = cgan.metrics.mode_collapse_scores(pts, centers, 0.1)
    assert s.modes == 2
    assert s.high_quality == pytest.approx(4 / 6)
    p = np.array([3, 1]) / 4  # histogram of the high-quality samples; 2 modes empty
    assert s.kl == pytest.approx(float((p * np.log(4 * p)).sum()))
    # the same as the separate measures with the tables' count of one sample per mode
    assert cgan.metrics.mode_coverage(pts, centers, 0.1, min_count=1) == s.modes
    assert cgan.metrics.high_quality_rate(pts, centers, 0.1) == pytest.approx(s.high_quality)
    assert cgan.metrics.mode_kl(pts, centers, 0.1) == pytest.approx(s.kl)
    even = cgan.metrics.mode_collapse_scores(centers, centers, 0.1)
    assert even == (4, 1.0, 0.0)
    none = cgan.metrics.mode_collapse_scores(pts[4:], centers, 0.1)
    assert none.modes == 0 and none.high_quality == 0 and none.kl == pytest.approx(np.log(4))


def test_the_benchmark_runs_in_quick_mode(tmp_path):
    out = tmp_path / "mc.md"
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "mode_collapse.py"), "--quick",
         "--workers", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
        env={**__import__("os").environ,
             "PYTHONPATH": str(pathlib.Path(cgan.__file__).resolve().parent.parent)})
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    for needle in ("| ring | non-saturating | none |", "| grid | wgan-gp | R1 1, linear lr decay",
                   "recipe pacgan-ring", "recipe pacgan-grid", "PacGAN4 (PacGAN Table 1)",
                   "VEEGAN (VEEGAN Table 1)", "quick mode"):
        assert needle in text
