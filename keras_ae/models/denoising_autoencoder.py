"""The denoising autoencoder: reconstruct the clean input from a corrupted one."""

from keras_ae.layers import get_noise_layer
from keras_ae.models.autoencoder import Autoencoder
from keras_ae.registry import register_model


@register_model("denoising_autoencoder")
class DenoisingAutoencoder(Autoencoder):
    """Autoencoder trained to map a corrupted `x~ ~ q(x~|x)` back to the clean `x`.

    The corruption is applied in `train_step` only; the loss compares the
    reconstruction with the *clean* input. Evaluation and prediction see clean inputs.

    Args:
        noise: `"masking"` (zero a fraction), `"gaussian"` (additive) or
            `"salt_and_pepper"`.
        noise_level: the fraction of corrupted elements (masking, salt-and-pepper) or
            the Gaussian standard deviation.
        seed: integer seed of the corruption.
        **kwargs: see `Autoencoder`.

    Example:
        >>> model = keras_ae.create_model("denoising_autoencoder", input_shape=(784,),
        ...                               latent_dim=64, noise="masking", noise_level=0.25)

    References:
        Vincent et al., "Extracting and Composing Robust Features with Denoising
        Autoencoders", ICML 2008; Vincent et al., "Stacked Denoising Autoencoders", JMLR 2010.
    """

    def __init__(
        self, input_shape=None, latent_dim=None, noise="masking", noise_level=0.25, seed=None, **kwargs
    ):
        kwargs_noise = (
            {"clip": (0.0, 1.0)}
            if noise == "gaussian" and kwargs.get("likelihood", "bernoulli") == "bernoulli"
            else {}
        )
        self.noise = noise
        self.noise_level = noise_level
        self.seed = seed
        self.corruption = get_noise_layer(noise, noise_level, seed=seed, name="corruption", **kwargs_noise)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)

    def corrupt(self, x):
        return self.corruption(x, training=True)

    def get_config(self):
        config = super().get_config()
        config.update({"noise": self.noise, "noise_level": self.noise_level, "seed": self.seed})
        return config
