"""Salt-and-pepper corruption of the denoising autoencoder."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import KnownConfig
from keras_ae._validation import check_number, check_rate, check_seed
from keras_ae.layers.seed_state import SavesSeedState


@keras.saving.register_keras_serializable(package="keras_ae")
class SaltAndPepperNoise(SavesSeedState, KnownConfig, keras.layers.Layer):
    """Sets a fraction `rate` of elements to `low` or `high` (a fair coin each), in training.

    Args:
        rate: probability in [0, 1) that an element is corrupted.
        low: the "pepper" value (the minimum of the data range).
        high: the "salt" value (the maximum of the data range).
        seed: integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: base `Layer` arguments.

    Returns:
        The corrupted inputs in training, the inputs unchanged otherwise.

    Example:
        >>> x_tilde = SaltAndPepperNoise(0.1)(x, training=True)

    References:
        Vincent et al., "Stacked Denoising Autoencoders", JMLR 11, 2010, section 4.2.
    """

    def __init__(self, rate, low=0.0, high=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.low = check_number("low", low)
        self.high = check_number("high", high)
        if not self.low < self.high:
            raise ValueError(
                f"Argument `low` must be smaller than `high`. Received: low={low!r}, high={high!r}"
            )
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        # One uniform draw decides both whether and how an element is hit: below
        # rate/2 is pepper, between rate/2 and rate is salt.
        u = backend.replica_uniform(ops.shape(inputs), self.seed_generator)
        outputs = ops.where(u < 0.5 * self.rate, ops.full_like(inputs, self.low), inputs)
        return ops.where((u >= 0.5 * self.rate) & (u < self.rate), ops.full_like(inputs, self.high), outputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "low": self.low, "high": self.high, "seed": self.seed})
        return config
