"""Under a `tf.distribute` strategy: replica weights and shares, cross-replica sums, logs."""

import tensorflow as tf


def sync_context():
    """The replica context when several replicas run in sync, else None (no distribution,
    or one replica: nothing to reduce)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def replica_weight(batch_size):
    """Fraction of the global batch held by this replica (1.0 without distribution).

    Each replica's loss is an average over its local examples; weighting it by
    local/global batch size makes the all-reduced gradient that of the global batch.
    """
    context = sync_context()
    if context is None:
        return 1.0
    local = tf.cast(batch_size, "float32")
    return local / context.all_reduce(tf.distribute.ReduceOp.SUM, local)


def fill_empty_share(x, sample_weight):
    """`(x, sample_weight)`, with an empty replica share of a batch made one zero example of weight 0.

    Under a strategy, a last batch smaller than the number of replicas leaves some replicas
    no examples. Their loss terms would be means over nothing (NaN: the step's finiteness
    check would stop that worker alone, and the others would wait for it). The zero
    example keeps every term finite; its weight 0 keeps it out of the weighted terms and
    of what stateful layers learn from a batch (the EMA codebook, k-sparse unit ages), and
    `replica_weight` of the true size, 0, keeps this replica's loss out of the gradient.
    Without distribution, or with examples, nothing changes but `sample_weight` None
    becoming ones under a strategy.

    Args:
        x: the replica's batch, `(n, ...)`.
        sample_weight: `(n,)` or `(n, 1)` weights, or None.

    Returns:
        `(x, sample_weight)`.
    """
    context = sync_context()
    if context is None:
        return x, sample_weight
    size = tf.shape(x)[0]
    missing = tf.cast(tf.equal(size, 0), tf.int32)  # 1 for an empty share, else 0

    def padded(values, value_shape):
        return tf.concat([values, tf.zeros(tf.concat([[missing], value_shape], 0), values.dtype)], 0)

    if sample_weight is None:
        sample_weight = tf.ones([size], tf.float32)
    sample_weight = tf.convert_to_tensor(sample_weight)
    return padded(x, tf.shape(x)[1:]), padded(sample_weight, tf.shape(sample_weight)[1:])


def in_distribution_scope():
    """Whether code runs under a `tf.distribute` strategy's scope (other than the default)."""
    return tf.distribute.has_strategy()


def replica_id():
    """The replica's index among the replicas in sync, or None without distribution."""
    context = sync_context()
    return None if context is None else context.replica_id_in_sync_group


def tracker_means(trackers):
    """`{name: result}` of Keras `Mean` trackers, over the whole global batch under a strategy.

    Each replica's tracker averages its own examples; when the replicas' shares differ (a
    last batch that does not split evenly), the mean of those means that `fit` would show
    is not the mean over the examples. Summing the trackers' totals and counts over the
    replicas (one all-reduce for all of them) gives every replica that mean.

    Args:
        trackers: a dict name -> `keras.metrics.Mean`.

    Returns:
        A dict name -> scalar tensor.
    """
    local = tf.stack(
        [tf.cast(tf.stack([t.total.value, t.count.value]), tf.float32) for t in trackers.values()]
    )
    sums = all_reduce_sum(local)  # `Mean.result()`'s own divide_no_nan, over every replica
    return {name: tf.math.divide_no_nan(sums[i, 0], sums[i, 1]) for i, name in enumerate(trackers)}


def logs_for_strategy(logs):
    """The step's logs in the form Keras' `fit` can reduce over the replicas.

    Under `MultiWorkerMirroredStrategy` with several workers, Keras 3.15 reduces each log
    with `strategy.reduce("MEAN", value, axis=0)`, which fails on scalars ("Invalid
    reduction dimension 0 for input with 0 dimensions"); a leading axis of 1 makes that
    the mean over the replicas, which `fit` shows and records as a scalar. Other
    strategies get the logs as they are.
    """
    strategy = tf.distribute.get_strategy()
    in_multi_worker_mode = getattr(strategy.extended, "_in_multi_worker_mode", None)
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and in_multi_worker_mode():
        return {name: tf.reshape(value, (1,)) for name, value in logs.items()}
    return logs


def all_reduce_sum(x):
    """Sum of `x` over the replicas in sync (`x` itself without distribution).

    Statistics that update non-trainable state (the EMA codebook) must be summed over the
    global batch before they are used, or every replica would keep its own codebook.
    """
    context = sync_context()
    if context is None:
        return x
    return context.all_reduce(tf.distribute.ReduceOp.SUM, x)


def from_first_replica(x):
    """The value of `x` on the first replica, on every replica (`x` without distribution).

    Random choices made from local data (the vectors that restart dead codes) differ
    between replicas; taking the first replica's keeps the replicas' state identical.
    """
    context = sync_context()
    if context is None:
        return x
    first = tf.cast(tf.equal(context.replica_id_in_sync_group, 0), x.dtype)
    return context.all_reduce(tf.distribute.ReduceOp.SUM, x * first)
