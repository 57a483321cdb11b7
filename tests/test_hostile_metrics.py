"""Hostile input for cgan.metrics and cgan.datasets (issue 6): every entry point turns NaN,
Inf, empty, complex, object, ragged, mis-shaped or out-of-range input into a ValueError
or TypeError of its own that names the argument, never a result and never a NumPy message."""
import warnings

import numpy as np
import pytest

import cgan

M, D = cgan.metrics, cgan.datasets
CENTERS, STD = D.modes("ring")


def good_points(n=200, seed=0):
    return D.ring(n, seed=seed).astype(np.float64)


def with_nan(x, value=np.nan):
    x = np.array(x, dtype=np.float64)
    x.flat[3] = value
    return x


MODE_METRICS = [M.high_quality_rate, M.mode_coverage, M.mode_kl]


@pytest.fixture(autouse=True)
def warnings_are_errors():
    # an error must be raised, not a RuntimeWarning next to a nan or a dropped imaginary part
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


# ---- mode counting -------------------------------------------------------------------------

@pytest.mark.parametrize("fn", MODE_METRICS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_mode_metrics_refuse_non_finite_samples(fn, bad):
    with pytest.raises(ValueError, match=f"{fn.__name__}: samples contains 1 NaN or Inf"):
        fn(with_nan(good_points(), bad), CENTERS, STD)


@pytest.mark.parametrize("fn", MODE_METRICS)
def test_mode_metrics_refuse_empty_samples_and_centers(fn):
    with pytest.raises(ValueError, match="samples must be a non-empty"):
        fn(np.zeros((0, 2)), CENTERS, STD)
    with pytest.raises(ValueError, match="centers must be a non-empty"):
        fn(good_points(), np.zeros((0, 2)), STD)
    with pytest.raises(ValueError, match="centers contains"):
        fn(good_points(), with_nan(CENTERS), STD)


@pytest.mark.parametrize("fn", MODE_METRICS)
@pytest.mark.parametrize("key, value", [("std", 0.0), ("std", -STD), ("std", np.nan),
                                        ("std", np.inf), ("threshold", 0), ("threshold", -3.0),
                                        ("threshold", np.nan)])
def test_mode_metrics_refuse_non_positive_std_and_threshold(fn, key, value):
    kwargs = {"std": STD, "threshold": 3.0, key: value}
    with pytest.raises(ValueError, match=f"{key} must be a finite number > 0"):
        fn(good_points(), CENTERS, **kwargs)


@pytest.mark.parametrize("fn", MODE_METRICS)
@pytest.mark.parametrize("value", ["0.1", None, [STD, STD], True, 1j])
def test_mode_metrics_refuse_a_std_that_is_not_a_real_number(fn, value):
    with pytest.raises(TypeError, match="std must be a real number"):
        fn(good_points(), CENTERS, value)


@pytest.mark.parametrize("fn", MODE_METRICS)
def test_mode_metrics_refuse_complex_object_and_ragged_samples(fn):
    x = good_points()
    with pytest.raises(TypeError, match="complex numbers"):
        fn(x + 1e-3j, CENTERS, STD)
    with pytest.raises(TypeError, match="Python objects"):
        fn(x.astype(object), CENTERS, STD)
    with pytest.raises(TypeError, match="real numbers"):
        fn(np.array([["a", "b"]]), CENTERS, STD)
    with pytest.raises(ValueError, match="rectangular"):
        fn([[0.0, 1.0], [1.0]], CENTERS, STD)


@pytest.mark.parametrize("fn", MODE_METRICS)
def test_mode_metrics_refuse_wrong_shapes(fn):
    x = good_points()
    with pytest.raises(ValueError, match="same d"):
        fn(x[:, :1], CENTERS, STD)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        fn(x[:, 0], CENTERS, STD)
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        fn(x[None], CENTERS, STD)


def test_mode_coverage_refuses_a_bad_min_count():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="min_count must be None or a positive integer"):
            M.mode_coverage(good_points(), CENTERS, STD, min_count=bad)


def test_mode_metrics_accept_every_real_layout_with_identical_results():
    # float32, Fortran order, a strided view and a nested list are the same points
    x = good_points(400)
    x[::7] += 0.3  # some samples far from every mode
    ref = [fn(x, CENTERS, STD) for fn in MODE_METRICS]
    assert 0 < ref[0] < 1 and ref[1] == 8 and ref[2] > 0
    wide = np.zeros((400, 4))
    wide[:, ::2] = x
    for same in (np.asfortranarray(x), wide[:, ::2], x.tolist()):
        assert [fn(same, CENTERS, STD) for fn in MODE_METRICS] == ref
    x32 = x.astype(np.float32)
    assert [fn(x32, CENTERS, STD) for fn in MODE_METRICS] == \
        [fn(x32.astype(np.float64), CENTERS, STD) for fn in MODE_METRICS]


