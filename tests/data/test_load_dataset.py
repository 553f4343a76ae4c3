"""`load_dataset` over embedded sets, IDX folders, .npz files and arrays; binarization; errors."""

import gzip
import shutil

import numpy as np
import pytest

from keras_ae.data import check_fits, element_shape, list_datasets, load_dataset, load_digits, load_idx
from keras_ae.data.sources import check_split, has_split

# Label counts of the MNIST test split, from the datasets README.
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def _batches(dataset):
    return [b for b in dataset.as_numpy_iterator()]


def test_digits_pipeline_and_numpy():
    (x_train, y_train), (x_test, y_test) = load_digits()
    x, y = load_dataset("digits", "test", as_numpy=True, with_labels=True)
    np.testing.assert_array_equal(x, x_test)
    np.testing.assert_array_equal(y, y_test)
    batches = _batches(load_dataset("digits", "train", batch_size=100, with_labels=True))
    assert [len(b[0]) for b in batches] == [100] * 14 + [38]
    xb = np.concatenate([b[0] for b in batches])
    assert xb.shape == (1438, 8, 8, 1) and xb.dtype == np.float32
    assert xb.min() == 0.0 and xb.max() == 1.0
    # Shuffled, but the same examples: compare sorted sums.
    np.testing.assert_allclose(np.sort(xb.sum((1, 2, 3))), np.sort(x_train.sum((1, 2, 3))), rtol=1e-6)
    assert not np.array_equal(np.concatenate([b[1] for b in batches]), y_train)


def test_embedded_shapes():
    x, y = load_dataset("shapes32", "test[:200]", as_numpy=True, with_labels=True)
    assert x.shape == (200, 32, 32, 1) and x.dtype == np.float32
    assert set(np.unique(x)) == {0.0, 1.0} and set(np.unique(y)) == {0, 1, 2}


def test_idx_folder_gives_real_mnist(datasets_dir):
    x, y = load_dataset(datasets_dir / "mnist", "test", as_numpy=True, with_labels=True)
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert x.mean() == pytest.approx(0.1325, abs=5e-5)  # the README's test mean
    assert np.bincount(y).tolist() == MNIST_TEST_COUNTS
    raw = load_idx(datasets_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(x[..., 0], raw.astype("float32") / 255.0)


def test_idx_folder_uncompressed_and_flatten(datasets_dir, tmp_path):
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        with gzip.open(datasets_dir / "mnist" / f"{name}.gz") as src, open(tmp_path / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    x = load_dataset(tmp_path, "test[:64]", as_numpy=True, flatten=True)
    assert x.shape == (64, 784)
    raw = load_idx(datasets_dir / "mnist" / "t10k-images-idx3-ubyte.gz")[:64]
    np.testing.assert_array_equal(x, raw.reshape(64, 784) / np.float32(255))


def test_idx_missing_and_corrupt_files_are_named(datasets_dir, tmp_path):
    shutil.copy(datasets_dir / "mnist" / "t10k-labels-idx1-ubyte.gz", tmp_path)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        load_dataset(tmp_path, "test")
    with gzip.open(datasets_dir / "mnist" / "t10k-images-idx3-ubyte.gz") as f:
        data = f.read()
    with gzip.open(tmp_path / "t10k-images-idx3-ubyte.gz", "wb") as f:
        f.write(data[:5000])  # truncated
    with pytest.raises(ValueError, match="Corrupt IDX file .*t10k-images-idx3-ubyte.gz"):
        load_dataset(tmp_path, "test")
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz"):
        load_dataset(tmp_path, "test")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match="holds no IDX files"):
        load_dataset(empty)


def test_npz_keras_layout(tmp_path, rng):
    x_train = rng.integers(0, 256, (50, 6, 5), dtype=np.uint8)
    x_test = rng.integers(0, 256, (20, 6, 5), dtype=np.uint8)
    y_train, y_test = rng.integers(0, 10, 50), rng.integers(0, 10, 20)
    path = tmp_path / "data.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    x, y = load_dataset(path, "test", as_numpy=True, with_labels=True)
    assert x.shape == (20, 6, 5, 1) and x.dtype == np.float32
    np.testing.assert_array_equal(x[..., 0], x_test / np.float32(255))
    np.testing.assert_array_equal(y, y_test)
    x = load_dataset(str(path), "train[10:20]", as_numpy=True)
    np.testing.assert_array_equal(x[..., 0], x_train[10:20] / np.float32(255))
    x = load_dataset(str(path), "train[:10%]", as_numpy=True)
    assert len(x) == 5
    with pytest.raises(
        ValueError, match=r"no images for split 'validation'.*splits found: \['test', 'train'\]"
    ):
        load_dataset(path, "validation")
    with pytest.raises(FileNotFoundError, match="missing.npz"):
        load_dataset(tmp_path / "missing.npz")


def test_npz_dsprites_subset_is_binary_with_shape_labels(datasets_dir):
    path = datasets_dir / "dsprites" / "dsprites_subset.npz"
    x, y = load_dataset(path, "train[:500]", as_numpy=True, with_labels=True)
    assert x.shape == (500, 64, 64, 1)
    assert set(np.unique(x)) == {0.0, 1.0}  # 0/1 uint8 images are not divided by 255
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(y, data["latents_classes"][:500, 0])


def test_arrays(rng):
    images = rng.integers(0, 256, (30, 4, 4), dtype=np.uint8)
    x = load_dataset(images, as_numpy=True)
    assert x.shape == (30, 4, 4, 1)
    np.testing.assert_array_equal(x[..., 0], images / np.float32(255))
    floats = rng.normal(size=(30, 7)).astype("float32")  # floats are used as they are
    np.testing.assert_array_equal(load_dataset(floats, as_numpy=True), floats)
    labels = rng.integers(0, 3, 30)
    batches = _batches(load_dataset((floats, labels), batch_size=8, with_labels=True, shuffle=False))
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), labels)
    assert element_shape(load_dataset(floats, batch_size=8)) == (7,)
    with pytest.raises(ValueError, match="has no labels"):
        load_dataset(floats, with_labels=True)
    with pytest.raises(ValueError, match="values in 0..300"):
        load_dataset(np.array([[0, 300]]))


