"""The L1 activity penalty: the alternative sparsity penalty of the sparse autoencoder."""

import keras
from keras import ops

from keras_ae._config import check_config
from keras_ae._validation import check_non_negative
from keras_ae.losses.functional import in_loss_dtype


@keras.saving.register_keras_serializable(package="keras_ae")
class L1Activity(keras.regularizers.Regularizer):
    """Activity regularizer `weight * mean_over_batch(sum_j |h_j|)`.

    The L1 norm of each example's code, averaged over the batch: it drives most code
    units to exactly zero for each example and, unlike the KL penalty, works with any
    code activation (ReLU, linear or sigmoid).

    Scale: Keras divides the value an `activity_regularizer` returns by the batch
    size, so calling the regularizer returns the batch *sum* `weight * sum_{b,j} |h_bj|`
    and the term reaching the loss (`layer.losses`) is exactly `penalty(h)`, the batch
    mean. This is the scale of `keras.regularizers.L1` used as an activity regularizer,
    with the mean made explicit and checked. Sample weights do not enter the mean (Keras
    never passes them to regularizers).

    Args:
        weight: weight of the penalty, >= 0.

    Returns:
        Called on activations `h` shaped `(batch, units)`, the scalar `penalty(h) * batch`.

    Example:
        >>> layer = keras.layers.Dense(196, activation="relu",
        ...                            activity_regularizer=L1Activity(weight=1e-3))

    References:
        Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011; Lee et al.,
        "Efficient sparse coding algorithms", NIPS 2006 (the L1 sparsity penalty).
    """

    def __init__(self, weight=1e-3):
        self.weight = check_non_negative("weight", weight)

    def penalty(self, activations):
        """Returns `weight * mean_b sum_j |h_bj|` for a batch of `activations`."""
        (activations,) = in_loss_dtype(ops.convert_to_tensor(activations))
        per_example = ops.sum(ops.reshape(ops.abs(activations), (ops.shape(activations)[0], -1)), axis=1)
        return self.weight * ops.mean(per_example)

    def __call__(self, x):
        (x,) = in_loss_dtype(ops.convert_to_tensor(x))
        # Cancels Keras' division of activity-regularizer values by the batch size.
        return self.penalty(x) * ops.cast(ops.shape(x)[0], x.dtype)

    def get_config(self):
        return {"weight": self.weight}

    @classmethod
    def from_config(cls, config):
        return cls(**check_config(cls, config))
