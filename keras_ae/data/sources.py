"""Where examples come from: embedded sets, tfds names, IDX folders, .npz files, arrays.

Each source resolves to a `Source`: raw `(image, label)` pairs, as numpy arrays (embedded
sets, files, arrays) or as an unbatched `tf.data.Dataset` (tfds), plus the value that maps
to 1.0; `keras_ae.data.load_dataset` checks, normalizes, binarizes, shuffles and batches them.
"""

import os
import re
from typing import NamedTuple

import numpy as np

from keras_ae.data.embedded import load_digits
from keras_ae.data.idx import IDX_FILES, load_idx_dataset
from keras_ae.data.shapes import draw_factor_classes, make_shapes
from keras_ae.data.tfds_datasets import GENERIC_PREFIX, TFDS_DATASETS, load_tfds


def _digits(split):
    (x_train, y_train), (x_test, y_test) = load_digits()
    return (x_train, y_train) if split == "train" else (x_test, y_test)


def _shapes(image_size):
    def load(split):
        if split == "train":
            data = make_shapes(10000, image_size=image_size, seed=0)
        else:
            # Independent draws (another seed), none of them a training split's factor
            # combination (symmetric sprites still render 0.4-0.55% of them as training images).
            train = draw_factor_classes(10000, seed=0)
            data = make_shapes(2000, image_size=image_size, seed=1, exclude=train)
        return data["images"], data["latents_classes"][:, 0]

    return load


# name: (loader(split) -> (x, y), splits, description)
EMBEDDED_DATASETS = {
    "digits": (_digits, ("train", "test"), "scikit-learn 8x8 handwritten digits (embedded, 1,797 images)"),
    "shapes": (_shapes(64), ("train", "test"), "generated dSprites-style shapes, 64x64x1; label = shape"),
    "shapes32": (_shapes(32), ("train", "test"), "generated dSprites-style shapes, 32x32x1; label = shape"),
}


def list_datasets():
    """Returns `{name: description}` for every dataset name `load_dataset` accepts.

    Besides these names, `load_dataset` accepts `"tfds:<name>"` for any tensorflow-datasets
    image dataset, a folder of IDX files, an `.npz` file and in-memory arrays.
    """
    names = {name: spec[2] for name, spec in EMBEDDED_DATASETS.items()}
    names.update({name: spec[3] for name, spec in TFDS_DATASETS.items()})
    return names


_SPLIT = re.compile(r"^\s*(\w+)\s*(?:\[\s*(-?\d*)(%?)\s*:\s*(-?\d*)(%?)\s*\])?\s*$")


def parse_split(split, argument="split"):
    """Parses `"train"`, `"test[:1000]"` or `"train[10%:]"` into `(name, slice_fn)`.

    `argument` is the name errors give the split: the caller's own (e.g. a run's
    `validation_split`).
    """
    match = _SPLIT.match(str(split))
    if not match:
        raise ValueError(
            f"Argument `{argument}` must be a split name with an optional slice, e.g. 'train', "
            f"'test[:1000]' or 'train[:10%]'. Received: {argument}={split!r}"
        )
    name, start, start_pct, stop, stop_pct = match.groups()

    def bound(value, pct, n):
        if value in (None, "", "-"):
            return None
        value = int(value)
        return int(round(n * value / 100)) if pct else value

    def take(n):
        return slice(bound(start, start_pct, n), bound(stop, stop_pct, n))

    return name, take


def _check_split(name, split_name, splits, argument="split"):
    if split_name not in splits:
        raise ValueError(f"Dataset {name!r} has splits {list(splits)}. Received: {argument}={split_name!r}")


def check_split(source, split, data_dir=None, argument="split"):
    """Raises a `ValueError` naming `argument` unless `split` is a split of `source`.

    For a split given under another name than `load_dataset`'s `split` (a run's
    `validation_split`), checked before anything is loaded or trained. `source` is a
    dataset name or path that resolves (see `load_dataset`).
    """
    split_name, _ = parse_split(split, argument)
    if isinstance(source, (str, os.PathLike)) and os.fspath(source) in EMBEDDED_DATASETS:
        _check_split(os.fspath(source), split_name, EMBEDDED_DATASETS[os.fspath(source)][1], argument)
    elif not has_split(source, split_name, data_dir):
        raise ValueError(
            f"Dataset {os.fspath(source)!r} has no split {split_name!r}. Received: {argument}={split!r}"
        )


