"""Arguments from numpy and callables: configs stay JSON-safe, networks save on their own.

Users pass `np.int64` sizes (e.g. from a hyper-parameter grid) and activation functions
(`keras.activations.gelu`). Models keep training with them as before; what is checked
here is that the config holds plain Python values (export writes it into
`metadata.json` with `json.dumps`) and rebuilds the same model, and that each model's
`encoder` and `decoder` save to `.keras` and load back on their own.
"""

import json

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.export import export_for_serving
from tests.models.test_harness import MODELS, harness_kwargs, make_data, random_codes


def test_numpy_sizes_and_a_callable_activation_give_a_json_config_that_rebuilds_and_exports(tmp_path):
    model = keras_ae.create_model(
        "k_sparse_autoencoder",
        input_shape=(np.int64(12),),
        latent_dim=np.int64(6),
        hidden_units=np.array([8]),
        activation=keras.activations.gelu,
        k=np.int64(2),
        k_start=np.int64(4),
        total_steps=np.int64(10),
    )
    config = json.loads(json.dumps(model.get_config()))  # numpy values or functions would raise
    assert config["input_shape"] == [12] and config["hidden_units"] == [8]
    assert (config["activation"], config["k_start"], config["total_steps"]) == ("gelu", 4, 10)
    x = np.random.default_rng(0).uniform(size=(4, 12)).astype("float32")
    restored = type(model).from_config(config)
    restored.predict(x, verbose=0)
    model.predict(x, verbose=0)
    restored.set_weights(model.get_weights())
    np.testing.assert_array_equal(restored.reconstruct(x), model.reconstruct(x))
    path = export_for_serving(model, tmp_path / "k_sparse")
    with open(f"{path}/metadata.json") as f:
        assert json.load(f)["config"]["activation"] == "gelu"


@pytest.mark.parametrize("name", MODELS)
def test_encoder_and_decoder_save_and_load_on_their_own(name, tmp_path):
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model(name, **harness_kwargs(name))
    x = make_data(8)
    model.predict(x, verbose=0)
    for part, inputs in (("encoder", x), ("decoder", random_codes(model, 8))):
        network = getattr(model, part)
        network.save(tmp_path / f"{part}.keras")
        loaded = keras.saving.load_model(tmp_path / f"{part}.keras")
        expected, received = keras.tree.flatten(network(inputs)), keras.tree.flatten(loaded(inputs))
        assert len(expected) == len(received)
        for a, b in zip(expected, received, strict=True):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(b), keras.ops.convert_to_numpy(a))
