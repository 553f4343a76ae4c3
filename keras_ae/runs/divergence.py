"""A run stopped by a loss that is not finite: `TrainingDivergedError` and the checkpoint
it names."""

import os

from keras_ae.runs.run_checkpoint import RunCheckpoint


def last_good_state(run_folder, written):
    """The latest checkpoint state of a run that stopped, for its message: the later of the
    run folder's and, on a worker that writes a scratch folder `written`, the scratch's
    (which holds only this session's checkpoints, named as the run's). None if neither has
    a usable one."""
    states = []
    for folder in dict.fromkeys((run_folder, written)):
        try:
            state = RunCheckpoint.load_state(os.path.join(folder, "checkpoints"))
        except ValueError:  # none usable, or one only partly visible from this worker
            continue
        if state:
            states.append(
                dict(state, path=os.path.join(run_folder, "checkpoints", os.path.basename(state["path"])))
            )
    return max(states, key=lambda state: (state["epoch"], state["step"]), default=None)


class TrainingDivergedError(FloatingPointError):
    """Training stopped on a NaN or Inf loss; the run folder keeps its last good checkpoint."""

    def __init__(self, out, state):
        self.out, self.state = out, state
        step = f", step {state['step']} of epoch {state['epoch'] + 1}" if state and state.get("step") else ""
        kept = (
            f"The run keeps its last good checkpoint, epoch {state['epoch']}{step} ({state['path']}); "
            "running the same command resumes from it"
            if state
            else "No epoch had finished, so the run has no checkpoint"
        )
        super().__init__(
            f"Training diverged in {out}: the loss became NaN or Inf (a learning rate too high for "
            f"this model and data, or NaN/Inf in the data), and the step was not applied. {kept}; "
            "use --restart with a lower --learning-rate to train again."
        )
