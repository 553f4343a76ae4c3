"""Every TensorFlow-only operation the models use, in one place.

The models are written with `keras.ops` wherever Keras has an equivalent. What it has
not (a gradient tape, batch Jacobians, counter-based random draws with tensor seeds,
cross-replica sums, in-graph numerics assertions) lives here, so a second Keras backend
later replaces this one module.
"""

import tensorflow as tf


def value_and_gradients(fn, variables):
    """Runs `fn()` under a gradient tape; returns `(fn's result, gradients)`.

    Args:
        fn: a function of no arguments returning `(loss, aux)`; the gradients are those
            of `loss`.
        variables: the variables to differentiate with respect to.

    Returns:
        `((loss, aux), gradients)`, gradients in the order of `variables`.
    """
    with tf.GradientTape() as tape:
        loss, aux = fn()
    return (loss, aux), tape.gradient(loss, variables)


def batch_jacobian(fn, x):
    """Returns `(fn(x), J)` with `J[b] = d fn(x)[b] / d x[b]`, shaped `(batch, out, *x.shape[1:])`.

    Vectorized with pfor; the result is differentiable (second-order gradients flow).
    """
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return y, tape.batch_jacobian(y, x)


def stateless_normal(shape, seed, dtype="float32"):
    """Standard normal draws as a pure function of `seed` (counter-based Philox).

    The same seed gives the same numbers in any call, process or exported SavedModel, and
    the seed may be a tensor (a serving input); `keras.random` takes only Python ints.

    Args:
        shape: the output shape (ints or int tensors).
        seed: an int or int64 scalar tensor.
        dtype: the float dtype of the draws.
    """
    seed = tf.stack([tf.cast(seed, "int64"), tf.constant(0, "int64")])
    shape = tf.stack([tf.cast(d, "int32") for d in shape])
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype)


def fuses_adam(gradient):
    """Whether `apply_adam` can update a variable from `gradient` in one fused kernel.

    Not for sparse gradients (`IndexedSlices`), and not under a `tf.distribute` strategy,
    whose mirrored variables update through the strategy's own per-replica code.
    """
    return not isinstance(gradient, tf.IndexedSlices) and not tf.distribute.has_strategy()


def apply_adam(variable, m, v, gradient, learning_rate, beta_1, beta_2, epsilon, step, enabled=None):
    """One Adam update of `variable` and its moments `m`, `v` in place, as one kernel.

    The update of `keras.optimizers.Adam` (Kingma & Ba, with epsilon added to sqrt(v)):
    `m += (g - m)(1 - beta_1)`, `v += (g^2 - v)(1 - beta_2)`,
    `variable -= lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)`.
    Keras computes it as about ten element-wise ops, each a pass over the variable's
    memory; TensorFlow's `ResourceApplyAdam` makes one (XLA compiles it too).

    Args:
        variable, m, v: `tf.Variable`s of one shape and dtype.
        gradient: the dense gradient of `variable`.
        learning_rate, beta_1, beta_2, epsilon: scalars.
        step: the 1-based step count `t` of the bias corrections.
        enabled: `None`, or a boolean scalar tensor. Where it is False the kernel still
            runs but changes nothing: the gradient is replaced by zeros, both betas by 1
            (so `m` and `v` keep their values exactly) and the learning rate by 0 (so
            `variable` does). It skips an update without a conditional, which under XLA
            would split the step's fused program (`FusedAdam.apply_if`).
    """
    dtype = variable.dtype
    step = tf.cast(step, dtype)
    beta_1 = tf.cast(beta_1, dtype)
    beta_2 = tf.cast(beta_2, dtype)
    # The bias corrections keep the true betas: with a power of 1 they would divide 0 by 0.
    beta1_power = tf.pow(beta_1, step)
    beta2_power = tf.pow(beta_2, step)
    learning_rate = tf.cast(learning_rate, dtype)
    gradient = tf.cast(gradient, dtype)
    if enabled is not None:
        one = tf.ones((), dtype)
        learning_rate = tf.where(enabled, learning_rate, tf.zeros((), dtype))
        beta_1 = tf.where(enabled, beta_1, one)
        beta_2 = tf.where(enabled, beta_2, one)
        gradient = tf.where(enabled, gradient, tf.zeros_like(gradient))
    tf.raw_ops.ResourceApplyAdam(
        var=variable.handle,
        m=m.handle,
        v=v.handle,
        beta1_power=beta1_power,
        beta2_power=beta2_power,
        lr=learning_rate,
        beta1=beta_1,
        beta2=beta_2,
        epsilon=tf.cast(epsilon, dtype),
        grad=gradient,
    )