# ---- optimal transport ---------------------------------------------------------------------

@pytest.mark.parametrize("a, b, exc, match", [
    ([1.0 + 2j, 2.0], [1.0], TypeError, "a must hold real numbers"),
    ([1.0, 2.0], np.array([1.0], dtype=object), TypeError, "b must hold real numbers"),
    ([1.0, np.inf], [1.0], ValueError, "a contains 1 NaN or Inf"),
    ([1.0], [np.nan, -np.inf], ValueError, "b contains 2 NaN or Inf"),
    ([], [1.0], ValueError, "a must be a non-empty 1-D"),
    ([1.0], np.zeros((0, 1)), ValueError, "b must be a non-empty 1-D"),
    (np.zeros((3, 2)), [1.0], ValueError, "1-D"),
])
def test_wasserstein_1d_refuses_hostile_input(a, b, exc, match):
    with pytest.raises(exc, match=match):
        M.wasserstein_1d(a, b)


def test_wasserstein_2d_refuses_a_cost_matrix_above_max_pairs_before_allocating():
    big = np.zeros((100_000, 2))  # the cost matrix would need 80 GB; refused at once
    with pytest.raises(ValueError, match="subsample") as info:
        M.wasserstein_2d(big, big)
    assert "10,000,000,000 entries" in str(info.value) and "max_pairs" in str(info.value)
    a = good_points(20)
    with pytest.raises(ValueError, match="max_pairs=399"):
        M.wasserstein_2d(a, a, max_pairs=399)
    assert M.wasserstein_2d(a, a + [0.5, 0.0], max_pairs=400) == pytest.approx(0.5)
    for bad in (0, -5, 1.5, True, None):
        with pytest.raises(ValueError, match="max_pairs must be a positive integer"):
            M.wasserstein_2d(a, a, max_pairs=bad)


def test_wasserstein_2d_refuses_hostile_points_and_weights():
    a = good_points(30)
    with pytest.raises(ValueError, match="b contains 1 NaN or Inf"):
        M.wasserstein_2d(a, with_nan(a))
    with pytest.raises(ValueError, match="a must be a non-empty"):
        M.wasserstein_2d(np.zeros((0, 2)), a)
    with pytest.raises(TypeError, match="complex"):
        M.wasserstein_2d(a + 0j, a)
    with pytest.raises(TypeError, match="weights_a must hold real numbers"):
        M.wasserstein_2d(a, a, weights_a=np.ones(30) + 1j)


# ---- Frechet distance ----------------------------------------------------------------------

@pytest.mark.parametrize("a, match", [
    (with_nan(np.ones((10, 2))), "a contains 1 NaN or Inf"),
    (np.ones((1, 2)), "a needs at least 2 samples"),
    (np.zeros((0, 2)), "a must be a non-empty"),
    (np.ones((10, 3)), "same d"),
])
def test_frechet_distance_refuses_hostile_input(a, match):
    b = np.random.default_rng(0).standard_normal((10, 2))
    with pytest.raises(ValueError, match=match):
        M.frechet_distance(a, b)
    with pytest.raises(TypeError, match="complex"):
        M.frechet_distance(b + 1j, b)


def test_frechet_distance_of_a_shift_still_works():
    b = np.random.default_rng(1).standard_normal((500, 2))
    assert M.frechet_distance(b, b + [3.0, 4.0]) == pytest.approx(25.0, abs=1e-9)
    # a 1-D sample set is one column, as (n, 1)
    assert M.frechet_distance(b[:, 0], b[:, 0] + 2) == pytest.approx(4.0, abs=1e-9)


# ---- kernel densities and divergences ------------------------------------------------------

