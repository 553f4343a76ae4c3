"""Masking noise: the destruction process of the denoising autoencoder."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import KnownConfig
from keras_ae._validation import check_rate, check_seed
from keras_ae.layers.seed_state import SavesSeedState


@keras.saving.register_keras_serializable(package="keras_ae")
class MaskingNoise(SavesSeedState, KnownConfig, keras.layers.Layer):
    """Sets each input element to zero with probability `rate`, during training only.

    Unlike `keras.layers.Dropout` the kept elements are *not* rescaled by
    `1 / (1 - rate)`: the denoising autoencoder must learn to fill in destroyed
    values, not to undo a rescaling.

    Args:
        rate: probability in [0, 1) that an element is zeroed.
        seed: integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: base `Layer` arguments.

    Returns:
        The corrupted inputs in training, the inputs unchanged otherwise.

    Example:
        >>> x_tilde = MaskingNoise(0.25, seed=0)(x, training=True)

    References:
        Vincent et al., "Stacked Denoising Autoencoders", JMLR 11, 2010, section 4.2.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_rate("rate", rate)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        keep = backend.replica_uniform(ops.shape(inputs), self.seed_generator) >= self.rate
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