def replica_weight(batch_size):
    """Fraction of the global batch held by this replica (1.0 without distribution).

    Each replica's loss is an average over its local examples; weighting it by
    local/global batch size makes the all-reduced gradient that of the global batch.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 1.0
    local = tf.cast(batch_size, "float32")
    return local / context.all_reduce(tf.distribute.ReduceOp.SUM, local)


def is_out_of_memory(error):
    """Whether `error` is TensorFlow's out-of-memory error (a tensor too large to allocate)."""
    return isinstance(error, tf.errors.ResourceExhaustedError)


def is_non_finite_error(error, marker):
    """Whether `error` is the in-graph numerics check `assert_finite(..., message)` failing
    with a message that contains `marker`."""
    return isinstance(error, tf.errors.InvalidArgumentError) and marker in str(error)


def enable_op_determinism():
    """Makes TensorFlow's ops deterministic in this process (for good: it cannot be undone).

    Ops with several possible reduction orders then use a fixed one, and the few ops that
    have no deterministic kernel raise an error instead of running.
    """
    tf.config.experimental.enable_op_determinism()


def assert_finite(x, message):
    """Returns `x`, raising `InvalidArgumentError(message)` when it holds NaN or Inf.

    Under a strategy the check fails on every replica when `x` is not finite on any: a
    worker whose own share gave a finite loss would otherwise go on to the gradients'
    all-reduce and fail there on a lost peer, without saying why.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return tf.debugging.check_numerics(x, message)
    with tf.control_dependencies([tf.debugging.Assert(is_finite(x), [message])]):
        return tf.identity(x)


def after(x):
    """A context in which every op created runs only once `x` has been computed.

    An error raised while computing `x` (an `assert_finite` check) then stops them all: in
    a graph, ops with no dependency on the check run in parallel with it, so an update
    (or the optimizer's step counter, which reads no gradient) could land before the check
    fails.
    """
    return tf.control_dependencies([x])


def is_finite(x):
    """A boolean scalar tensor: whether `x` holds no NaN or Inf.

    Under a strategy, whether it holds none on any replica (one all-reduce): replicas that
    decide alone whether to update would differ in their collectives, and those that
    update would wait for the others' gradients.
    """
    finite = tf.reduce_all(tf.math.is_finite(x))
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return finite
    bad = context.all_reduce(tf.distribute.ReduceOp.SUM, tf.cast(tf.logical_not(finite), tf.float32))
    return tf.equal(bad, 0.0)


def run_if_finite(x, fn):
    """Runs `fn` (for its effects) only when `x` holds no NaN or Inf; compiles under XLA,
    where `assert_finite` does not run."""

    def run():
        fn()
        return tf.constant(True)

    tf.cond(is_finite(x), run, lambda: tf.constant(False))


def mix32(x):
    """lowbias32 (C. Wellons' integer hash): a bijection of uint32 with good avalanche."""
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))
    x = x * tf.constant(0x7FEB352D, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 15))
    x = x * tf.constant(0x846CA68B, tf.uint32)
    return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))


def example_keys(x, seed):
    """One uint32 key per example, a hash of its exact bits and of `seed`.

    Integer arithmetic (wrapping sums of hashed bit patterns) makes the key of an example
    independent of the batch it comes in and of the summation order, so draws keyed by
    it give an example the same noise alone, in any batch, in any process or export.
    """
    flat = tf.reshape(tf.cast(x, tf.float32), (tf.shape(x)[0], -1))
    bits = tf.bitcast(flat, tf.uint32)
    positions = tf.range(tf.shape(flat)[1], dtype=tf.int32)
    weights = mix32(tf.bitcast(positions, tf.uint32) + tf.constant(0x9E3779B9, tf.uint32))
    # uint32 sums wrap: exact and order-free. (tf.reduce_sum has no uint32 kernel: int64 mod 2^32.)
    hashed = tf.cast(mix32(bits ^ weights), tf.int64)
    total = tf.cast(tf.math.floormod(tf.reduce_sum(hashed, axis=1), 2**32), tf.uint32)
    return mix32(total ^ mix32(tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), 2**32), tf.uint32)))


