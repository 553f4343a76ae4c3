"""Where presets live and what their cards say, read without importing TensorFlow.

The `keras-ae` command line lists presets and checks preset names with these functions
before it imports TensorFlow; `keras_ae.presets.store` loads and writes the models.
"""

import os

from keras_ae._utils import read_json

PRESETS_DIR = os.path.dirname(os.path.abspath(__file__))
CONFIG_FILE, WEIGHTS_FILE, CARD_FILE = "config.json", "model.weights.h5", "card.json"


def list_presets():
    """The names of the presets shipped with keras-ae, sorted."""
    return sorted(
        name for name in os.listdir(PRESETS_DIR) if os.path.isfile(os.path.join(PRESETS_DIR, name, CARD_FILE))
    )


def preset_dir(name):
    """The folder of preset `name`: a shipped preset's name, or the path of a preset folder.

    Args:
        name: a name from `list_presets()`, or the path of a folder holding a `card.json`.
            A shipped name wins over a folder of that name in the working directory: give
            such a folder as a path (`"./vae_mnist"`).

    Returns:
        The folder's path.

    Raises:
        ValueError: neither (the message lists the shipped presets).
    """
    presets = list_presets()
    if isinstance(name, str) and name in presets:
        return os.path.join(PRESETS_DIR, name)
    if isinstance(name, (str, os.PathLike)) and os.path.isfile(os.path.join(name, CARD_FILE)):
        return os.fspath(name)
    raise ValueError(f"Unknown preset. Expected one of {presets} or a preset folder. Received: name={name!r}")


def preset_card(name):
    """The card of preset `name`: how it was trained and what was measured on it.

    Args:
        name: a name from `list_presets()` (or the path of a preset folder).

    Returns:
        A dict with `name`, `model` (the registry name), `summary`, `data`, `training`
        (`command`, `epochs`, `steps`, `batch_size`, `wall_time_minutes`, `machine`,
        `date`), `figures` (name -> value) and `check` (the figure `check_preset`
        recomputes).

    Raises:
        ValueError: an unknown name (the message lists the valid ones).

    Example:
        >>> round(keras_ae.preset_card("vae_mnist")["figures"]["test_nll_nats (-L_5000)"], 2)
        87.67
    """
    return read_json(os.path.join(preset_dir(name), CARD_FILE))