def test_static_binarization_is_a_fixed_bernoulli_sample():
    p = np.linspace(0, 1, 64, dtype="float32").reshape(1, 8, 8)
    x = np.repeat(p, 2000, axis=0)
    a = load_dataset(x, binarize="static", as_numpy=True, seed=5)
    assert set(np.unique(a)) == {0.0, 1.0}
    # Each pixel is 1 with probability equal to its intensity (2000 draws: sd <= 0.011).
    np.testing.assert_allclose(a.mean(0)[..., 0], p[0], atol=0.045)
    assert np.all(a[:, 0, 0] == 0) and np.all(a[:, -1, -1] == 1)
    # The same sample in every load, in the pipeline (shuffled or not) and every epoch.
    np.testing.assert_array_equal(a, load_dataset(x, binarize="static", as_numpy=True, seed=5))
    pipeline = load_dataset(x, batch_size=300, binarize="static", seed=5, shuffle=False)
    for _ in range(2):
        np.testing.assert_array_equal(np.concatenate(_batches(pipeline)), a)
    assert not np.array_equal(load_dataset(x, binarize="static", as_numpy=True, seed=6), a)
    # Different images get different samples (noise is not shared between examples).
    assert not np.array_equal(a[0], a[1])


def test_dynamic_binarization_resamples_each_epoch_reproducibly():
    p = np.linspace(0, 1, 64, dtype="float32").reshape(1, 8, 8)
    x = np.repeat(p, 500, axis=0)

    def epochs(seed, n=3):
        pipeline = load_dataset(x, batch_size=128, binarize="dynamic", seed=seed, shuffle=False)
        return [np.concatenate(_batches(pipeline)) for _ in range(n)]

    first = epochs(seed=1)
    assert all(set(np.unique(e)) == {0.0, 1.0} for e in first)
    assert not np.array_equal(first[0], first[1]) and not np.array_equal(first[1], first[2])
    stacked = np.concatenate(first)
    np.testing.assert_allclose(stacked.mean(0)[..., 0], p[0], atol=0.05)
    again = epochs(seed=1)
    for e1, e2 in zip(first, again, strict=True):
        np.testing.assert_array_equal(e1, e2)
    assert not np.array_equal(epochs(seed=2, n=1)[0], first[0])
    with pytest.raises(ValueError, match="binarize='dynamic'.*as_numpy=True"):
        load_dataset(x, binarize="dynamic", as_numpy=True)


