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


def stateless_normal(shape, seed, dtype="float32", stream=0):
    """Standard normal draws as a pure function of `(seed, stream)` (counter-based Philox).

    The same seed gives the same numbers in any call, process or exported SavedModel, and
    the seed may be a tensor (a serving input); `keras.random` takes only Python ints.

    Args:
        shape: the output shape (ints or int tensors).
        seed: an int or int64 scalar tensor.
        stream: an int separating independent uses of one seed.
        dtype: the float dtype of the draws.
    """
    seed = tf.stack([tf.cast(seed, "int64"), tf.constant(stream, "int64")])
    shape = tf.stack([tf.cast(d, "int32") for d in shape])
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype)


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


def assert_finite(x, message):
    """Returns `x`, raising `InvalidArgumentError(message)` when it holds NaN or Inf."""
    return tf.debugging.check_numerics(x, message)


def assert_true(condition, message, tensors=()):
    """Returns a no-op that raises `InvalidArgumentError(message, *tensors)` where
    `condition` is false; use it with `control_dependencies`, or call it eagerly."""
    return tf.debugging.Assert(condition, [message, *tensors])


control_dependencies = tf.control_dependencies
