"""Which `tf.distribute` strategy a run trains under, and which worker writes its folder.

TensorFlow's own engine does the work: `MirroredStrategy` for the devices of one machine,
`MultiWorkerMirroredStrategy` for several machines, the cluster read from `TF_CONFIG`
(or from a Slurm allocation through `SlurmClusterResolver`). Every worker runs the same
training, saves and callbacks (saving reads variables that are reduced over the workers,
so all must take part); only the chief's writes go to the run folder, the others' go to
temporary folders that are removed at the end.
"""

import contextlib
import json
import os
import shutil
import tempfile

from keras_ae._validation import check_choice

DISTRIBUTE = ("mirrored", "multi_worker")


def make_strategy(distribute):
    """The strategy for `distribute`: None (no distribution), "mirrored" or "multi_worker".

    Args:
        distribute: None, `"mirrored"` (every GPU of this machine, or its CPU), or
            `"multi_worker"` (the workers named by `TF_CONFIG`; under Slurm without
            `TF_CONFIG`, the tasks of the allocation).

    Returns:
        A `tf.distribute.Strategy` (the default strategy for None).

    Raises:
        ValueError: an unknown `distribute`, or `"multi_worker"` with neither `TF_CONFIG`
            nor a Slurm allocation to name the workers.
    """
    import tensorflow as tf

    if distribute is None:
        return tf.distribute.get_strategy()
    check_choice("distribute", distribute, DISTRIBUTE)
    if distribute == "mirrored":
        return tf.distribute.MirroredStrategy()
    if os.environ.get("TF_CONFIG"):
        _check_tf_config(os.environ["TF_CONFIG"])
        return tf.distribute.MultiWorkerMirroredStrategy()
    if os.environ.get("SLURM_JOB_ID"):
        resolver = tf.distribute.cluster_resolver.SlurmClusterResolver()
        return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)
    raise ValueError(
        "distribute='multi_worker' needs the cluster: set TF_CONFIG on every worker (see the README's "
        "'Distributed training'), or run the workers as the tasks of a Slurm allocation. Received: "
        "distribute='multi_worker' with neither TF_CONFIG nor SLURM_JOB_ID set"
    )


def _check_tf_config(text):
    try:
        config = json.loads(text)
        workers = config["cluster"]["worker"]
        task = config["task"]
        assert isinstance(workers, list) and task["type"] in ("worker", "chief")
    except (ValueError, KeyError, TypeError, AssertionError) as error:
        raise ValueError(
            'TF_CONFIG must be JSON like {"cluster": {"worker": ["host1:port", "host2:port"]}, "task": '
            f'{{"type": "worker", "index": 0}}}}. Received: TF_CONFIG={text!r} ({error!r})'
        ) from None


def _writes_run_folder(cluster, task_type, task_id):
    """The role that writes the run folder: the "chief" task, else worker 0 of a cluster
    that has no chief task (`cluster`: the job names, e.g. {"worker": [...]})."""
    if task_type == "chief":
        return True
    return "chief" not in cluster and task_type == "worker" and int(task_id or 0) == 0


def is_chief_process(distribute):
    """Whether this process writes the run folder under `distribute`, read from the
    environment as `make_strategy` reads it (for what a worker reports after training)."""
    if distribute != "multi_worker":
        return True
    if os.environ.get("TF_CONFIG"):
        config = json.loads(os.environ["TF_CONFIG"])
        return _writes_run_folder(config["cluster"], config["task"]["type"], config["task"].get("index", 0))
    return os.environ.get("SLURM_PROCID", "0") == "0"


def is_chief(strategy):
    """Whether this process writes the run folder: the only process, or worker 0 (or the
    "chief" task) of a multi-worker cluster."""
    resolver = _cluster_resolver(strategy)
    if resolver is None:
        return True
    return _writes_run_folder(resolver.cluster_spec().as_dict(), resolver.task_type, resolver.task_id)


def _cluster_resolver(strategy):
    """The cluster resolver of a multi-worker strategy, or None without a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return resolver if resolver is not None and resolver.cluster_spec().as_dict() else None


def shard_by_data(dataset):
    """`dataset` (or None) with tf.data's DATA auto-sharding: each worker keeps its share of
    every global batch, instead of tf.data trying to split the input files first."""
    if dataset is None:
        return None
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def check_workers_agree(strategy, state, failed=False):
    """Makes every worker stop together unless all of them can start the run and resume it
    from the same point (epoch, step), or all start it anew.

    Every worker reads the run folder to resume it; a worker that cannot see the chief's
    checkpoints (a folder that is not shared) would train other epochs than the rest, and
    a worker that cannot start at all (its folder holds another run) would leave the rest
    waiting. One all-gather of what each worker found tells them apart. Without a cluster
    (one process) there is nothing to compare.

    Args:
        strategy: the run's strategy.
        state: the state this worker resumes from (`resume_state`), or None for a new run.
        failed: this worker cannot start the run (a bad argument, a folder holding another
            run, ...); it raises its own error after this call, and the others a ValueError
            naming it.

    Raises:
        ValueError: another worker failed, or the workers found different points.
    """
    resolver = _cluster_resolver(strategy)
    if resolver is None:
        return
    import tensorflow as tf

    # Which task this is (-1: the "chief" task), and (0, 0) for a new run: no checkpoint is
    # taken before the first step.
    task = -1 if resolver.task_type == "chief" else int(resolver.task_id or 0)
    point = [state["epoch"], state["step"]] if state else [0, 0]
    local = tf.constant([[task, *point, int(failed)]], tf.int64)

    @tf.function
    def gather():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_gather(local, axis=0))

    gathered = strategy.experimental_local_results(gather())[0].numpy().tolist()
    if failed:  # the others were told; this worker raises its own error
        return
    found = {}  # task -> (epoch, step, failed), once per task however many replicas it has
    for task_id, epoch, step, task_failed in gathered:
        found.setdefault(task_id, (epoch, step, task_failed))

    def name(task_id):
        return "the chief" if task_id == -1 else f"worker {task_id}"

    broken = [name(t) for t, (_, _, task_failed) in found.items() if task_failed]
    if broken:
        raise ValueError(
            f"{', '.join(broken)} could not start the run (its own output says why); every worker stops "
            "with it."
        )
    if len({(epoch, step) for epoch, step, _ in found.values()}) > 1:
        points = "; ".join(
            f"{name(t)}: " + (f"epoch {e}, step {s}" if (e, s) != (0, 0) else "no checkpoint (a new run)")
            for t, (e, s, _) in found.items()
        )
        raise ValueError(
            f"The workers would resume the run from different points ({points}). Every worker must read the "
            "same run folder: put it on a folder all workers share, or --restart the run on every worker."
        )


@contextlib.contextmanager
def write_folder(out, chief):
    """Yields the folder this process writes: `out` for the chief, a temporary folder
    (removed on exit, also on errors) for the other workers."""
    if chief:
        yield out
        return
    scratch = tempfile.mkdtemp(prefix="keras_ae_worker_")
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
