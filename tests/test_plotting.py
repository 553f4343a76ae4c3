"""Pictures: each plot function writes a PNG whose panels show, element for element, the arrays
it claims to show (read back from the saved_figures matplotlib Figure's images, lines and points)."""

import statistics

import keras
import matplotlib.image
import numpy as np
import pytest

import keras_ae
from keras_ae import plotting
from keras_ae.data import load_dataset


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", "test", as_numpy=True, with_labels=True)


@pytest.fixture(scope="module")
def models(digits):
    x, _ = digits
    keras.utils.set_random_seed(0)
    vae = keras_ae.create_model("vae", input_shape=(8, 8, 1), latent_dim=3, hidden_units=(32,), seed=0)
    ae = keras_ae.create_model("autoencoder", input_shape=(8, 8, 1), latent_dim=4, hidden_units=(24,))
    conv = keras_ae.create_model(
        "autoencoder",
        input_shape=(8, 8, 1),
        latent_dim=4,
        architecture="conv",
        filters=(6,),
        hidden_units=(8,),
    )
    for model in (vae, ae, conv):
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        model.fit(x, epochs=2, batch_size=64, verbose=0)
    return {"vae": vae, "ae": ae, "conv": conv}


def _read_back(path, saved_figures):
    """The one Figure the call saved_figures to `path`, after checking the PNG is a picture."""
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    assert len(saved_figures) == 1
    return saved_figures.pop()


def _panels(figure):
    """The arrays the figure's image panels show, row by row."""
    return np.stack([np.asarray(ax.get_images()[0].get_array()) for ax in figure.axes if ax.get_images()])


def _grey(x):
    """(n, 8, 8, 1) data as the (n, 8, 8) grey images a panel shows (clipped to [0, 1])."""
    return np.clip(np.asarray(x, "float32")[..., 0], 0.0, 1.0)


def _kl_per_dim(model, x):
    z_mean, z_log_var, _ = model.encoder.predict(x, verbose=0)
    return np.mean(0.5 * (np.exp(z_log_var) + z_mean**2 - 1 - z_log_var), axis=0)


def test_reconstructions_show_the_inputs_above_their_reconstructions(models, digits, tmp_path, saved_figures):
    x, _ = digits
    vae = models["vae"]
    figure = _read_back(plotting.plot_reconstructions(vae, x, tmp_path / "rec.png", n=7), saved_figures)
    panels = _panels(figure)
    assert panels.shape == (14, 8, 8)
    np.testing.assert_array_equal(panels[:7], _grey(x[:7]))
    np.testing.assert_allclose(panels[7:], _grey(vae.reconstruct(x[:7])), rtol=1e-6, atol=1e-7)
    # The check can fail: another model's reconstructions differ by far more.
    assert np.abs(panels[7:] - _grey(models["ae"].reconstruct(x[:7]))).max() > 0.05


def test_samples_are_the_models_samples_of_that_seed(models, tmp_path, saved_figures):
    vae = models["vae"]
    figure = _read_back(plotting.plot_samples(vae, tmp_path / "samples.png", n=16, seed=3), saved_figures)
    panels = _panels(figure)
    assert panels.shape == (16, 8, 8) and len(figure.axes) == 16  # a 4 x 4 grid
    # A sample decodes a prior draw z ~ N(0, I) of that seed.
    expected = vae.decode(keras.ops.convert_to_numpy(vae.prior_noise(16, 3)))
    np.testing.assert_allclose(panels, _grey(expected), rtol=1e-5, atol=1e-6)
    assert np.abs(panels - _grey(vae.sample(16, seed=4))).max() > 0.05


def test_traversals_vary_one_dimension_per_row_by_kl(models, digits, tmp_path, saved_figures):
    x = digits[0][:200]
    vae = models["vae"]
    path = plotting.plot_latent_traversals(vae, x, tmp_path / "trav.png", steps=5, span=2.0)
    figure = _read_back(path, saved_figures)
    # Rows: the 3 dimensions by decreasing KL; columns: that dimension at -2, -1, 0, 1, 2 and
    # the others at x[0]'s posterior mean.
    kl = _kl_per_dim(vae, x)
    dims = np.argsort(-kl)
    base = vae.encoder.predict(x[:1], verbose=0)[0][0]
    codes = np.repeat(base[None], 15, axis=0)
    for row, d in enumerate(dims):
        codes[5 * row : 5 * row + 5, d] = [-2.0, -1.0, 0.0, 1.0, 2.0]
    np.testing.assert_allclose(_panels(figure), _grey(vae.decode(codes)), rtol=1e-5, atol=1e-6)
    labels = [figure.axes[5 * row].get_ylabel() for row in range(3)]
    assert labels == [f"z{d}\nKL {kl[d]:.2f}" for d in dims]