def keyed_normal(keys, shape, dtype="float32"):
    """Standard normal draws `(len(keys), *shape)`, row `i` a pure function of `keys[i]`.

    Counter-based: each value hashes (key, counter) into two uniforms turned normal by the
    Box-Muller transform, with integer ops only (XLA compiles it).
    """
    size = 1
    for d in shape:
        size *= d
    counters = tf.range(2 * size, dtype=tf.int32)
    bits = mix32(mix32(tf.bitcast(counters, tf.uint32)[None, :] ^ keys[:, None]) + keys[:, None])
    # 24 high bits -> a uniform in (0, 1), never 0 (the logarithm below).
    uniform = (tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) + 0.5) / float(2**24)
    u1, u2 = uniform[:, :size], uniform[:, size:]
    normal = tf.sqrt(-2.0 * tf.math.log(u1)) * tf.cos(2.0 * 3.141592653589793 * u2)
    return tf.cast(tf.reshape(normal, (tf.shape(keys)[0], *shape)), dtype)


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
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
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


def _replica_id():
    """The replica's index among the replicas in sync, or None without distribution."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context.replica_id_in_sync_group


def _replica_key(seed_generator, replica):
    # The generator's next seed (the same on every replica: its state is mirrored) with
    # the replica's index folded into the second word: independent Philox streams.
    seed = tf.cast(seed_generator.next(), tf.int64)
    offset = tf.cast(replica, tf.int64) * 0x9E3779B97F4A7C + 1
    return tf.stack([seed[0], seed[1] + offset])


def replica_normal(shape, seed_generator, stddev=1.0, dtype="float32"):
    """Normal draws from `seed_generator`, independent across the replicas of a strategy.

    Without distribution this is `keras.random.normal(shape, stddev=stddev, seed=...)`.
    Under a strategy the generator's state is mirrored, so every replica would draw the
    same numbers for its own examples (noise correlated across the global batch); the
    replica's index is folded into the seed instead.
    """
    import keras

    replica = _replica_id()
    if replica is None:
        return keras.random.normal(shape, stddev=stddev, dtype=dtype, seed=seed_generator)
    key = _replica_key(seed_generator, replica)
    return tf.random.stateless_normal(shape, seed=key, stddev=stddev, dtype=dtype)


def replica_uniform(shape, seed_generator, dtype="float32"):
    """Uniform draws in [0, 1) from `seed_generator`, independent across replicas (see
    `replica_normal`)."""
    import keras

    replica = _replica_id()
    if replica is None:
        return keras.random.uniform(shape, dtype=dtype, seed=seed_generator)
    return tf.random.stateless_uniform(shape, seed=_replica_key(seed_generator, replica), dtype=dtype)


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
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return {name: tracker.result() for name, tracker in trackers.items()}
    local = tf.stack(
        [tf.cast(tf.stack([t.total.value, t.count.value]), tf.float32) for t in trackers.values()]
    )
    sums = context.all_reduce(tf.distribute.ReduceOp.SUM, local)
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
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return x
    return context.all_reduce(tf.distribute.ReduceOp.SUM, x)


def from_first_replica(x):
    """The value of `x` on the first replica, on every replica (`x` without distribution).

    Random choices made from local data (the vectors that restart dead codes) differ
    between replicas; taking the first replica's keeps the replicas' state identical.
    """
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return x
    first = tf.cast(tf.equal(context.replica_id_in_sync_group, 0), x.dtype)
    return context.all_reduce(tf.distribute.ReduceOp.SUM, x * first)


def stateless_categorical(logits, seed, counter):
    """One draw per row of `logits` (`(batch, classes)`), a pure function of `seed` and `counter`.

    Autoregressive samplers draw position after position; `counter` (the position) keeps
    the draws of different positions independent while the whole sample stays a function
    of one seed, here and in an exported SavedModel.

    Returns:
        An int32 tensor shaped `(batch,)`.
    """
    seed = tf.stack([tf.cast(seed, tf.int64), tf.cast(counter, tf.int64)])
    draws = tf.random.stateless_categorical(logits, 1, seed=seed, dtype=tf.int32)
    return draws[:, 0]


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
