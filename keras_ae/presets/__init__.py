"""Trained models shipped with keras-ae, each with a card saying how it was made.

A preset is a folder under `keras_ae/presets/` (installed with the package) holding the
model's constructor arguments (`config.json`), its weights (`model.weights.h5`, no
optimizer state) and its card (`card.json`): the command that trained it, the data, the
training length, the machine and the figures measured on it, among them one cheap figure
that `check_preset` recomputes.

Example:
    >>> import keras_ae
    >>> keras_ae.list_presets()
    ['beta_vae_dsprites', 'contractive_mnist', 'k_sparse_mnist', 'vae_digits', 'vae_mnist']
    >>> vae = keras_ae.from_preset("vae_mnist")
    >>> keras_ae.preset_card("vae_mnist")["figures"]
"""

from keras_ae.presets.store import (
    PRESETS_DIR,
    check_preset,
    check_preset_size,
    from_preset,
    list_presets,
    preset_card,
    save_preset,
)

__all__ = [
    "PRESETS_DIR",
    "check_preset",
    "check_preset_size",
    "from_preset",
    "list_presets",
    "preset_card",
    "save_preset",
]
