"""A callback that makes training resumable: model, optimizer state and history, per epoch
and, optionally, every few steps inside an epoch."""

import os
import re
import warnings
import zipfile

import keras
import numpy as np
from keras import ops

from keras_ae._utils import fsync_file, read_json, write_json_atomically
from keras_ae._validation import check_int

STATE_FILE = "state.json"
# epoch_0003.keras: after 3 epochs; epoch_0003_step_000040.keras: 40 steps into the 4th.
_CHECKPOINT_NAME = re.compile(r"epoch_(\d{4,})(?:_step_(\d{6,}))?\.keras")


def checkpoint_name(epoch, step=0):
    """The file name of the checkpoint taken `step` steps after `epoch` whole epochs."""
    return f"epoch_{epoch:04d}.keras" if not step else f"epoch_{epoch:04d}_step_{step:06d}.keras"


def checkpoint_position(name):
    """`(epoch, step)` of a checkpoint file name, or None for other files."""
    match = _CHECKPOINT_NAME.fullmatch(name)
    return None if match is None else (int(match[1]), int(match[2] or 0))


class RunCheckpoint(keras.callbacks.Callback):
    """Saves the whole model (weights, optimizer state, step counter, noise state) after
    every epoch and, with `save_every`, every `save_every` steps inside an epoch.

    Each save writes the `.keras` file under a temporary name and renames it, then
    rewrites `state.json` (`epoch`, `step`, `checkpoint`, `history`, `metrics`) the same
    way, and only then deletes what the new checkpoint replaces: the older mid-epoch
    checkpoints, and the epoch checkpoints beyond the latest `keep`. A kill at any
    instant leaves a `state.json` that names a complete checkpoint, the history of the
    whole epochs before it, and (mid-epoch) the running means of the current epoch's
    metrics, so that `keras_ae.runs.train_run` resumes at exactly that step.

    This is Keras' `BackupAndRestore(save_freq=steps)` made exact: Keras' callback restarts
    an interrupted epoch from its first batch (training those batches twice) and writes
    its backup in place; here the resumed run skips the batches already trained, so it
    ends with the weights of an uninterrupted run.

    Args:
        directory: the checkpoint folder (created if needed).
        history: the history of earlier epochs (`{metric: [values]}`), extended in place.
        keep: how many of the latest epoch checkpoints to keep, >= 1 (2: a damaged latest one
            has an intact one to fall back on).
        save_every: None (after each epoch only), or a number of steps between mid-epoch
            checkpoints. Keras calls callbacks after each execution of the model's
            `steps_per_execution` steps (16 by default in keras-ae), so a checkpoint is taken
            at the first execution end at or past each multiple of `save_every`.
        steps_per_epoch: steps in a whole epoch (no mid-epoch checkpoint at its last step,
            which the epoch checkpoint covers); None if unknown.

    Example:
        >>> state = RunCheckpoint.load_state("runs/vae/checkpoints")
        >>> model = keras.models.load_model(state["path"])
        >>> model.fit(data, epochs=20, initial_epoch=state["epoch"],
        ...           callbacks=[RunCheckpoint("runs/vae/checkpoints", state["history"])])
    """

    def __init__(self, directory, history=None, keep=2, save_every=None, steps_per_epoch=None):
        super().__init__()
        self.directory = os.fspath(directory)
        self.history = {} if history is None else history
        self.keep = check_int("keep", keep)
        self.save_every = None if save_every is None else check_int("save_every", save_every)
        self.steps_per_epoch = steps_per_epoch
        self.resume_from(0)

    def resume_from(self, step, metrics=None):
        """Declares that the next `fit` starts `step` steps into its first epoch, whose
        metrics had the variable values `metrics` (from `state["metrics"]`) at that step."""
        self._first_step, self._metrics_to_restore = step, metrics
        self._step_offset = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch, self._step_offset = epoch, self._first_step
        self._last_saved = self._first_step
        self._first_step = 0
        if self._metrics_to_restore:
            _restore_metrics(self.model, self._metrics_to_restore)
        self._metrics_to_restore = None

    def on_train_batch_end(self, batch, logs=None):
        if self.save_every is None:
            return
        step = self._step_offset + batch + 1  # `batch` is the last step of the execution
        if step // self.save_every == self._last_saved // self.save_every:
            return
        if self.steps_per_epoch and step >= self.steps_per_epoch:
            return  # the epoch's end: `on_epoch_end` saves
        self._save(self._epoch, step, metrics=_metric_values(self.model))
        self._last_saved = step

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        self._save(epoch + 1, 0)

    def _save(self, epoch, step, metrics=None):
        os.makedirs(self.directory, exist_ok=True)
        name = checkpoint_name(epoch, step)
        save_model_atomically(self.model, os.path.join(self.directory, name))
        state = {"epoch": epoch, "step": step, "checkpoint": name, "history": self.history}
        if metrics is not None:
            state["metrics"] = metrics
        write_json_atomically(os.path.join(self.directory, STATE_FILE), state)
        saved = sorted(
            (position, other)
            for other in os.listdir(self.directory)
            if (position := checkpoint_position(other)) is not None and other != name
        )
        whole_epochs = [other for (_, other_step), other in saved if not other_step]
        stale = [other for (_, other_step), other in saved if other_step]  # older mid-epoch ones
        stale += whole_epochs[: max(len(whole_epochs) - (self.keep - (0 if step else 1)), 0)]
        # Temporary files of a save that a kill cut short.
        stale += [other for other in os.listdir(self.directory) if other.startswith("partial_")]
        for other in stale:
            os.remove(os.path.join(self.directory, other))

    @staticmethod
    def load_state(directory):
        """Returns the state of the latest usable checkpoint, with its full `path`, or None
        when there is no checkpoint.

        The state holds `epoch` (whole epochs trained), `step` (steps trained of the next
        epoch, 0 after a whole epoch), `history` (of the whole epochs) and, mid-epoch,
        `metrics` (the variables of the model's metrics at that step).

        A checkpoint that is damaged (truncated or corrupted on disk: its zip archive does
        not read back with matching checksums) or missing is passed over for the newest
        older one that is intact (kept with `keep` >= 2), with a warning that names both;
        the history is cut back to that epoch.

        Raises:
            ValueError: checkpoints exist but none is usable.
        """
        directory = os.fspath(directory)
        path = os.path.join(directory, STATE_FILE)
        if not os.path.isfile(path):
            return None
        state = read_json(path)
        state.setdefault("step", 0)  # written by keras-ae 0.x before mid-epoch checkpoints
        latest = os.path.join(directory, state["checkpoint"])
        problem = checkpoint_problem(latest)
        if problem is None:
            return dict(state, path=latest)
        latest_position = (state["epoch"], state["step"])
        older = sorted(
            (position, name)
            for name in os.listdir(directory)
            if (position := checkpoint_position(name)) is not None and position < latest_position
        )
        for (epoch, step), name in reversed(older):
            candidate = os.path.join(directory, name)
            if checkpoint_problem(candidate) is None:
                warnings.warn(
                    f"The latest checkpoint {latest} is {problem}; resuming from the previous one, "
                    f"{candidate} (epoch {epoch}{f', step {step}' if step else ''}).",
                    RuntimeWarning,
                    stacklevel=2,
                )
                history = {key: values[:epoch] for key, values in state["history"].items()}
                # A mid-epoch fallback lost its metrics' state: that epoch's means then cover
                # the steps trained after the resume.
                return {
                    "epoch": epoch,
                    "step": step,
                    "checkpoint": name,
                    "history": history,
                    "path": candidate,
                }
        raise ValueError(
            f"The latest checkpoint {latest} is {problem}, and no older checkpoint is usable (keep more "
            "with --keep-checkpoints). Use --restart to train from scratch."
        )


