"""tensorflow-datasets sources: prepared-or-fail-fast loading, and offline preparation.

tfds retries a download for minutes when there is no network. keras-ae checks first whether
the dataset is prepared under `data_dir` and, when it is not, whether the download host answers
at all, so an offline machine gets a clear error within seconds.
"""

import os
import socket
import tempfile
import urllib.parse

from keras_ae.data.dataset_not_prepared_error import DatasetNotPreparedError
from keras_ae.data.idx import load_idx

# name: (image feature, label feature or None, value that maps to 1.0, description)
TFDS_DATASETS = {
    "mnist": ("image", "label", 255.0, "MNIST handwritten digits, 28x28x1 (tfds)"),
    "fashion_mnist": ("image", "label", 255.0, "Fashion-MNIST clothing, 28x28x1 (tfds)"),
    "kmnist": ("image", "label", 255.0, "Kuzushiji-MNIST, 28x28x1 (tfds)"),
    "binarized_mnist": ("image", None, 1.0, "statically binarized MNIST (Larochelle), 28x28x1 (tfds)"),
    "cifar10": ("image", "label", 255.0, "CIFAR-10, 32x32x3 (tfds)"),
    "cifar100": ("image", "label", 255.0, "CIFAR-100, 32x32x3 (tfds)"),
    "svhn_cropped": ("image", "label", 255.0, "SVHN cropped digits, 32x32x3 (tfds)"),
    "dsprites": ("image", "label_shape", 1.0, "dSprites, 64x64x1 binary; label = shape (tfds)"),
    "shapes3d": ("image", "label_shape", 255.0, "3D Shapes, 64x64x3; label = shape (tfds)"),
}

# The splits of the curated datasets (tfds' own), for answers before one is prepared; the
# others have "train" and "test".
TFDS_SPLITS = {
    "binarized_mnist": ("train", "validation", "test"),
    "svhn_cropped": ("train", "test", "extra"),
    "dsprites": ("train",),
    "shapes3d": ("train",),
}

# Any other tfds image dataset is reachable as "tfds:<name>" with these assumptions.
GENERIC_PREFIX = "tfds:"
_GENERIC = ("image", "label", 255.0, "")
_DEFAULT_HOST = "https://storage.googleapis.com"


def tfds_spec(name):
    """Returns `(tfds_name, image_key, label_key, scale)` for a curated or `tfds:`-prefixed name."""
    if name.startswith(GENERIC_PREFIX):
        tfds_name = name[len(GENERIC_PREFIX) :]
        image_key, label_key, scale, _ = TFDS_DATASETS.get(tfds_name, _GENERIC)
        return tfds_name, image_key, label_key, scale
    image_key, label_key, scale, _ = TFDS_DATASETS[name]
    return name, image_key, label_key, scale


def _builder(name, data_dir):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(name, data_dir=None if data_dir is None else os.fspath(data_dir))
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(
            f"tensorflow-datasets has no dataset named {name!r}. Received: name={name!r}"
        ) from None


def _download_host(builder):
    urls = list(getattr(builder, "url_infos", None) or {})
    return urllib.parse.urlsplit(urls[0] if urls else _DEFAULT_HOST)


