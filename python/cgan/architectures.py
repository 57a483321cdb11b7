"""Ready-made networks: the DCGAN generator and discriminator (Radford et al. 2016).

Both are plain ``cgan.nn.Sequential`` modules, so they save, load, train and print like
any other; the builders only choose layers. Image sizes: square, 7 * 2^k (28x28 MNIST)
or 4 * 2^k (32x32, 64x64, ...), with k >= 1 upsampling/downsampling stages.
"""
import numbers

from . import nn

__all__ = ["dcgan_generator", "dcgan_discriminator"]


def _stages(image_shape):
    """(channels, size, k): the image is `size` = start * 2^k with start 7 or 4."""
    if (not isinstance(image_shape, (tuple, list)) or len(image_shape) != 3
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 1
                       for v in image_shape)):
        raise ValueError(f"image_shape must be (channels, height, width) of positive ints, "
                         f"got {image_shape!r}")
    c, h, w = (int(v) for v in image_shape)
    if h != w:
        raise ValueError(f"DCGAN builders take square images, got {h}x{w}")
    for start in (7, 4):
        k, size = 0, h
        while size > start and size % 2 == 0:
            size //= 2
            k += 1
        if size == start and k >= 1:
            return c, start, k
    raise ValueError(f"image size {h} is not 7 * 2^k or 4 * 2^k (k >= 1), e.g. 28, 32, 64")


def _positive(name, v):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
        raise ValueError(f"{name} must be a positive integer, got {v!r}")
    return int(v)


def dcgan_generator(z_dim=100, image_shape=(1, 28, 28), channels=64, num_classes=None, seed=None):
    """Linear -> Unflatten -> [ConvTranspose2d(4, stride 2), BatchNorm2d, ReLU]* -> Tanh.

    z (N, z_dim) is projected to (channels * 2^(k-1), s, s) with s = 7 or 4, then k
    transposed convolutions double the size and halve the channels, the last one
    producing the image's channels; weights are drawn from N(0, 0.02) as in the paper.
    For 28x28 and channels=64: z -> (128, 7, 7) -> (64, 14, 14) -> (1, 28, 28).

    ``num_classes``: a conditional generator (Mirza and Osindero 2014): a learned vector
    per class is added to the projection of z, which is exactly concatenating a one-hot
    label to z."""
    z_dim = _positive("z_dim", z_dim)
    channels = _positive("channels", channels)
    c_img, start, k = _stages(image_shape)
    seeds = _seeds(seed)
    width = channels * 2 ** (k - 1)
    layers = [nn.Linear(z_dim, width * start * start, init="dcgan", seed=next(seeds)),
              nn.Unflatten((width, start, start)), nn.BatchNorm2d(width), nn.ReLU()]
    for i in range(k):
        last = i == k - 1
        out = c_img if last else width // 2
        layers.append(nn.ConvTranspose2d(width, out, 4, stride=2, padding=1, init="dcgan",
                                         seed=next(seeds)))
        layers += [nn.Tanh()] if last else [nn.BatchNorm2d(out), nn.ReLU()]
        width = out
    return _conditioned(nn.Sequential(*layers), num_classes, "concat", next(seeds))


def dcgan_discriminator(image_shape=(1, 28, 28), channels=64, norm="batch", spectral_norm=False,
                        out_features=1, num_classes=None, conditioning="projection", seed=None):
    """[Conv2d(4, stride 2), norm, LeakyReLU(0.2)]* -> Flatten -> Linear(out_features).

    The first convolution has no normalisation (Radford et al.). `norm`: "batch"
    (DCGAN), "layer" (LayerNorm over each sample's (C, H, W), the WGAN-GP paper's critic)
    or "none". A gradient-penalty objective (wgan-gp, dragan, loss-sensitive) needs
    "layer" or "none": the penalty constrains each sample's gradient on its own, and
    batch norm makes every output depend on the whole batch, so ``cgan.GAN`` refuses
    that combination. ``spectral_norm=True`` normalises every weight (Miyato et al. 2018).

    ``num_classes``: a conditional discriminator. ``conditioning="concat"`` adds a learned
    vector per class to the first convolution's output (concatenating one-hot label maps
    to the image, up to the zero padding at its borders); ``"projection"`` (Miyato and
    Koyama 2018) adds <E[y], features> to the output.
    """
    channels = _positive("channels", channels)
    out_features = _positive("out_features", out_features)
    if norm not in ("batch", "layer", "none"):
        raise ValueError(f"norm must be 'batch', 'layer' or 'none', got {norm!r}")
    if not isinstance(spectral_norm, bool):
        raise TypeError(f"spectral_norm must be True or False, got {spectral_norm!r}")
    c_img, start, k = _stages(image_shape)
    seeds = _seeds(seed)
    size, width, c_in = image_shape[1], channels, c_img
    layers = []
    for i in range(k):
        size //= 2
        layers.append(nn.Conv2d(c_in, width, 4, stride=2, padding=1, init="dcgan", seed=next(seeds)))
        if i > 0 and norm == "batch":
            layers.append(nn.BatchNorm2d(width))
        elif i > 0 and norm == "layer":
            layers.append(nn.LayerNorm((width, size, size)))
        layers.append(nn.LeakyReLU(0.2))
        c_in, width = width, width * 2
    layers += [nn.Flatten(), nn.Linear(c_in * size * size, out_features, init="dcgan", seed=next(seeds))]
    D = _conditioned(nn.Sequential(*layers), num_classes, conditioning, next(seeds))
    return nn.spectral_norm(D, seed=next(seeds)) if spectral_norm else D


def _conditioned(net, num_classes, conditioning, seed):
    if num_classes is None:
        return net
    num_classes = _positive("num_classes", num_classes)
    if conditioning not in ("concat", "projection"):
        raise ValueError(f"conditioning must be 'concat' or 'projection', got {conditioning!r}")
    if conditioning == "projection":
        return nn.Conditional(net, num_classes, mode="projection", seed=seed)
    return nn.Conditional(net, num_classes, mode="add", at=1, seed=seed)


def _seeds(seed):
    """Per-layer seeds from one seed (None: fresh randomness)."""
    import numpy as np

    if seed is None:
        while True:
            yield None
    rng = np.random.default_rng(seed)
    while True:
        yield int(rng.integers(0, 2**63))
