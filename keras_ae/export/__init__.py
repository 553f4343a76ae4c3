"""Export for TF Serving: SavedModels with named signatures, the model store, and a client.

- `export_for_serving(model, dir)`: a SavedModel in the TF Serving layout `dir/<version>/`.
- `list_store`, `write_models_config`: the store of several models and its `models.config`.
- `keras_ae.export.client`: REST bodies and gRPC requests for any signature, responses to
  numpy.

Everything is imported on first use.

Example:
    >>> from keras_ae.export import export_for_serving, write_models_config
    >>> export_for_serving(model, "saved_models/vae_mnist")   # -> "saved_models/vae_mnist/1"
    >>> write_models_config("saved_models")                   # -> "saved_models/models.config"
"""

import importlib

_EXPORTS = {
    "existing_versions": "keras_ae.export.versions",
    "claim_next_version": "keras_ae.export.versions",
    "export_for_serving": "keras_ae.export.saved_model",
    "SIGNATURE_NAMES": "keras_ae.export.signatures",
    "serving_signatures": "keras_ae.export.signatures",
    "signature_names": "keras_ae.export.signatures",
    "list_store": "keras_ae.export.store",
    "models_config_text": "keras_ae.export.store",
    "write_models_config": "keras_ae.export.store",
}
_SUBMODULES = ("client", "saved_model", "signatures", "store", "versions")

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
