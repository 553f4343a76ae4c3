"""In-graph checks and control: numerics assertions, error kinds, ordering and conditionals."""

import tensorflow as tf

from keras_ae.backend.distribute import all_reduce_sum, sync_context


def is_out_of_memory(error):
    """Whether `error` is TensorFlow's out-of-memory error (a tensor too large to allocate)."""
    return isinstance(error, tf.errors.ResourceExhaustedError)


def is_non_finite_error(error, marker):
    """Whether `error` is the in-graph numerics check of `checked_loss_and_weight(...,
    message)` failing with a message that contains `marker`."""
    return isinstance(error, tf.errors.InvalidArgumentError) and marker in str(error)


def enable_op_determinism():
    """Makes TensorFlow's ops deterministic in this process (for good: it cannot be undone).

    Ops with several possible reduction orders then use a fixed one, and the few ops that
    have no deterministic kernel raise an error instead of running.
    """
    tf.config.experimental.enable_op_determinism()


def after(x):
    """A context in which every op created runs only once `x` has been computed.

    An error raised while computing `x` (a numerics check) then stops them all: in
    a graph, ops with no dependency on the check run in parallel with it, so an update
    (or the optimizer's step counter, which reads no gradient) could land before the check
    fails.
    """
    return tf.control_dependencies([x])


def checked_loss_and_weight(loss, batch_size, message):
    """`(loss, weight)`: the scalar `loss` behind a check that raises
    `InvalidArgumentError(message)` when it is NaN or Inf, and this replica's share of the
    global batch (`replica_weight`).

    Under a strategy the check fails on every replica when the loss is not finite on any:
    a worker whose own share gave a finite loss would otherwise go on to the gradients'
    all-reduce and fail there on a lost peer, without saying why. Both are cross-replica
    sums, made in one all-reduce: each collective is a round trip between the workers.

    Args:
        loss: this replica's scalar loss.
        batch_size: the number of examples in this replica's share of the batch.
        message: the error's message when the loss is NaN or Inf on any replica.

    Returns:
        The checked loss, and a float32 scalar weight (1.0 without distribution).
    """
    context = sync_context()
    if context is None:
        return tf.debugging.check_numerics(loss, message), 1.0
    local = tf.cast(batch_size, tf.float32)
    bad = tf.cast(tf.logical_not(tf.math.is_finite(loss)), tf.float32)
    total_size, total_bad = tf.unstack(context.all_reduce(tf.distribute.ReduceOp.SUM, tf.stack([local, bad])))
    with tf.control_dependencies([tf.debugging.Assert(tf.equal(total_bad, 0.0), [message])]):
        return tf.identity(loss), local / total_size


def is_finite(x):
    """A boolean scalar tensor: whether `x` holds no NaN or Inf.

    Under a strategy, whether it holds none on any replica (one all-reduce): replicas that
    decide alone whether to update would differ in their collectives, and those that
    update would wait for the others' gradients.
    """
    bad = tf.cast(tf.logical_not(tf.reduce_all(tf.math.is_finite(x))), tf.float32)
    return tf.equal(all_reduce_sum(bad), 0.0)


def run_if_finite(x, fn):
    """Runs `fn` (for its effects) only when `x` holds no NaN or Inf; compiles under XLA,
    where the numerics check of `checked_loss_and_weight` does not run."""

    def run():
        fn()
        return tf.constant(True)

    tf.cond(is_finite(x), run, lambda: tf.constant(False))


def assert_indices_in_range(indices, num_embeddings, message):
    """Returns `indices` behind a run-time check that they lie in `[0, num_embeddings)`.

    `tf.gather` on a GPU returns zeros for an out-of-range index instead of failing; the
    check makes a bad request to an exported `decode` an error on every device.
    """
    ok = tf.logical_and(tf.reduce_all(indices >= 0), tf.reduce_all(indices < num_embeddings))
    with tf.control_dependencies(
        [tf.debugging.Assert(ok, [message, tf.reduce_min(indices), tf.reduce_max(indices)])]
    ):
        return tf.identity(indices)


def cond(pred, true_fn, false_fn):
    """`tf.cond`: runs only the chosen branch (one-time work such as a k-means initialization)."""
    return tf.cond(pred, true_fn, false_fn)
