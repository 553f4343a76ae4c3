"""One harness for every layer and likelihood that keras-ae exports.

In the spirit of Keras' `run_layer_test`: each entry of `LAYER_CASES`
(in `layer_cases.py`) names a class, its constructor arguments, the inputs to call it
on and what to expect; the tests below run the same checks on every entry:

* build on symbolic and real inputs, output shape equal to `compute_output_shape`,
  weight, seed-generator and masking expectations;
* `get_config()` holds exactly the constructor's arguments (plus Keras' base keys) and
  survives a JSON round trip through `keras.saving.serialize_keras_object`;
* save/load inside a functional model gives element-wise equal outputs and weights;
* training against inference behaviour, and seeded reproducibility;
* bad arguments raise a `ValueError` that names the argument.

A new layer is covered by adding one `LayerCase` to `LAYER_CASES`. Every constructor
argument must be given in `init_kwargs`, so that a new argument missing from
`get_config()` fails here. Layer-specific maths lives in the per-layer test files.
"""

import inspect
import json
import re

import keras
import numpy as np
import pytest

from keras_ae.version import __version__
from tests.layers.layer_case import (
    BASE_KEYS,
    REQUIRED_BASE_KEYS,
    as_list,
    constructor_arguments,
    expected_output_shape,
    randomize_weights,
)
from tests.layers.layer_cases import BAD_ARGUMENT_CASES, LAYER_CASES, SEEDED_CASES, layer_cases
from tests.layers.layer_references import to_numpy
from tests.regularizers.regularizer_cases import REGULARIZER_CASES


def test_the_list_covers_every_export():
    import keras_ae.layers
    import keras_ae.losses
    import keras_ae.regularizers

    exported = {
        cls
        for module in (keras_ae.layers, keras_ae.losses, keras_ae.regularizers)
        for cls in vars(module).values()
        if inspect.isclass(cls)
        and issubclass(cls, keras.layers.Layer | keras.regularizers.Regularizer)
        and cls.__module__.startswith("keras_ae")
        and keras.saving.get_registered_name(cls).startswith("keras_ae>")
    }
    covered = {c.cls for c in LAYER_CASES} | {c.cls for c in REGULARIZER_CASES}
    assert exported - covered == set(), "add a harness entry for every exported layer"


# --- (1) build ---------------------------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_builds_with_the_shape_of_compute_output_shape(case):
    layer, _ = case.make()
    symbolic = case.symbolic_inputs()
    outputs = as_list(layer(symbolic))
    assert layer.built
    in_shape = expected_output_shape(lambda t: tuple(t.shape), symbolic, case.multi_input)
    expected = as_list(layer.compute_output_shape(in_shape))
    assert [tuple(o.shape) for o in outputs] == [tuple(e) for e in expected]
    assert all(o.shape[0] is None for o in outputs)

    x = case.sample_inputs(np.random.default_rng(0))
    real_shape = expected_output_shape(lambda a: a.shape, x, case.multi_input)
    for training in (False, True):
        ys = as_list(layer(x, training=training))
        assert [tuple(y.shape) for y in ys] == [
            tuple(e) for e in as_list(layer.compute_output_shape(real_shape))
        ]
        assert all(keras.backend.standardize_dtype(y.dtype) == "float32" for y in ys)

    assert len(layer.trainable_weights) == case.num_trainable_weights
    assert len(layer.non_trainable_weights) == case.num_non_trainable_weights
    seed_generators = [v for v in vars(layer).values() if isinstance(v, keras.random.SeedGenerator)]
    assert len(seed_generators) == case.num_seed_generators
    assert layer.supports_masking == case.supports_masking


# --- (2) config ----------------------------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_config_holds_exactly_the_constructor_arguments_and_survives_json(case):
    layer, kwargs = case.make()
    given = set(kwargs) - BASE_KEYS
    assert given == constructor_arguments(case.cls) - BASE_KEYS, (
        "give every constructor argument in the entry"
    )

    config = layer.get_config()
    assert set(config) >= REQUIRED_BASE_KEYS
    assert set(config) - BASE_KEYS == given
    for key in kwargs:
        assert config[key] == case.config_values.get(key, kwargs[key]), key

    assert case.cls.from_config(config).get_config() == config
    payload = json.dumps(keras.saving.serialize_keras_object(layer))
    restored = keras.saving.deserialize_keras_object(json.loads(payload))
    assert type(restored) is case.cls
    assert restored.get_config() == config
    # A config written by another keras-ae version (a key this one does not take) is
    # refused with a message that names the installed version.
    with pytest.raises(
        ValueError, match=rf"\['from_another_version'\] are not arguments .* keras-ae {__version__}"
    ):
        case.cls.from_config({**config, "from_another_version": 1})


