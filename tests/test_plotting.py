"""Pictures: each plot function writes a non-empty PNG whose pixels vary, and shows what it says."""

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


def _check_png(path):
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50
    assert image[..., :3].std() > 0.01  # not a constant picture
    return image


def test_reconstructions_samples_traversals_manifold_scatter(models, digits, tmp_path):
    x, y = digits
    vae = models["vae"]
    _check_png(plotting.plot_reconstructions(vae, x, tmp_path / "rec.png"))
    _check_png(plotting.plot_samples(vae, tmp_path / "samples.png", n=16))
    _check_png(plotting.plot_latent_traversals(vae, x[:200], tmp_path / "trav.png", steps=5))
    _check_png(plotting.plot_latent_manifold(vae, tmp_path / "manifold.png", n=6, x=x[:200]))
    _check_png(plotting.plot_latent_scatter(vae, x, y, tmp_path / "scatter.png"))
    _check_png(plotting.plot_latent_scatter(models["ae"], x, y, tmp_path / "scatter_ae.png"))


def test_filters_dense_and_conv(models, tmp_path):
    kernel = plotting.first_layer_kernel(models["ae"])
    np.testing.assert_array_equal(
        kernel, np.asarray(models["ae"].encoder.get_layer("encoder_dense_0").kernel)
    )
    assert kernel.shape == (64, 24)
    _check_png(plotting.plot_filters(models["ae"], tmp_path / "filters.png", n=16))
    assert plotting.first_layer_kernel(models["conv"]).shape == (3, 3, 1, 6)
    _check_png(plotting.plot_filters(models["conv"], tmp_path / "conv_filters.png"))


def test_loss_curves(tmp_path):
    history = {"loss": [3.0, 2.0, 1.5], "val_loss": [3.2, 2.4, 2.0], "kl_loss": [0.1, 0.5, 0.7]}
    _check_png(plotting.plot_loss_curves(history, tmp_path / "curves.png"))
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
    with pytest.raises(ValueError, match="two latent dimensions"):
        plotting.plot_latent_manifold(one_d, tmp_path / "x.png")