def _network_reachable(url, timeout=3.0):
    """Whether a TCP connection to the host of `url` opens within `timeout` seconds."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_prepared(name, data_dir=None):
    """Whether the tfds dataset `name` is prepared (downloaded and converted) under `data_dir`."""
    return _builder(tfds_spec(name)[0], data_dir).is_prepared()


def _not_prepared_message(name, builder, reason):
    return (
        f"The tensorflow-datasets dataset {name!r} is not prepared in {builder.data_dir_root} "
        f"and {reason}. Point keras-ae at local files instead:\n"
        "  - a folder of raw IDX files (train-images-idx3-ubyte.gz, ...): "
        "load_dataset('/path/to/folder') or `keras-ae train --dataset /path/to/folder`;\n"
        "  - an .npz file with x_train/y_train/x_test/y_test arrays: load_dataset('/path/to/file.npz');\n"
        f"  - or build the tfds dataset offline from its raw files: `keras-ae prepare {name} --from "
        "/path/to/raw_files --data-dir DIR`, then pass data_dir=DIR (`--data-dir DIR`)."
    )


def load_tfds(name, split="train", data_dir=None, download=True):
    """Loads one split of a tfds dataset as an unbatched `tf.data.Dataset` of `(image, label)`.

    Args:
        name: a name of `TFDS_DATASETS`, or `"tfds:<name>"` for any tfds image dataset.
        split: a tfds split string (`"train"`, `"test[:10%]"`, ...).
        data_dir: the tfds data folder; tfds' default (`TFDS_DATA_DIR`) when None.
        download: whether to download and prepare a dataset that is not prepared yet.

    Returns:
        `(dataset, scale, has_labels)`: images keep their stored dtype (uint8); divide by
        `scale` to map them to [0, 1]. Without a label feature, labels are -1.

    Raises:
        DatasetNotPreparedError: not prepared, and `download=False` or the download host does
            not answer within seconds.
    """
    import tensorflow as tf

    tfds_name, image_key, label_key, scale = tfds_spec(name)
    builder = _builder(tfds_name, data_dir)
    if not builder.is_prepared():
        if not download:
            raise DatasetNotPreparedError(_not_prepared_message(tfds_name, builder, "download=False"))
        host = _download_host(builder)
        if not _network_reachable(host):
            raise DatasetNotPreparedError(
                _not_prepared_message(tfds_name, builder, f"its download host {host.hostname} is unreachable")
            )
        builder.download_and_prepare()
    dataset = builder.as_dataset(split=split, shuffle_files=False)
    features = builder.info.features
    if image_key not in features:
        raise ValueError(
            f"The tfds dataset {tfds_name!r} has no {image_key!r} feature. Its features: {list(features)}"
        )
    has_labels = label_key is not None and label_key in features

    def pick(example):
        label = tf.cast(example[label_key], tf.int64) if has_labels else tf.constant(-1, tf.int64)
        return example[image_key], label

    return dataset.map(pick), scale, has_labels


def prepare_tfds(name, source_dir, data_dir=None):
    """Builds the real tfds dataset `name` from raw files already on disk, without a network.

    The raw files (for MNIST: `train-images-idx3-ubyte.gz` and friends, byte-identical to the
    official ones) are handed to tfds as a manual download folder; tfds checks their registered
    checksums and converts them exactly as after a download. Afterwards
    `tfds.load(name, data_dir=data_dir)` works offline.

    Args:
        name: a tfds dataset whose raw files tfds lists by file name (mnist, fashion_mnist,
            kmnist, cifar10, ...).
        source_dir: folder holding the raw files.
        data_dir: the tfds data folder to write; tfds' default when None.

    Returns:
        The folder of the prepared dataset (`data_dir/name/version`).

    Raises:
        FileNotFoundError: a raw file is missing; the message names it.
        ValueError: a raw file is corrupt or does not match tfds' checksum; the message names it.

    Example:
        >>> prepare_tfds("mnist", "/data/mnist_raw", data_dir="/data/tfds")
        >>> tfds.load("mnist", data_dir="/data/tfds")  # offline
    """
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download import download_manager

    if name.startswith(GENERIC_PREFIX):
        name = name[len(GENERIC_PREFIX) :]
    source_dir = os.fspath(source_dir)
    if not os.path.isdir(source_dir):
        raise FileNotFoundError(f"Raw-file folder not found: {source_dir}")
    builder = _builder(name, data_dir)
    if builder.is_prepared():
        return builder.data_dir
    expected = sorted({info.filename for info in (builder.url_infos or {}).values() if info.filename})
    if not expected:
        raise ValueError(
            f"tensorflow-datasets registers no raw file names for {name!r}, so it cannot be "
            f"prepared from local files. Received: name={name!r}"
        )
    missing = [f for f in expected if not os.path.isfile(os.path.join(source_dir, f))]
    if missing:
        raise FileNotFoundError(
            f"Cannot prepare {name!r}: {source_dir} lacks {', '.join(missing)}. It needs: {', '.join(expected)}"
        )
    for filename in expected:
        if "-idx" in filename:
            load_idx(os.path.join(source_dir, filename))  # names a corrupt file before tfds does
    with tempfile.TemporaryDirectory(prefix="keras_ae_prepare_") as tmp:
        try:
            builder.download_and_prepare(
                download_dir=tmp, download_config=tfds.download.DownloadConfig(manual_dir=source_dir)
            )
        except download_manager.NonMatchingChecksumError as error:
            raise ValueError(
                f"The raw files in {source_dir} do not match the checksums tfds registers for {name!r} "
                f"(they must be the official files): {error}"
            ) from None
    return builder.data_dir
