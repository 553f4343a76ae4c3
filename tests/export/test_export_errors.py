"""Versions, atomic writes, bad inputs at a signature, unbuilt and unexportable models, and
the model store's `models.config`."""

import os
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.export import export_for_serving, list_store, models_config_text, write_models_config
from keras_ae.export import saved_model as saved_model_module

SMALL = {"input_shape": (6,), "latent_dim": 2, "hidden_units": (4,)}


def small_model(name="autoencoder", seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    return keras_ae.create_model(name, **{**SMALL, **kwargs})


def reconstruct(path, x):
    return tf.saved_model.load(path).signatures["reconstruct"](x=tf.constant(x))["reconstruction"].numpy()


def entries(folder):
    return sorted(os.listdir(folder))


X = np.linspace(0.05, 0.95, 18, dtype="float32").reshape(3, 6)


def test_versions_default_to_the_next_free_one_and_are_never_overwritten(tmp_path):
    base = tmp_path / "ae"
    first, second = small_model(seed=0), small_model(seed=1)
    assert first.export_for_serving(base) == str(base / "1")
    assert export_for_serving(second, base) == str(base / "2")
    os.makedirs(base / "7")  # e.g. a version copied in by hand
    assert export_for_serving(first, base) == str(base / "8")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        export_for_serving(second, base, version=1)
    np.testing.assert_allclose(reconstruct(base / "1", X), first.predict(X, verbose=0), rtol=1e-6)
    # overwrite=True swaps the folder in place; nothing is left beside it.
    assert export_for_serving(second, base, version=1, overwrite=True) == str(base / "1")
    np.testing.assert_allclose(reconstruct(base / "1", X), second.predict(X, verbose=0), rtol=1e-6)
    assert entries(base) == ["1", "2", "7", "8"]
    for bad in (0, -1, "2", 1.0, True):
        with pytest.raises(ValueError, match="version="):
            export_for_serving(first, base, version=bad)


def test_a_failed_export_leaves_no_version_and_no_temporary_folder(tmp_path, monkeypatch):
    base = tmp_path / "ae"
    model = small_model()
    export_for_serving(model, base, version=1)
    before = os.listdir(base / "1")

    def fail_after_writing(functions):
        # The SavedModel is on disk in the temporary folder at this point.
        temporary = [name for name in os.listdir(base) if ".tmp-" in name]
        assert len(temporary) == 1 and os.path.isfile(base / temporary[0] / "saved_model.pb")
        raise RuntimeError("disk full")

    monkeypatch.setattr(saved_model_module, "_describe", fail_after_writing)
    with pytest.raises(RuntimeError, match="disk full"):
        export_for_serving(model, base)
    with pytest.raises(RuntimeError, match="disk full"):
        export_for_serving(small_model(seed=3), base, version=1, overwrite=True)
    assert entries(base) == ["1"]  # no "2", no hidden leftovers
    assert os.listdir(base / "1") == before
    np.testing.assert_allclose(reconstruct(base / "1", X), model.predict(X, verbose=0), rtol=1e-6)


def test_wrong_shape_or_dtype_at_a_signature_gives_a_clear_error(tmp_path):
    model = small_model("vae", seed=1)
    signatures = tf.saved_model.load(export_for_serving(model, tmp_path / "vae")).signatures
    for bad in (np.zeros((2, 5), "float32"), np.zeros((2, 6, 1), "float32"), np.zeros((6,), "float32")):
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match=r"input `x` of signature `score` must have shape \(batch, 6\); received shape",
        ):
            signatures["score"](x=tf.constant(bad))
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"`z` of signature `decode` must have shape \(batch, 2\)"
    ):
        signatures["decode"](z=tf.zeros((3, 3)))
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="`num_samples` of signature `sample` must be >= 1"
    ):
        signatures["sample"](num_samples=tf.constant(0), seed=tf.constant(1, tf.int64))
    # Dtypes are part of the signature: a float64 tensor is refused before anything runs, by
    # the function's input binding (TensorFlow's own message).
    with pytest.raises(
        tf.errors.InvalidArgumentError, match=r"expected to be a float tensor but is a double tensor"
    ):
        signatures["reconstruct"](x=tf.zeros((2, 6), tf.float64))
    # A right request still works after the errors.
    assert signatures["score"](x=tf.constant(X))["score"].shape == (3,)


