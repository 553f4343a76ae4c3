"""The denoising autoencoder: reconstruct the clean input from a corrupted one."""

import math

from keras_ae._validation import _is_number, check_choice, check_non_negative, check_rate
from keras_ae.layers import NOISE_LAYERS, get_noise_layer
from keras_ae.losses import BernoulliLikelihood
from keras_ae.models.autoencoder import Autoencoder
from keras_ae.registry import register_model


def _check_noise_range(noise_range, noise):
    """Returns `noise_range` as a `(low, high)` pair of floats (or None), else a ValueError."""
    if noise_range is None:
        return None
    if noise == "masking":
        raise ValueError(
            "Argument `noise_range` applies to noise='salt_and_pepper' or 'gaussian' (masking sets "
            f"entries to 0). Received: noise_range={noise_range!r} with noise='masking'"
        )
    pair = isinstance(noise_range, (list, tuple)) and len(noise_range) == 2
    if not (
        pair
        and all(_is_number(v) and math.isfinite(v) for v in noise_range)
        and noise_range[0] < noise_range[1]
    ):
        raise ValueError(
            "Argument `noise_range` must be None or a pair of finite numbers (low, high) with "
            f"low < high. Received: noise_range={noise_range!r}"
        )
    return (float(noise_range[0]), float(noise_range[1]))


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
        noise_range: the data's range `(low, high)`, for data outside [0, 1] (e.g.
            standardized inputs with a Gaussian likelihood): salt-and-pepper sets entries
            to `low` or `high`, Gaussian noise is clipped to it. None: salt-and-pepper uses
            (0, 1), and Gaussian noise is clipped to [0, 1] for a Bernoulli likelihood only.
            Masking noise (zeros) takes none.
        **kwargs: see `Autoencoder`.

    Example:
        >>> model = keras_ae.create_model("denoising_autoencoder", input_shape=(784,),
        ...                               latent_dim=64, noise="masking", noise_level=0.25)

    References:
        Vincent et al., "Extracting and Composing Robust Features with Denoising
        Autoencoders", ICML 2008; Vincent et al., "Stacked Denoising Autoencoders", JMLR 2010.
    """

    def __init__(
        self, input_shape=None, latent_dim=None, noise="masking", noise_level=0.25, noise_range=None, **kwargs
    ):
        self.noise = check_choice("noise", noise, NOISE_LAYERS)
        # Checked before the networks are built, under the model's own argument names.
        check_level = check_non_negative if self.noise == "gaussian" else check_rate
        self.noise_level = check_level("noise_level", noise_level)
        self.noise_range = _check_noise_range(noise_range, self.noise)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)
        # Built after the base so that it reads the resolved likelihood: Gaussian noise on
        # Bernoulli targets is clipped back into [0, 1].
        bounds = {}
        if noise == "gaussian" and self.noise_range is not None:
            bounds = {"clip": self.noise_range}
        elif noise == "gaussian" and isinstance(self.likelihood, BernoulliLikelihood):
            bounds = {"clip": (0.0, 1.0)}
        elif noise == "salt_and_pepper" and self.noise_range is not None:
            bounds = dict(zip(("low", "high"), self.noise_range, strict=True))
        self.corruption = get_noise_layer(
            noise, self.noise_level, seed=self.seed, name="corruption", dtype=self.dtype_policy, **bounds
        )

    def corrupt(self, x):
        return self.corruption(x, training=True)

    def get_config(self):
        config = super().get_config()
        config.update({"noise": self.noise, "noise_level": self.noise_level, "noise_range": self.noise_range})
        return config
