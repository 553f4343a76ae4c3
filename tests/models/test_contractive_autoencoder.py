import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.data import load_digits


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def single_layer(jacobian="closed_form", **kwargs):
    keras.utils.set_random_seed(0)
    args = {"input_shape": (20,), "latent_dim": 15, "hidden_units": (), "jacobian": jacobian}
    return keras_ae.create_model("contractive_autoencoder", **{**args, **kwargs})


def randomize(model, rng, scale=1.0):
    for w in model.trainable_weights:
        w.assign(rng.normal(scale=scale, size=w.shape).astype("float32"))


def test_paper_call_uses_the_closed_form_with_tied_weights():
    model = keras_ae.create_model(
        "contractive_autoencoder",
        input_shape=(784,),
        latent_dim=1000,
        hidden_units=(),
        tied_weights=True,
        contractive_weight=0.1,
    )
    assert model.uses_closed_form and model.contractive_weight == 0.1
    assert model.decoder_network.get_layer("decoder_output").kernel is model.encoder.get_layer("code").kernel


def test_closed_form_equals_the_autodiff_jacobian_and_a_hand_computation(rng):
    model = single_layer()
    randomize(model, rng)
    x = rng.uniform(size=(32, 20)).astype("float32")
    closed = keras.ops.convert_to_numpy(model.closed_form_jacobian_sq_norms(model.encoder(x)))
    _, autodiff = model.autodiff_jacobian_sq_norms(x)
    np.testing.assert_allclose(closed, keras.ops.convert_to_numpy(autodiff), rtol=1e-5)
    kernel = model.encoder.get_layer("code").kernel.numpy().astype("float64")
    bias = model.encoder.get_layer("code").bias.numpy().astype("float64")
    h = sigmoid(x @ kernel + bias)
    jac = (h * (1 - h))[:, :, None] * kernel.T[None]  # J[b, j, i] = h_j (1 - h_j) W_ij
    np.testing.assert_allclose(closed, np.sum(jac**2, axis=(1, 2)), rtol=1e-5)


def test_closed_form_holds_for_image_inputs_through_the_flatten(rng):
    model = keras_ae.create_model(
        "contractive_autoencoder",
        input_shape=(4, 3, 1),
        latent_dim=6,
        hidden_units=(),
        jacobian="closed_form",
    )
    randomize(model, rng)
    x = rng.uniform(size=(5, 4, 3, 1)).astype("float32")
    closed = model.closed_form_jacobian_sq_norms(model.encoder(x))
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(closed),
        keras.ops.convert_to_numpy(model.autodiff_jacobian_sq_norms(x)[1]),
        rtol=1e-5,
    )


def test_training_gradients_of_both_paths_agree(rng):
    model = single_layer()
    randomize(model, rng, scale=0.5)
    x = tf.constant(rng.uniform(size=(16, 20)).astype("float32"))
    kernel = model.encoder.get_layer("code").kernel
    with tf.GradientTape(persistent=True) as tape:
        closed = tf.reduce_mean(model.closed_form_jacobian_sq_norms(model.encoder(x)))
        autodiff = tf.reduce_mean(model.autodiff_jacobian_sq_norms(x)[1])
    np.testing.assert_allclose(
        tape.gradient(closed, kernel), tape.gradient(autodiff, kernel), rtol=1e-4, atol=1e-6
    )


def test_autodiff_path_matches_the_chain_rule_for_a_deeper_encoder(rng):
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model(
        "contractive_autoencoder", input_shape=(7,), latent_dim=4, hidden_units=(9,), activation="sigmoid"
    )
    assert not model.uses_closed_form
    randomize(model, rng)
    x = rng.uniform(size=(6, 7)).astype("float32")
    w1, b1 = (v.numpy().astype("float64") for v in model.encoder.get_layer("encoder_dense_0").weights)
    w2, b2 = (v.numpy().astype("float64") for v in model.encoder.get_layer("code").weights)
    h1 = sigmoid(x @ w1 + b1)
    h = sigmoid(h1 @ w2 + b2)
    # J = diag(h (1 - h)) W2^T diag(h1 (1 - h1)) W1^T, per example.
    jac = np.einsum("bj,kj,bk,ik->bji", h * (1 - h), w2, h1 * (1 - h1), w1)
    _, sq_norms = model.jacobian_sq_norms(x)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(sq_norms), np.sum(jac**2, axis=(1, 2)), rtol=1e-5)


