"""Pictures of the latent space: traversals, the decoded 2-D manifold, codes by label."""

import statistics

import numpy as np

from keras_ae.plotting._figure import _as_images, _pyplot, _save, _show


def latent_kl_per_dim(model, x, batch_size=256):
    """Mean KL(q(z_d|x) || N(0, 1)) per latent dimension over `x` (VAE family), in nats.

    Dimensions with a KL near 0 are unused (the posterior equals the prior).
    """
    z_mean, z_log_var, _ = model.encoder.predict(np.asarray(x), batch_size=batch_size, verbose=0)
    return np.mean(0.5 * (np.exp(z_log_var) + z_mean**2 - 1.0 - z_log_var), axis=0)


def _informative_dims(model, x, count):
    if x is None or not model.variational:
        return list(range(min(count, model.latent_dim))), None
    kl = latent_kl_per_dim(model, x)
    return [int(d) for d in np.argsort(-kl)[:count]], kl


def plot_latent_traversals(model, x, path, dims=None, num_dims=10, steps=9, span=3.0, title=None):
    """Latent traversals (Higgins et al. 2017): each row varies one latent dimension.

    Starting from the code (posterior mean) of `x[0]`, row `d` decodes the codes whose
    dimension `d` runs over `steps` values in [-span, span], the others fixed. Rows are the
    most informative dimensions first (largest mean KL over `x`), labelled with their KL.

    Args:
        model: a keras_ae model (VAE family for the KL ordering).
        x: examples; `x[0]` gives the base code and all of them the KL ranking.
        path: output PNG path.
        dims: explicit dimensions to show (default: the `num_dims` most informative).
        num_dims: how many dimensions by default.
        steps: images per row.
        span: the traversal runs over [-span, span].
        title: figure title.

    Returns:
        `path`.

    References:
        Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained
        Variational Framework", ICLR 2017.
    """
    dims = None if dims is None else _check_dims(dims, model.latent_dim)
    plt = _pyplot()
    x = np.asarray(x)
    ranked, kl = _informative_dims(model, x, num_dims)
    dims = ranked if dims is None else dims
    base = model.encode(x[:1])[0]
    values = np.linspace(-span, span, steps, dtype="float32")
    codes = np.repeat(base[None], len(dims) * steps, axis=0)
    for row, d in enumerate(dims):
        codes[row * steps : (row + 1) * steps, d] = values
    images = _as_images(model.decode(codes))
    fig, axes = plt.subplots(
        len(dims),
        steps,
        figsize=(1.0 * steps + 1.2, 1.0 * len(dims) + 0.6),
        squeeze=False,
        layout="constrained",
    )
    for row, d in enumerate(dims):
        for col in range(steps):
            _show(axes[row, col], images[row * steps + col])
        label = f"z{d}" if kl is None else f"z{d}\nKL {kl[d]:.2f}"
        axes[row, 0].set_ylabel(label, rotation=0, ha="right", va="center")
    for col, v in enumerate(values):
        axes[-1, col].set_xlabel(f"{v:+.1f}")
    fig.suptitle(title or f"Latent traversals: each row sets one dimension to -{span:g}..+{span:g}")
    return _save(fig, path)


def _check_dims(dims, latent_dim):
    """`dims` as a list of ints, each a latent dimension (0 <= d < latent_dim)."""
    values = list(dims)
    if not values or not all(isinstance(d, (int, np.integer)) and 0 <= d < latent_dim for d in values):
        raise ValueError(
            f"Argument `dims` must hold latent dimensions in [0, {latent_dim}). Received: dims={dims}"
        )
    return [int(d) for d in values]


