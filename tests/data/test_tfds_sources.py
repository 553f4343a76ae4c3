"""tensorflow-datasets sources: mocked tfds, a data_dir prepared offline from the real MNIST
files, the fail-fast path without a network, and the errors of offline preparation."""

import gzip
import shutil
import socket

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_ae.data import (
    DatasetNotPreparedError,
    is_prepared,
    load_dataset,
    load_idx,
    prepare_tfds,
    tfds_datasets,
)

MNIST_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


@pytest.fixture(scope="module")
def prepared_dir(datasets_dir, tmp_path_factory):
    """A tfds data_dir holding `mnist`, built from the raw IDX files with every download refused."""
    from unittest import mock

    from tensorflow_datasets.core.download import downloader

    from keras_ae import cli

    data_dir = tmp_path_factory.mktemp("tfds_prepared")
    argv = ["prepare", "mnist", "--from", str(datasets_dir / "mnist"), "--data-dir", str(data_dir)]
    refuse = AssertionError("tried to download")
    with mock.patch.object(downloader._Downloader, "download", side_effect=refuse):
        assert cli.main(argv) == 0  # keras-ae prepare mnist --from DIR --data-dir DIR
        # Preparing again finds the dataset prepared and returns at once.
        assert str(prepare_tfds("mnist", datasets_dir / "mnist", data_dir=data_dir)).startswith(str(data_dir))
    return data_dir


def test_prepared_data_dir_works_with_plain_tfds_load(prepared_dir):
    assert is_prepared("mnist", data_dir=prepared_dir)
    dataset = tfds.load("mnist", split="test", data_dir=prepared_dir, download=False)
    assert int(dataset.cardinality()) == 10000
    example = next(iter(dataset))
    assert example["image"].shape == (28, 28, 1) and example["image"].dtype.name == "uint8"
    assert not list(prepared_dir.glob("downloads/extracted/*"))  # scratch files are gone


def test_prepared_mnist_matches_the_idx_files(prepared_dir, datasets_dir):
    x, y = load_dataset(
        "mnist", "test", data_dir=prepared_dir, as_numpy=True, with_labels=True, download=False
    )
    assert x.shape == (10000, 28, 28, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    raw = load_idx(datasets_dir / "mnist" / "t10k-images-idx3-ubyte.gz")
    labels = load_idx(datasets_dir / "mnist" / "t10k-labels-idx1-ubyte.gz")
    # tfds stores examples in its own order: compare the multisets of (image, label).
    ours = sorted(
        (img.tobytes(), int(lab))
        for img, lab in zip((x[..., 0] * 255).round().astype(np.uint8), y, strict=True)
    )
    theirs = sorted((img.tobytes(), int(lab)) for img, lab in zip(raw, labels, strict=True))
    assert ours == theirs
    batch = next(
        iter(load_dataset("mnist", "train[:256]", batch_size=32, data_dir=prepared_dir, binarize="dynamic"))
    )
    assert batch.shape == (32, 28, 28, 1) and set(np.unique(batch.numpy())) <= {0.0, 1.0}


def test_mock_data_pipeline(monkeypatch):
    # mock_data stands in for the stored data but not for `is_prepared`; it makes
    # download_and_prepare a no-op, so declare the network up to reach it.
    monkeypatch.setattr(tfds_datasets, "_network_reachable", lambda url, timeout=3.0: True)
    with tfds.testing.mock_data(num_examples=20):
        batches = list(load_dataset("mnist", "train", batch_size=8, with_labels=True).as_numpy_iterator())
        x = load_dataset("cifar10", "test", as_numpy=True)
    assert [len(b[0]) for b in batches] == [8, 8, 4]
    images = np.concatenate([b[0] for b in batches])
    assert images.shape == (20, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0 and images.max() > 0.5  # divided by 255
    assert np.concatenate([b[1] for b in batches]).dtype == np.int64
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.float32 and x.max() <= 1.0


def test_unprepared_dataset_fails_fast_offline(tmp_path, monkeypatch):
    probed = []

    def unreachable(url, timeout=3.0):
        probed.append((url.hostname, timeout))
        return False

    def download_and_prepare(*args, **kwargs):
        raise AssertionError("an unreachable host must not start a download")

    monkeypatch.setattr(tfds_datasets, "_network_reachable", unreachable)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download_and_prepare)
    with pytest.raises(DatasetNotPreparedError) as info:
        load_dataset("fashion_mnist", data_dir=tmp_path)
    # Failing fast: one probe of the download host, with a timeout of seconds.
    assert len(probed) == 1 and probed[0][0] and probed[0][1] == 3.0
    message = str(info.value)
    assert "'fashion_mnist' is not prepared" in message and "unreachable" in message
    assert "keras-ae prepare fashion_mnist --from" in message and "IDX" in message and ".npz" in message
    with pytest.raises(DatasetNotPreparedError, match="download=False"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


def test_network_probe_on_local_ports(monkeypatch, real_network_probe):
    probe = real_network_probe
    connections = []
    create_connection = socket.create_connection

    def recording(address, timeout=None):
        connections.append((address, timeout))
        return create_connection(address, timeout=timeout)

    monkeypatch.setattr(socket, "create_connection", recording)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    url = tfds_datasets.urllib.parse.urlsplit(f"http://127.0.0.1:{port}/file")
    assert probe(url, timeout=2)
    server.close()  # nothing listens any more: refused
    assert not probe(url, timeout=2)
    # Each probe is one connection attempt, bounded by the timeout it was given.
    assert connections == [(("127.0.0.1", port), 2)] * 2


def test_prepare_names_missing_and_corrupt_files(datasets_dir, tmp_path):
    source = tmp_path / "raw"
    source.mkdir()
    for name in MNIST_FILES[1:]:
        shutil.copy(datasets_dir / "mnist" / name, source)
    with pytest.raises(FileNotFoundError, match="lacks train-images-idx3-ubyte.gz"):
        prepare_tfds("mnist", source, data_dir=tmp_path / "tfds")
    with gzip.open(source / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\x00\x00\x08\x03" + b"\x00" * 20)
    with pytest.raises(ValueError, match="Corrupt IDX file .*train-images-idx3-ubyte.gz"):
        prepare_tfds("mnist", source, data_dir=tmp_path / "tfds")
    with pytest.raises(FileNotFoundError, match="Raw-file folder not found"):
        prepare_tfds("mnist", tmp_path / "nowhere")
    with pytest.raises(ValueError, match="no dataset named 'not_a_dataset'"):
        prepare_tfds("not_a_dataset", source)
