"""Training runs in a folder: train (resumable), evaluate, plot and export; the CLI's engine.

- `keras_ae.runs.config`: defaults, dataset presets, `resolve_config`, `build_model`.
- `keras_ae.runs.training`: `train_run`.
- `keras_ae.runs.divergence`: `TrainingDivergedError`, `WorkerLostError`, the checkpoint a
  stopped run names.
- `keras_ae.runs.run_folder`: a run folder's layout, `load_run`.
- `keras_ae.runs.resume`: the state and model a run resumes from.
- `keras_ae.runs.distribution`: the `tf.distribute` strategy of a run, and its chief.
- `keras_ae.runs.tasks`: `evaluate_run`, `plot_run`, `export_run`.

Names are imported on first use, so the command line can read the settings without
importing TensorFlow.
"""

import importlib

_EXPORTS = {
    "DATASET_PRESETS": "keras_ae.runs.config",
    "DEFAULTS": "keras_ae.runs.config",
    "PLOT_KINDS": "keras_ae.runs.config",
    "build_model": "keras_ae.runs.config",
    "resolve_config": "keras_ae.runs.config",
    "ImageSummaries": "keras_ae.runs.image_summaries",
    "RunCheckpoint": "keras_ae.runs.run_checkpoint",
    "evaluate_run": "keras_ae.runs.tasks",
    "export_run": "keras_ae.runs.tasks",
    "plot_run": "keras_ae.runs.tasks",
    "TrainingDivergedError": "keras_ae.runs.divergence",
    "WorkerLostError": "keras_ae.runs.divergence",
    "load_run": "keras_ae.runs.run_folder",
    "train_run": "keras_ae.runs.training",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return __all__
