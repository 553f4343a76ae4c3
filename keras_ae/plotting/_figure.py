"""Figure helpers shared by the plotting modules: headless pyplot, image grids, saving."""

import math
import os

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path):
    plt = _pyplot()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def _as_images(x, data_shape=None):
    """Examples as displayable images: `(n, h, w)` grey or `(n, h, w, 3)` colour."""
    x = np.asarray(x)
    if data_shape is not None and x.ndim == 2 and len(data_shape) in (2, 3):
        x = x.reshape(-1, *data_shape)  # (h, w) images too: 28 x 20 is not a square
    if x.ndim == 2:  # flat vectors: square images when possible, else one strip each
        side = math.isqrt(x.shape[1])
        return x.reshape(-1, side, side) if side * side == x.shape[1] else x[:, None, :]
    if x.ndim == 4 and x.shape[-1] == 1:
        return x[..., 0]
    if x.ndim == 4 and x.shape[-1] != 3:
        return x[..., 0]  # multi-channel data: show the first channel
    return x


def _show(ax, image, normalize=False):
    image = np.asarray(image, dtype="float32")
    if normalize:  # filters: stretch each one to the full grey range
        low, high = float(image.min()), float(image.max())
        image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    image = np.clip(image, 0.0, 1.0)
    if image.ndim == 3:
        ax.imshow(image)
    else:
        ax.imshow(image, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _grid(images, path, title, columns=None, normalize=False, cell=1.0):
    plt = _pyplot()
    n = len(images)
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    # Constrained layout puts the title right above the grid (no empty band under it).
    fig, axes = plt.subplots(
        rows, columns, figsize=(cell * columns, cell * rows + 0.4), squeeze=False, layout="constrained"
    )
    for i, ax in enumerate(axes.flat):
        if i < n:
            _show(ax, images[i], normalize)
        else:
            ax.axis("off")
    fig.suptitle(title)
    return _save(fig, path)
