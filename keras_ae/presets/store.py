"""Loading, writing and checking preset models (see `keras_ae.presets`; cards: `cards.py`)."""

import math
import os

import keras
import numpy as np

from keras_ae._utils import read_json, write_json_atomically
from keras_ae.presets.cards import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, preset_card, preset_dir

# What every card says (see `save_preset`).
CARD_KEYS = ("name", "model", "summary", "data", "training", "figures", "check")
TRAINING_KEYS = ("command", "epochs", "steps", "batch_size", "wall_time_minutes", "machine", "date")
CHECK_KEYS = ("figure", "dataset", "split", "examples", "value", "tolerance")
MAX_PRESET_BYTES = 5 * 2**20


def from_preset(name):
    """Loads the trained model of preset `name` (uncompiled: `compile` it to train on).

    Args:
        name: a name from `list_presets()` (or the path of a preset folder).

    Returns:
        The model, a `keras_ae` model instance with the preset's weights.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).

    Example:
        >>> vae = keras_ae.from_preset("vae_mnist")
        >>> images = vae.sample(16, seed=0)
    """
    from keras_ae.registry import import_all_models

    folder = preset_dir(name)
    import_all_models()  # the classes Keras looks up by name
    model = keras.saving.deserialize_keras_object(read_json(os.path.join(folder, CONFIG_FILE)))
    model.load_weights(os.path.join(folder, WEIGHTS_FILE))
    return model


def export_preset(name, export_dir, version=None, overwrite=False):
    """Exports preset `name`'s model for TF Serving, its card in the export's `metadata.json`.

    The SavedModel is the one `keras_ae.export.export_for_serving` writes (named
    signatures, batch dimension free, TF Serving's `export_dir/<version>/` layout); its
    `metadata.json` adds `preset`: the card, so a served model says how it was trained
    and what was measured on it.

    Args:
        name: a name from `list_presets()` (or the path of a preset folder).
        export_dir: the model's base folder in a store, e.g. `saved_models/vae_mnist`.
        version: an int >= 1, or None for the next free version.
        overwrite: replace an existing `export_dir/<version>/`.

    Returns:
        The path of the version folder, `export_dir/<version>`.

    Raises:
        ValueError: an unknown name (the message lists the valid ones).
        FileExistsError: the version exists and `overwrite` is false.

    Example:
        >>> keras_ae.presets.export_preset("vae_mnist", "saved_models/vae_mnist_preset")
        'saved_models/vae_mnist_preset/1'
    """
    from keras_ae.export.saved_model import export_model

    card = preset_card(name)  # an unknown name fails here, before the model is built
    return export_model(
        from_preset(name), export_dir, version=version, overwrite=overwrite, metadata={"preset": card}
    )


def check_preset_size(model):
    """Raises unless `model`'s weights fit in a preset (5 MB in all, `MAX_PRESET_BYTES`).

    Call it before a long training whose model is to be shipped: a model too large fails
    in seconds, not when `save_preset` writes it.

    Args:
        model: a built keras-ae model.

    Returns:
        The bytes its weights take.

    Raises:
        ValueError: the weights alone exceed the limit.

    Example:
        >>> model = keras_ae.create_model("autoencoder", input_shape=(784,), latent_dim=32)
        >>> keras_ae.presets.check_preset_size(model) < 5 * 2**20
        True
    """
    size = sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in model.weights)
    if size > MAX_PRESET_BYTES:
        raise ValueError(
            f"A preset must stay under {MAX_PRESET_BYTES / 2**20:g} MB. Received: a {type(model).__name__} "
            f"whose weights alone hold {size / 2**20:.1f} MB"
        )
    return size


