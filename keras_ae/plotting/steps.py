"""Pictures of a model that draws in steps (DRAW): the canvas stroke by stroke, and its attention."""

import numpy as np

from keras_ae.plotting._figure import _as_images, _pyplot, _save, _show


def _columns(steps, count):
    """`count` step indices spread over `steps`, always ending with the last step."""
    return sorted({int(round(i)) for i in np.linspace(0, steps - 1, min(count, steps))})


def plot_generation_steps(model, path, n=8, seed=0, columns=10, title=None):
    """Samples appearing step by step: rows are samples, columns the canvas after a step.

    The paper's Figure 7 (MNIST generation): a DRAW model's canvas `sigmoid(c_t)` at
    `columns` steps spread from the first to the last.

    Returns:
        `path`.
    """
    if not getattr(model, "sequential", False):
        raise ValueError(
            f"plot_generation_steps needs a model that draws in steps (DRAW). Received: {type(model).__name__}"
        )
    plt = _pyplot()
    canvases = model.generation_steps(n, seed=seed)  # (n, T, *shape)
    picked = _columns(canvases.shape[1], columns)
    fig, axes = plt.subplots(n, len(picked), figsize=(1.0 * len(picked), 1.0 * n + 0.5), squeeze=False)
    for row in range(n):
        images = _as_images(canvases[row][picked])
        for col, t in enumerate(picked):
            _show(axes[row, col], images[col])
            if row == 0:
                axes[row, col].set_title(f"t={t + 1}", fontsize=8)
    fig.suptitle(title or f"Generation, step by step ({canvases.shape[1]} steps)")
    fig.tight_layout()
    return _save(fig, path)


def plot_attention_steps(model, x, path, n=3, columns=8, title=None):
    """Reconstructions step by step with the read (green) and write (red) glimpses.

    Each row is one example of `x`: its canvas after `columns` steps, with the squares
    that the attentive read looked at and the write drew into at that step (the paper's
    Figure 4).

    Returns:
        `path`.
    """
    if not getattr(model, "sequential", False):
        raise ValueError(
            f"plot_attention_steps needs a model that draws in steps (DRAW). Received: {type(model).__name__}"
        )
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    x = np.asarray(x[:n])
    canvases = model.generation_steps(x=x)
    boxes = model.attention_boxes(x)
    picked = _columns(canvases.shape[1], columns)
    fig, axes = plt.subplots(
        len(x), len(picked), figsize=(1.2 * len(picked), 1.2 * len(x) + 0.5), squeeze=False
    )
    for row in range(len(x)):
        images = _as_images(canvases[row][picked])
        for col, t in enumerate(picked):
            ax = axes[row, col]
            _show(ax, images[col])
            for name, colour in (("read", "lime"), ("write", "red")):
                if name in boxes:
                    gx, gy, side = boxes[name][row, t]
                    # Pixel a (1-based) is drawn at a - 1 by imshow.
                    corner = (gx - 1 - side / 2, gy - 1 - side / 2)
                    ax.add_patch(Rectangle(corner, side, side, fill=False, edgecolor=colour, linewidth=1.2))
            if row == 0:
                ax.set_title(f"t={t + 1}", fontsize=8)
    fig.suptitle(title or "Reconstruction step by step: read (green) and write (red) glimpses")
    fig.tight_layout()
    return _save(fig, path)
