"""The VAE's maths: KL by add_loss, ELBO terms, keras-io compatibility, user networks."""

import json

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.losses import bernoulli_nll, gaussian_kl


def _np(t):
    return keras.ops.convert_to_numpy(t)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.uniform(size=(64, 20)).astype("float32")


@pytest.fixture(scope="module")
def vae(data):
    keras.utils.set_random_seed(1)
    model = keras_ae.create_model("vae", input_shape=(20,), latent_dim=3, hidden_units=(16,), seed=0)
    model.compile(optimizer="adam")
    model.fit(data, epochs=2, batch_size=16, verbose=0)
    return model


def monte_carlo_reconstruction(model, x):
    """Per-example E_q[-log p(x|z)] with the draws the model's evaluation uses: `elbo_samples`
    normals keyed by each example's values and the model's seed."""
    z_mean, z_log_var, _ = (_np(t) for t in model.encoder(x))
    s, n, d = model.elbo_samples, len(x), model.latent_dim
    eps = _np(keras_ae.backend.keyed_normal(keras_ae.backend.example_keys(x, model.seed or 0), (s, d)))
    z = z_mean[:, None] + np.exp(0.5 * z_log_var)[:, None] * eps
    nll = _np(bernoulli_nll(np.repeat(x, s, axis=0), model.decoder_network(z.reshape(n * s, d))))
    return nll.reshape(n, s).mean(axis=1)


def test_evaluation_draws_are_keyed_by_the_example_not_its_batch(vae, data):
    alone = [vae.evaluate(data[i : i + 1], verbose=0, return_dict=True)["elbo"] for i in (0, 9)]
    together = monte_carlo_reconstruction(vae, data)
    kl = _np(gaussian_kl(*vae.encoder(data)[:2]))
    np.testing.assert_allclose(alone, -(together + kl)[[0, 9]], rtol=1e-5)
    # The same example twice in one batch gets the same estimate; the keys are distinct otherwise.
    keys = _np(keras_ae.backend.example_keys(np.concatenate([data, data[:1]]), 0))
    assert keys[0] == keys[-1] and len(set(keys[:-1].tolist())) == len(data)


def test_logged_terms_equal_hand_computation(vae, data):
    z_mean, z_log_var, z = vae.encoder.predict(data, verbose=0)
    np.testing.assert_array_equal(z, z_mean)  # encoding (inference) gives the posterior mean
    kl = _np(gaussian_kl(z_mean, z_log_var)).mean()
    # The reported reconstruction term is a Monte Carlo estimate over posterior samples,
    # not the reconstruction of the mean code (which is no bound on log p(x)).
    recon = monte_carlo_reconstruction(vae, data).mean()
    at_the_mean = _np(bernoulli_nll(data, vae.decoder_network(z_mean))).mean()
    assert abs(recon - at_the_mean) > 1e-3
    logs = vae.evaluate(data, batch_size=64, verbose=0, return_dict=True)
    assert logs["kl_loss"] == pytest.approx(kl, rel=1e-5)
    assert logs["reconstruction_loss"] == pytest.approx(recon, rel=1e-5)
    assert logs["loss"] == pytest.approx(recon + kl, rel=1e-5)
    assert logs["elbo"] == pytest.approx(-(recon + kl), rel=1e-5)


def test_kl_reaches_the_loss_through_add_loss(vae, data):
    vae(data, training=False)
    assert len(vae.losses) == 1
    z_mean, z_log_var, _ = vae.encoder(data)
    assert _np(vae.losses[0]) == pytest.approx(_np(gaussian_kl(z_mean, z_log_var)).mean(), rel=1e-5)