def test_manifold_tiles_decode_a_grid_of_gaussian_quantiles(models, digits, tmp_path, saved_figures):
    vae, n = models["vae"], 6
    x = digits[0][:200]
    figure = _read_back(
        plotting.plot_latent_manifold(vae, tmp_path / "manifold.png", n=n, x=x), saved_figures
    )
    (canvas,) = _panels(figure)
    # The two dimensions of largest KL span the grid (the third stays 0): column j sets the
    # first to the quantile q_j of N(0, 1) at probability 0.05 + 0.18 j, row i (from the
    # top) sets the second to q_(n-1-i). Tiles of 8 x 8 pixels, 1-pixel grey (0.35) borders.
    first, second = np.argsort(-_kl_per_dim(vae, x))[:2]
    quantiles = [statistics.NormalDist().inv_cdf(0.05 + 0.18 * j) for j in range(n)]
    expected = np.full((n * 9 + 1, n * 9 + 1), 0.35, "float32")
    for i in range(n):
        for j in range(n):
            code = np.zeros((1, 3), "float32")
            code[0, first], code[0, second] = quantiles[j], quantiles[n - 1 - i]
            expected[1 + 9 * i : 9 + 9 * i, 1 + 9 * j : 9 + 9 * j] = _grey(vae.decode(code))[0]
    np.testing.assert_allclose(canvas, expected, rtol=1e-5, atol=1e-6)
    assert figure.axes[0].get_xlabel() == f"z{first}" and figure.axes[0].get_ylabel() == f"z{second}"


