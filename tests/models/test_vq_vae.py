"""VQ-VAE specifics: logged code statistics, codes in and out, the PixelCNN prior, bad input.

Fit/evaluate/save/load/export of the model (with a prior) run in the shared harnesses.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae import PixelCNNPrior
from tests.models.test_harness import make_data

KW = {"input_shape": (12, 12, 1), "latent_dim": 3, "num_embeddings": 8, "filters": (4, 8), "seed": 0}


def test_conv_networks_follow_the_paper_and_the_grid_is_downsampled():
    model = keras_ae.create_model("vq_vae", **KW)
    assert model.architecture == "conv" and model.latent_grid == (3, 3)
    names = [layer.name for layer in model.encoder_network.layers]
    kernels = [model.encoder_network.get_layer(n).kernel_size for n in ("encoder_conv_0", "encoder_conv_1")]
    assert kernels == [(4, 4), (4, 4)]
    assert sum("conv3x3" in n for n in names) == 2 and sum("conv1x1" in n for n in names) == 2
    assert model.encoder_network.output_shape == (None, 3, 3, 3)
    mlp = keras_ae.create_model("vq_vae", input_shape=(20,), latent_dim=2, num_latents=5, hidden_units=(8,))
    assert mlp.architecture == "mlp" and mlp.code_spec.shape == (5,)


def test_logged_perplexity_and_usage_match_numpy():
    model = keras_ae.create_model("vq_vae", **KW)
    model.compile(optimizer="adam")
    x = make_data(40)
    logs = model.evaluate(x, batch_size=40, verbose=0, return_dict=True)
    counts = np.bincount(model.encode(x).reshape(-1), minlength=8)
    p = counts / counts.sum()
    entropy = -np.sum(p[p > 0] * np.log(p[p > 0]))
    assert logs["perplexity"] == pytest.approx(np.exp(entropy), rel=1e-5)
    assert logs["codebook_usage"] == pytest.approx(np.mean(counts > 0))
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"] + logs["vq_loss"], rel=1e-5)


def test_ema_codebook_with_restarts_keeps_codes_alive():
    keras.utils.set_random_seed(0)
    x = make_data(256)
    usage = {}
    for ema, restart in ((False, None), (True, 5)):
        model = keras_ae.create_model(
            "vq_vae", **{**KW, "num_embeddings": 32}, ema=ema, restart_after=restart
        )
        model.compile(optimizer=keras.optimizers.Adam(3e-3))
        model.fit(x, epochs=6, batch_size=32, verbose=0)
        usage[ema] = np.unique(model.encode(x)).size / 32
    # Loss-updated codes collapse onto a few; EMA with restarts keeps most in use (the
    # >= 90% target on MNIST is measured in benchmarks/vq_vae_mnist.py).
    assert usage[True] >= 0.75 and usage[False] <= 0.25, usage


def test_decode_refuses_bad_indices_by_name():
    model = keras_ae.create_model("vq_vae", **KW)
    good = np.zeros((2, 3, 3), "int32")
    assert model.decode(good).shape == (2, 12, 12, 1)
    np.testing.assert_array_equal(model.decode(good.astype("float32")), model.decode(good))
    with pytest.raises(ValueError, match=r"lie in \[0, 8\).*\[0, 8\]"):
        model.decode(good + np.eye(3, dtype="int32")[None] * 8)
    with pytest.raises(ValueError, match=r"lie in \[0, 8\).*\[-1, 0\]"):
        model.decode(good - np.eye(3, dtype="int32")[None])
    with pytest.raises(ValueError, match=r"shape \(batch, 3, 3\).*shape=\(2, 9\)"):
        model.decode(np.zeros((2, 9), "int32"))
    with pytest.raises(ValueError, match="must hold integers"):
        model.decode(good + 0.5)
    with pytest.raises(ValueError, match="must hold integers"):
        model.decode(np.full((1, 3, 3), np.nan))


def test_exported_decode_refuses_out_of_range_indices(tmp_path):
    model = keras_ae.create_model("vq_vae", **KW)
    loaded = tf.saved_model.load(model.export_for_serving(str(tmp_path)))
    decode = loaded.signatures["decode"]
    good = np.ones((2, 3, 3), "int32")
    np.testing.assert_allclose(
        decode(indices=tf.constant(good))["reconstruction"].numpy(), model.decode(good), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"must lie in \[0, 8\)"):
        decode(indices=tf.constant(good * 8))


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"num_embeddings": 0}, "num_embeddings=0"),
        ({"latent_dim": 0}, "latent_dim=0"),
        ({"commitment_cost": -1}, "commitment_cost=-1"),
        ({"decay": 1.0}, "decay=1.0"),
        ({"restart_after": 0}, "restart_after=0"),
        ({"hidden_units": (16,)}, r"hidden_units=\(16,\)"),
        ({"num_latents": 4}, "num_latents=4"),
        ({"residual_blocks": -1}, "residual_blocks=-1"),
        ({"prior": "pixelcnn"}, "prior='pixelcnn'"),
    ],
)
def test_bad_arguments_are_refused_by_name(overrides, pattern):
    with pytest.raises(ValueError, match=pattern):
        keras_ae.create_model("vq_vae", **{**KW, **overrides})


def test_user_encoder_must_output_embedding_sized_vectors():
    inputs = keras.Input((12, 12, 1))
    encoder = keras.Model(inputs, keras.layers.Conv2D(5, 4, strides=4)(inputs))
    with pytest.raises(
        ValueError, match=r"latent_dim=3; received an encoder output with shape=\(None, 3, 3, 5\)"
    ):
        keras_ae.create_model("vq_vae", encoder=encoder, latent_dim=3, num_embeddings=8)
    model = keras_ae.create_model("vq_vae", encoder=encoder, latent_dim=5, num_embeddings=8, filters=(4, 8))
    assert model.code_spec.shape == (3, 3)
    with pytest.raises(ValueError, match="grids"):
        model.attach_prior(PixelCNNPrior((2, 2), 8))


def test_user_decoder_takes_the_quantized_grid():
    # KW's conv encoder downsamples 12 x 12 to a 3 x 3 grid of 3-vectors.
    def decoder(input_shape, activation=None):
        z = keras.Input(input_shape)
        return keras.Model(z, keras.layers.Conv2DTranspose(1, 4, strides=4, activation=activation)(z))

    with pytest.raises(
        ValueError, match=r"input shape \(3, 3, 4\) does not match latent_dim=3: it must be \(3, 3, 3\)"
    ):
        keras_ae.create_model("vq_vae", **KW, decoder=decoder((3, 3, 4)))
    with pytest.raises(ValueError, match="must output logits"):
        keras_ae.create_model("vq_vae", **KW, decoder=decoder((3, 3, 3), activation="sigmoid"))
    model = keras_ae.create_model("vq_vae", **KW, decoder=decoder((3, 3, 3)))
    assert model.decoder_network.input_shape == (None, 3, 3, 3)
    x = make_data(4)
    # decode(encode(x)) runs the user's network on the codebook vectors of the indices.
    vectors = keras.ops.convert_to_numpy(model.quantizer.codebook)[model.encode(x)]
    logits = keras.ops.convert_to_numpy(model.decoder_network(vectors))
    np.testing.assert_allclose(model.decode(model.encode(x)), 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------ the prior
def test_pixelcnn_is_causal_in_raster_order():
    prior = PixelCNNPrior((4, 5), 6, filters=8, num_blocks=3)
    rng = np.random.default_rng(0)
    grids = rng.integers(0, 6, size=(2, 4, 5))
    logits = prior(grids).numpy()
    flat = grids.reshape(2, -1)
    for position in range(20):
        changed = flat.copy()
        changed[:, position:] = rng.integers(0, 6, size=changed[:, position:].shape)
        moved = prior(changed.reshape(2, 4, 5)).numpy().reshape(2, 20, 6)
        # Positions up to and including `position` see only positions before them.
        np.testing.assert_allclose(
            moved[:, : position + 1], logits.reshape(2, 20, 6)[:, : position + 1], atol=1e-5
        )
    # ... and a later position sees an earlier one above and to its right, where masked
    # 3x3 convolutions have their blind spot.
    changed = flat.copy()
    changed[:, 2] = (changed[:, 2] + 1) % 6  # row 0, column 2
    moved = prior(changed.reshape(2, 4, 5)).numpy().reshape(2, 20, 6)
    assert not np.allclose(moved[:, 5], logits.reshape(2, 20, 6)[:, 5])  # row 1, column 0


def test_pixelcnn_learns_constant_grids_and_samples_them():
    # Each grid repeats one of 4 codes: the first position costs log 4 nats, the rest ~0.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(1)
    grids = np.repeat(rng.integers(0, 4, size=(512, 1, 1)), 9, axis=1).reshape(512, 3, 3)
    prior = PixelCNNPrior((3, 3), 4, filters=16, num_blocks=3)
    prior.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = prior.fit(grids, epochs=30, batch_size=64, verbose=0)
    assert history.history["loss"][-1] < np.log(4) + 0.2
    log_prob = keras.ops.convert_to_numpy(prior.log_prob(grids[:8]))
    np.testing.assert_allclose(log_prob, -np.log(4), atol=0.25)
    samples = prior.sample(64, seed=3)
    assert samples.shape == (64, 3, 3) and samples.dtype == np.int32
    constant = (samples == samples[:, :1, :1]).all(axis=(1, 2))
    assert constant.mean() > 0.9
    assert len(np.unique(samples[:, 0, 0])) == 4  # all four codes are drawn
    np.testing.assert_array_equal(prior.sample(64, seed=3), samples)


def test_pixelcnn_weighs_examples_by_sample_weight():
    # Keras' "sum_over_batch_size": sum(w * nll) / batch size, as the autoencoders' losses.
    prior = PixelCNNPrior((3, 3), 4, filters=8, num_blocks=2)
    prior.compile(optimizer="adam")
    grids = np.random.default_rng(5).integers(0, 4, size=(6, 3, 3)).astype("int32")
    weights = np.array([1.0, 0.0, 2.0, 0.5, 0.0, 3.0], "float32")
    nll = -keras.ops.convert_to_numpy(prior.log_prob(grids))
    logs = prior.evaluate(grids, sample_weight=weights, batch_size=6, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.sum(weights * nll) / 6, rtol=1e-5)
    np.testing.assert_allclose(logs["bits_per_code"], np.sum(weights * nll) / 6 / 9 / np.log(2), rtol=1e-5)


def test_pixelcnn_refuses_bad_grids():
    prior = PixelCNNPrior((3, 3), 4)
    prior.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"must lie in \[0, 4\)\. Received: values in \[4, 4\]"):
        prior.fit(np.full((2, 3, 3), 4), verbose=0)
    with pytest.raises(ValueError, match="integer"):
        prior.fit(np.zeros((2, 3, 3), "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"shape \(batch, 3, 3\)"):
        prior.fit(np.zeros((2, 9), "int32"), verbose=0)
    with pytest.raises(ValueError, match="grid_shape"):
        PixelCNNPrior((2, 2, 2), 4)


def test_sampling_needs_a_prior_then_works_after_fit_prior():
    model = keras_ae.create_model("vq_vae", **KW)
    model.compile(optimizer="adam")
    x = make_data(64)
    model.fit(x, epochs=1, batch_size=32, verbose=0)
    assert not model.generative
    with pytest.raises(ValueError, match="not generative"):
        model.sample(2, seed=0)
    history = model.fit_prior(x, epochs=2, batch_size=32, verbose=0, filters=8, num_blocks=2)
    assert set(history.history) == {"loss", "bits_per_code"}
    assert model.generative
    samples = model.sample(4, seed=5)
    assert samples.shape == (4, 12, 12, 1)
    np.testing.assert_array_equal(model.sample(4, seed=5), samples)
    with pytest.raises(ValueError, match="takes no new arguments"):
        model.fit_prior(x, epochs=1, filters=4)


def test_pixelcnn_over_a_sequence_sees_its_whole_past():
    # An MLP VQ-VAE's 16 codes are laid out 4x4 in raster order: the last position's
    # conditional reaches the first, and no position sees itself or a later one.
    prior = PixelCNNPrior((16,), 5, filters=8, num_blocks=3)
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 5, size=(2, 16))
    logits = prior(codes).numpy()
    changed = codes.copy()
    changed[:, 0] = (changed[:, 0] + 1) % 5
    assert not np.allclose(prior(changed).numpy()[:, 15], logits[:, 15])
    later = codes.copy()
    later[:, 9:] = rng.integers(0, 5, size=(2, 7))
    np.testing.assert_allclose(prior(later).numpy()[:, :10], logits[:, :10], atol=1e-5)


@pytest.mark.parametrize("filters", [(), (0,), (-3, 8), ("a",)])
def test_bad_filters_are_refused_by_name(filters):
    with pytest.raises(ValueError, match=r"Argument `filters` must be a non-empty sequence of positive ints"):
        keras_ae.create_model("vq_vae", **{**KW, "filters": filters})
