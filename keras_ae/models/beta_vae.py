"""beta-VAE (Higgins et al.) and its capacity-controlled form (Burgess et al.)."""

from keras import ops

from keras_ae._validation import check_int, check_non_negative
from keras_ae.models.vae import VAE
from keras_ae.registry import register_model


@register_model("beta_vae")
class BetaVAE(VAE):
    """VAE whose KL term is reweighted to favour disentangled codes.

    Two objectives, chosen by `capacity_max`:

    - Higgins et al. (`capacity_max=None`): `recon + beta * KL`.
    - Burgess et al. (`capacity_max=C_max`): `recon + gamma * |KL - C|`, where the
      capacity `C` grows linearly from 0 to `C_max` nats over `capacity_steps`
      optimizer steps and then stays. Only `train_step` advances the step count
      (validation never does), and the count is a model weight, saved with it.
      With (non-negative) sample weights `w` the KL is the batch's weighted mean:
      the term is `gamma * mean(w) * |sum(w * KL) / sum(w) - C|` (0 if all `w` are 0).

    `beta` multiplies the KL in the package's scale (reconstruction summed over
    features): Higgins' normalized `beta_norm` equals `beta * latent_dim / input_size`.

    Args:
        input_shape: shape of one example.
        latent_dim: number of latent dimensions.
        beta: KL weight, >= 0 (`beta=1` is the VAE).
        capacity_max: `C_max` in nats, or None for the Higgins objective.
        capacity_steps: optimizer steps over which `C` ramps from 0 to `C_max`.
        gamma: weight of `|KL - C|`, >= 0 (Burgess et al. use 1000).
        **kwargs: see `VAE`.

    Example:
        >>> model = keras_ae.create_model("beta_vae", input_shape=(64, 64, 1), latent_dim=10,
        ...                               architecture="conv", capacity_max=25.0,
        ...                               capacity_steps=100_000, gamma=1000.0)

    References:
        Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained
        Variational Framework", ICLR 2017. Burgess et al., "Understanding disentangling
        in beta-VAE", 2018, equation 8.
    """

    def __init__(
        self,
        input_shape=None,
        latent_dim=None,
        beta=4.0,
        capacity_max=None,
        capacity_steps=100_000,
        gamma=1000.0,
        **kwargs,
    ):
        self.beta = check_non_negative("beta", beta)
        self.capacity_max = None if capacity_max is None else check_non_negative("capacity_max", capacity_max)
        self.capacity_steps = check_int("capacity_steps", capacity_steps)
        self.gamma = check_non_negative("gamma", gamma)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)

    @property
    def metric_names(self):
        names = super().metric_names
        return names if self.capacity_max is None else (*names, "capacity")

    def capacity(self):
        """The current capacity `C = min(C_max, C_max * step / capacity_steps)` in nats."""
        step = ops.cast(self.train_step_count, "float32")
        return ops.minimum(self.capacity_max, self.capacity_max * step / float(self.capacity_steps))

    def kl_penalty(self, kl, sample_weight=None):
        if self.capacity_max is None:
            return self.beta * kl
        capacity = ops.cast(self.capacity(), kl.dtype)
        if sample_weight is not None:
            # `kl` is sum(w * KL) / B, so |kl - C| would pull mean(w) times the weighted mean
            # KL to C (half-zero weights: the kept examples to KL = 2C). The target is the
            # weighted mean KL: gamma * mean(w) * |sum(w * KL) / sum(w) - C|, which for w >= 0
            # is gamma * |kl - mean(w) * C|: no division, 0 when every weight is 0, and the
            # unweighted value for all-ones weights.
            capacity = capacity * ops.mean(ops.cast(sample_weight, kl.dtype))
        return self.gamma * ops.abs(kl - capacity)

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        if self.capacity_max is not None:
            logs["capacity"] = self.capacity()
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta": self.beta,
                "capacity_max": self.capacity_max,
                "capacity_steps": self.capacity_steps,
                "gamma": self.gamma,
            }
        )
        return config
