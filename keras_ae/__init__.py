"""keras-ae: a Keras 3 / TensorFlow model zoo of autoencoders.

`import keras_ae` registers every model, layer, likelihood and regularizer with Keras (so
`keras.models.load_model` finds them) and makes every subpackage reachable as an
attribute; the heavier ones (`data`, `evaluation`, `export`, `plotting`, `runs`) are
imported on first use.

Example:
    >>> import keras_ae
    >>> keras_ae.list_models()
    ['autoencoder', 'beta_vae', 'contractive_autoencoder', 'denoising_autoencoder', 'draw', 'k_sparse_autoencoder', 'sparse_autoencoder', 'vae', 'vq_vae']
    >>> model = keras_ae.create_model("vae", input_shape=(28, 28, 1), latent_dim=16,
    ...                               architecture="conv")
    >>> trained = keras_ae.from_preset("vae_mnist")  # keras_ae.list_presets() lists them
"""

import importlib
import os
import sys

from keras_ae.version import __version__  # noqa: F401  (public)

_LAZY_SUBPACKAGES = (
    "architectures",
    "backend",
    "data",
    "evaluation",
    "export",
    "layers",
    "losses",
    "models",
    "optimizers",
    "plotting",
    "presets",
    "regularizers",
    "runs",
)
_MODEL_EXPORTS = (
    "DRAW",
    "VAE",
    "Autoencoder",
    "BetaVAE",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "KSparseAutoencoder",
    "PixelCNNPrior",
    "SparseAutoencoder",
    "VQVAE",
)
_REGISTRY_EXPORTS = ("create_model", "get_model_class", "list_models")
_PRESET_EXPORTS = ("from_preset", "list_presets", "preset_card")

__all__ = sorted([*_MODEL_EXPORTS, *_REGISTRY_EXPORTS, *_PRESET_EXPORTS, *_LAZY_SUBPACKAGES, "__version__"])


def _started_as_command_line():
    # The `keras-ae` console script imports this package before `keras_ae.cli.main` runs;
    # the CLI parses and validates its arguments first and imports TensorFlow (and with it
    # the model classes) only for the commands that need it, so `keras-ae --help` is fast.
    return os.path.basename(sys.argv[0] if sys.argv else "") in ("keras-ae", "keras-ae.exe")


def _register():
    """Imports the model classes (and the layers they use): registers them with Keras."""
    from keras_ae._backend import check_backend

    check_backend()
    importlib.import_module("keras_ae.models")
    # A model added to the registry but not to keras_ae.models must load from `.keras` too.
    importlib.import_module("keras_ae.registry").import_all_models()


if not _started_as_command_line():
    _register()


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _MODEL_EXPORTS:
        return getattr(importlib.import_module("keras_ae.models"), name)
    if name in _REGISTRY_EXPORTS:
        _register()
        return getattr(importlib.import_module("keras_ae.registry"), name)
    if name in _PRESET_EXPORTS:
        return getattr(importlib.import_module("keras_ae.presets"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
