"""Reconstruction error, linear probe and contractive diagnostics against hand computations."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.evaluation import (
    jacobian_frobenius_norm,
    linear_probe_error,
    reconstruction_error,
    saturation_fraction,
)


@pytest.fixture(scope="module")
def sigmoid_autoencoder():
    keras.utils.set_random_seed(0)
    return keras_ae.create_model(
        "autoencoder", input_shape=(6,), latent_dim=4, hidden_units=(), code_activation="sigmoid"
    )


def test_reconstruction_error_matches_numpy(sigmoid_autoencoder):
    model = sigmoid_autoencoder
    x = np.random.default_rng(0).uniform(size=(50, 6)).astype("float32")
    w, c = model.encoder.get_layer("code").get_weights()
    w_out, c_out = model.decoder_network.get_layer("decoder_output").get_weights()
    logits = (1 / (1 + np.exp(-(x @ w + c)))) @ w_out + c_out
    p = 1 / (1 + np.exp(-logits))
    squared = ((x - p) ** 2).sum(1).mean()
    bce = -(x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1).mean()
    result = reconstruction_error(model, x, batch_size=16)
    assert result["squared_error"] == pytest.approx(squared, rel=1e-4)
    assert result["nll"] == pytest.approx(bce, rel=1e-4)


def test_reconstruction_error_scores_float32_targets_under_mixed_precision():
    # The model computes in bfloat16, but the targets it is scored against are the data's
    # float32 values, not their bfloat16 roundings (8 bits of mantissa: errors of ~0.2%).
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model(
        "autoencoder", input_shape=(64,), latent_dim=8, hidden_units=(), dtype="mixed_bfloat16"
    )
    x = np.random.default_rng(0).uniform(0.3, 0.7, size=(40, 64)).astype("float32")
    reconstruction = model.reconstruct(x)  # float32 outputs (the likelihood layer's dtype)
    squared = ((x.astype("float64") - reconstruction) ** 2).sum(1).mean()
    rounded = x.astype(keras.backend.standardize_dtype("bfloat16")).astype("float64")
    assert not np.allclose(((rounded - reconstruction) ** 2).sum(1).mean(), squared, rtol=1e-4)
    assert reconstruction_error(model, x)["squared_error"] == pytest.approx(squared, rel=1e-5)


def test_linear_probe_separable_codes_have_zero_error_and_noise_codes_chance():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, 900)
    centers = np.array([[5.0, 0.0], [0.0, 5.0], [-5.0, -5.0]])
    codes = centers[labels] + rng.normal(scale=0.3, size=(900, 2))
    result = linear_probe_error(codes[:600], labels[:600], codes[600:], labels[600:])
    assert result["error"] == 0.0 and result["train_error"] == 0.0
    noise = rng.normal(size=(900, 5))
    chance = linear_probe_error(noise[:600], labels[:600], noise[600:], labels[600:])["error"]
    assert 0.55 < chance < 0.78  # 2/3 for 3 balanced classes; 300 test points: sd ~0.03


def test_linear_probe_chooses_the_regularization_on_held_out_training_codes():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 600)
    codes = np.concatenate(
        [labels[:, None] * 4.0 + rng.normal(size=(600, 1)), rng.normal(size=(600, 30))], axis=1
    )
    # C=1e-6 shrinks every weight to ~0: a near-constant prediction, about 50% error.
    result = linear_probe_error(
        codes[:400], labels[:400], codes[400:], labels[400:], inverse_regularization=(1e-6, 0.1, 1.0)
    )
    errors = result["validation_errors"]
    assert set(errors) == {1e-6, 0.1, 1.0} and errors[1e-6] > 0.3
    assert result["inverse_regularization"] == min(errors, key=errors.get) != 1e-6
    assert result["error"] < 0.1
    single = linear_probe_error(
        codes[:400], labels[:400], codes[400:], labels[400:], inverse_regularization=0.1
    )
    assert single["validation_errors"] == {} and single["inverse_regularization"] == 0.1
    with pytest.raises(ValueError, match="inverse_regularization"):
        linear_probe_error(codes[:400], labels[:400], codes[400:], labels[400:], inverse_regularization=())


def test_linear_probe_chooses_raw_or_standardized_codes_on_held_out_training_codes():
    # One informative unit at scale 1 and 500 noise units at scale 1e-3: raw, the noise
    # would need weights of order 1000 to be fitted, which C <= 1 forbids; standardized, it
    # weighs as much as the signal and 1,000 training codes overfit it.
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 1500)
    codes = np.concatenate(
        [labels[:, None] * 2.0 + rng.normal(size=(1500, 1)), 1e-3 * rng.normal(size=(1500, 500))], axis=1
    )
    split = (codes[:1000], labels[:1000], codes[1000:], labels[1000:])
    raw = linear_probe_error(*split, standardize=False)
    scaled = linear_probe_error(*split, standardize=True)
    assert raw["error"] < scaled["error"] - 0.05  # Bayes error of the one unit: 16%
    assert raw["validation_errors"] == {} and raw["scaling_validation_errors"] == {}
    chosen = linear_probe_error(*split, standardize=(True, False), inverse_regularization=(0.1, 1.0))
    by_scaling = chosen["scaling_validation_errors"]
    assert set(by_scaling) == {"standardized", "raw"} and set(by_scaling["raw"]) == {0.1, 1.0}
    best = min(min(errors.values()) for errors in by_scaling.values())
    assert chosen["standardize"] is False and by_scaling["raw"][chosen["inverse_regularization"]] == best
    assert chosen["validation_errors"] == by_scaling["raw"]
    refit = linear_probe_error(
        *split, standardize=False, inverse_regularization=chosen["inverse_regularization"]
    )
    assert chosen["error"] == refit["error"]  # the choice is refitted on all training codes
    with pytest.raises(ValueError, match="standardize.*Received: standardize=\\[\\]"):
        linear_probe_error(*split, standardize=[])
    with pytest.raises(ValueError, match="standardize.*Received: standardize=\\('yes',\\)"):
        linear_probe_error(*split, standardize=("yes",))


def test_linear_probe_rejects_mismatched_inputs():
    with pytest.raises(ValueError, match="train_codes"):
        linear_probe_error(np.zeros((5, 2)), np.arange(4), np.zeros((3, 2)), np.arange(3))
    with pytest.raises(ValueError, match="differ in size"):
        linear_probe_error(np.zeros((4, 2)), np.array([0, 1, 0, 1]), np.zeros((3, 3)), np.arange(3))


def test_jacobian_norm_of_a_dense_sigmoid_encoder_matches_the_closed_form(sigmoid_autoencoder):
    # h = sigmoid(W^T x + c): ||J||_F^2 = sum_j (h_j (1 - h_j))^2 ||W_:j||^2 (Rifai et al., eq. 5).
    model = sigmoid_autoencoder
    x = np.random.default_rng(1).uniform(size=(20, 6)).astype("float32")
    w, c = model.encoder.get_layer("code").get_weights()
    h = 1 / (1 + np.exp(-(x @ w + c)))
    expected = np.sqrt(((h * (1 - h)) ** 2 * (w**2).sum(0)).sum(1))
    np.testing.assert_allclose(jacobian_frobenius_norm(model, x, batch_size=7), expected, rtol=1e-4)


def test_jacobian_norm_of_any_encoder_matches_finite_differences():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((5, 5, 1))
    h = keras.layers.Conv2D(3, 3, activation="tanh")(inputs)
    h = keras.layers.Flatten()(h)
    encoder = keras.Model(inputs, keras.layers.Dense(4, activation="softplus")(h))
    x = np.random.default_rng(3).uniform(size=(3, 5, 5, 1))
    eps = 1e-3
    expected = []
    for example in x:
        columns = []
        for i in range(example.size):
            step = np.zeros(example.size)
            step[i] = eps
            step = step.reshape(example.shape)
            plus = encoder(np.stack([example + step]).astype("float64"))
            minus = encoder(np.stack([example - step]).astype("float64"))
            columns.append((np.asarray(plus) - np.asarray(minus))[0] / (2 * eps))
        expected.append(np.linalg.norm(np.array(columns)))
    np.testing.assert_allclose(jacobian_frobenius_norm(encoder, x.astype("float32")), expected, rtol=1e-2)


def test_jacobian_norm_under_mixed_precision_is_reduced_in_float32(mixed_bfloat16):
    # A linear encoder with small integer weights: its Jacobian W^T is exact in bfloat16, so
    # only the reduction can round. ||J||_F = sqrt(66) = 8.12404: a bfloat16 square, sum and
    # sqrt give 8.125 (8 significant bits, 1.2e-4 off), float32 gives it to 1e-7.
    w = np.array([[1, -2, 0, 3], [2, 1, -1, 0], [0, 3, 1, -1], [-1, 0, 2, 1], [3, 1, 0, -2], [1, -1, 2, 3]])
    assert (w**2).sum() == 66
    inputs = keras.Input((6,))
    dense = keras.layers.Dense(4, use_bias=False)
    encoder = keras.Model(inputs, dense(inputs))
    dense.set_weights([w.astype("float32")])
    assert encoder.compute_dtype == "bfloat16"
    x = np.random.default_rng(4).uniform(size=(5, 6)).astype("float32")
    np.testing.assert_allclose(jacobian_frobenius_norm(encoder, x), np.full(5, np.sqrt(66.0)), rtol=1e-6)

    # A nonlinear encoder: its Jacobian entries come from bfloat16 activations and weights,
    # so it matches the float32 twin to bfloat16's resolution (2^-8), not better.
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model(
        "autoencoder", input_shape=(6,), latent_dim=4, hidden_units=(8,), code_activation="sigmoid"
    )
    keras.mixed_precision.set_global_policy("float32")
    twin = keras_ae.create_model(
        "autoencoder", input_shape=(6,), latent_dim=4, hidden_units=(8,), code_activation="sigmoid"
    )
    twin.set_weights(model.get_weights())
    mixed, full = jacobian_frobenius_norm(model, x), jacobian_frobenius_norm(twin, x)
    assert np.all(np.isfinite(mixed))
    np.testing.assert_allclose(mixed, full, rtol=1e-2)


def test_saturation_fraction_counts_activations_outside_the_thresholds():
    codes = np.array([[0.01, 0.5, 0.97, 0.05], [0.95, 0.2, 0.0, 1.0]])
    # Saturated: 0.01, 0.97, 0.0, 1.0 (0.05 and 0.95 are on the thresholds, not beyond).
    assert saturation_fraction(codes) == pytest.approx(4 / 8)
    assert saturation_fraction(codes, low=0.3, high=0.7) == pytest.approx(7 / 8)
    with pytest.raises(ValueError, match="low=0.9, high=0.1"):
        saturation_fraction(codes, low=0.9, high=0.1)
