"""The denoising autoencoder: reconstruct the clean input from a corrupted one."""

from keras_ae._validation import check_choice, check_non_negative, check_rate
from keras_ae.layers import NOISE_LAYERS, get_noise_layer
from keras_ae.losses import BernoulliLikelihood
from keras_ae.models.autoencoder import Autoencoder
from keras_ae.registry import register_model


@register_model("denoising_autoencoder")
class DenoisingAutoencoder(Autoencoder):
    """Autoencoder trained to map a corrupted `x~ ~ q(x~|x)` back to the clean `x`.

    The corruption is applied only when the model is called with `training=True` (the
    steps of `fit`, or a custom loop's `model(x, training=True)`); the loss compares the
    reconstruction with the *clean* input. Evaluation and prediction see clean inputs.

    Args:
        noise: `"masking"` (zero a fraction), `"gaussian"` (additive) or
            `"salt_and_pepper"`.
        noise_level: the fraction of corrupted elements (masking, salt-and-pepper), in
            [0, 1), or the Gaussian standard deviation, >= 0.
        **kwargs: see `Autoencoder`.

    Example:
        >>> model = keras_ae.create_model("denoising_autoencoder", input_shape=(784,),
        ...                               latent_dim=64, noise="masking", noise_level=0.25)

    References:
        Vincent et al., "Extracting and Composing Robust Features with Denoising
        Autoencoders", ICML 2008; Vincent et al., "Stacked Denoising Autoencoders", JMLR 2010.
    """

    def __init__(self, input_shape=None, latent_dim=None, noise="masking", noise_level=0.25, **kwargs):
        self.noise = check_choice("noise", noise, NOISE_LAYERS)
        # Checked before the networks are built, under the model's own argument name.
        check_level = check_non_negative if self.noise == "gaussian" else check_rate
        self.noise_level = check_level("noise_level", noise_level)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)
        # Built after the base so that it reads the resolved likelihood: Gaussian noise on
        # Bernoulli targets is clipped back into [0, 1].
        clip = (
            {"clip": (0.0, 1.0)}
            if noise == "gaussian" and isinstance(self.likelihood, BernoulliLikelihood)
            else {}
        )
        self.corruption = get_noise_layer(
            noise, self.noise_level, seed=self.seed, name="corruption", dtype=self.dtype_policy, **clip
        )

    def corrupt(self, x):
        return self.corruption(x, training=True)

    def get_config(self):
        config = super().get_config()
        config.update({"noise": self.noise, "noise_level": self.noise_level})
        return config
