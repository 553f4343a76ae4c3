"""Where a run resumes from: its state (the latest usable checkpoint, or a finished run's
own files when its `checkpoints/` is gone) and the `.keras` file its model is loaded from."""

import os

from keras_ae._utils import read_json
from keras_ae.runs.config import HISTORY_FILE, MODEL_FILE
from keras_ae.runs.run_checkpoint import RunCheckpoint, checkpoint_name, checkpoint_problem


def resume_state(out, epochs):
    """The state the run in folder `out` resumes from (see `RunCheckpoint.load_state`), or
    None for a new run.

    A finished run whose `checkpoints/` is gone (deleted to save space, say) but whose
    `model.keras` and `history.json` are there is recognized as finished when its history
    reaches `epochs`, so that the same command does not train it again from scratch.

    Raises:
        ValueError: such a run holds fewer epochs than `epochs` (it cannot be resumed).
    """
    state = RunCheckpoint.load_state(os.path.join(out, "checkpoints"))
    if state is not None:
        return state
    final_path, history_path = os.path.join(out, MODEL_FILE), os.path.join(out, HISTORY_FILE)
    if checkpoint_problem(final_path) is not None or not os.path.isfile(history_path):
        return None  # nothing trained here: a new run
    history = read_json(history_path)
    trained = len(history.get("loss", []))
    if trained < epochs:
        raise ValueError(
            f"{out} holds a model trained for {trained} epochs but no checkpoints/ to resume it "
            f"from. Use --restart to train it again from scratch, or another --out. Received: epochs={epochs}"
        )
    return {"epoch": trained, "step": 0, "history": history, "path": final_path}


def model_to_load(out, state, epochs):
    """The `.keras` file a resumed run starts from.

    The final model of a finished run (it holds what was trained after the epochs, a
    VQ-VAE's prior); else the latest checkpoint, except a mid-epoch one past the asked
    `epochs`, whose epoch was not asked for: there the checkpoint of its last whole epoch.

    Returns:
        A path: `out/model.keras` exactly when the run has finished `epochs` and that file
        is sound, which callers use to tell a finished run.

    Raises:
        ValueError: that whole epoch's checkpoint is missing or damaged.
    """
    final_path = os.path.join(out, MODEL_FILE)
    initial_epoch = state["epoch"]
    if initial_epoch < epochs:
        return state["path"]
    if checkpoint_problem(final_path) is None:
        return final_path
    if not state["step"]:
        return state["path"]
    path = os.path.join(out, "checkpoints", checkpoint_name(initial_epoch))
    problem = checkpoint_problem(path)
    if problem is not None:
        raise ValueError(
            f"The run stopped {state['step']} steps into epoch {initial_epoch + 1}, and the checkpoint of "
            f"epoch {initial_epoch} is {problem}: resume with more epochs. Received: epochs={epochs}"
        )
    return path