# An array larger than the shuffle buffer is shuffled by gathering a permutation instead of
# through a window; a buffer of 100 sends these 300 examples down that path.
LARGE_ARRAY_SHUFFLE = pytest.mark.parametrize("shuffle_buffer", [None, 100], ids=["window", "gather"])


@LARGE_ARRAY_SHUFFLE
def test_an_epoch_pass_depends_only_on_seed_and_epoch(monkeypatch, shuffle_buffer):
    import tensorflow as tf

    if shuffle_buffer:
        monkeypatch.setattr("keras_ae.data.pipeline._WHOLE_SHUFFLE", shuffle_buffer)
    x = np.arange(300 * 4, dtype="float32").reshape(300, 4) / 1200  # example i holds 4i..4i+3
    dyn = np.broadcast_to(np.linspace(0.05, 0.95, 4, dtype="float32"), (300, 4))

    def rows(epoch, source=x, **kwargs):
        kwargs = {"batch_size": 64, "seed": 5, "shuffle": True, **kwargs}
        return np.concatenate(_batches(load_dataset(source, epoch=epoch, **kwargs)))

    def order(batches):
        return np.rint(batches[:, 0] * 300).astype(int)

    first = rows(0)
    # Each pass is a permutation of the split, the same however often it is built or read ...
    assert sorted(order(first)) == list(range(300))
    np.testing.assert_array_equal(rows(0), first)
    pipeline = load_dataset(x, batch_size=64, seed=5, shuffle=True, epoch=0)
    np.testing.assert_array_equal(np.concatenate(_batches(pipeline)), np.concatenate(_batches(pipeline)))
    # ... and another epoch or seed gives another order.
    assert not np.array_equal(order(rows(1)), order(first))
    assert not np.array_equal(order(rows(0, seed=6)), order(first))

    # A variable epoch: each pass is the pass of the epoch it holds when the pass starts.
    epoch = tf.Variable(0, dtype=tf.int64)
    chosen = load_dataset(x, batch_size=64, seed=5, shuffle=True, epoch=epoch, epochs=3)
    assert int(chosen.cardinality()) == 5
    for number in (2, 0, 1):
        epoch.assign(number)
        np.testing.assert_array_equal(np.concatenate(_batches(chosen)), rows(number))

    # Dynamic binarization: a sample per (seed, epoch, batch), the same in both forms.
    samples = [rows(n, dyn, binarize="dynamic", shuffle=False) for n in range(8)]
    assert not np.array_equal(samples[0], samples[1]) and not np.array_equal(samples[1], samples[2])
    # 2,400 draws per pixel: a standard error of at most 0.0102; 0.045 is 4.4 of them.
    np.testing.assert_allclose(np.concatenate(samples).mean(0), dyn[0], atol=0.045)
    chosen = load_dataset(dyn, batch_size=64, seed=5, binarize="dynamic", epoch=epoch, epochs=3)
    epoch.assign(2)
    np.testing.assert_array_equal(np.concatenate(_batches(chosen)), samples[2])

    with pytest.raises(ValueError, match="Received: epoch=-1"):
        load_dataset(x, epoch=-1)
    with pytest.raises(ValueError, match="Received: epochs=None"):
        load_dataset(x, epoch=epoch)


