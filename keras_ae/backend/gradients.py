"""Gradients and the fused Adam update: what a training step differentiates and applies."""

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
