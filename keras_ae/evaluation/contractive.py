"""Contractive diagnostics (Rifai et al. 2011, Table 1): encoder Jacobian norm and saturation."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae._validation import check_int
from keras_ae.losses.functional import loss_dtype


def _encoder_of(model):
    """The encoder network of a keras-ae model, or the model itself."""
    encoder = getattr(model, "encoder", None)
    return encoder if isinstance(encoder, keras.Model) else model


def jacobian_frobenius_norm(model, x, batch_size=32):
    """Frobenius norm `||J_f(x)||_F` of the encoder Jacobian `dh/dx`, per example, by autodiff.

    Works for any differentiable encoder (dense, convolutional, ...): the Jacobian of
    each example's code with respect to its input is computed with
    `tf.GradientTape.batch_jacobian`, `batch_size` examples at a time, so memory is
    bounded by `batch_size * code_dim * input_size` floats. For a VAE the code is the
    posterior mean (the encoder's first output). Under a mixed-precision policy the
    inputs and the norm's reduction stay float32; the Jacobian's entries have the
    encoder's half-precision resolution.

    Args:
        model: a keras-ae model (its `encoder` is used) or any Keras model mapping
            `x` to codes (or to a list whose first entry is the code).
        x: float array `(n, *input_shape)`, e.g. the test set.
        batch_size: examples per Jacobian computation.

    Returns:
        A float64 array `(n,)` of Frobenius norms; Rifai et al. report its mean.

    Example:
        >>> jacobian_frobenius_norm(cae, x_test).mean()

    References:
        Rifai et al., "Contractive Auto-Encoders: Explicit Invariance During Feature
        Extraction", ICML 2011, eq. 1 and Table 1.
    """
    encoder = _encoder_of(model)
    batch_size = check_int("batch_size", batch_size)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"Argument `x` must be floating point. Received: x with dtype={x.dtype}")

    # Under a mixed-precision policy the inputs stay float32 (the encoder casts them to its
    # compute dtype itself), as in the other estimates of `keras_ae.evaluation`.
    dtype = loss_dtype(encoder.compute_dtype)

    @tf.function(reduce_retracing=True)
    def norms(batch):
        with tf.GradientTape() as tape:
            tape.watch(batch)
            code = encoder(batch, training=False)
            if isinstance(code, (list, tuple)):
                code = code[0]
        # The Jacobian of a half-precision code is squared, summed and rooted in float32:
        # in bfloat16 the norm would keep only 8 significant bits.
        jacobian = tf.cast(tape.batch_jacobian(code, batch), dtype)
        flat = tf.reshape(jacobian, (tf.shape(jacobian)[0], -1))
        return tf.sqrt(tf.reduce_sum(tf.square(flat), axis=1))

    out = [
        norms(tf.convert_to_tensor(x[start : start + batch_size], dtype=dtype)).numpy()
        for start in range(0, len(x), batch_size)
    ]
    return np.concatenate(out).astype(np.float64)


def saturation_fraction(codes, low=0.05, high=0.95):
    """Fraction of code activations that are saturated: below `low` or above `high`.

    Rifai et al. count a sigmoid unit as saturated on an example when its activation is
    below 0.05 or above 0.95, and report the fraction over test examples and units.

    Args:
        codes: `(n, code_dim)` activations, e.g. `model.encode(x_test)` of a sigmoid code.
        low: lower saturation threshold.
        high: upper saturation threshold, > `low`.

    Returns:
        A float in [0, 1].

    Example:
        >>> saturation_fraction(cae.encode(x_test))

    References:
        Rifai et al., "Contractive Auto-Encoders: Explicit Invariance During Feature
        Extraction", ICML 2011, section 5.2 and Table 1.
    """
    codes = np.asarray(codes, dtype=np.float64)
    if codes.size == 0:
        raise ValueError(f"Argument `codes` must not be empty. Received: codes with shape={codes.shape}")
    if not low < high:
        raise ValueError(f"Arguments must satisfy low < high. Received: low={low}, high={high}")
    return float(np.mean((codes < low) | (codes > high)))