def test_training_draws_samples_and_the_kl_matches_monte_carlo(vae, data):
    x = np.repeat(data[:1], 20000, axis=0)
    z_mean, z_log_var, z = (_np(t) for t in vae.encoder(x, training=True))
    assert not np.allclose(z, z_mean)
    np.testing.assert_allclose(z.mean(axis=0), z_mean[0], atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), np.exp(0.5 * z_log_var[0]), rtol=0.03)
    # Monte Carlo KL: E_q[log q(z|x) - log p(z)] from the layer's own draws.
    var = np.exp(z_log_var[0])
    log_q = -0.5 * (np.log(2 * np.pi * var) + (z - z_mean[0]) ** 2 / var).sum(axis=1)
    log_p = -0.5 * (np.log(2 * np.pi) + z**2).sum(axis=1)
    closed = _np(gaussian_kl(z_mean[:1], z_log_var[:1]))[0]
    assert (log_q - log_p).mean() == pytest.approx(closed, rel=0.03, abs=0.02)


def test_keras_io_style_encoder_and_decoder(vae, data):
    # The keras-io VAE example calls these two sub-models directly.
    z_mean, _, _ = vae.encoder.predict(data, verbose=0)
    images = vae.decoder.predict(z_mean, verbose=0)
    assert images.min() >= 0.0 and images.max() <= 1.0
    np.testing.assert_allclose(images, vae.reconstruct(data), rtol=1e-5, atol=1e-6)


def test_sample_is_reproducible_per_seed(vae):
    a, b, c = vae.sample(5, seed=3), vae.sample(5, seed=3), vae.sample(5, seed=4)
    assert a.shape == (5, 20)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    with pytest.raises(ValueError, match="num_samples=0"):
        vae.sample(0)


def test_sample_weights_weight_both_terms(data):
    model = keras_ae.create_model("vae", input_shape=(20,), latent_dim=3, hidden_units=(16,), seed=0)
    model.compile(optimizer="adam")
    weights = np.linspace(0.0, 2.0, len(data)).astype("float32")
    z_mean, z_log_var, _ = model.encoder.predict(data, verbose=0)
    kl = _np(gaussian_kl(z_mean, z_log_var))
    recon = monte_carlo_reconstruction(model, data)
    logs = model.evaluate(data, sample_weight=weights, batch_size=64, verbose=0, return_dict=True)
    assert logs["kl_loss"] == pytest.approx((kl * weights).mean(), rel=1e-5)
    assert logs["reconstruction_loss"] == pytest.approx((recon * weights).mean(), rel=1e-5)


@pytest.mark.parametrize("outputs", ["features", "mean_log_var", "keras_io"])
def test_user_encoders(outputs, data, tmp_path):
    inputs = keras.Input((20,))
    h = keras.layers.Dense(8, activation="relu")(inputs)
    if outputs == "features":
        encoder = keras.Model(inputs, h, name="my_encoder")
    else:
        mean, log_var = keras.layers.Dense(2)(h), keras.layers.Dense(2)(h)
        heads = (
            [mean, log_var]
            if outputs == "mean_log_var"
            else [mean, log_var, keras_ae.layers.Sampling()([mean, log_var])]
        )
        encoder = keras.Model(inputs, heads, name="my_encoder")
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(20)], name="my_decoder")
    model = keras_ae.VAE(latent_dim=2 if outputs == "features" else None, encoder=encoder, decoder=decoder)
    assert model.data_shape == (20,) and model.latent_dim == 2
    model.compile(optimizer="adam")
    model.fit(data, epochs=1, batch_size=32, verbose=0)
    config = json.loads(json.dumps(model.get_config()))
    assert config["encoder"]["config"]["name"] == "my_encoder"
    model.save(tmp_path / "vae.keras")
    restored = keras.models.load_model(tmp_path / "vae.keras")
    np.testing.assert_array_equal(restored.predict(data, verbose=0), model.predict(data, verbose=0))


