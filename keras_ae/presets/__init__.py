"""Trained models shipped with keras-ae, each with a card saying how it was made.

A preset is a folder under `keras_ae/presets/` (installed with the package) holding the
model's constructor arguments (`config.json`), its weights (`model.weights.h5`, no
optimizer state) and its card (`card.json`): the command that trained it, the data, the
training length, the machine and the figures measured on it, among them one cheap figure
that `check_preset` recomputes. `export_preset` writes a preset's SavedModel for TF Serving
(also `keras-ae export --preset NAME --export-dir DIR`).

Example:
    >>> import keras_ae
    >>> keras_ae.list_presets()
    ['beta_vae_dsprites', 'contractive_mnist', 'k_sparse_mnist', 'vae_digits', 'vae_mnist']
    >>> vae = keras_ae.from_preset("vae_mnist")
    >>> keras_ae.preset_card("vae_mnist")["figures"]
"""

import importlib

# The cards are plain JSON: the command line reads them before it imports TensorFlow.
# Loading, writing and checking models needs Keras: imported on first use.
from keras_ae.presets.cards import PRESETS_DIR, list_presets, preset_card

_STORE_EXPORTS = ("check_preset", "check_preset_size", "export_preset", "from_preset", "save_preset")

__all__ = [
    "PRESETS_DIR",
    "check_preset",
    "check_preset_size",
    "export_preset",
    "from_preset",
    "list_presets",
    "preset_card",
    "save_preset",
]


def __getattr__(name):
    if name in _STORE_EXPORTS:
        return getattr(importlib.import_module("keras_ae.presets.store"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