def test_an_unbuilt_model_is_built_or_the_error_says_how(tmp_path):
    model = small_model()
    model.built = False
    path = export_for_serving(model, tmp_path / "built")
    assert model.built
    np.testing.assert_allclose(reconstruct(path, X), model.predict(X, verbose=0), rtol=1e-6)

    broken = small_model()
    broken.built = False

    def fail(*args, **kwargs):
        raise RuntimeError("weights are created lazily from data statistics")

    broken.forward = fail
    with pytest.raises(ValueError, match=r"(?s)not built.*lazily.*model\(x\[:1\]\)"):
        export_for_serving(broken, tmp_path / "broken")
    assert not os.path.exists(tmp_path / "broken" / "1")


class Scale(keras.layers.Layer):
    """A custom layer without `get_config`: Keras cannot serialize its `factor`."""

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor


@keras.saving.register_keras_serializable(package="keras_ae_tests")
class NumpyTanh(keras.layers.Layer):
    """Serializable, but calls back into Python, which no SavedModel can carry."""

    def call(self, x):
        y = tf.numpy_function(lambda a: np.tanh(a).astype("float32"), [x], tf.float32, stateful=False)
        return tf.ensure_shape(y, x.shape)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="keras_ae_tests")
class EagerOnly(keras.layers.Layer):
    """Serializable, but reads tensor values in Python, which fails in a graph."""

    def call(self, x):
        return x * float(np.asarray(x).max())

    def compute_output_shape(self, input_shape):
        return input_shape


def user_encoder(layer):
    inputs = keras.Input((6,))
    features = keras.layers.Dense(2, name="features")(inputs)
    return keras.Model(inputs, layer(features), name="user_encoder")


@pytest.mark.parametrize(
    ("layer", "match"),
    [
        (Scale(2.0, name="scale_by_two"), r"layer 'scale_by_two' \(Scale\) is not serializable.*get_config"),
        (NumpyTanh(name="numpy_tanh"), r"layer 'numpy_tanh' \(NumpyTanh\) calls Python"),
        (EagerOnly(name="eager_only"), r"(?s)layer 'eager_only' \(EagerOnly\).*graph"),
    ],
)
def test_an_unexportable_custom_encoder_layer_is_named(tmp_path, layer, match):
    model = keras_ae.create_model("autoencoder", encoder=user_encoder(layer), latent_dim=2, hidden_units=(4,))
    with pytest.raises(ValueError, match=match):
        export_for_serving(model, tmp_path / "custom")
    assert entries(tmp_path / "custom") == []


def test_only_zoo_models_are_exported(tmp_path):
    inputs = keras.Input((6,))
    with pytest.raises(ValueError, match="Received: model of type Functional"):
        export_for_serving(keras.Model(inputs, keras.layers.Dense(6)(inputs)), tmp_path / "plain")


def test_models_config_lists_every_servable_model(tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    store = tmp_path / "saved_models"
    export_for_serving(small_model(), store / "ae_small")
    export_for_serving(small_model("vae"), store / "vae_small", version=3)
    os.makedirs(store / "empty_model")  # no version yet: not servable
    os.makedirs(store / "vae_small" / ".4.tmp-abc")  # an export in progress
    (store / "README.md").write_text("notes")
    assert list_store(store) == {"ae_small": [1], "vae_small": [3]}

    path = write_models_config(store)
    assert path == str(store / "models.config")
    config = text_format.Parse(pathlib.Path(path).read_text(), model_server_config_pb2.ModelServerConfig())
    entries_ = [(c.name, c.base_path, c.model_platform) for c in config.model_config_list.config]
    assert entries_ == [
        ("ae_small", "/models/ae_small", "tensorflow"),
        ("vae_small", "/models/vae_small", "tensorflow"),
    ]

    local = write_models_config(store, base_path=str(store), path=tmp_path / "local.config")
    parsed = text_format.Parse(pathlib.Path(local).read_text(), model_server_config_pb2.ModelServerConfig())
    assert [c.base_path for c in parsed.model_config_list.config] == [
        str(store / "ae_small"),
        str(store / "vae_small"),
    ]
    with pytest.raises(ValueError, match="name="):
        models_config_text(['bad"name'])
    with pytest.raises(ValueError, match="No exported model"):
        write_models_config(tmp_path / "saved_models" / "empty_model")