def _scale_of(x):
    """The value that maps to 1.0: 255 for uint8 images, 1 for binary ints and floats."""
    x = np.asarray(x)
    if x.dtype == bool:
        return 1.0
    if np.issubdtype(x.dtype, np.integer):
        top = int(x.max()) if x.size else 0
        if x.min(initial=0) < 0 or top > 255:
            raise ValueError(
                "Argument `source`: integer images must hold values in 0..255 (or 0..1 for binary "
                f"images). Received: source with values in {int(x.min())}..{top}"
            )
        return 1.0 if top <= 1 else 255.0
    if np.issubdtype(x.dtype, np.floating):
        return 1.0
    raise ValueError(f"Argument `source` must hold numeric images. Received: source with dtype={x.dtype}")


def _from_npz(path, split_name, labels=True):
    with np.load(path, allow_pickle=False) as data:
        keys = set(data.files)
        candidates = [(f"x_{split_name}", f"y_{split_name}")]
        if split_name == "train":
            candidates += [("x", "y"), ("images", "labels"), ("imgs", "latents_classes")]
        for x_key, y_key in candidates:
            if x_key in keys:
                y = data[y_key] if labels and y_key in keys else None
                if y is not None and y_key == "latents_classes":
                    # dSprites: the shape factor is the label; it is column 1 of the official
                    # (color, shape, ...) classes and column 0 of the 5-factor subsets.
                    if y.ndim != 2 or y.shape[1] not in (5, 6):
                        raise ValueError(
                            f"The .npz file {path} holds 'imgs' with 'latents_classes', read as dSprites' "
                            "(N, 6) or (N, 5) factor classes, whose shape column is the label. Received: "
                            f"latents_classes of shape {y.shape}"
                        )
                    y = y[:, -5]
                return data[x_key], y
    splits = sorted(
        {k[2:] for k in keys if k.startswith("x_")} | ({"train"} if keys & {"x", "images", "imgs"} else set())
    )
    raise ValueError(
        f"The .npz file {path} has no images for split {split_name!r}: expected key "
        f"'x_{split_name}' (or 'x', 'images', 'imgs' for 'train'). Its keys: {sorted(keys)}; "
        f"splits found: {splits}"
    )


def _from_idx(folder, split_name):
    _check_split(folder, split_name, IDX_FILES)
    return load_idx_dataset(folder, split_name)


def _is_idx_folder(path):
    return os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, name)) or os.path.exists(os.path.join(path, name[:-3]))
        for pair in IDX_FILES.values()
        for name in pair
    )


def _unknown(source):
    return ValueError(
        f"Unknown dataset. Expected one of {sorted(list_datasets())}, 'tfds:<name>' for another "
        "tensorflow-datasets image dataset, a folder of IDX files, an .npz file, or arrays. "
        f"Received: source={source!r}"
    )


class Source(NamedTuple):
    """One split of a source, raw: see `resolve_source`."""

    dataset: object  # an unbatched tf.data.Dataset of (raw image, int64 label); None for arrays
    arrays: tuple  # (images, int64 labels) in memory; None for tfds
    scale: float  # divide images by it to map them to [0, 1]
    has_labels: bool
    name: str


