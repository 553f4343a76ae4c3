"""Additive isotropic Gaussian corruption of the denoising autoencoder."""

import math

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import KnownConfig
from keras_ae._validation import _is_number, check_non_negative, check_seed
from keras_ae.layers.seed_state import SavesSeedState


@keras.saving.register_keras_serializable(package="keras_ae")
class AdditiveGaussianNoise(SavesSeedState, KnownConfig, keras.layers.Layer):
    """Adds `N(0, stddev^2)` noise to every element, during training only.

    Args:
        stddev: non-negative standard deviation of the noise.
        clip: optional `(low, high)` pair; corrupted values are clipped to it, which
            keeps them inside the support of a Bernoulli likelihood.
        seed: integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: base `Layer` arguments.

    Returns:
        The corrupted inputs in training, the inputs unchanged otherwise.

    Example:
        >>> x_tilde = AdditiveGaussianNoise(0.3, clip=(0.0, 1.0))(x, training=True)

    References:
        Vincent et al., "Stacked Denoising Autoencoders", JMLR 11, 2010, section 4.2.
    """

    def __init__(self, stddev, clip=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        stddev = check_non_negative("stddev", stddev)
        if clip is not None:
            pair = isinstance(clip, (list, tuple)) and len(clip) == 2
            if not (pair and all(_is_number(c) and math.isfinite(c) for c in clip) and clip[0] < clip[1]):
                raise ValueError(
                    f"Argument `clip` must be None or a pair (low, high) with low < high. "
                    f"Received: clip={clip!r}"
                )
            clip = (float(clip[0]), float(clip[1]))
        self.stddev = float(stddev)
        self.clip = clip
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        noise = backend.replica_normal(
            ops.shape(inputs), self.seed_generator, stddev=self.stddev, dtype=self.compute_dtype
        )
        outputs = inputs + noise
        if self.clip is not None:
            outputs = ops.clip(outputs, self.clip[0], self.clip[1])
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "clip": self.clip, "seed": self.seed})
        return config