# --- (3) save / load -----------------------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_save_and_load_in_a_functional_model(case, tmp_path):
    rng = np.random.default_rng(1)
    layer, kwargs = case.make()
    model = case.functional_model(layer, kwargs)
    randomize_weights(model.weights, rng)
    x = case.sample_inputs(rng, model=True)
    expected = model.predict(x, verbose=0)
    if case.kept_per_row:
        # Inference in a graph with an unknown batch size keeps the inference count.
        assert (np.count_nonzero(expected, axis=-1) == case.kept_per_row[1]).all()

    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)  # no lambdas, no pickles
    restored = loaded.get_layer(layer.name)
    assert type(restored) is case.cls
    assert restored.get_config() == layer.get_config()
    for saved, back in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(back, saved)
    for got, want in zip(as_list(loaded.predict(x, verbose=0)), as_list(expected), strict=True):
        np.testing.assert_array_equal(got, want)


# --- (4) training against inference ---------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_training_and_inference_behaviour(case):
    rng = np.random.default_rng(2)
    layer, _ = case.make()
    x = case.sample_inputs(rng)
    layer(x)  # builds
    randomize_weights(layer.weights, rng)

    inference = [to_numpy(y) for y in as_list(layer(x))]
    for got, want in zip(as_list(layer(x, training=False)), inference, strict=True):
        np.testing.assert_array_equal(to_numpy(got), want)
    if case.inference_output is not None:
        arrays = x if case.multi_input else [x]
        reference = case.inference_output(layer, *arrays)
        reference = list(reference) if isinstance(reference, (list, tuple)) else [reference]
        for got, want in zip(inference, reference, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    training = [to_numpy(y) for y in as_list(layer(x, training=True))]
    assert [t.shape for t in training] == [i.shape for i in inference]
    if case.training_differs:
        assert not all(np.array_equal(t, i) for t, i in zip(training, inference, strict=True))
    else:
        for t, i in zip(training, inference, strict=True):
            np.testing.assert_array_equal(t, i)
    training, inference = training[0], inference[0]

    if case.kept_per_row:
        train_k, inference_k = case.kept_per_row
        assert (np.count_nonzero(training, axis=-1) == train_k).all()
        assert (np.count_nonzero(inference, axis=-1) == inference_k).all()


@pytest.mark.parametrize("case", layer_cases(SEEDED_CASES))
def test_seeded_training_output_reproduces_and_advances(case):
    x = case.sample_inputs(np.random.default_rng(3))
    first, _ = case.make()
    second, _ = case.make()
    a = to_numpy(first(x, training=True))
    np.testing.assert_array_equal(to_numpy(second(x, training=True)), a)
    # The seed generator advances: a second call draws fresh noise ...
    assert not np.array_equal(to_numpy(first(x, training=True)), a)
    # ... and another seed draws other noise.
    other, _ = case.make(seed=case.init_kwargs["seed"] + 1)
    assert not np.array_equal(to_numpy(other(x, training=True)), a)


@pytest.mark.parametrize("case", layer_cases(SEEDED_CASES))
@pytest.mark.parametrize("seeded", [True, False], ids=["seed", "no_seed"])
def test_noise_stream_continues_after_save_and_load(case, seeded, tmp_path):
    # A resumed training run must draw the noise the uninterrupted run would have drawn,
    # also for a layer without a seed (whose stream starts from a random seed).
    x = case.sample_inputs(np.random.default_rng(4))
    layer, kwargs = case.make(**({} if seeded else {"seed": None}))
    model = case.functional_model(layer, kwargs)
    layer(x, training=True)  # advances the stream before saving
    model.save(tmp_path / "model.keras")
    expected = to_numpy(layer(x, training=True))
    restored = keras.models.load_model(tmp_path / "model.keras").get_layer(layer.name)
    np.testing.assert_array_equal(to_numpy(restored(x, training=True)), expected)


# --- bad arguments -------------------------------------------------------------------


@pytest.mark.parametrize(("case", "overrides", "name"), BAD_ARGUMENT_CASES)
def test_bad_argument_is_refused_by_name(case, overrides, name):
    # Keras' wording: "Received: rate=1.5", or "{'bogus_argument': 1}" for an unknown one.
    with pytest.raises(ValueError, match=rf"\b{re.escape(name)}=|'{re.escape(name)}'"):
        case.make(**overrides)
