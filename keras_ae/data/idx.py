"""Readers for the IDX file format of MNIST and Fashion-MNIST."""

import gzip
import os

import numpy as np

IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}

_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_idx(path):
    """Reads one IDX file (gzip-compressed or not) into a numpy array.

    Args:
        path: path of the file, e.g. `".../train-images-idx3-ubyte.gz"`.

    Returns:
        The array, with the dimensions stored in the file's header.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a valid IDX file; the message names it.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"IDX file not found: {path}")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as error:
        raise ValueError(f"Could not read IDX file {path}: {error}") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _DTYPES:
        raise ValueError(f"Not an IDX file (bad magic number): {path}")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    dtype = np.dtype(_DTYPES[data[2]])
    expected = header + int(np.prod(dims)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(
            f"Corrupt IDX file {path}: header says shape {tuple(dims)} ({expected} bytes), "
            f"file holds {len(data)} bytes"
        )
    return np.frombuffer(data, dtype, offset=header).reshape(dims).astype(dtype.newbyteorder("="))


def _idx_path(folder, name):
    """The path of `name` in `folder`, accepting the uncompressed file when the .gz is absent."""
    path = os.path.join(folder, name)
    if not os.path.isfile(path) and os.path.isfile(path[: -len(".gz")]):
        return path[: -len(".gz")]
    return path


def load_idx_dataset(folder, split="train"):
    """Loads one split of an IDX dataset folder (the MNIST / Fashion-MNIST layout).

    Args:
        folder: folder holding `train-images-idx3-ubyte.gz` and friends (gzip-compressed
            or not).
        split: `"train"` or `"test"`.

    Returns:
        `(images, labels)`: uint8 `(n, 28, 28)` and uint8 `(n,)` for MNIST.
    """
    if split not in IDX_FILES:
        raise ValueError(f"Unknown split. Expected one of {sorted(IDX_FILES)}. Received: split={split!r}")
    images_name, labels_name = IDX_FILES[split]
    images = load_idx(_idx_path(folder, images_name))
    labels = load_idx(_idx_path(folder, labels_name))
    if len(images) != len(labels):
        raise ValueError(
            f"IDX files in {folder} disagree: {len(images)} images but {len(labels)} labels for split={split!r}"
        )
    return images, labels
