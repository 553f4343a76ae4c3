"""A callback that makes training resumable: model, optimizer state and history per epoch."""

import os

import keras

from keras_ae._utils import read_json, write_json_atomically
from keras_ae._validation import check_int

STATE_FILE = "state.json"


class RunCheckpoint(keras.callbacks.Callback):
    """Saves the whole model (weights, optimizer state, step counter) after every epoch.

    Each epoch writes `epoch_NNNN.keras` under a temporary name and renames it, then
    rewrites `state.json` (`epoch`, `checkpoint`, `history`) the same way, and only then
    deletes the checkpoints older than the latest `keep`. An interruption at any point leaves a `state.json` that
    names a complete checkpoint and the history up to that epoch, so training resumes with
    `initial_epoch=state["epoch"]`.

    Args:
        directory: the checkpoint folder (created if needed).
        history: the history of earlier epochs (`{metric: [values]}`), extended in place.
        keep: how many of the latest epoch checkpoints to keep, >= 1.

    Example:
        >>> state = RunCheckpoint.load_state("runs/vae/checkpoints")
        >>> model = keras.models.load_model(state["path"])
        >>> model.fit(data, epochs=20, initial_epoch=state["epoch"],
        ...           callbacks=[RunCheckpoint("runs/vae/checkpoints", state["history"])])
    """

    def __init__(self, directory, history=None, keep=1):
        super().__init__()
        self.directory = os.fspath(directory)
        self.history = {} if history is None else history
        self.keep = check_int("keep", keep)

    def on_epoch_end(self, epoch, logs=None):
        for name, value in (logs or {}).items():
            self.history.setdefault(name, []).append(float(value))
        os.makedirs(self.directory, exist_ok=True)
        name = f"epoch_{epoch + 1:04d}.keras"
        tmp = os.path.join(self.directory, f"partial_{name}")  # `save` wants a .keras suffix
        self.model.save(tmp)
        os.replace(tmp, os.path.join(self.directory, name))
        write_json_atomically(
            os.path.join(self.directory, STATE_FILE),
            {"epoch": epoch + 1, "checkpoint": name, "history": self.history},
        )
        saved = sorted(
            f for f in os.listdir(self.directory) if f.startswith("epoch_") and f.endswith(".keras")
        )
        for old in saved[: -self.keep]:
            os.remove(os.path.join(self.directory, old))

    @staticmethod
    def load_state(directory):
        """Returns the saved state with the checkpoint's full `path`, or None without one."""
        path = os.path.join(os.fspath(directory), STATE_FILE)
        if not os.path.isfile(path):
            return None
        state = read_json(path)
        state["path"] = os.path.join(os.fspath(directory), state["checkpoint"])
        if not os.path.isfile(state["path"]):
            raise FileNotFoundError(f"{path} names the checkpoint {state['path']}, which is missing.")
        return state
