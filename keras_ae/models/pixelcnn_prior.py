"""An autoregressive prior over grids of codebook indices (VQ-VAE's learned prior)."""

import math

import keras
import numpy as np
from keras import ops

from keras_ae import backend
from keras_ae._config import check_config
from keras_ae._validation import check_code_indices, check_int, check_seed
from keras_ae.layers.gated_pixelcnn import GatedPixelCNNBlock
from keras_ae.models.fitting import labels_for_weights
from keras_ae.models.training_step import weighted_mean


def _fold(length):
    """A sequence of `length` codes as a near-square `(rows, columns)` grid in raster order.

    The order of the positions (and so the factorization `prod_i p(c_i | c_<i)`) is the
    same; on a grid the vertical stack sees whole earlier rows, where one long row would
    limit the context to the horizontal stack's reach.
    """
    columns = (
        next(w for w in range(math.isqrt(length - 1) + 1, length + 1) if length % w == 0) if length > 1 else 1
    )
    return (length // columns, columns)


@keras.saving.register_keras_serializable(package="keras_ae")
class PixelCNNPrior(keras.Model):
    """Gated PixelCNN over a grid of discrete codes: `p(c) = prod_i p(c_i | c_<i)`.

    Codes are embedded, passed through `num_blocks` gated blocks (the first one masked
    so that position i never sees itself) and mapped to logits over the
    `num_embeddings` codes of every position. `fit(indices)` trains it by maximum
    likelihood (no labels: the grid is its own target); the logged `loss` is the
    negative log-likelihood of a grid in nats (summed over positions, averaged over the
    batch) and `bits_per_code` the same per position in bits.

    Args:
        grid_shape: `(H, W)` of the index grids, or `(N,)` for an MLP VQ-VAE's codes (laid
            out in raster order on a near-square grid of N positions, e.g. 4x4 for 16).
        num_embeddings: number of codes K, >= 1.
        filters: channels of the blocks, >= 1.
        num_blocks: gated blocks, >= 1.
        kernel_size: odd window of the blocks.
        **kwargs: base `keras.Model` arguments.

    Returns:
        Called on int indices `(batch, *grid_shape)`, logits `(batch, *grid_shape, K)`.

    Example:
        >>> prior = PixelCNNPrior(grid_shape=(7, 7), num_embeddings=128)
        >>> prior.compile(optimizer="adam")
        >>> prior.fit(indices, epochs=20, batch_size=128)   # indices = vq_vae.encode(x)
        >>> grids = prior.sample(16, seed=0)

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders", 2016;
        van den Oord et al., "Neural Discrete Representation Learning", 2017 (section 3.3).
    """

    def __init__(self, grid_shape, num_embeddings, filters=64, num_blocks=6, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        grid_shape = tuple(grid_shape) if isinstance(grid_shape, (list, tuple)) else grid_shape
        if not isinstance(grid_shape, tuple) or len(grid_shape) not in (1, 2):
            raise ValueError(
                f"Argument `grid_shape` must be (H, W) or (N,). Received: grid_shape={grid_shape!r}"
            )
        self.grid_shape = tuple(check_int("grid_shape", d) for d in grid_shape)
        self.num_embeddings = check_int("num_embeddings", num_embeddings)
        self.filters = check_int("filters", filters)
        self.num_blocks = check_int("num_blocks", num_blocks)
        self.kernel_size = check_int("kernel_size", kernel_size)
        self._grid_2d = self.grid_shape if len(self.grid_shape) == 2 else _fold(self.grid_shape[0])
        self.embedding = keras.layers.Embedding(
            self.num_embeddings, self.filters, name="embedding", dtype=self.dtype_policy
        )
        self.blocks = [
            GatedPixelCNNBlock(
                self.filters, self.kernel_size, first=i == 0, name=f"gated_block_{i}", dtype=self.dtype_policy
            )
            for i in range(self.num_blocks)
        ]
        self.head = keras.layers.Conv2D(
            self.filters, 1, activation="relu", name="head", dtype=self.dtype_policy
        )
        self.logits = keras.layers.Conv2D(self.num_embeddings, 1, name="logits", dtype=self.dtype_policy)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.bits_tracker = keras.metrics.Mean(name="bits_per_code")
        self.build((None, *self.grid_shape))

    def build(self, input_shape):
        grid = (None, *self._grid_2d)
        self.embedding.build(grid)
        for block in self.blocks:
            block.build([(*grid, self.filters)] * 2)
        self.head.build((*grid, self.filters))
        self.logits.build((*grid, self.filters))
        self.built = True

    def _check_indices(self, indices):
        shape = tuple(indices.shape)
        if len(shape) != len(self.grid_shape) + 1 or tuple(shape[1:]) != self.grid_shape:
            raise ValueError(
                f"Index grids must have shape (batch, {', '.join(map(str, self.grid_shape))}). "
                f"Received: indices with shape={shape}"
            )

    def call(self, indices, training=False):
        self._check_indices(indices)
        grid = ops.reshape(ops.cast(indices, "int32"), (-1, *self._grid_2d))
        embedded = self.embedding(grid)
        vertical = horizontal = embedded
        for block in self.blocks:
            vertical, horizontal = block([vertical, horizontal])
        logits = self.logits(self.head(ops.relu(horizontal)))
        return ops.reshape(logits, (-1, *self.grid_shape, self.num_embeddings))

    def log_prob(self, indices):
        """`log p(indices)` of each grid in nats: `(batch,)`."""
        logits = self(indices, training=False)
        return -self._nll(indices, logits)

    def _nll(self, indices, logits):
        log_probs = ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
        picked = ops.take_along_axis(log_probs, ops.cast(indices, "int32")[..., None], axis=-1)[..., 0]
        return -ops.sum(ops.reshape(picked, (ops.shape(picked)[0], -1)), axis=1)

    # ------------------------------------------------------------------ training
    @property
    def metrics(self):
        return [self.loss_tracker, self.bits_tracker]

    def _step_logs(self, loss, batch_size):
        positions = float(np.prod(self.grid_shape))
        self.loss_tracker.update_state(loss, sample_weight=batch_size)
        self.bits_tracker.update_state(loss / positions / np.log(2.0), sample_weight=batch_size)
        return backend.logs_for_strategy(backend.tracker_means({m.name: m for m in self.metrics}))

    def _loss(self, data, training):
        indices, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        batch_size = ops.shape(indices)[0]  # this replica's share, which may be empty
        indices, sample_weight = backend.fill_empty_share(indices, sample_weight)
        logits = self(indices, training=training)
        return weighted_mean(self._nll(indices, logits), sample_weight), batch_size

    def train_step(self, data):
        def scaled_loss():
            loss, batch_size = self._loss(data, training=True)
            scaled = loss * ops.cast(backend.replica_weight(batch_size), loss.dtype)
            return self.optimizer.scale_loss(scaled), (loss, batch_size)

        (_, (loss, batch_size)), gradients = backend.value_and_gradients(
            scaled_loss, self.trainable_variables
        )
        self.optimizer.apply(gradients, self.trainable_variables)
        return self._step_logs(loss, batch_size)

    def test_step(self, data):
        loss, batch_size = self._loss(data, training=False)
        return self._step_logs(loss, batch_size)

    def fit(self, x=None, y=None, *args, sample_weight=None, **kwargs):
        """Keras' `fit` on index grids `x` (no labels; `sample_weight` weighs the grids'
        NLL, Keras' "sum_over_batch_size"); checks an array `x` first."""
        if isinstance(x, np.ndarray):
            self.check_index_array(x)
        y = labels_for_weights(x, y, sample_weight)
        return super().fit(x, y, *args, sample_weight=sample_weight, **kwargs)

    def evaluate(self, x=None, y=None, *args, sample_weight=None, **kwargs):
        """Keras' `evaluate` on index grids `x`, weighted as in `fit`."""
        y = labels_for_weights(x, y, sample_weight)
        return super().evaluate(x, y, *args, sample_weight=sample_weight, **kwargs)

    def check_index_array(self, x, arg="x"):
        """Raises a ValueError unless `x` is an integer array of valid index grids."""
        x = np.asarray(x)
        self._check_indices(x)
        check_code_indices(arg, x, self.num_embeddings)

    # ------------------------------------------------------------------ sampling
    def sample_graph(self, num_samples, seed):
        """Draws `num_samples` grids position by position, as a pure function of `seed`.

        Each position is drawn from the model's conditional given the positions before
        it, with stateless draws keyed by `(seed, position)`: the same seed gives the same
        grids in Python and in an exported SavedModel. Traceable (a `while` loop over
        positions); `num_samples` and `seed` may be tensors.

        Returns:
            int32 grids shaped `(num_samples, *grid_shape)`.
        """
        positions = int(np.prod(self.grid_shape))
        flat_shape = (num_samples, positions)

        def body(position, flat):
            logits = self(ops.reshape(flat, (num_samples, *self.grid_shape)), training=False)
            logits = ops.reshape(logits, (num_samples, positions, self.num_embeddings))
            step_logits = ops.take(logits, position, axis=1)
            draw = backend.stateless_categorical(ops.cast(step_logits, "float32"), seed, position)
            here = ops.cast(ops.equal(ops.arange(positions), position), "int32")[None, :]
            return flat * (1 - here) + draw[:, None] * here

        flat = ops.fori_loop(0, positions, body, ops.zeros(flat_shape, "int32"))
        return ops.reshape(flat, (num_samples, *self.grid_shape))

    def sample(self, num_samples, seed=None):
        """Draws `num_samples` index grids as a numpy int32 array (see `sample_graph`).

        Args:
            num_samples: how many grids, >= 1.
            seed: int seed; the same seed gives the same grids. None draws a fresh seed.
        """
        num_samples = check_int("num_samples", num_samples)
        seed = check_seed(seed)
        if seed is None:
            seed = int(np.random.default_rng().integers(2**62))
        return ops.convert_to_numpy(self.sample_graph(num_samples, seed))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "grid_shape": self.grid_shape,
                "num_embeddings": self.num_embeddings,
                "filters": self.filters,
                "num_blocks": self.num_blocks,
                "kernel_size": self.kernel_size,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**check_config(cls, config))
