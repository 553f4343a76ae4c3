"""`dynamic_binarization=True`: every training step sees a fresh Bernoulli sample of its
grey-level batch, as input and as target, with plain arrays; inference sees the inputs."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import DynamicBinarization
from keras_ae.layers.seed_state import derived_seed

KW = {"input_shape": (6,), "latent_dim": 2, "hidden_units": (5,), "seed": 3}


@pytest.fixture(scope="module")
def grey():
    # 20 examples in batches of 8: two whole batches and a last one of 4.
    return np.random.default_rng(0).uniform(size=(20, 6)).astype("float32")


def test_the_sample_is_the_input_and_the_target_in_training_only(grey):
    model = keras_ae.create_model("autoencoder", dynamic_binarization=True, **KW)
    outputs = model(grey, training=True, return_outputs=True)
    sample = keras.ops.convert_to_numpy(outputs["x"])
    assert set(np.unique(sample)) <= {0.0, 1.0} and 0 < sample.mean() < 1
    # The encoder saw the sample it is scored against (the plain autoencoder is deterministic).
    np.testing.assert_allclose(outputs["code"], model.encoder(sample), rtol=1e-6)
    # Evaluation and inference: the grey levels as given.
    np.testing.assert_array_equal(model(grey, return_outputs=True)["x"], grey)
    np.testing.assert_allclose(model.predict(grey, verbose=0), model(grey), rtol=1e-6)


@pytest.mark.parametrize("name", ["autoencoder", "vae"])
def test_fit_on_grey_arrays_trains_as_on_the_samples_drawn_in_order(grey, name):
    # The model's binarization layer is seeded with derived_seed(seed): the same layer
    # outside the model draws the same samples, batch by batch, in the same order.
    keras.utils.set_random_seed(1)
    binarized = keras_ae.create_model(name, dynamic_binarization=True, **KW)
    keras.utils.set_random_seed(1)
    plain = keras_ae.create_model(name, **KW)
    plain.set_weights(binarized.get_weights())
    for model in (binarized, plain):
        model.compile(optimizer="adam")
    twin_layer = DynamicBinarization(seed=derived_seed(KW["seed"]))
    samples = []
    for _ in range(2):  # epochs
        for start in range(0, len(grey), 8):
            samples.append(keras.ops.convert_to_numpy(twin_layer(grey[start : start + 8], training=True)))
    binarized.fit(grey, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for batch in samples:
        plain.train_on_batch(batch)
    assert int(binarized.train_step_count.numpy()) == 6
    for got, want in zip(binarized.get_weights(), plain.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_config_and_bad_arguments():
    model = keras_ae.create_model("vae", dynamic_binarization=True, **KW)
    assert model.get_config()["dynamic_binarization"] is True
    assert keras_ae.create_model("vae", **KW).get_config()["dynamic_binarization"] is False
    with pytest.raises(ValueError, match="dynamic_binarization.*Received: dynamic_binarization='yes'"):
        keras_ae.create_model("vae", dynamic_binarization="yes", **KW)


def test_mixed_precision_draws_against_float32_grey_levels(grey):
    # bfloat16 would round the probabilities (0.3 -> 0.30078): the layer stays float32.
    model = keras_ae.create_model("vae", dynamic_binarization=True, dtype="mixed_bfloat16", **KW)
    assert model.binarization.compute_dtype == "float32"
    outputs = model(grey, training=True, return_outputs=True)
    assert outputs["x"].dtype == "float32" and set(np.unique(outputs["x"])) <= {0.0, 1.0}
