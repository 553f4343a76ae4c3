import re

import keras
import pytest

import keras_ae
from keras_ae.registry import register_model


def test_list_models_holds_the_foundation_models_sorted():
    names = keras_ae.list_models()
    assert names == sorted(names)
    assert {"autoencoder", "denoising_autoencoder", "vae", "beta_vae"} <= set(names)


@pytest.mark.parametrize("name", keras_ae.list_models())
def test_every_model_is_keras_serializable_under_package(name):
    cls = keras_ae.get_model_class(name)
    assert cls.registry_name == name
    assert keras.saving.get_registered_name(cls) == f"keras_ae>{cls.__name__}"
    assert keras.saving.get_registered_object(f"keras_ae>{cls.__name__}") is cls


def test_create_model_builds_the_named_class():
    model = keras_ae.create_model("vae", input_shape=(28, 28, 1), latent_dim=16, architecture="conv")
    assert isinstance(model, keras_ae.VAE)
    assert model.built
    assert model.encoder.output_shape == [(None, 16), (None, 16), (None, 16)]
    assert model.decoder.output_shape == (None, 28, 28, 1)


def test_unknown_model_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"Expected one of \[.*'vae'.*\]. Received: name='vea'"):
        keras_ae.create_model("vea", input_shape=(4,), latent_dim=2)


def test_registering_a_name_twice_is_refused():
    with pytest.raises(ValueError, match="already registered as name='vae'"):
        register_model("vae")(type("Other", (keras_ae.VAE,), {}))


def test_the_same_class_registered_again_replaces_its_entry():
    # A notebook cell re-run (or a module reloaded) decorates the same class again.
    cls = type("ReRegistered", (keras_ae.Autoencoder,), {"__module__": "user_notebook"})
    assert register_model("re_registered_ae")(cls) is cls
    again = type("ReRegistered", (keras_ae.Autoencoder,), {"__module__": "user_notebook"})
    assert register_model("re_registered_ae")(again) is again
    assert keras_ae.get_model_class("re_registered_ae") is again
    other = type("Other", (keras_ae.Autoencoder,), {"__module__": "user_notebook"})
    with pytest.raises(
        ValueError, match="already registered as name='re_registered_ae': user_notebook:ReRegistered"
    ):
        register_model("re_registered_ae")(other)


def test_create_model_passes_keras_name_argument_through():
    model = keras_ae.create_model("autoencoder", input_shape=(4,), latent_dim=2, name="my_ae")
    assert model.name == "my_ae" and model.registry_name == "autoencoder"


@pytest.mark.parametrize("bad", [":", "", "a b", 3, ["x"]])
def test_a_model_name_tensorflow_cannot_scope_is_refused_before_keras_sees_it(bad):
    # TensorFlow refuses such a name only when the networks are built in its scope, and left
    # that scope open: every later model's variables were named under it.
    with pytest.raises(ValueError, match=r"Argument `name` must start with.*Received: name="):
        keras_ae.create_model("autoencoder", input_shape=(4,), latent_dim=2, name=bad)
    model = keras_ae.create_model("autoencoder", input_shape=(4,), latent_dim=2)
    paths = [v.path for v in model.weights]
    assert all(re.fullmatch(r"[A-Za-z0-9_./>-]+", path) for path in paths), paths