def save_preset(model, directory, card, source=None, data_dir=None):
    """Writes `model` (its constructor arguments and weights, no optimizer state) and
    `card` as a preset folder, and measures the card's check figure on the written preset.

    Args:
        model: a trained keras-ae model.
        directory: the preset folder (created); its name is the preset's name.
        card: the card's entries (see `preset_card`): `summary`, `data`, `training`,
            `figures` and `check` (without its `value`, which is measured here by
            `check_preset`); `name` and `model` are filled in.
        source: where to read the check's dataset from, if not by its name (as in
            `check_preset`).
        data_dir: the tensorflow-datasets folder, for a dataset read by name.

    Returns:
        The card as written.

    Raises:
        ValueError: the card lacks an entry, or the preset exceeds 5 MB.
    """
    directory = os.fspath(directory)
    check_preset_size(model)  # before anything is written
    card = {"name": os.path.basename(os.path.normpath(directory)), "model": model.registry_name, **card}
    card["check"] = {"value": None, **card.get("check", {})}
    missing = [key for key in CARD_KEYS if key not in card]
    missing += [f"training.{key}" for key in TRAINING_KEYS if key not in card.get("training", {})]
    missing += [f"check.{key}" for key in CHECK_KEYS if key not in card["check"]]
    if missing:
        raise ValueError(f"The preset card lacks {missing}. Received: card with keys {sorted(card)}")
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)  # a preset carries no optimizer
    os.makedirs(directory, exist_ok=True)
    # A copy without optimizer, whose random-number state is the fresh one of its seed: its
    # weights file holds the model's variables only, and the check figure is repeatable.
    copy = keras.saving.deserialize_keras_object(config)
    copy.set_weights(model.get_weights())
    copy.save_weights(os.path.join(directory, WEIGHTS_FILE))
    write_json_atomically(os.path.join(directory, CONFIG_FILE), config)
    write_json_atomically(os.path.join(directory, CARD_FILE), card)
    if card["check"]["value"] is None:
        # As a path: a folder named like a shipped preset ("vae_mnist") would otherwise be
        # read as the shipped one, and its figure written into this card.
        card["check"]["value"] = check_preset(os.path.abspath(directory), source=source, data_dir=data_dir)[0]
        write_json_atomically(os.path.join(directory, CARD_FILE), card)
    size = sum(os.path.getsize(os.path.join(directory, f)) for f in os.listdir(directory))
    if size > MAX_PRESET_BYTES:
        raise ValueError(f"A preset must stay under 5 MB; {directory} holds {size / 2**20:.1f} MB.")
    return card


def check_preset(name, source=None, data_dir=None):
    """Recomputes the cheap figure of preset `name`'s card (`card["check"]`).

    The figure is a result of the model's `evaluate` (`"loss"`: a VAE's negative ELBO in
    nats, an autoencoder's reconstruction loss) on the first `examples` images of the
    card's split, prepared as the card says (`binarize`, `seed`); the model's noise starts
    from its saved state, so the figure repeats to float rounding.

    Args:
        name: a name from `list_presets()` (or the path of a preset folder).
        source: where to read the card's dataset from, if not by its name (e.g. a folder of
            MNIST IDX files, or dSprites' `.npz` file): anything `load_dataset` reads.
        data_dir: the tensorflow-datasets folder, for a dataset read by name.

    Returns:
        `(measured, expected, tolerance)`: the figure now, the card's value, and how far
        apart they may be (the card's `tolerance`, absolute).

    Example:
        >>> measured, expected, tolerance = keras_ae.presets.check_preset("vae_digits")
        >>> abs(measured - expected) <= tolerance
        True
    """
    from keras_ae.data import load_dataset

    check = preset_card(name)["check"]
    if source is None and os.path.splitext(check["dataset"])[1] and not os.path.exists(check["dataset"]):
        # A dataset named by its file (dSprites' .npz) is no tfds name: say where to point.
        raise ValueError(
            f"Preset {name!r} checks its figure on the file {check['dataset']!r}: pass that file's path "
            "as `source`. Received: source=None"
        )
    model = from_preset(name)
    model.compile(optimizer="adam")
    data = load_dataset(
        source if source is not None else check["dataset"],
        f"{check['split']}[:{int(check['examples'])}]",
        batch_size=check.get("batch_size", 250),
        binarize=check.get("binarize"),
        seed=check.get("seed", 0),
        shuffle=False,
        flatten=len(model.data_shape) == 1,
        data_dir=data_dir,
    )
    measured = model.evaluate(data, verbose=0, return_dict=True)[check["figure"]]
    expected = check["value"]
    return float(measured), None if expected is None else float(expected), float(check["tolerance"])
