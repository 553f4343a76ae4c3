"""One harness for every activity regularizer keras-ae exports, as `test_layer_harness.py` is for layers.

Each entry of `REGULARIZER_CASES` names a class, its constructor arguments and its
penalty by hand; every entry gets the same checks: its config round trip (alone and
inside a layer), its value against the hand computation as Keras adds it to the loss,
save/load in a model, and bad arguments refused by name.
"""

import json
import re

import keras
import numpy as np
import pytest

from keras_ae.version import __version__
from tests.layers.layer_case import constructor_arguments
from tests.layers.layer_references import to_numpy
from tests.regularizers.regularizer_cases import REGULARIZER_CASES, regularizer_cases


@pytest.mark.parametrize("case", regularizer_cases())
def test_regularizer_config_round_trip(case):
    reg = case.make()
    assert set(case.init_kwargs) == constructor_arguments(case.cls)
    config = reg.get_config()
    assert config == case.init_kwargs
    assert case.cls.from_config(config).get_config() == config
    payload = json.dumps(keras.saving.serialize_keras_object(reg))
    restored = keras.saving.deserialize_keras_object(json.loads(payload))
    assert type(restored) is case.cls and restored.get_config() == config
    with pytest.raises(
        ValueError, match=rf"\['from_another_version'\] are not arguments .* keras-ae {__version__}"
    ):
        case.cls.from_config({**config, "from_another_version": 1})
    h = np.random.default_rng(5).uniform(*case.activation_range, size=(8, 3)).astype("float32")
    assert float(restored.penalty(h)) == float(reg.penalty(h))

    # Attached to a layer, it is serialized with the layer's config.
    layer = keras.layers.Dense(3, activity_regularizer=reg)
    clone = keras.layers.Dense.from_config(json.loads(json.dumps(layer.get_config())))
    assert type(clone.activity_regularizer) is case.cls
    assert clone.activity_regularizer.get_config() == config


@pytest.mark.parametrize("case", regularizer_cases())
def test_regularizer_value_matches_the_hand_computation(case):
    rng = np.random.default_rng(4)
    batch = 16
    h = rng.uniform(*case.activation_range, size=(batch, 5)).astype("float32")
    reg = case.make()
    expected = case.penalty(h, **case.init_kwargs)
    np.testing.assert_allclose(float(reg.penalty(h)), expected, rtol=1e-5)
    # Called as Keras calls it, it returns batch * penalty: Keras divides activity
    # regularizer values by the batch size, and the term reaching the loss is the penalty.
    np.testing.assert_allclose(float(reg(h)), batch * expected, rtol=1e-5)

    layer = keras.layers.Dense(5, activation=case.activation, activity_regularizer=reg)
    code = to_numpy(layer(rng.normal(size=(batch, 4)).astype("float32")))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), case.penalty(code, **case.init_kwargs), rtol=1e-5)


@pytest.mark.parametrize("case", regularizer_cases())
def test_regularizer_survives_save_and_load_in_a_model(case, tmp_path):
    inputs = keras.Input((4,))
    code = keras.layers.Dense(5, activation=case.activation, activity_regularizer=case.make(), name="code")
    model = keras.Model(inputs, code(inputs))
    model.save(tmp_path / "model.keras")
    restored = (
        keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
        .get_layer("code")
        .activity_regularizer
    )
    assert type(restored) is case.cls and restored.get_config() == case.init_kwargs


@pytest.mark.parametrize(
    ("case", "overrides", "name"),
    [
        pytest.param(case, overrides, name, id=f"{case.cls.__name__}-{name}={overrides[name]!r}")
        for case in REGULARIZER_CASES
        for overrides, name in case.bad_kwargs
    ],
)
def test_regularizer_bad_argument_is_refused_by_name(case, overrides, name):
    with pytest.raises(ValueError, match=rf"\b{re.escape(name)}="):
        case.make(**overrides)
