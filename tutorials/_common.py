"""Helpers shared by the tutorials: fast mode, output folder and MNIST loading.

Fast mode (`KERAS_AE_TUTORIAL_FAST=1`) shrinks data and epochs so the test suite can
run every tutorial end to end in seconds; figures go to `KERAS_AE_TUTORIAL_OUT`
(default `tutorials/figures/`).
"""

import os
import pathlib

import numpy as np

FAST = os.environ.get("KERAS_AE_TUTORIAL_FAST", "0") not in ("", "0", "false", "False")
OUT = pathlib.Path(os.environ.get("KERAS_AE_TUTORIAL_OUT", pathlib.Path(__file__).parent / "figures"))


def epochs(full, fast=1):
    """The number of epochs: `full` normally, `fast` in fast mode."""
    return fast if FAST else full


def figure_path(name):
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT / name


def load_mnist(limit=None):
    """MNIST as float32 in [0, 1], shape (n, 28, 28, 1), with labels.

    Reads the IDX files from `$KERAS_AE_DATASETS/mnist` when that folder exists
    (offline copies, as in this repository's tests), else MNIST through
    tensorflow-datasets (downloaded once). In fast mode only the first 1,000 / 250 examples.
    """
    from keras_ae.data import load_dataset

    folder = os.environ.get("KERAS_AE_DATASETS")
    local = folder and os.path.isdir(os.path.join(folder, "mnist"))
    source = os.path.join(folder, "mnist") if local else "mnist"
    limit = limit or (1000 if FAST else None)
    splits = ("train", "test") if not limit else (f"train[:{limit}]", f"test[:{max(limit // 4, 100)}]")
    return tuple(load_dataset(source, split, as_numpy=True, with_labels=True) for split in splits)


def show_grid(rows, titles, path, suptitle=None):
    """Saves rows of images (each an array (n, h, w[, 1])) as one figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(rows[0])
    fig, axes = plt.subplots(len(rows), n, figsize=(1.1 * n, 1.25 * len(rows) + 0.4), squeeze=False)
    for r, (row, title) in enumerate(zip(rows, titles, strict=True)):
        for i in range(n):
            image = np.asarray(row[i])
            if image.ndim == 1:  # a flat vector of a square image
                side = int(round(np.sqrt(image.size)))
                image = image.reshape(side, side)
            axes[r, i].imshow(image.reshape(image.shape[:2]), cmap="gray", vmin=0, vmax=1)
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(title, rotation=0, ha="right", va="center", fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