@pytest.mark.parametrize("name", ["vae", "ae"])
def test_scatter_shows_the_codes_first_principal_components_by_label(
    models, digits, tmp_path, saved_figures, name
):
    x, y = digits
    model = models[name]
    figure = _read_back(plotting.plot_latent_scatter(model, x, y, tmp_path / "scatter.png"), saved_figures)
    points = figure.axes[0].collections[0]
    # The principal axes: the two leading eigenvectors of the codes' covariance (each one
    # up to its sign).
    codes = np.asarray(model.encode(x), "float64")
    centred = codes - codes.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred)
    expected = centred @ eigenvectors[:, np.argsort(-eigenvalues)[:2]]
    shown = np.asarray(points.get_offsets())
    signs = np.sign(np.sum(shown * expected, axis=0))
    np.testing.assert_allclose(shown, expected * signs, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(points.get_array(), y)  # coloured by label


def test_filters_dense_and_conv(models, tmp_path, saved_figures):
    kernel = plotting.first_layer_kernel(models["ae"])
    np.testing.assert_array_equal(
        kernel, np.asarray(models["ae"].encoder.get_layer("encoder_dense_0").kernel)
    )
    assert kernel.shape == (64, 24)
    # The 16 units of largest weight norm, largest first, each column an 8 x 8 image
    # stretched to [0, 1].
    figure = _read_back(plotting.plot_filters(models["ae"], tmp_path / "filters.png", n=16), saved_figures)
    columns = kernel[:, np.argsort(-np.linalg.norm(kernel, axis=0))[:16]].T.reshape(16, 8, 8)
    low, high = columns.min(axis=(1, 2), keepdims=True), columns.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(_panels(figure), (columns - low) / (high - low), rtol=1e-5, atol=1e-6)

    kernel = plotting.first_layer_kernel(models["conv"])
    assert kernel.shape == (3, 3, 1, 6)
    figure = _read_back(plotting.plot_filters(models["conv"], tmp_path / "conv_filters.png"), saved_figures)
    filters = np.moveaxis(kernel[:, :, 0, np.argsort(-np.linalg.norm(kernel.reshape(9, 6), axis=0))], -1, 0)
    low, high = filters.min(axis=(1, 2), keepdims=True), filters.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(_panels(figure), (filters - low) / (high - low), rtol=1e-5, atol=1e-6)


def test_loss_curves(tmp_path, saved_figures):
    history = {"loss": [3.0, 2.0, 1.5], "val_loss": [3.2, 2.4, 2.0], "kl_loss": [0.1, 0.5, 0.7]}
    figure = _read_back(plotting.plot_loss_curves(history, tmp_path / "curves.png"), saved_figures)
    # One panel per metric, its training curve and, where logged, its validation curve.
    assert [ax.get_title() for ax in figure.axes] == ["loss", "kl_loss"]
    curves = [[list(line.get_ydata()) for line in ax.get_lines()] for ax in figure.axes]
    assert curves == [[history["loss"], history["val_loss"]], [history["kl_loss"]]]
    assert list(figure.axes[0].get_lines()[0].get_xdata()) == [1, 2, 3]  # epochs from 1
    # A VAE's loss is -elbo: one panel says it.
    vae_history = {"loss": [3.0, 2.0], "elbo": [-3.0, -2.0], "kl_loss": [0.5, 0.7]}
    figure = _read_back(plotting.plot_loss_curves(vae_history, tmp_path / "vae.png"), saved_figures)
    assert [ax.get_title() for ax in figure.axes] == ["loss", "kl_loss"]
    with pytest.raises(ValueError, match="holds no metrics"):
        plotting.plot_loss_curves({"val_loss": [1.0]}, tmp_path / "none.png")


def test_latent_kl_per_dim_is_the_gaussian_kl(models, digits):
    x, _ = digits
    vae = models["vae"]
    z_mean, z_log_var, _ = vae.encoder.predict(x[:50], verbose=0)
    expected = np.mean(0.5 * (np.exp(z_log_var) + z_mean**2 - 1 - z_log_var), axis=0)
    np.testing.assert_allclose(plotting.latent_kl_per_dim(vae, x[:50]), expected, rtol=1e-5)
    # Summed over dimensions it is the model's own KL term.
    kl = vae.evaluate(x[:50], verbose=0, return_dict=True)["kl_loss"]
    assert plotting.latent_kl_per_dim(vae, x[:50]).sum() == pytest.approx(kl, rel=1e-4)


def test_bad_inputs(models, tmp_path):
    with pytest.raises(ValueError, match="generative model"):
        plotting.plot_samples(models["ae"], tmp_path / "x.png")
    one_d = keras_ae.create_model("vae", input_shape=(8, 8, 1), latent_dim=1, hidden_units=(8,))
    with pytest.raises(ValueError, match=r"two latent dimensions. Received: a model with latent_dim=1"):
        plotting.plot_latent_manifold(one_d, tmp_path / "x.png")
    vae = models["vae"]
    with pytest.raises(
        ValueError, match=r"`dims` must hold latent dimensions in \[0, \d+\). Received: dims=\(0, 99\)"
    ):
        plotting.plot_latent_manifold(vae, tmp_path / "x.png", dims=(0, 99))
    with pytest.raises(ValueError, match=r"two distinct latent dimensions. Received: dims=\[1, 1\]"):
        plotting.plot_latent_manifold(vae, tmp_path / "x.png", dims=(1, 1))
    with pytest.raises(ValueError, match=r"Received: dims=\[-1\]"):
        plotting.plot_latent_traversals(
            vae, np.zeros((2, *vae.data_shape), "float32"), tmp_path / "x.png", dims=[-1]
        )


def test_filters_of_a_non_square_dense_input_are_drawn_in_its_shape(tmp_path, saved_figures):
    model = keras_ae.create_model("autoencoder", input_shape=(6, 4), latent_dim=2, hidden_units=(5,))
    kernel = plotting.first_layer_kernel(model)
    figure = _read_back(plotting.plot_filters(model, tmp_path / "filters.png", n=5), saved_figures)
    columns = kernel[:, np.argsort(-np.linalg.norm(kernel, axis=0))[:5]].T.reshape(5, 6, 4)
    low, high = columns.min(axis=(1, 2), keepdims=True), columns.max(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(_panels(figure), (columns - low) / (high - low), rtol=1e-5, atol=1e-6)
