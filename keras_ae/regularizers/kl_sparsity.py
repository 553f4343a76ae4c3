"""The KL sparsity penalty of the sparse autoencoder (Ng, CS294A)."""

import keras
from keras import ops

from keras_ae._config import check_config
from keras_ae._validation import check_non_negative, check_unit_interval
from keras_ae.losses.functional import in_loss_dtype


@keras.saving.register_keras_serializable(package="keras_ae")
class KLSparsity(keras.regularizers.Regularizer):
    """Activity regularizer `beta * sum_j KL(rho || rho_hat_j)` for a sigmoid code.

    `rho_hat_j` is the mean activation of unit `j` over the batch and
    `KL(rho || rho_hat) = rho log(rho / rho_hat) + (1 - rho) log((1 - rho) / (1 - rho_hat))`
    is the divergence between Bernoulli variables of means `rho` and `rho_hat`. The
    penalty pushes every unit to be active (close to 1) on a fraction `rho` of the
    examples. It needs activations in (0, 1): use it on a sigmoid code.

    Scale: Keras divides the value an `activity_regularizer` returns by the batch
    size, but this penalty is already a batch statistic. Calling the regularizer
    therefore returns `penalty(h) * batch_size`, so that the term reaching the loss
    (`layer.losses`) is exactly `penalty(h) = beta * sum_j KL(rho || rho_hat_j)`.
    Use `penalty(h)` to compute the formula itself. `rho_hat` is clipped to
    `[eps, 1 - eps]` (`keras.config.epsilon()`) so saturated units give a finite value.
    Sample weights do not enter `rho_hat` (Keras never passes them to regularizers).

    Args:
        rho: target mean activation `rho`, strictly between 0 and 1.
        beta: weight `beta` of the penalty, >= 0.

    Returns:
        Called on activations `h` shaped `(batch, units)`, the scalar `penalty(h) * batch`.

    Example:
        >>> layer = keras.layers.Dense(196, activation="sigmoid",
        ...                            activity_regularizer=KLSparsity(rho=0.05, beta=3.0))

    References:
        Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011, section 3.
    """

    def __init__(self, rho=0.05, beta=3.0):
        self.rho = check_unit_interval("rho", rho)
        self.beta = check_non_negative("beta", beta)

    def mean_activation(self, activations):
        """Returns `rho_hat`: the mean activation of each unit over the batch axis."""
        (activations,) = in_loss_dtype(ops.convert_to_tensor(activations))
        return ops.mean(ops.reshape(activations, (ops.shape(activations)[0], -1)), axis=0)

    def penalty(self, activations):
        """Returns `beta * sum_j KL(rho || rho_hat_j)` for a batch of `activations`."""
        rho_hat = self.mean_activation(activations)
        eps = keras.config.epsilon()
        rho_hat = ops.clip(rho_hat, eps, 1.0 - eps)
        rho = ops.cast(self.rho, rho_hat.dtype)
        kl = rho * ops.log(rho / rho_hat) + (1.0 - rho) * ops.log((1.0 - rho) / (1.0 - rho_hat))
        return self.beta * ops.sum(kl)

    def __call__(self, x):
        (x,) = in_loss_dtype(ops.convert_to_tensor(x))
        # Cancels Keras' division of activity-regularizer values by the batch size.
        return self.penalty(x) * ops.cast(ops.shape(x)[0], x.dtype)

    def get_config(self):
        return {"rho": self.rho, "beta": self.beta}

    @classmethod
    def from_config(cls, config):
        return cls(**check_config(cls, config))