def resolve_source(source, split="train", data_dir=None, download=True, labels=True):
    """Resolves `source` to one split of raw examples, a `Source`.

    tfds sources come as an unbatched `tf.data.Dataset` of `(raw image, int64 label)`
    (`Source.dataset`); embedded sets, files and arrays as numpy `(images, int64 labels)`
    (`Source.arrays`, grayscale images with their channel axis), so that the pipeline can
    check their values and gather their batches. Labels are -1 when the source has none,
    and for files and arrays when `labels` is False (their labels are then neither read nor
    checked: a regression target trains as unlabelled images). Divide images by
    `Source.scale` to map them to [0, 1].
    """
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if name in TFDS_DATASETS or name.startswith(GENERIC_PREFIX):
            dataset, scale, has_labels = load_tfds(name, split, data_dir=data_dir, download=download)
            return Source(dataset, None, scale, has_labels, name)
        split_name, take = parse_split(split)
        if name in EMBEDDED_DATASETS:
            loader, splits, _ = EMBEDDED_DATASETS[name]
            _check_split(name, split_name, splits)
            x, y = loader(split_name)
        elif name.endswith(".npz"):
            if not os.path.isfile(name):
                raise FileNotFoundError(f"Dataset file not found: {name}")
            x, y = _from_npz(name, split_name, labels)
        elif _is_idx_folder(name):
            x, y = _from_idx(name, split_name)
        elif os.path.isdir(name):
            raise FileNotFoundError(
                f"The folder {name} holds no IDX files: expected {', '.join(IDX_FILES['train'] + IDX_FILES['test'])}"
            )
        else:
            raise _unknown(source)
    elif isinstance(source, np.ndarray) or (
        isinstance(source, (tuple, list)) and source and isinstance(source[0], np.ndarray)
    ):
        name = "arrays"
        x, y = (
            (source, None)
            if isinstance(source, np.ndarray)
            else (source[0], source[1] if len(source) > 1 else None)
        )
        split_name, take = parse_split(split)
    else:
        raise _unknown(source)

    x = np.asarray(x)
    if not labels:
        y = None
    if not 2 <= x.ndim <= 4:
        raise ValueError(
            "Argument `source` must hold examples: an array (n, features), (n, height, width) or "
            f"(n, height, width, channels). Received: source with shape={x.shape}"
        )
    if y is not None:
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(
                f"Argument `source` has {len(x)} images but labels of shape {y.shape}. Received: "
                f"source={name!r}"
            )
        # Class labels are integers: int64 would truncate 0.9 to class 0 unseen.
        if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool) and not (
            np.issubdtype(y.dtype, np.floating) and np.all(np.isfinite(y)) and np.all(y == np.round(y))
        ):
            raise ValueError(
                "Argument `source` must hold integer class labels. Received: labels of dtype "
                f"{y.dtype}{', with non-integer values' if np.issubdtype(y.dtype, np.floating) else ''} "
                f"in source={name!r}"
            )
    # The scale of the whole array, not of the slice: a uint8 slice whose values happen to
    # be 0 and 1 would otherwise be read as binary, and two slices of one array scaled apart.
    scale = _scale_of(x)
    index = take(len(x))
    x = x[index]
    y = np.full(len(x), -1, "int64") if y is None else y[index].astype("int64")
    if len(x) == 0:
        raise ValueError(f"The split holds no examples. Received: source={name!r}, split={split!r}")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        raise ValueError(f"Argument `source` holds NaN or Inf values. Received: source with shape={x.shape}")
    if x.ndim == 3:  # (n, height, width) grayscale images get their channel axis
        x = x[..., None]
    return Source(None, (x, y), scale, bool((y >= 0).any()), name)


def has_split(source, split_name, data_dir=None):
    """Whether `source` (a dataset name or path) has a split called `split_name`.

    tfds datasets are asked through their prepared metadata; an unprepared curated one
    answers from `TFDS_SPLITS` (dSprites and 3D Shapes have "train" only), any other
    from "train" and "test".
    """
    if not isinstance(source, (str, os.PathLike)):
        return True
    name = os.fspath(source)
    if name in EMBEDDED_DATASETS:
        return split_name in EMBEDDED_DATASETS[name][1]
    if name in TFDS_DATASETS or name.startswith(GENERIC_PREFIX):
        from keras_ae.data.tfds_datasets import TFDS_SPLITS, _builder, tfds_spec

        tfds_name = tfds_spec(name)[0]
        builder = _builder(tfds_name, data_dir)
        if builder.is_prepared():
            return split_name in builder.info.splits
        return split_name in TFDS_SPLITS.get(tfds_name, ("train", "test"))
    if name.endswith(".npz") and os.path.isfile(name):
        with np.load(name, allow_pickle=False) as data:
            keys = set(data.files)
        return f"x_{split_name}" in keys or (split_name == "train" and bool(keys & {"x", "images", "imgs"}))
    if _is_idx_folder(name):
        return split_name in IDX_FILES and all(
            os.path.exists(os.path.join(name, f)) or os.path.exists(os.path.join(name, f[:-3]))
            for f in IDX_FILES[split_name]
        )
    return False
