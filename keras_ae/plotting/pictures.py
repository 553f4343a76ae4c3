"""Pictures of inputs, reconstructions, samples, filters and loss curves (`latent.py`: of
the latent space)."""

import numpy as np

from keras_ae._utils import walk_layers
from keras_ae.plotting._figure import _as_images, _grid, _pyplot, _save, _show


def plot_reconstructions(model, x, path, n=10, title="Inputs (top) and reconstructions (bottom)"):
    """Writes `n` inputs in the first row and their reconstructions below.

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
            _show(axes[row, i], batch[i])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("reconstruction")
    fig.suptitle(title)
    return _save(fig, path)


def plot_samples(model, path, n=64, seed=0, title=None):
    """Decodes `n` draws from the prior of a generative model into a grid.

    The VAE family decodes `z ~ N(0, I)`; a VQ-VAE decodes index grids drawn from its
    PixelCNN prior.

    Returns:
        `path`.
    """
    if not model.generative:
        raise ValueError(
            f"plot_samples needs a generative model (model.generative). Received: {type(model).__name__}"
        )
    if title is None:
        title = (
            "Samples: decoder means of z ~ N(0, I)"
            if model.variational
            else "Samples: decoded draws from the learned prior"
        )
    return _grid(_as_images(model.sample(n, seed=seed)), path, title)


def first_layer_kernel(model):
    """The kernel of the encoder's first Dense or Conv2D layer (numpy), or None."""
    import keras

    encoder = getattr(model, "encoder", model)
    # Sublayers come in the order the input meets them: the first Dense/Conv2D is the first layer.
    for layer in walk_layers(encoder):
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv2D)):
            return np.asarray(layer.kernel)
    return None


def plot_filters(model, path, n=64, title=None):
    """The encoder's first-layer filters as images (sparse and k-sparse autoencoders).

    For a dense first layer each column of the kernel (the weights of one hidden unit) is
    reshaped to the input's image shape (Ng's sparse-autoencoder notes; Makhzani & Frey
    2013, Fig. 1); for a convolutional one, each kernel is shown. Each filter is stretched
    to the full grey range. Units are ordered by the norm of their weights, largest first.

    Returns:
        `path`.
    """
    kernel = first_layer_kernel(model)
    if kernel is None:
        raise ValueError("The encoder has no Dense or Conv2D layer whose filters could be shown.")
    data_shape = tuple(model.data_shape)
    if kernel.ndim == 2:  # Dense: (inputs, units)
        if kernel.shape[0] != int(np.prod(data_shape)):
            raise ValueError(
                f"The first Dense layer has {kernel.shape[0]} inputs, not the {int(np.prod(data_shape))} "
                f"pixels of input_shape={data_shape}: its filters are not images."
            )
        order = np.argsort(-np.linalg.norm(kernel, axis=0))[:n]
        filters = _as_images(kernel[:, order].T, data_shape if len(data_shape) >= 2 else None)
        what = f"first Dense kernel, {len(order)} of {kernel.shape[1]} units, reshaped to {filters.shape[1]}x{filters.shape[2]}"
    else:  # Conv2D: (kh, kw, in, out)
        order = np.argsort(-np.linalg.norm(kernel.reshape(-1, kernel.shape[-1]), axis=0))[:n]
        filters = np.moveaxis(kernel[..., order], -1, 0)
        filters = filters if filters.shape[-1] == 3 else filters[..., 0]
        what = (
            f"first Conv2D kernels, {len(order)} of {kernel.shape[-1]}, {kernel.shape[0]}x{kernel.shape[1]}"
        )
    return _grid(filters, path, title or f"First-layer filters ({what})", normalize=True)


def plot_loss_curves(history, path, title="Loss curves"):
    """Training (and validation) curves of every logged metric, one panel each.

    Args:
        history: `{metric: [value per epoch]}` (a Keras `History.history` or a run's
            `history.json`).
        path: output PNG path.
        title: figure title.

    Returns:
        `path`.
    """
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    history = getattr(history, "history", history)
    names = [k for k in history if not k.startswith("val_")]
    if "loss" in history and "elbo" in history and np.allclose(history["loss"], -np.asarray(history["elbo"])):
        names.remove("elbo")  # the VAE's loss is -elbo: one panel says it
    if not names:
        raise ValueError(f"The history holds no metrics. Received: keys {list(history)}")
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        epochs = np.arange(1, len(history[name]) + 1)
        # Markers keep a one-epoch curve (a prior trained briefly) visible.
        ax.plot(epochs, history[name], label="train", marker="o", markersize=3)
        if f"val_{name}" in history:
            values = history[f"val_{name}"]
            ax.plot(np.arange(1, len(values) + 1), values, label="validation", marker="o", markersize=3)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend()
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)
