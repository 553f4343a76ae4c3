"""Model registry: `create_model` and `list_models`, in the manner of timm.

Every model class is registered twice with one decorator: under a short snake-case
name for `create_model`, and as Keras-serializable under the package "keras_ae" so
that `keras.models.load_model` finds it after `import keras_ae`.
"""

import keras

_MODELS = {}


def register_model(name):
    """Class decorator that registers an autoencoder under `name`.

    Args:
        name: the registry name, e.g. `"beta_vae"`.

    Returns:
        The decorator; it returns the class unchanged apart from registration.
    """

    def decorator(cls):
        if name in _MODELS:
            raise ValueError(f"A model is already registered as name={name!r}: {_MODELS[name]}")
        cls = keras.saving.register_keras_serializable(package="keras_ae")(cls)
        cls.registry_name = name
        _MODELS[name] = cls
        return cls

    return decorator


def list_models():
    """Returns the sorted registry names of every available model.

    Example:
        >>> import keras_ae
        >>> "vae" in keras_ae.list_models()
        True
    """
    return sorted(_MODELS)


def get_model_class(name):
    """Returns the class registered under `name`.

    Raises:
        ValueError: `name` is not registered; the message lists the valid names.
    """
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown model name. Expected one of {list_models()}. Received: name={name!r}"
        ) from None


def create_model(name, **kwargs):
    """Builds the model registered under `name` with the constructor arguments `kwargs`.

    Args:
        name: a name from `list_models()`.
        **kwargs: the model's constructor arguments (`input_shape`, `latent_dim`, ...).

    Returns:
        A built, uncompiled `keras.Model`.

    Example:
        >>> model = keras_ae.create_model("vae", input_shape=(28, 28, 1), latent_dim=16,
        ...                               architecture="conv")
    """
    return get_model_class(name)(**kwargs)
