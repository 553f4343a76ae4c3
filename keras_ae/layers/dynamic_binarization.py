"""Dynamic binarization: a fresh Bernoulli sample of each grey-level input in every training step."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import KnownConfig
from keras_ae._validation import check_seed
from keras_ae.layers.seed_state import SavesSeedState


@keras.saving.register_keras_serializable(package="keras_ae")
class DynamicBinarization(SavesSeedState, KnownConfig, keras.layers.Layer):
    """Replaces each input value `p` in [0, 1] by a Bernoulli(`p`) draw, during training only.

    Every call in training draws afresh, so a model sees a new binarization of each image
    every time it trains on it: the dynamically binarized MNIST of the VAE literature.
    Outside training the inputs pass unchanged (evaluate on a test set binarized once).
    Values below 0 always give 0 and values above 1 always give 1.

    Args:
        seed: integer seed of the layer's `keras.random.SeedGenerator`.
        **kwargs: base `Layer` arguments.

    Returns:
        The 0/1 sample (in the inputs' dtype) in training, the inputs unchanged otherwise.

    Example:
        >>> x_binary = DynamicBinarization(seed=0)(x_grey, training=True)

    References:
        Salakhutdinov & Murray, "On the Quantitative Analysis of Deep Belief Networks",
        ICML 2008; Burda et al., "Importance Weighted Autoencoders", ICLR 2016, section 5.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        if not training:
            return inputs
        uniform = backend.replica_uniform(ops.shape(inputs), self.seed_generator)
        return ops.cast(uniform < ops.cast(inputs, "float32"), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed})
        return config
