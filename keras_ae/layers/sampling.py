"""The reparameterization-trick sampling layer of the variational autoencoder."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import KnownConfig
from keras_ae._validation import check_bool, check_seed
from keras_ae.layers.seed_state import SavesSeedState


@keras.saving.register_keras_serializable(package="keras_ae")
class Sampling(SavesSeedState, KnownConfig, keras.layers.Layer):
    """Draws `z = z_mean + exp(z_log_var / 2) * eps` with `eps ~ N(0, I)`.

    Writing the sample as a deterministic function of the posterior parameters and
    independent noise lets gradients flow into `z_mean` and `z_log_var`. At inference
    the layer returns `z_mean` (deterministic encodings and serving), unless
    `sample_at_inference=True`.

    Args:
        seed: integer seed of the layer's `keras.random.SeedGenerator`.
        sample_at_inference: whether to sample when `training` is false too.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Returns:
        A tensor shaped like `z_mean`.

    Example:
        >>> z = Sampling(seed=1)([z_mean, z_log_var], training=True)

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, section 2.4.
    """

    def __init__(self, seed=None, sample_at_inference=False, **kwargs):
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        self.sample_at_inference = check_bool("sample_at_inference", sample_at_inference)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training=False):
        z_mean, z_log_var = inputs
        if not (training or self.sample_at_inference):
            return z_mean
        epsilon = backend.replica_normal(ops.shape(z_mean), self.seed_generator, dtype=self.compute_dtype)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "sample_at_inference": self.sample_at_inference})
        return config
