"""Export for TF Serving: SavedModels with named signatures and the `saved_models/` store.

Example:
    >>> from keras_ae.export import export_for_serving, write_models_config
    >>> export_for_serving(model, "saved_models/vae_mnist")   # -> "saved_models/vae_mnist/1"
    >>> write_models_config("saved_models")                   # -> "saved_models/models.config"
"""

from keras_ae.export.saved_model import existing_versions, export_for_serving
from keras_ae.export.signatures import SIGNATURE_NAMES, serving_signatures, signature_names
from keras_ae.export.store import list_store, models_config_text, write_models_config

__all__ = [
    "SIGNATURE_NAMES",
    "existing_versions",
    "export_for_serving",
    "list_store",
    "models_config_text",
    "serving_signatures",
    "signature_names",
    "write_models_config",
]
