"""The variational autoencoder (Kingma & Welling)."""

import keras
import numpy as np
import tensorflow as tf

from keras_ae.layers import Sampling
from keras_ae.losses import gaussian_kl
from keras_ae.models.base_autoencoder import BaseAutoencoder, check_latent_dim, weighted_mean
from keras_ae.registry import register_model


@register_model("vae")
class VAE(BaseAutoencoder):
    """Variational autoencoder with a diagonal Gaussian posterior and a N(0, I) prior.

    The encoder outputs `[z_mean, z_log_var, z]` exactly as in the keras-io VAE example
    (`z` from the `Sampling` layer, equal to `z_mean` at inference); `.decoder` maps
    codes to data-space means. The KL term `KL(q(z|x) || p(z))` is added with
    `add_loss`; `reconstruction_loss`, `kl_loss` and `elbo` are logged.

    Args:
        input_shape: shape of one example.
        latent_dim: number of latent dimensions.
        seed: integer seed of the `Sampling` layer.
        **kwargs: see `BaseAutoencoder`. A user `encoder` may output features (the
            mean and log-variance heads are added), `[z_mean, z_log_var]`, or
            `[z_mean, z_log_var, z]`.

    Returns:
        Called on a batch, the reconstruction of the posterior mean.

    Example:
        >>> vae = keras_ae.create_model("vae", input_shape=(28, 28, 1), latent_dim=16,
        ...                             architecture="conv")
        >>> vae.compile(optimizer="adam")
        >>> vae.fit(x_train, epochs=5, batch_size=128)
        >>> images = vae.sample(16, seed=0)

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
    """

    def __init__(self, input_shape=None, latent_dim=None, seed=None, **kwargs):
        self.seed = seed
        self.sampling = Sampling(seed=seed, name="sampling")
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)

    def build_encoder(self, inputs, features):
        if isinstance(features, (list, tuple)):
            if len(features) not in (2, 3):
                raise ValueError(
                    "A user encoder of a VAE must output features, [z_mean, z_log_var] or "
                    f"[z_mean, z_log_var, z]. Received: {len(features)} outputs"
                )
            z_mean, z_log_var = features[0], features[1]
            if self.latent_dim is None:
                self.latent_dim = z_mean.shape[-1]
            if z_mean.shape[-1] != self.latent_dim or z_log_var.shape[-1] != self.latent_dim:
                raise ValueError(
                    f"The encoder outputs z_mean of size {z_mean.shape[-1]} and z_log_var of size "
                    f"{z_log_var.shape[-1]}, which do not match latent_dim={self.latent_dim}."
                )
        else:
            check_latent_dim(self.latent_dim)
            z_mean = keras.layers.Dense(self.latent_dim, name="z_mean")(features)
            z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var")(features)
        z = self.sampling([z_mean, z_log_var])
        return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")

    @property
    def metric_names(self):
        return ("loss", "reconstruction_loss", "kl_loss", "elbo")

    def kl_penalty(self, kl):
        """The term added to the loss for the batch-mean KL `kl`; variants reweight it."""
        return kl

    def forward(self, x, training=False, sample_weight=None):
        z_mean, z_log_var, z = self.encoder(x, training=training)
        kl = weighted_mean(gaussian_kl(z_mean, z_log_var), sample_weight)
        self.add_loss(self.kl_penalty(kl))
        params = self.decoder_network(z, training=training)
        return {
            "code": z_mean,
            "z_mean": z_mean,
            "z_log_var": z_log_var,
            "z": z,
            "kl_loss": kl,
            "params": params,
            "reconstruction": self.likelihood.mean(params),
        }

    def compute_loss_terms(self, x, outputs, sample_weight=None):
        logs = super().compute_loss_terms(x, outputs, sample_weight)
        logs["kl_loss"] = outputs["kl_loss"]
        logs["elbo"] = -(logs["reconstruction_loss"] + outputs["kl_loss"])
        return logs

    def prior_noise(self, num_samples, seed):
        """Draws `num_samples` codes from the prior N(0, I) as a pure function of `seed`.

        Stateless (counter-based Philox) draws: the same seed gives the same codes in any
        call, process or exported SavedModel, and the first `n` codes of a larger draw
        equal a draw of `n`. `keras.random` takes only Python-int seeds, and the serving
        signature receives its seed as a tensor, hence `tf.random` here.

        Args:
            num_samples: how many codes (an int or an int32 scalar tensor).
            seed: an int or int64 scalar tensor.

        Returns:
            A float tensor shaped `(num_samples, latent_dim)`.
        """
        seed = tf.stack([tf.cast(seed, "int64"), tf.constant(0, "int64")])
        shape = tf.stack([tf.cast(num_samples, "int32"), self.latent_dim])
        return tf.random.stateless_normal(shape, seed=seed, dtype=self.compute_dtype)

    def sample(self, num_samples, seed=None, batch_size=256):
        """Decodes `num_samples` draws from the prior N(0, I); returns data-space means.

        Args:
            num_samples: how many samples, >= 1.
            seed: int seed of the draws (see `prior_noise`); the same seed gives the same
                samples, here and in the exported `sample` signature. None draws a fresh seed.
            batch_size: decoding batch size.

        Returns:
            A numpy array shaped `(num_samples, *input_shape)`.
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
            raise ValueError(
                f"Argument `num_samples` must be an int >= 1. Received: num_samples={num_samples!r}"
            )
        if seed is None:
            seed = int(np.random.default_rng().integers(2**62))
        elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an int or None. Received: seed={seed!r}")
        z = self.prior_noise(int(num_samples), int(seed)).numpy()
        return self.decode(z, batch_size=batch_size)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config