def plot_latent_manifold(model, path, n=15, dims=None, x=None, title=None):
    """The learned 2-D manifold (Kingma & Welling 2014, Fig. 4; the keras-io VAE example).

    Decodes an `n x n` grid of codes placed at Gaussian quantiles (linearly spaced in
    probability, so the grid covers the prior evenly). With more than two latent dimensions
    the grid spans the two most informative ones (largest KL over `x`) and the others are 0.

    Args:
        model: a keras_ae model.
        path: output PNG path.
        n: grid side.
        dims: the two dimensions to span (default: (0, 1), or the two most informative).
        x: examples used to rank dimensions when `dims` is None and latent_dim > 2.
        title: figure title.

    Returns:
        `path`.

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    """
    if model.latent_dim < 2:
        raise ValueError(
            f"The manifold plot spans two latent dimensions. Received: a model with latent_dim={model.latent_dim}"
        )
    if dims is not None:
        dims = _check_dims(dims, model.latent_dim)
        if len(dims) != 2 or dims[0] == dims[1]:
            raise ValueError(f"Argument `dims` must be two distinct latent dimensions. Received: dims={dims}")
    plt = _pyplot()
    if dims is None:
        dims = (0, 1) if model.latent_dim <= 2 else tuple(_informative_dims(model, x, 2)[0])
    normal = statistics.NormalDist()
    grid = np.array([normal.inv_cdf(p) for p in np.linspace(0.05, 0.95, n)], dtype="float32")
    codes = np.zeros((n * n, model.latent_dim), dtype="float32")
    for i, zy in enumerate(grid[::-1]):  # top row = largest value, as on a y axis
        for j, zx in enumerate(grid):
            codes[i * n + j, dims[0]] = zx
            codes[i * n + j, dims[1]] = zy
    images = np.clip(_as_images(model.decode(codes)), 0.0, 1.0)
    h, w = images.shape[1:3]
    # A 1-pixel grey border keeps neighbouring tiles apart (strokes touching the tile edges
    # would otherwise merge into stripes).
    canvas = np.full((n * (h + 1) + 1, n * (w + 1) + 1) + images.shape[3:], 0.35, dtype="float32")
    for k, image in enumerate(images):
        i, j = divmod(k, n)
        canvas[1 + i * (h + 1) : 1 + i * (h + 1) + h, 1 + j * (w + 1) : 1 + j * (w + 1) + w] = image
    fig, ax = plt.subplots(figsize=(7, 7))
    ax.imshow(canvas, cmap=None if canvas.ndim == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
    # Ticks at tile centres, labelled with their z values (quantiles are not evenly spaced).
    ticks = 1 + np.arange(n) * (w + 1) + (w - 1) / 2
    shown = np.arange(0, n, 2)
    ax.set_xticks(ticks[shown], [f"{v:.1f}" for v in grid[shown]])
    ax.set_yticks(ticks[shown], [f"{v:.1f}" for v in grid[::-1][shown]])
    ax.set_xlabel(f"z{dims[0]}")
    ax.set_ylabel(f"z{dims[1]}")
    others = "" if model.latent_dim == 2 else f" (other {model.latent_dim - 2} dims = 0)"
    ax.set_title(title or f"Latent manifold: decoded grid over z{dims[0]}, z{dims[1]}{others}")
    return _save(fig, path)


def plot_latent_scatter(model, x, y, path, title=None):
    """Codes of `x` in the plane, coloured by label (keras-io VAE example, Kingma & Welling).

    Codes with more than two dimensions are projected on their first two principal
    components (the title says so).

    Returns:
        `path`.
    """
    plt = _pyplot()
    codes = np.asarray(model.encode(np.asarray(x)), dtype="float64")
    y = np.asarray(y)
    if codes.shape[1] == 1:
        points, axes_names, how = np.c_[codes[:, 0], np.zeros(len(codes))], ("z0", ""), "1-D codes"
    elif codes.shape[1] == 2:
        points, axes_names, how = codes, ("z0", "z1"), "2-D codes"
    else:
        centred = codes - codes.mean(0)
        _, singular, vt = np.linalg.svd(centred, full_matrices=False)
        points = centred @ vt[:2].T
        share = (singular[:2] ** 2).sum() / (singular**2).sum()
        axes_names = ("PC 1", "PC 2")
        how = f"first 2 principal components of the {codes.shape[1]}-D codes ({share:.0%} of variance)"
    fig, ax = plt.subplots(figsize=(7, 6))
    labels = np.unique(y)
    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "viridis")
    scatter = ax.scatter(points[:, 0], points[:, 1], c=y, cmap=cmap, s=6, alpha=0.8)
    if len(labels) <= 10:
        ax.legend(*scatter.legend_elements(), title="label", loc="best", fontsize=8)
    else:
        fig.colorbar(scatter, ax=ax, label="label")
    ax.set_xlabel(axes_names[0])
    ax.set_ylabel(axes_names[1])
    ax.set_title(title or f"Latent codes coloured by label: {how}")
    return _save(fig, path)