@pytest.mark.parametrize("jacobian", ["closed_form", "autodiff"])
def test_penalty_in_the_loss_and_logged_terms(rng, jacobian):
    model = single_layer(jacobian, contractive_weight=0.3)
    randomize(model, rng, scale=0.5)
    model.compile(optimizer="adam")
    x = rng.uniform(size=(12, 20)).astype("float32")
    kernel = model.encoder.get_layer("code").kernel.numpy().astype("float64")
    h = model.encode(x).astype("float64")
    sq_norms = np.sum((h * (1 - h)) ** 2 * np.sum(kernel**2, axis=0), axis=1)
    model(x, return_outputs=True)
    np.testing.assert_allclose(float(model.losses[0]), 0.3 * sq_norms.mean(), rtol=1e-5)
    logs = model.evaluate(x, batch_size=12, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["contractive_loss"], 0.3 * sq_norms.mean(), rtol=1e-5)
    np.testing.assert_allclose(logs["loss"] - logs["reconstruction_loss"], 0.3 * sq_norms.mean(), rtol=1e-4)
    np.testing.assert_allclose(logs["jacobian_norm"], np.sqrt(sq_norms).mean(), rtol=1e-5)
    # predict() and plain calls need no Jacobian and add no loss.
    recon = model(x)
    assert model.losses == []
    np.testing.assert_allclose(keras.ops.convert_to_numpy(recon), model.predict(x, verbose=0), rtol=1e-6)


def test_sample_weights_weight_the_penalty(rng):
    model = single_layer(contractive_weight=1.0)
    x = rng.uniform(size=(4, 20)).astype("float32")
    weights = np.array([1.0, 0.0, 2.0, 0.5], "float32")
    sq_norms = keras.ops.convert_to_numpy(model.jacobian_sq_norms(x)[1])
    model(x, sample_weight=weights, return_outputs=True)
    np.testing.assert_allclose(float(model.losses[0]), np.sum(sq_norms * weights) / 4, rtol=1e-5)


def test_training_contracts_the_encoder():
    (x, _), _ = load_digits()
    x = x.reshape(len(x), -1)
    norms = {}
    for weight in (0.0, 1.0):
        model = single_layer("auto", input_shape=(64,), latent_dim=32, contractive_weight=weight)
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        model.fit(x, epochs=3, batch_size=64, verbose=0)
        norms[weight] = model.evaluate(x, batch_size=512, verbose=0, return_dict=True)["jacobian_norm"]
    assert norms[1.0] < 0.5 * norms[0.0]


def test_jit_compile_is_refused_for_the_autodiff_path_only(rng):
    model = single_layer("autodiff")
    with pytest.raises(ValueError, match=r"cannot run under XLA.*jit_compile=True"):
        model.compile(optimizer="adam", jit_compile=True)
    model.compile(optimizer="adam")
    assert model.jit_compile is False
    with pytest.raises(ValueError, match=r"cannot run under XLA"):
        model.jit_compile = True
    closed = single_layer("closed_form")
    closed.compile(optimizer="adam", jit_compile=True)
    assert closed.jit_compile is True
    history = closed.fit(rng.uniform(size=(8, 20)).astype("float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["contractive_loss"][0])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"Received: contractive_weight=-0.1"):
        single_layer(contractive_weight=-0.1)
    with pytest.raises(ValueError, match=r"Received: jacobian='numeric'"):
        single_layer("numeric")
    with pytest.raises(ValueError, match=r"closed_form' needs a single dense sigmoid.*hidden_units=\(16,\)"):
        single_layer(hidden_units=(16,))
    with pytest.raises(
        ValueError, match=r"closed_form' needs a single dense sigmoid.*code_activation='relu'"
    ):
        single_layer(code_activation="relu")
    assert not single_layer("auto", code_activation="relu").uses_closed_form
