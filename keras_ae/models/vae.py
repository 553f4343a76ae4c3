"""The variational autoencoder (Kingma & Welling)."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._validation import check_int
from keras_ae.layers import Sampling
from keras_ae.losses import gaussian_kl
from keras_ae.models.base_autoencoder import ELBO_METRIC_NAMES, BaseAutoencoder, weighted_mean
from keras_ae.registry import register_model


@register_model("vae")
class VAE(BaseAutoencoder):
    """Variational autoencoder with a diagonal Gaussian posterior and a N(0, I) prior.

    The encoder outputs `[z_mean, z_log_var, z]` exactly as in the keras-io VAE example
    (`z` from the `Sampling` layer, equal to `z_mean` at inference); `.decoder` maps
    codes to data-space means. The KL term `KL(q(z|x) || p(z))` is added with
    `add_loss`; `reconstruction_loss`, `kl_loss` and `elbo` are logged. Every reported
    ELBO is one: its reconstruction term is a Monte Carlo estimate over posterior
    samples (see `reconstruction_nll`), never the reconstruction of the mean code.

    Args:
        input_shape: shape of one example.
        latent_dim: number of latent dimensions.
        elbo_samples: posterior samples per example for the reconstruction term of the
            ELBO that `evaluate`, validation and the exported `score` report, >= 1.
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

    generative = True
    variational = True

    def __init__(self, input_shape=None, latent_dim=None, elbo_samples=1, **kwargs):
        self.elbo_samples = check_int("elbo_samples", elbo_samples)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)

    def build_encoder(self, inputs, features):
        if isinstance(features, (list, tuple)):
            if len(features) not in (2, 3):
                raise ValueError(
                    "A user encoder of a VAE must output features, [z_mean, z_log_var] or "
                    f"[z_mean, z_log_var, z]. Received: {len(features)} outputs"
                )
            z_mean, z_log_var = features[0], features[1]
            if len(z_mean.shape) != 2 or len(z_log_var.shape) != 2:
                raise ValueError(
                    "A user encoder of a VAE must output z_mean and z_log_var shaped (batch, latent_dim). "
                    f"Received: shapes {z_mean.shape} and {z_log_var.shape}"
                )
            if self.latent_dim is None:
                self.latent_dim = z_mean.shape[-1]
            if z_mean.shape[-1] != self.latent_dim or z_log_var.shape[-1] != self.latent_dim:
                raise ValueError(
                    f"The encoder outputs z_mean of size {z_mean.shape[-1]} and z_log_var of size "
                    f"{z_log_var.shape[-1]}, which do not match latent_dim={self.latent_dim}."
                )
        else:
            if self._user_encoder_name is not None and len(features.shape) != 2:
                # The Dense heads would act on the last axis only, and the decoder fail later.
                raise ValueError(
                    "A user encoder of a VAE must output flat features (batch, n) (end a conv net "
                    "with keras.layers.Flatten()), or [z_mean, z_log_var]. Received: encoder output "
                    f"shape={features.shape}"
                )
            check_int("latent_dim", self.latent_dim)
            z_mean = keras.layers.Dense(self.latent_dim, name="z_mean")(features)
            z_log_var = keras.layers.Dense(self.latent_dim, name="z_log_var")(features)
        self.sampling = Sampling(seed=self.seed, name="sampling")
        z = self.sampling([z_mean, z_log_var])
        return keras.Model(inputs, [z_mean, z_log_var, z], name="encoder")

    @property
    def metric_names(self):
        return ELBO_METRIC_NAMES

    def kl_penalty(self, kl, sample_weight=None):
        """The term added to the loss for the batch-mean KL `kl`; variants reweight it.

        `kl` is `weighted_mean` of the per-example KL: `sum(w * KL) / batch_size` with the
        batch's `sample_weight` `w` (None: all ones), which a non-linear variant needs.
        """
        return kl

    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        z_mean, z_log_var, z = self.encoder(x, training=training)
        kl = gaussian_kl(z_mean, z_log_var)
        kl_loss = weighted_mean(kl, sample_weight)
        self.add_loss(self.kl_penalty(kl_loss, sample_weight))
        # In training `z` is a posterior sample; at inference it is `z_mean`, so the
        # reconstruction (predict, serving) is deterministic.
        return {
            "code": z_mean,
            "z_mean": z_mean,
            "z_log_var": z_log_var,
            "z": z,
            "kl": kl,
            "kl_loss": kl_loss,
            **self.decode_code(z, training=training),
        }

    def reconstruction_nll(self, x, outputs, training=False):
        """`E_q(z|x)[-log p(x|z)]` per example, estimated with posterior samples.

        In training, the one reparameterized sample of the forward pass. Outside training
        (evaluate, validation, the exported `score`), `elbo_samples` draws of `z ~ q(z|x)`:
        the estimate is a real Monte Carlo ELBO term (decoding the posterior mean instead
        would give a number that is not a bound on log p(x)). The draws of an example are
        a pure function of its values and the model's seed (`backend.keyed_normal`), so an
        example gets the same estimate alone or in any batch, here and in the export, and
        evaluating the same data twice gives the same value.
        """
        if training:
            return super().reconstruction_nll(x, outputs, training=True)
        z_mean, z_log_var = outputs["z_mean"], outputs["z_log_var"]
        samples = self.elbo_samples
        keys = backend.example_keys(x, self.seed or 0)
        eps = backend.keyed_normal(keys, (samples, self.latent_dim), dtype=z_mean.dtype)
        z = z_mean[:, None] + ops.exp(0.5 * z_log_var)[:, None] * eps  # (batch, samples, latent)
        params = self.decoder_network(ops.reshape(z, (-1, self.latent_dim)), training=False)
        nll = self.likelihood.nll(ops.repeat(x, samples, axis=0), params)
        return ops.mean(ops.reshape(nll, (-1, samples)), axis=1)

    def score_terms(self, outputs):
        return {"kl_loss": outputs["kl"]}

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        logs["kl_loss"] = outputs["kl_loss"]
        logs["elbo"] = -(logs["reconstruction_loss"] + outputs["kl_loss"])
        return logs

    def prior_noise(self, num_samples, seed):
        """Draws `num_samples` codes from the prior N(0, I) as a pure function of `seed`.

        Stateless (counter-based Philox) draws: the same seed gives the same codes in any
        call, process or exported SavedModel, and the first `n` codes of a larger draw
        equal a draw of `n`.

        Args:
            num_samples: how many codes (an int or an int32 scalar tensor).
            seed: an int or int64 scalar tensor.

        Returns:
            A float tensor shaped `(num_samples, latent_dim)`.
        """
        return backend.stateless_normal((num_samples, self.latent_dim), seed, dtype=self.compute_dtype)

    def sample_graph(self, num_samples, seed):
        z = self.prior_noise(num_samples, seed)
        return {"samples": self.decoder(z, training=False), "z": z}

    def get_config(self):
        config = super().get_config()
        config["elbo_samples"] = self.elbo_samples
        return config
