"""The k-sparse activation of the k-sparse autoencoder (Makhzani & Frey)."""

import math

import keras
from keras import ops

from keras_ae._config import KnownConfig
from keras_ae._validation import check_int, check_number


def check_k(name, value, units=None, units_name=None):
    """Returns `value` as an int in [1, units] (`units`: the code size, when known, named
    `units_name` in the message, e.g. "latent_dim")."""
    size = f"{units_name}={units}" if units_name else units
    return check_int(
        name,
        value,
        minimum=1,
        maximum=units,
        what=None if units is None else f"(at most the code size {size})",
    )


@keras.saving.register_keras_serializable(package="keras_ae")
class KSparse(KnownConfig, keras.layers.Layer):
    """Keeps the `k` largest activations of each example and zeroes the others.

    In training the `k` largest entries along the last axis are kept; at inference
    `min(floor(alpha * k), units)` are kept, as in the paper's test-time encoder
    (`alpha = 3` for MNIST). Ties are broken deterministically in favour of the lower
    index (the order of `tf.math.top_k`), so exactly that many units are kept. The
    other units are set to zero through a constant mask: gradients flow through the
    kept units only.

    In training, `call(..., k=...)` overrides `k` for one call (an int or a scalar
    tensor, e.g. a schedule read from the optimizer step). With a tensor `k` the
    layer takes the `max_k` largest entries (`top_k` with a static size, so that the
    shapes stay static and the step also compiles with XLA) and keeps the first `k`
    of them; without `max_k` it sorts the whole code, which costs far more than
    selecting a few of 1000 units.

    Args:
        k: units kept per example in training, >= 1 (and at most the code size).
        alpha: inference multiplier, >= 1; `alpha * k` is capped at the code size.
        **kwargs: base `Layer` arguments.

    Returns:
        A tensor shaped like `inputs` with all but the kept units set to zero.

    Example:
        >>> h = KSparse(k=25, alpha=3)(keras.layers.Dense(1000)(x))

    References:
        Makhzani & Frey, "k-Sparse Autoencoders", ICLR 2014 (arXiv:1312.5663), Algorithm 1.
    """

    def __init__(self, k, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.k = check_k("k", k)
        self.alpha = check_number("alpha", alpha, minimum=1)
        self.supports_masking = True

    def build(self, input_shape):
        units = input_shape[-1]
        if units is None:
            raise ValueError(f"KSparse needs a known last dimension. Received: input_shape={input_shape}")
        check_k("k", self.k, units)
        self.built = True

    def inference_k(self, units):
        """Units kept at inference: `min(floor(alpha * k), units)`."""
        return min(int(math.floor(self.alpha * self.k + 1e-9)), units)

    def call(self, inputs, training=False, k=None, max_k=None):
        units = inputs.shape[-1]
        if not training:
            k = self.inference_k(units)
        elif k is None:
            k = self.k
        elif isinstance(k, int):
            # A Python int selects exactly k entries: checked like the constructor's, as 0
            # would silently zero the code. (Keras hands numpy scalars to `call` as tensors.)
            k = check_k("k", k, units, "units")
        flat = ops.reshape(inputs, (-1, units))
        dynamic = not isinstance(k, int)
        # Python ints select exactly k entries; a tensor k selects among the max_k largest
        # (a tensor k above max_k keeps max_k: the caller's bound is the contract).
        top = k
        if dynamic:
            top = units if max_k is None else check_k("max_k", max_k, units)
        _, indices = ops.top_k(flat, k=top, sorted=True)
        rows = ops.shape(flat)[0]
        keep = ops.ones((top,), inputs.dtype)
        if dynamic:
            keep = ops.cast(ops.arange(top) < ops.cast(k, "int32"), inputs.dtype)
        row_ids = ops.broadcast_to(ops.arange(rows, dtype="int32")[:, None], (rows, top))
        positions = ops.stack([row_ids, ops.cast(indices, "int32")], axis=-1)
        mask = ops.scatter(
            ops.reshape(positions, (-1, 2)),
            ops.reshape(ops.broadcast_to(keep, (rows, top)), (-1,)),
            ops.stack([rows, units]),
        )
        mask = ops.reshape(mask, ops.shape(inputs)) > 0.5
        # `where` with a constant mask: the gradient is 1 on kept units and 0 elsewhere.
        return ops.where(mask, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"k": self.k, "alpha": self.alpha})
        return config
