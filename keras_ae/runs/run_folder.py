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


def clear_run(out):
    """Deletes what a run wrote: checkpoints, logs, results, pictures and exports."""
    for name in ("checkpoints", "logs", "plots", "saved_model"):
        shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    for name in (CONFIG_FILE, HISTORY_FILE, MODEL_FILE, f"partial_{MODEL_FILE}", METRICS_FILE):
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