@LARGE_ARRAY_SHUFFLE
def test_a_sorted_array_is_shuffled_as_a_whole(monkeypatch, shuffle_buffer):
    # The official dSprites file is sorted by its factors: a window shuffle of it would
    # give batches of one shape. Here 3 classes in blocks of 100: a 64-example batch drawn
    # from the whole array misses a class with probability 3 * (2/3)**64, about 1e-11.
    if shuffle_buffer:
        monkeypatch.setattr("keras_ae.data.pipeline._WHOLE_SHUFFLE", shuffle_buffer)
    x = (np.arange(300, dtype="float32") / 300)[:, None]
    y = np.repeat([0, 1, 2], 100)
    for epoch in (None, 0, 1):
        pipeline = load_dataset((x, y), batch_size=64, shuffle=True, with_labels=True, epoch=epoch)
        orders = []
        for _ in range(2):  # two passes over the same pipeline
            batches = _batches(pipeline)
            assert sorted(set(batches[0][1])) == [0, 1, 2], (epoch, batches[0][1])
            # Labels still travel with their images, and each pass is a permutation.
            xs, ys = (np.concatenate(part) for part in zip(*batches, strict=True))
            np.testing.assert_array_equal(ys, np.rint(xs[:, 0] * 300).astype(int) // 100)
            orders.append(np.rint(xs[:, 0] * 300).astype(int))
            assert sorted(orders[-1]) == list(range(300))
        # Reshuffled on every pass without an epoch; the epoch's own order with one.
        assert np.array_equal(*orders) == (epoch is not None)


def test_an_array_above_the_shuffle_buffer_is_gathered():
    # The real threshold, with one-number examples: the first batch reaches the far end.
    n = 150_000
    x = (np.arange(n, dtype="float32") / n)[:, None]
    first = next(iter(load_dataset(x, batch_size=256, shuffle=True, epoch=0))).numpy()
    assert first.max() > 0.5 and len(np.unique(first)) == 256


def test_threshold_binarization():
    x = np.array([[0.2, 0.5, 0.51, 0.9]], dtype="float32")
    np.testing.assert_array_equal(load_dataset(x, binarize="threshold", as_numpy=True), [[0, 0, 1, 1]])


@pytest.mark.parametrize("binarize", ["static", "dynamic", "threshold"])
def test_binarizing_float_images_outside_0_1_is_refused(binarize):
    # Float images are not rescaled: 0..255 floats would binarize to all ones.
    # They are refused when the pipeline is built, before anything reads a batch.
    x = np.array([[0.0, 12.0, 255.0]], dtype="float32")
    for kwargs in ({}, {"as_numpy": True}, {"epoch": 3}):
        if binarize == "dynamic" and kwargs.get("as_numpy"):
            continue
        with pytest.raises(
            ValueError,
            match=rf"binarize='{binarize}' needs intensities in \[0, 1\].*Received: source='arrays' with "
            r"values in \[0, 255\]",
        ):
            load_dataset(x, binarize=binarize, batch_size=1, **kwargs)
    # In range, the same floats are binarized, not refused.
    binarized = np.concatenate(_batches(load_dataset(x / 255, binarize=binarize, batch_size=1)))
    assert binarized.shape == x.shape and set(np.unique(binarized)) <= {0.0, 1.0}


def test_the_scale_is_the_whole_arrays_not_the_slices():
    # A uint8 slice holding only 0 and 1 is still 0..255 data: 1 is 1/255, not 1.0.
    x = np.array([[0, 1], [1, 0], [0, 255]], dtype="uint8")
    np.testing.assert_allclose(load_dataset(x, "train[:2]", as_numpy=True), [[0, 1 / 255], [1 / 255, 0]])


def test_unknown_names_and_bad_arguments_list_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"Expected one of \[.*'digits'.*'mnist'.*\].*Received: source='minst'"
    ):
        load_dataset("minst")
    assert {"digits", "shapes", "mnist", "fashion_mnist", "cifar10", "dsprites"} <= set(list_datasets())
    with pytest.raises(ValueError, match=r"splits \['train', 'test'\]. Received: split='valid'"):
        load_dataset("digits", "valid")
    with pytest.raises(ValueError, match="Received: split='train\\[::2\\]'"):
        load_dataset("digits", "train[::2]")
    with pytest.raises(ValueError, match=r"Expected one of \[None, 'static', 'dynamic', 'threshold'\]"):
        load_dataset("digits", binarize="yes")
    with pytest.raises(ValueError, match="batch_size=0"):
        load_dataset("digits", batch_size=0)