def test_user_network_mismatches_are_reported():
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(20, activation="sigmoid")])
    with pytest.raises(ValueError, match="must output logits"):
        keras_ae.VAE(input_shape=(20,), latent_dim=2, decoder=decoder)
    with pytest.raises(ValueError, match=r"does not match latent_dim=3"):
        keras_ae.VAE(
            input_shape=(20,),
            latent_dim=3,
            decoder=keras.Sequential([keras.Input((2,)), keras.layers.Dense(20)]),
        )
    with pytest.raises(ValueError, match=r"output shape \(10,\) does not match input_shape=\(20,\)"):
        keras_ae.VAE(
            input_shape=(20,),
            latent_dim=2,
            decoder=keras.Sequential([keras.Input((2,)), keras.layers.Dense(10)]),
        )
    with pytest.raises(ValueError, match=r"encoder's input shape \(12,\) does not match input_shape=\(20,\)"):
        keras_ae.VAE(
            input_shape=(20,),
            latent_dim=2,
            encoder=keras.Sequential([keras.Input((12,)), keras.layers.Dense(8)]),
        )
    with pytest.raises(ValueError, match="encoder=3"):
        keras_ae.VAE(input_shape=(20,), latent_dim=2, encoder=3)
    # A conv encoder without Flatten: refused when built, not when the decoder meets a grid.
    conv = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, strides=2, padding="same")])
    with pytest.raises(ValueError, match=r"flat features.*Flatten.*shape=\(None, 4, 4, 4\)"):
        keras_ae.VAE(input_shape=(8, 8, 1), latent_dim=2, encoder=conv)
    heads = keras.Input((8, 8, 1))
    grid = keras.layers.Conv2D(2, 3, padding="same")(heads)
    with pytest.raises(ValueError, match=r"z_mean and z_log_var shaped \(batch, latent_dim\)"):
        keras_ae.VAE(input_shape=(8, 8, 1), encoder=keras.Model(heads, [grid, grid]))
    # Networks without a defined shape (no keras.Input; a subclassed model) are named.

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(4)

        def call(self, x):
            return self.dense(x)

    for network in (keras.Sequential([keras.layers.Dense(4)]), Subclassed()):
        with pytest.raises(
            ValueError, match=r"`encoder` must have a defined input shape.*Received: encoder="
        ):
            keras_ae.VAE(input_shape=(20,), latent_dim=2, encoder=network)
        with pytest.raises(ValueError, match=r"`encoder` must have a defined input shape"):
            keras_ae.VAE(latent_dim=2, encoder=network)
        with pytest.raises(ValueError, match=r"`decoder` must have a defined input shape"):
            keras_ae.VAE(input_shape=(20,), latent_dim=2, decoder=network)


def test_reported_elbo_is_a_bound_that_matches_evaluation_elbo(vae, data):
    """evaluate's ELBO is a Monte Carlo ELBO: it agrees with `keras_ae.evaluation.elbo`
    (independent draws) within Monte Carlo error and lies below the importance-weighted
    estimate of log p(x) (Burda et al.: E[L_1] <= E[L_k] <= log p(x))."""
    from keras_ae.evaluation import elbo, importance_weighted_log_likelihood

    many = keras_ae.VAE.from_config({**vae.get_config(), "elbo_samples": 64})
    many.set_weights(vae.get_weights())
    many.compile(optimizer="adam")
    logs = many.evaluate(data, batch_size=64, verbose=0, return_dict=True)
    reference = elbo(vae, data, num_samples=64, seed=5)
    assert logs["elbo"] == pytest.approx(reference["elbo"], abs=0.05)
    assert logs["kl_loss"] == pytest.approx(reference["kl"], rel=1e-5)
    log_px = importance_weighted_log_likelihood(vae, data, num_samples=500, verbose=0).mean()
    assert logs["elbo"] < log_px
    # Decoding the posterior mean instead is no bound here: it would overstate the ELBO.
    z_mean, z_log_var, _ = vae.encoder.predict(data, verbose=0)
    at_the_mean = -(
        _np(bernoulli_nll(data, vae.decoder_network(z_mean))).mean()
        + _np(gaussian_kl(z_mean, z_log_var)).mean()
    )
    assert at_the_mean > logs["elbo"]