def save_model_atomically(model, path):
    """Saves `model` to the `.keras` file `path` by writing `partial_<name>` beside it and
    renaming it into place: a process killed while saving leaves no half-written `path`."""
    folder, name = os.path.split(path)
    partial = os.path.join(folder, f"partial_{name}")  # `save` wants a .keras suffix
    model.save(partial)
    fsync_file(partial)  # on disk before the rename, so a power loss cannot leave it empty
    os.replace(partial, path)


def checkpoint_problem(path):
    """Why the `.keras` checkpoint at `path` cannot be used ("missing", "damaged: ..."), or None."""
    if not os.path.isfile(path):
        return "missing"
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()  # reads every member and checks its CRC
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        return f"damaged ({error})"
    if broken is not None:
        return f"damaged ({broken} fails its checksum)"
    return None


def _metric_values(model):
    """`{metric name: [variable values]}` of the model's metrics (running sums and counts)."""
    return {
        metric.name: [ops.convert_to_numpy(variable).tolist() for variable in metric.variables]
        for metric in model.metrics
    }


def _restore_metrics(model, values):
    """Sets the model's metric variables to `values` (from `_metric_values`), so that the
    resumed epoch's means cover its steps before the interruption too.

    Under a distribution strategy the variables are per-replica sums that cannot be set
    from outside a replica: there the epoch's means cover the steps after the resume."""
    for metric in model.metrics:
        for variable, value in zip(metric.variables, values.get(metric.name, ()), strict=False):
            if _is_distributed(variable):
                return
            variable.assign(np.asarray(value, dtype=variable.dtype))


def _is_distributed(variable):
    import tensorflow as tf

    return isinstance(getattr(variable, "value", variable), tf.distribute.DistributedValues)
