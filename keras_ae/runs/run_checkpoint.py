"""A callback that makes training resumable: model, optimizer state and history per epoch."""

import os
import re
import warnings
import zipfile

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
        """Returns the state of the latest usable checkpoint, with its full `path`, or None
        when there is no checkpoint.

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
        latest = os.path.join(directory, state["checkpoint"])
        problem = checkpoint_problem(latest)
        if problem is None:
            return dict(state, path=latest)
        older = sorted(
            (int(name[6:-6]), name)
            for name in os.listdir(directory)
            if re.fullmatch(r"epoch_\d{4,}\.keras", name) and int(name[6:-6]) < state["epoch"]
        )
        for epoch, name in reversed(older):
            candidate = os.path.join(directory, name)
            if checkpoint_problem(candidate) is None:
                warnings.warn(
                    f"The latest checkpoint {latest} is {problem}; resuming from the previous one, "
                    f"{candidate} (epoch {epoch}).",
                    RuntimeWarning,
                    stacklevel=2,
                )
                history = {key: values[:epoch] for key, values in state["history"].items()}
                return {"epoch": epoch, "checkpoint": name, "history": history, "path": candidate}
        raise ValueError(
            f"The latest checkpoint {latest} is {problem}, and no older checkpoint is usable (keep more "
            "with --keep-checkpoints). Use --restart to train from scratch."
        )


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
