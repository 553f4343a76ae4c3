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
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    return _writes_run_folder(resolver.cluster_spec().as_dict(), resolver.task_type, resolver.task_id)


def shard_by_data(dataset):
    """`dataset` (or None) with tf.data's DATA auto-sharding: each worker keeps its share of
    every global batch, instead of tf.data trying to split the input files first."""
    if dataset is None:
        return None
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options)


def check_same_resume_point(strategy, state, out):
    """Raises the same ValueError on every worker when they would resume `out` from
    different points (epoch, step), or some resume it and others start it anew.

    Every worker reads the run folder to resume it; a worker that cannot see the chief's
    checkpoints (a folder that is not shared) would train other epochs than the rest and
    leave them waiting in an all-reduce. One all-gather of the points tells them apart.
    Without a cluster (one process) there is nothing to compare.

    Args:
        strategy: the run's strategy.
        state: the state this worker resumes from (`resume_state`), or None for a new run.
        out: the run folder, for the message.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return
    import tensorflow as tf

    # (0, 0) is a new run: no checkpoint is taken before the first step.
    local = tf.constant([[state["epoch"], state["step"]] if state else [0, 0]], tf.int64)

    @tf.function
    def gather():
        return strategy.run(lambda: tf.distribute.get_replica_context().all_gather(local, axis=0))

    points = [tuple(p) for p in strategy.experimental_local_results(gather())[0].numpy().tolist()]
    if len(set(points)) > 1:
        found = "; ".join(
            f"replica {i}: " + (f"epoch {e}, step {s}" if (e, s) != (0, 0) else "no checkpoint (a new run)")
            for i, (e, s) in enumerate(points)
        )
        raise ValueError(
            f"The workers would resume {out} from different points ({found}). Every worker must read the "
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
