"""A run folder: its layout, `load_run` and `clear_run`.

Layout of a run folder:

    config.json            the run settings and the model's own config (`runs.config`)
    checkpoints/           epoch_NNNN.keras + state.json (resume point, history so far)
    logs/                  TensorBoard logs: scalars and pictures per epoch
    model.keras            the trained model
    history.json           per-epoch metrics of the whole run
    metrics.json           written by `evaluate_run`
    plots/*.png            written by `plot_run`
    saved_model/           written by `export_run`
"""

import os
import shutil

import keras

from keras_ae._utils import read_json
from keras_ae.registry import import_all_models
from keras_ae.runs.config import CONFIG_FILE, HISTORY_FILE, METRICS_FILE, MODEL_FILE
from keras_ae.runs.run_checkpoint import RunCheckpoint

# What a run writes, and `clear_run` deletes.
RUN_FOLDERS = ("checkpoints", "logs", "plots", "saved_model")
RUN_FILES = (CONFIG_FILE, HISTORY_FILE, MODEL_FILE, f"partial_{MODEL_FILE}", METRICS_FILE)


def check_clearable(out):
    """Raises unless `clear_run(out)` would delete only what a keras-ae run wrote.

    `out` must hold a run's `config.json` (written before anything else a run writes,
    deleted last), or none of the names a run uses: a `--restart` aimed at a project
    folder by mistake must not delete its `logs/` or `checkpoints/`.

    Raises:
        ValueError: `out` holds some of those names but no run's config.
    """
    config_path = os.path.join(out, CONFIG_FILE)
    try:
        config = read_json(config_path) if os.path.isfile(config_path) else None
    except ValueError:
        config = None
    # `keras_ae_version` is a key only train_run writes: a project's own config.json with
    # `model` and `dataset` keys is not taken for a run.
    if isinstance(config, dict) and "keras_ae_version" in config and "model" in config:
        return
    present = sorted(name for name in RUN_FOLDERS + RUN_FILES if os.path.lexists(os.path.join(out, name)))
    if present:
        raise ValueError(
            f"restart deletes a run's {', '.join(RUN_FOLDERS)} and {', '.join(RUN_FILES)}, and {out} is not "
            f"a keras-ae run folder (no run's {CONFIG_FILE}) but holds {', '.join(present)}: nothing was "
            f"deleted. Use another --out. Received: out={out!r}"
        )


def clear_run(out):
    """Deletes what a run wrote: checkpoints, logs, results, pictures and exports."""
    check_clearable(out)
    for name in RUN_FOLDERS:
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    # config.json last: a clear cut short leaves a folder that is still known as a run.
    for name in sorted(RUN_FILES, key=lambda name: name == CONFIG_FILE):
        if os.path.exists(os.path.join(out, name)):
            os.remove(os.path.join(out, name))


def load_run(run):
    """Loads `(model, config)` from a run folder (its `model.keras`, else its last
    checkpoint), or `(model, None)` from a `.keras` file."""
    import_all_models()  # the classes Keras looks up by name while loading
    run = os.fspath(run)
    if os.path.isfile(run) and run.endswith(".keras"):
        return keras.models.load_model(run), None
    config_path = os.path.join(run, CONFIG_FILE)
    if not os.path.isfile(config_path):
        if not os.path.exists(run):
            raise FileNotFoundError(f"The run folder {run} does not exist.")
        raise FileNotFoundError(f"Not a run folder (no {CONFIG_FILE}) nor a .keras file: {run}")
    config = read_json(config_path)
    path = os.path.join(run, MODEL_FILE)
    if not os.path.isfile(path):
        state = RunCheckpoint.load_state(os.path.join(run, "checkpoints"))
        if state is None:
            raise FileNotFoundError(f"The run {run} has neither {MODEL_FILE} nor a checkpoint yet.")
        path = state["path"]
    return keras.models.load_model(path), config
