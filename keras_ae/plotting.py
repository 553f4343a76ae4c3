"""Pictures of autoencoders, written as PNG files with matplotlib (headless)."""

import os

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _as_images(x):
    x = np.asarray(x)
    if x.ndim == 2:  # flat vectors: show square images when possible
        side = int(round(np.sqrt(x.shape[1])))
        if side * side == x.shape[1]:
            return x.reshape(-1, side, side)
        return x[:, None, :]
    if x.ndim == 4 and x.shape[-1] == 1:
        return x[..., 0]
    return x


def plot_reconstructions(model, x, path, n=10, title="Inputs (top) and reconstructions (bottom)"):
    """Writes a PNG with `n` inputs in the first row and their reconstructions below.

    Args:
        model: a keras_ae model.
        x: a float array of examples.
        path: output PNG path.
        n: how many examples.
        title: figure title.

    Returns:
        `path`.
    """
    plt = _pyplot()
    x = np.asarray(x[:n])
    images = _as_images(x)
    recons = _as_images(model.reconstruct(x))
    fig, axes = plt.subplots(2, len(x), figsize=(1.2 * len(x), 2.8), squeeze=False)
    for i in range(len(x)):
        for row, batch in enumerate((images, recons)):
            axes[row, i].imshow(batch[i], cmap="gray", vmin=0, vmax=1)
            axes[row, i].axis("off")
    fig.suptitle(title)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
