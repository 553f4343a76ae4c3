import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.data import load_digits
from keras_ae.regularizers import KLSparsity, L1Activity


def kl_penalty(h, rho, beta):
    rho_hat = h.astype("float64").mean(axis=0)
    return beta * np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))


def small(**kwargs):
    keras.utils.set_random_seed(0)
    args = {"input_shape": (10,), "latent_dim": 6, "hidden_units": (8,)}
    return keras_ae.create_model("sparse_autoencoder", **{**args, **kwargs})


def test_paper_call_builds_a_sigmoid_code_with_the_kl_regularizer():
    model = keras_ae.create_model(
        "sparse_autoencoder", input_shape=(784,), latent_dim=196, sparsity_target=0.05, sparsity_weight=3.0
    )
    code = model.encoder.get_layer("code")
    assert code.activation is keras.activations.sigmoid
    assert isinstance(code.activity_regularizer, KLSparsity)
    assert code.activity_regularizer.get_config() == {"rho": 0.05, "beta": 3.0}
    assert keras_ae.SparseAutoencoder(input_shape=(4,), latent_dim=2).sparsity_target == 0.05


@pytest.mark.parametrize("batch_size", [1, 7, 40])
def test_kl_penalty_in_the_loss_equals_the_formula_for_any_batch_size(rng, batch_size):
    model = small(sparsity_target=0.1, sparsity_weight=2.0)
    model.compile(optimizer="adam")
    x = rng.uniform(size=(batch_size, 10)).astype("float32")
    model(x, return_outputs=True)
    assert len(model.losses) == 1
    reached = float(model.losses[0])
    codes = model.encode(x)
    expected = kl_penalty(codes, 0.1, 2.0)
    np.testing.assert_allclose(reached, expected, rtol=1e-5)
    logs = model.evaluate(x, batch_size=batch_size, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"] - logs["reconstruction_loss"], expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logs["sparsity_loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(logs["mean_activation"], codes.mean(), rtol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 9])
def test_l1_penalty_in_the_loss_equals_the_formula(rng, batch_size):
    model = small(penalty="l1", sparsity_weight=0.5, code_activation="relu")
    assert isinstance(model.encoder.get_layer("code").activity_regularizer, L1Activity)
    model.compile(optimizer="adam")
    x = rng.uniform(size=(batch_size, 10)).astype("float32")
    codes = model.encode(x).astype("float64")
    expected = 0.5 * np.abs(codes).sum(axis=1).mean()
    logs = model.evaluate(x, batch_size=batch_size, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["sparsity_loss"], expected, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"] - logs["reconstruction_loss"], expected, rtol=1e-4, atol=1e-5)


def test_user_encoder_gets_the_penalty_on_its_output(rng):
    inputs = keras.Input((10,))
    encoder = keras.Model(inputs, keras.layers.Dense(5, activation="sigmoid")(inputs), name="mine")
    model = keras_ae.create_model(
        "sparse_autoencoder", encoder=encoder, hidden_units=(8,), sparsity_weight=1.5
    )
    assert model.latent_dim == 5
    x = rng.uniform(size=(12, 10)).astype("float32")
    model(x, return_outputs=True)
    reached = float(model.losses[0])
    np.testing.assert_allclose(reached, kl_penalty(model.encode(x), 0.05, 1.5), rtol=1e-5)
    relu_encoder = keras.Model(inputs, keras.layers.Dense(5, activation="relu", name="relu_code")(inputs))
    with pytest.raises(ValueError, match=r"penalty='kl' needs a sigmoid code.*'relu_code'"):
        keras_ae.create_model("sparse_autoencoder", encoder=relu_encoder)
    keras_ae.create_model("sparse_autoencoder", encoder=relu_encoder, penalty="l1")


def test_training_drives_the_mean_activation_towards_the_target():
    (x, _), _ = load_digits()
    x = x.reshape(len(x), -1)
    means = {}
    for weight in (0.0, 3.0):
        model = small(
            input_shape=(64,), latent_dim=32, hidden_units=(), sparsity_target=0.05, sparsity_weight=weight
        )
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        # 30 epochs: at 15 the mean (0.079-0.080, by the batch order) sits at the edge of the bound.
        model.fit(x, epochs=30, batch_size=64, verbose=0)
        means[weight] = float(model.encode(x).mean())
    assert means[3.0] < 0.1 < means[0.0]
    assert abs(means[3.0] - 0.05) < 0.03


@pytest.mark.parametrize("rho", [0.0, 1.0, -0.2, 2, "0.05"])
def test_sparsity_target_outside_the_open_unit_interval_is_refused(rho):
    with pytest.raises(ValueError, match=r"Received: sparsity_target="):
        small(sparsity_target=rho)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"needs a sigmoid code.*code_activation='relu'"):
        small(code_activation="relu")
    with pytest.raises(ValueError, match=r"Received: sparsity_weight=-1"):
        small(sparsity_weight=-1)
    with pytest.raises(ValueError, match=r"Received: penalty='l2'"):
        small(penalty="l2")