def test_kde_1d_names_the_problem():
    with pytest.raises(ValueError, match="samples contains 1 NaN or Inf"):
        M.kde_1d([0.0, 1.0, 2.0, np.nan])
    with pytest.raises(ValueError, match="at least 2 samples"):
        M.kde_1d([1.0])
    with pytest.raises(ValueError, match="no spread"):
        M.kde_1d([1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="bandwidth must be a finite number > 0"):
        M.kde_1d([0.0, 1.0], bandwidth=np.inf)
    with pytest.raises(TypeError, match="complex"):
        M.kde_1d([0.0, 1.0j])
    with pytest.raises(ValueError, match="1-D"):
        M.kde_1d(np.zeros((5, 2)))
    with pytest.raises(TypeError, match="evaluation points"):
        M.kde_1d([0.0, 1.0])([0.5j])


@pytest.mark.parametrize("p", [3, 2.5, None, "samples"])
def test_divergence_1d_says_it_wants_a_callable_or_samples(p):
    with pytest.raises(TypeError, match="p must be a density callable or a 1-D array of samples"):
        M.divergence_1d(p, np.linspace(-1, 1, 50))


def test_divergence_1d_and_samples_refuse_bad_samples():
    good = np.linspace(-1, 1, 50)
    with pytest.raises(ValueError, match="q contains 1 NaN or Inf"):
        M.divergence_1d(good, with_nan(good))
    with pytest.raises(TypeError, match="q must hold real numbers"):
        M.kl_1d(D.gaussian_pdf(), good + 1j)
    with pytest.raises(ValueError, match="a contains"):
        M.divergence_samples(with_nan(good), good)
    with pytest.raises(ValueError, match="b needs at least 2 samples"):
        M.divergence_samples(good, [1.0])


# ---- Parzen window -------------------------------------------------------------------------

def test_parzen_log_likelihood_refuses_hostile_input():
    s = good_points(100)
    t = good_points(50, seed=1)
    with pytest.raises(ValueError, match="samples contains 1 NaN or Inf"):
        M.parzen_log_likelihood(with_nan(s), t, sigma=0.1)
    with pytest.raises(ValueError, match="test contains"):
        M.parzen_log_likelihood(s, with_nan(t, np.inf), sigma=0.1)
    with pytest.raises(ValueError, match="test must be a non-empty"):
        M.parzen_log_likelihood(s, np.zeros((0, 2)), sigma=0.1)
    with pytest.raises(ValueError, match="validation must be a non-empty"):
        M.parzen_log_likelihood(s, t, validation=np.zeros((0, 2)))
    with pytest.raises(ValueError, match="validation contains"):
        M.parzen_log_likelihood(s, t, validation=with_nan(t))
    with pytest.raises(ValueError, match=r"samples \(100, 2\) and validation \(50, 1\)"):
        M.parzen_log_likelihood(s, t, validation=t[:, :1])
    with pytest.raises(TypeError, match="sigma must be a real number"):
        M.parzen_log_likelihood(s, t, sigma="0.1")
    with pytest.raises(TypeError, match="sigmas must hold real numbers"):
        M.parzen_log_likelihood(s, t, validation=t, sigmas=[0.1j])


# ---- data sets -----------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: D.ring(10, radius=np.inf), "radius must be a finite number > 0"),
    (lambda: D.ring(10, radius=np.nan), "radius"),
    (lambda: D.ring_centers(8, -1.0), "radius"),
    (lambda: D.grid(10, spacing=np.inf), "spacing must be a finite number > 0"),
    (lambda: D.grid(10, std=np.nan), "std must be a finite number > 0"),
    (lambda: D.two_moons(10, noise=np.nan), "noise must be a finite number >= 0"),
    (lambda: D.two_moons(10, noise=-0.1), "noise must be a finite number >= 0"),
    (lambda: D.swiss_roll(10, noise=np.inf), "noise"),
    (lambda: D.gaussian_1d(10, mean=np.inf), "mean must be a finite number"),
    (lambda: D.gaussian_1d(10, std=-1.0), "std"),
    (lambda: D.parallel_lines(10, np.nan), "theta must be a finite number"),
    (lambda: D.mixture_1d(10, means=[[0.0], [1.0, 2.0]], stds=[1.0, 1.0]), "means"),
    (lambda: D.modes("spiral"), "unknown data set 'spiral'; expected 'ring' or 'grid'"),
    (lambda: D.ring(10, seed=-1), "seed must be None or a non-negative integer"),
])
def test_dataset_parameters_raise_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: D.ring(10, std="0.1"), "std must be a real number"),
    (lambda: D.ring(10, radius=1j), "radius must be a real number"),
    (lambda: D.gaussian_1d(10, mean=1 + 1j), "mean must be a real number"),
    (lambda: D.parallel_lines(10, None), "theta must be a real number"),
    (lambda: D.mixture_1d(10, means=[0.0, 1j], stds=[1.0, 1.0]), "means must hold real numbers"),
    (lambda: D.mixture_1d_pdf(weights=[1.0, 1j]), "weights must hold real numbers"),
    (lambda: D.modes(None), "name must be a string"),
    (lambda: D.modes(np.array(["ring", "grid"])), "name must be a string"),
    (lambda: D.ring(10, seed=1.5), "seed must be None or a non-negative integer"),
    (lambda: D.grid(10, seed="a"), "seed must be None or a non-negative integer"),
])
def test_dataset_parameters_of_the_wrong_type_raise_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_datasets_still_accept_numpy_scalars_and_zero_noise():
    a = D.ring(50, radius=np.float32(2.0), std=np.float64(0.1), seed=np.int64(3))
    b = D.ring(50, radius=2.0, std=0.1, seed=3)
    np.testing.assert_array_equal(a, b)
    moons = D.two_moons(20, noise=0).astype(np.float64)
    # noise-free moons lie on the unit circles around (0, 0) and (1, 0.5)
    off = np.minimum(np.abs(np.hypot(moons[:, 0], moons[:, 1]) - 1),
                     np.abs(np.hypot(moons[:, 0] - 1, moons[:, 1] - 0.5) - 1))
    assert off.max() < 1e-6
