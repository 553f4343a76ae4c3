"""The sparse autoencoder: a sparsity penalty on the code's activity (Ng, CS294A)."""

import keras
from keras import ops

from keras_ae._validation import check_choice, check_non_negative, check_unit_interval
from keras_ae.models.autoencoder import Autoencoder, is_sigmoid
from keras_ae.registry import register_model
from keras_ae.regularizers import KLSparsity, L1Activity

PENALTIES = ("kl", "l1")


@register_model("sparse_autoencoder")
class SparseAutoencoder(Autoencoder):
    """Autoencoder whose code activity is penalized towards sparsity.

    `penalty="kl"` (Ng): the code is a sigmoid and `KLSparsity` adds
    `sparsity_weight * sum_j KL(rho || rho_hat_j)`, with `rho = sparsity_target` and
    `rho_hat_j` the mean activation of unit `j` over the batch. `penalty="l1"`:
    `L1Activity` adds `sparsity_weight * mean_b sum_j |h_bj|`, for any code activation.
    The penalty is the code layer's `activity_regularizer` (an identity layer after a
    user encoder), and exactly the formula reaches the loss whatever the batch size.

    Logged terms: `sparsity_loss` (the penalty added to the loss) and
    `mean_activation` (the code's mean over the batch and units; compare with `rho`).

    Args:
        input_shape: shape of one example.
        latent_dim: number of code units.
        sparsity_target: the target mean activation `rho`, strictly between 0 and 1
            (`penalty="kl"` only).
        sparsity_weight: the penalty weight `beta`, >= 0.
        penalty: `"kl"` (needs a sigmoid code) or `"l1"`.
        code_activation: activation of the built-in code layer (default sigmoid).
        **kwargs: see `Autoencoder`. A user `encoder` must end in a sigmoid for
            `penalty="kl"`.

    Example:
        >>> model = keras_ae.create_model("sparse_autoencoder", input_shape=(784,), latent_dim=196,
        ...                               sparsity_target=0.05, sparsity_weight=3.0)

    References:
        Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011.
    """

    def __init__(
        self,
        input_shape=None,
        latent_dim=None,
        sparsity_target=0.05,
        sparsity_weight=3.0,
        penalty="kl",
        code_activation="sigmoid",
        **kwargs,
    ):
        self.sparsity_target = check_unit_interval("sparsity_target", sparsity_target)
        self.sparsity_weight = check_non_negative("sparsity_weight", sparsity_weight)
        self.penalty = check_choice("penalty", penalty, PENALTIES)
        if penalty == "kl":
            self.sparsity_regularizer = KLSparsity(rho=self.sparsity_target, beta=self.sparsity_weight)
        else:
            self.sparsity_regularizer = L1Activity(weight=self.sparsity_weight)
        super().__init__(
            input_shape=input_shape, latent_dim=latent_dim, code_activation=code_activation, **kwargs
        )

    def code_layer(self, features, **layer_kwargs):
        # Only the built-in encoder has a code layer; a user encoder is checked below.
        if self.penalty == "kl" and not is_sigmoid(self.code_activation):
            raise ValueError(
                "penalty='kl' compares mean activations with a Bernoulli mean and needs a sigmoid "
                "code (activations in (0, 1)); use penalty='l1' for other codes. "
                f"Received: code_activation={self.code_activation!r}"
            )
        return super().code_layer(features, activity_regularizer=self.sparsity_regularizer, **layer_kwargs)

    def build_encoder(self, inputs, features):
        encoder = super().build_encoder(inputs, features)
        if self._user_encoder_name is None:
            return encoder
        last = encoder.get_layer(self._user_encoder_name).layers[-1]
        if self.penalty == "kl" and not is_sigmoid(getattr(last, "activation", None)):
            raise ValueError(
                "penalty='kl' needs a sigmoid code: the user encoder must end in a sigmoid layer. "
                f"Received: an encoder whose last layer {last.name!r} has "
                f"activation={getattr(last, 'activation', None)!r}"
            )
        # The user's layers stay untouched: the penalty sits on an identity layer.
        code = keras.layers.Identity(activity_regularizer=self.sparsity_regularizer, name="code_sparsity")(
            encoder.output
        )
        return keras.Model(inputs, code, name="encoder")

    @property
    def metric_names(self):
        return (*super().metric_names, "sparsity_loss", "mean_activation")

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        code = outputs["code"]
        logs["sparsity_loss"] = self.sparsity_regularizer.penalty(code)
        logs["mean_activation"] = ops.mean(code)
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sparsity_target": self.sparsity_target,
                "sparsity_weight": self.sparsity_weight,
                "penalty": self.penalty,
            }
        )
        return config