def test_check_split_names_the_callers_argument(tmp_path):
    check_split("digits", "test[:32]", argument="validation_split")  # a valid split passes
    with pytest.raises(ValueError, match=r"splits \['train', 'test'\]. Received: validation_split='valid'"):
        check_split("digits", "valid", argument="validation_split")
    with pytest.raises(
        ValueError, match=r"Argument `validation_split` must be .*Received: validation_split='t\[::2\]'"
    ):
        check_split("digits", "t[::2]", argument="validation_split")
    path = tmp_path / "only_train.npz"
    np.savez(path, x_train=np.zeros((4, 2, 2), "float32"))
    check_split(str(path), "train[:2]")
    with pytest.raises(ValueError, match=r"has no split 'test'. Received: holdout='test\[:2\]'"):
        check_split(str(path), "test[:2]", argument="holdout")


def test_check_fits_names_both_shapes():
    check_fits((8, 8, 1), (8, 8, 1))
    with pytest.raises(
        ValueError, match=r"'mnist' has examples of shape \(28, 28, 1\).*input_shape=\(8, 8, 1\)"
    ):
        check_fits((28, 28, 1), (8, 8, 1), "mnist")


def test_has_split(tmp_path, datasets_dir):
    assert has_split("digits", "test") and not has_split("digits", "validation")
    np.savez(tmp_path / "only_x.npz", x=np.zeros((3, 2), "float32"))
    assert has_split(tmp_path / "only_x.npz", "train") and not has_split(tmp_path / "only_x.npz", "test")
    assert has_split(datasets_dir / "mnist", "test")
    shutil.copy(datasets_dir / "mnist" / "train-labels-idx1-ubyte.gz", tmp_path)
    assert not has_split(tmp_path, "train")  # images missing


def test_unprepared_tfds_datasets_answer_their_own_splits(tmp_path):
    # Nothing is downloaded: an empty data_dir holds no prepared dataset. dSprites and 3D
    # Shapes have "train" only, so a run's "auto" validation split is none for them.
    from keras_ae.runs import resolve_config

    empty = tmp_path / "tfds"
    assert has_split("mnist", "test", empty) and not has_split("mnist", "validation", empty)
    assert has_split("dsprites", "train", empty) and not has_split("dsprites", "test", empty)
    assert not has_split("shapes3d", "test", empty)
    assert has_split("binarized_mnist", "validation", empty)
    assert resolve_config(dataset="dsprites", data_dir=str(empty))["validation_split"] is None
    assert resolve_config(dataset="mnist", data_dir=str(empty))["validation_split"] == "test"
    assert not any(empty.rglob("*.tfrecord*"))  # nothing was prepared or downloaded


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        (
            {"imgs": np.zeros((4, 8, 8), "uint8"), "latents_classes": np.zeros(4, "int64")},
            r"read as dSprites' \(N, 6\) or \(N, 5\) factor classes.*Received: latents_classes of shape \(4,\)",
        ),
        (
            {"imgs": np.zeros((4, 8, 8), "uint8"), "latents_classes": np.zeros((4, 3), "int64")},
            r"Received: latents_classes of shape \(4, 3\)",
        ),
        (
            {"x": np.zeros((4, 8, 8), "float32"), "y": np.array([0.0, 0.9, 1.0, 2.0])},
            r"must hold integer class labels. Received: labels of dtype float64, with non-integer values",
        ),
    ],
)
def test_npz_labels_that_cannot_be_classes_are_refused(tmp_path, arrays, message):
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load_dataset(tmp_path / "bad.npz", as_numpy=True, with_labels=True)
    # Labels nobody asked for are not read: the images train as unlabelled ones.
    x = load_dataset(tmp_path / "bad.npz", as_numpy=True)
    assert x.shape == (4, 8, 8, 1)


def test_integer_valued_float_labels_are_classes(tmp_path):
    np.savez(tmp_path / "ok.npz", x=np.zeros((3, 2, 2), "float32"), y=np.array([0.0, 2.0, 1.0]))
    _, y = load_dataset(tmp_path / "ok.npz", as_numpy=True, with_labels=True)
    np.testing.assert_array_equal(y, [0, 2, 1])
