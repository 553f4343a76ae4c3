"""Pictures of a discrete code: how a VQ-VAE uses its codebook, and the index grids of images."""

import math

import numpy as np

from keras_ae.plotting._figure import _as_images, _pyplot, _save, _show


def _as_grid(codes):
    """An example's codes as a 2-D grid: as they are, or a sequence folded into a square."""
    codes = np.asarray(codes)
    if codes.ndim == 1:
        side = math.isqrt(codes.size)
        return codes.reshape(side, side) if side * side == codes.size else codes[None, :]
    return codes


def code_counts(model, x):
    """How often each of the model's `num_embeddings` codes is chosen for the examples `x`."""
    return np.bincount(np.asarray(model.encode(np.asarray(x))).reshape(-1), minlength=model.num_embeddings)


def plot_codebook_usage(model, x, path, num_grids=4, title=None):
    """Codebook usage of a VQ-VAE over `x`, and the index grids of a few examples.

    The top panel ranks the codes by how often the encoder picks them for `x` (a healthy
    codebook is used evenly; dead codes sit at zero); the title gives the perplexity
    `exp(entropy)` of the usage and the fraction of codes used. Below, `num_grids`
    examples beside their grids of code indices.

    Args:
        model: a VQ-VAE (`model.num_embeddings`, integer `encode`).
        x: a float array of examples.
        path: output PNG path.
        num_grids: examples whose index grids are drawn.
        title: figure title (default: the usage figures).

    Returns:
        `path`.
    """
    if not hasattr(model, "num_embeddings"):
        raise ValueError(
            f"plot_codebook_usage needs a model with a codebook (VQ-VAE). Received: {type(model).__name__}"
        )
    plt = _pyplot()
    x = np.asarray(x)
    counts = code_counts(model, x)
    p = counts / counts.sum()
    perplexity = float(np.exp(-np.sum(p[p > 0] * np.log(p[p > 0]))))
    used = float(np.mean(counts > 0))
    num_grids = min(num_grids, len(x))
    fig = plt.figure(figsize=(max(8, 2.4 * num_grids), 5.0), layout="constrained")
    grid = fig.add_gridspec(2, 2 * num_grids, height_ratios=[1.4, 1.0])
    bars = fig.add_subplot(grid[0, :])
    bars.bar(np.arange(len(counts)), np.sort(counts)[::-1], width=1.0, color="tab:blue")
    bars.set_xlabel("codes, most used first")
    bars.set_ylabel(f"uses in {len(x)} examples")
    bars.set_xlim(-0.5, len(counts) - 0.5)
    indices = np.asarray(model.encode(x[:num_grids]))
    images = _as_images(x[:num_grids])
    for i in range(num_grids):
        _show(fig.add_subplot(grid[1, 2 * i]), images[i])
        ax = fig.add_subplot(grid[1, 2 * i + 1])
        codes = _as_grid(indices[i])
        ax.imshow(codes, cmap="tab20", vmin=0, vmax=model.num_embeddings - 1, interpolation="nearest")
        if codes.size <= 64:
            for (r, c), k in np.ndenumerate(codes):
                ax.text(c, r, str(k), ha="center", va="center", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(
        title
        or f"Codebook usage: perplexity {perplexity:.1f} of {model.num_embeddings} codes, {used:.0%} used"
    )
    return _save(fig, path)
