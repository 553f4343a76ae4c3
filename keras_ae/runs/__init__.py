"""Training runs in a folder: train (resumable), evaluate, plot and export; the CLI's engine."""

from keras_ae.runs.run_checkpoint import RunCheckpoint
from keras_ae.runs.tensorboard_scalars import TensorBoardScalars
from keras_ae.runs.workflow import (
    DATASET_PRESETS,
    DEFAULTS,
    build_model,
    evaluate_run,
    export_run,
    load_run,
    plot_run,
    resolve_config,
    train_run,
)

__all__ = [
    "DATASET_PRESETS",
    "DEFAULTS",
    "RunCheckpoint",
    "TensorBoardScalars",
    "build_model",
    "evaluate_run",
    "export_run",
    "load_run",
    "plot_run",
    "resolve_config",
    "train_run",
]
