"""A run stopped mid-training, and the checkpoint it names: by a loss that is not finite
(`TrainingDivergedError`), or by a worker of a multi-worker run that stopped or became
unreachable (`WorkerLostError`)."""

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


def _kept(state, good=""):
    """What a stopped run keeps, in words: its latest checkpoint `state`, or none."""
    if not state:
        return "No epoch had finished, so the run has no checkpoint"
    step = f", step {state['step']} of epoch {state['epoch'] + 1}" if state.get("step") else ""
    return (
        f"The run keeps its last {good}checkpoint, epoch {state['epoch']}{step} ({state['path']}); "
        "running the same command resumes from it"
    )


class TrainingDivergedError(FloatingPointError):
    """Training stopped on a NaN or Inf loss; the run folder keeps its last good checkpoint."""

    def __init__(self, out, state):
        self.out, self.state = out, state
        super().__init__(
            f"Training diverged in {out}: the loss became NaN or Inf (a learning rate too high for "
            f"this model and data, or NaN/Inf in the data), and the step was not applied. "
            f"{_kept(state, 'good ')}; use --restart with a lower --learning-rate to train again."
        )


class WorkerLostError(ConnectionError):
    """Another worker of a multi-worker run stopped or became unreachable mid-training.

    TensorFlow's health check then aborts this worker's collectives with an
    `UnavailableError` whose message names the lost task; this error says what it means
    for the run.
    """

    def __init__(self, out, state, detail):
        self.out, self.state = out, state
        super().__init__(
            f"Training in {out} stopped: another worker of the cluster stopped or became unreachable "
            f"(its own output says why; TensorFlow reported: {detail}). Every worker stops with it. "
            f"{_kept(state)} on every worker."
        )


def lost_worker_detail(error, strategy):
    """TensorFlow's words for a lost worker in `error`, or None if `error` is not one.

    Under `MultiWorkerMirroredStrategy` a worker that stops (killed, crashed, its machine
    gone) fails its peers' next collective: their health check aborts it with an
    `UnavailableError` ("Collective ops is aborted by: ... The following tasks are
    unhealthy ..."). Under any other strategy an `UnavailableError` is something else (a
    remote file system, say), and None is returned.

    Args:
        error: the exception that stopped training.
        strategy: the strategy the model was trained under.
    """
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) or not isinstance(
        error, tf.errors.UnavailableError
    ):
        return None
    message = str(getattr(error, "message", error))
    return " ".join(message.split("aborted by: ", 1)[-1].split())[:300]
