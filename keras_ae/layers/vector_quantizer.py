"""The vector-quantization bottleneck of VQ-VAE: nearest codebook vector, straight through."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import KnownConfig
from keras_ae._validation import check_bool, check_int, check_non_negative, check_number, check_seed
from keras_ae.layers.codebook_updates import CodebookUpdates, squared_distances
from keras_ae.layers.replica_losses import ReplicaLosses
from keras_ae.layers.seed_state import SavesSeedState
from keras_ae.losses.functional import in_loss_dtype


@keras.saving.register_keras_serializable(package="keras_ae")
class VectorQuantizer(CodebookUpdates, ReplicaLosses, SavesSeedState, KnownConfig, keras.layers.Layer):
    """Replaces each input vector by its nearest codebook vector (VQ-VAE's bottleneck).

    The input's last axis holds vectors of size `embedding_dim` (a `(batch, H, W, D)`
    grid, a `(batch, N, D)` sequence, ...). Each is replaced by the codebook vector `e_k`
    nearest in squared Euclidean distance; gradients pass straight through to the input
    (`z_e + stop_gradient(e - z_e)`). The layer adds with `add_loss`, per example summed
    over positions and dimensions and averaged over the batch (the scale of the zoo's
    reconstruction terms):

    - the commitment loss `commitment_cost * ||z_e - sg[e]||^2`, and
    - with `ema=False`, the codebook loss `||sg[z_e] - e||^2`, which trains the codebook.

    With `ema=True` the codebook is not trained by gradients: after each training batch
    it is set to the moving averages (decay `decay`) of the sums of the vectors assigned
    to each code over their counts, with Laplace-smoothed counts (`epsilon`), as in the
    paper's appendix A.1. Under `tf.distribute` the counts and sums are summed over all
    replicas first, so the replicas keep one codebook. A batch with non-finite vectors,
    or whose sample weights are all 0, leaves the codebook and its averages as they were.

    Args:
        num_embeddings: number of codebook vectors K, >= 1.
        embedding_dim: size D of each vector; the input's last axis must have this size.
        commitment_cost: weight beta of the commitment loss, >= 0 (the paper's 0.25).
        ema: update the codebook by exponential moving averages instead of a loss.
        decay: EMA decay in [0, 1) (`ema=True` only; the paper's 0.99).
        epsilon: Laplace smoothing of the EMA counts, > 0.
        restart_after: re-seed a code unused for this many training batches (global
            batches) from a vector of the current batch; None never restarts.
        kmeans_init: initialize the codebook by k-means (10 Lloyd iterations) on the
            vectors of the first training batch.
        seed: integer seed of the initialization, restarts and k-means draws.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Returns:
        Called on `z_e`, the quantized vectors (same shape); with `return_indices=True`,
        `(quantized, indices)` where `indices` (int32) has the input's shape minus its last
        axis.

    Example:
        >>> vq = VectorQuantizer(num_embeddings=128, embedding_dim=16, ema=True, seed=0)
        >>> quantized, indices = vq(z_e, training=True, return_indices=True)
        >>> vectors = vq.lookup(indices)  # the codebook vectors of `indices`

    References:
        van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning",
        NeurIPS 2017 (section 3.2 and appendix A.1).
    """

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        commitment_cost=0.25,
        ema=False,
        decay=0.99,
        epsilon=1e-5,
        restart_after=None,
        kmeans_init=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_embeddings = check_int("num_embeddings", num_embeddings)
        self.embedding_dim = check_int("embedding_dim", embedding_dim)
        self.commitment_cost = check_non_negative("commitment_cost", commitment_cost)
        self.ema = check_bool("ema", ema)
        self.decay = check_number("decay", decay, minimum=0, maximum=1, exclusive_maximum=True)
        self.epsilon = check_number("epsilon", epsilon, minimum=0, exclusive_minimum=True)
        self.restart_after = None if restart_after is None else check_int("restart_after", restart_after)
        self.kmeans_init = check_bool("kmeans_init", kmeans_init)
        self.seed = check_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if input_shape[-1] != self.embedding_dim:
            raise ValueError(
                f"The vectors to quantize must have size embedding_dim={self.embedding_dim} on their "
                f"last axis. Received: inputs with shape={tuple(input_shape)}"
            )
        shape = (self.num_embeddings, self.embedding_dim)
        # Rows of expected squared norm 1: on the scale of a freshly initialized encoder.
        initial = keras.initializers.VarianceScaling(1.0, "fan_out", "uniform", seed=self.seed)(shape)
        self.codebook = self.add_weight(
            name="codebook",
            shape=shape,
            initializer=lambda shape, dtype=None: ops.cast(initial, dtype),
            trainable=not self.ema,
            aggregation="only_first_replica" if self.ema else "none",
            # Read in float32 under a mixed-precision policy too: nearest-code searches and
            # EMA statistics in bfloat16 would round codes together.
            autocast=False,
        )
        if self.ema:
            # Counts start at 1 and sums at the codebook: an unused code keeps its vector
            # (sum / count) for as long as its decayed count dominates the Laplace
            # smoothing, then shrinks towards 0 (after about ln(1/epsilon) / (1 - decay)
            # batches, ~1150 with the defaults); `restart_after` re-seeds it before that.
            self.ema_count = self.add_weight(
                name="ema_count",
                shape=(self.num_embeddings,),
                initializer="ones",
                trainable=False,
                aggregation="only_first_replica",
                autocast=False,
            )
            self.ema_sum = self.add_weight(
                name="ema_sum",
                shape=shape,
                initializer=lambda shape, dtype=None: ops.cast(initial, dtype),
                trainable=False,
                aggregation="only_first_replica",
                autocast=False,
            )
        if self.restart_after is not None:
            self.unused_steps = self.add_weight(
                name="unused_steps",
                shape=(self.num_embeddings,),
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
                autocast=False,
            )
        if self.kmeans_init:
            self.initialized = self.add_weight(
                name="initialized",
                shape=(),
                dtype="bool",
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
            )

    # ------------------------------------------------------------------ lookups
    def lookup(self, indices):
        """The codebook vectors of int `indices` (any shape): shape `(*indices.shape, D)`."""
        return ops.take(ops.convert_to_tensor(self.codebook), ops.cast(indices, "int32"), axis=0)

    def nearest(self, vectors):
        """Indices (int32) of the codes nearest to `vectors` (`(..., D)`): shape `(...)`."""
        flat = ops.reshape(ops.cast(vectors, "float32"), (-1, self.embedding_dim))
        codebook = ops.cast(ops.convert_to_tensor(self.codebook), "float32")
        indices = ops.cast(ops.argmin(squared_distances(flat, codebook), axis=1), "int32")
        return ops.reshape(indices, ops.shape(vectors)[:-1])

    def per_example_loss(self, inputs, quantized):
        """The VQ terms of each example (summed over its positions and dimensions): `(batch,)`.

        `commitment_cost * ||z_e - e||^2`, plus `||z_e - e||^2` for the codebook loss when
        `ema=False`. Both have the same value; only their gradients differ.
        """
        axes = tuple(range(1, len(inputs.shape)))
        inputs, quantized = in_loss_dtype(inputs, quantized)
        squared = ops.sum(ops.square(inputs - quantized), axis=axes)
        return (self.commitment_cost + (0.0 if self.ema else 1.0)) * squared

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=False, return_indices=False, sample_weight=None):
        z_e = ops.cast(inputs, self.compute_dtype)
        flat = ops.reshape(ops.cast(z_e, "float32"), (-1, self.embedding_dim))
        weights = None
        if training and sample_weight is not None:
            # Each example's weight on each of its positions: a vector of a zero-weight
            # example moves no code, as with the codebook loss of `ema=False`.
            positions = ops.shape(flat)[0] // ops.shape(z_e)[0]
            weights = ops.repeat(ops.reshape(ops.cast(sample_weight, "float32"), (-1,)), positions)
        # One cross-replica flag for both codebook updates, and only when one runs.
        learns = training and (self.kmeans_init or self.ema or self.restart_after is not None)
        finite = backend.is_finite(flat) if learns else None
        if training and self.kmeans_init:
            self._kmeans_initialize(flat, finite, weights)
        codebook = ops.cast(ops.convert_to_tensor(self.codebook), "float32")
        flat_indices = ops.cast(ops.argmin(squared_distances(flat, codebook), axis=1), "int32")
        quantized = ops.reshape(ops.take(codebook, flat_indices, axis=0), ops.shape(z_e))
        quantized = ops.cast(quantized, self.compute_dtype)
        if training and (self.ema or self.restart_after is not None):
            self._update_codebook(flat, flat_indices, finite, weights)

        axes = tuple(range(1, len(z_e.shape)))
        # The terms in float32 even under a mixed-precision policy (`in_loss_dtype`).
        z_e_loss, quantized_loss = in_loss_dtype(z_e, quantized)
        commitment = self.commitment_cost * ops.sum(
            ops.square(z_e_loss - ops.stop_gradient(quantized_loss)), axis=axes
        )
        per_example = commitment
        if not self.ema:
            per_example = per_example + ops.sum(
                ops.square(ops.stop_gradient(z_e_loss) - quantized_loss), axis=axes
            )
        if sample_weight is not None:
            weights = ops.reshape(ops.cast(sample_weight, per_example.dtype), ops.shape(per_example))
            per_example = per_example * weights
        self.add_loss(ops.mean(per_example))

        # Straight-through estimator: the forward value of `quantized`, the gradient of `z_e`.
        outputs = z_e + ops.stop_gradient(quantized - z_e)
        if return_indices:
            return outputs, ops.reshape(flat_indices, ops.shape(z_e)[:-1])
        return outputs

    def compute_output_shape(self, input_shape, return_indices=False):
        if return_indices:
            return tuple(input_shape), tuple(input_shape[:-1])
        return tuple(input_shape)

    def compute_output_spec(self, inputs, training=False, return_indices=False, sample_weight=None):
        quantized = keras.KerasTensor(inputs.shape, dtype=self.compute_dtype)
        if return_indices:
            return quantized, keras.KerasTensor(inputs.shape[:-1], dtype="int32")
        return quantized

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_embeddings": self.num_embeddings,
                "embedding_dim": self.embedding_dim,
                "commitment_cost": self.commitment_cost,
                "ema": self.ema,
                "decay": self.decay,
                "epsilon": self.epsilon,
                "restart_after": self.restart_after,
                "kmeans_init": self.kmeans_init,
                "seed": self.seed,
            }
        )
        return config
