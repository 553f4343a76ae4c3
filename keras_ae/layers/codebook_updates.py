"""How VQ-VAE's codebook learns without gradients: k-means initialization, moving averages
and dead-code restarts (van den Oord et al. 2017, appendix A.1)."""

import keras
from keras import ops

from keras_ae import backend

#: Lloyd iterations of the optional k-means initialization (on the first training batch).
KMEANS_ITERATIONS = 10


def squared_distances(vectors, codebook):
    """`||v_i - e_k||^2` for every row of `vectors` (N, D) and `codebook` (K, D): (N, K).

    Expanded as `||v||^2 - 2 v.e + ||e||^2`: one matrix product, never a (N, K, D) tensor.
    """
    return (
        ops.sum(ops.square(vectors), axis=1, keepdims=True)
        - 2.0 * ops.matmul(vectors, ops.transpose(codebook))
        + ops.sum(ops.square(codebook), axis=1)[None, :]
    )


class CodebookUpdates:
    """Mixin of `VectorQuantizer`: the codebook's updates from a training batch.

    It relies on the layer's `codebook` (and, as configured, `ema_count`, `ema_sum`,
    `unused_steps`, `initialized`), its `num_embeddings`, `ema`, `decay`, `epsilon`,
    `restart_after` and `seed_generator`. Statistics are summed over `tf.distribute`
    replicas and draws taken from the first replica, so the replicas keep one codebook.

    The codebook learns in the forward pass, before the step's loss is checked, so a batch
    with a NaN or Inf encoding would write NaN into the codebook and its averages for good
    while the step itself is refused. Both updates take `finite`, whether every replica's
    vectors are finite (`backend.is_finite`, one flag for all), and skip such a batch.
    """

    def _kmeans_initialize(self, flat, finite, weights=None):
        """On the first training batch: codebook = k-means centres of the batch's vectors
        (the first batch with finite vectors and some weight). `weights`, one per vector,
        weight the centres; a vector of weight 0 is no starting centre while others remain."""
        if weights is None:
            weights = ops.ones((ops.shape(flat)[0],), "float32")
        # Distinct starting vectors (a permutation; repeats only when the batch has fewer
        # vectors than codes): a repeated centre never wins the argmin and stays dead. The
        # weighted ones come first.
        count = ops.shape(flat)[0]
        order = keras.random.shuffle(ops.arange(count), seed=self.seed_generator)
        unweighted = ops.cast(ops.take(weights, order) <= 0, "int32")
        weighted_first = ops.argsort(unweighted * count + ops.arange(count))  # keys distinct: stable
        order = ops.take(order, weighted_first)
        picks = ops.take(order, ops.mod(ops.arange(self.num_embeddings), count))

        def kmeans():
            centres = ops.take(flat, picks, axis=0)
            for _ in range(KMEANS_ITERATIONS):
                nearest = ops.argmin(squared_distances(flat, centres), axis=1)
                sums = ops.segment_sum(flat * weights[:, None], nearest, num_segments=self.num_embeddings)
                counts = ops.segment_sum(weights, nearest, num_segments=self.num_embeddings)
                centres = ops.where(
                    counts[:, None] > 0, sums / ops.where(counts > 0, counts, 1.0)[:, None], centres
                )
            return backend.from_first_replica(centres)

        # Initialized already, or a batch with non-finite vectors or no weight (over every
        # replica): the codebook stays.
        initialized = ops.convert_to_tensor(self.initialized)
        usable = ops.logical_and(finite, backend.all_reduce_sum(ops.sum(weights)) > 0)
        keep = ops.logical_or(initialized, ops.logical_not(usable))
        current = ops.cast(ops.convert_to_tensor(self.codebook), "float32")
        centres = backend.cond(keep, lambda: current, kmeans)
        self.codebook.assign(ops.cast(centres, self.codebook.dtype))
        if self.ema:
            # Only the first batch resets the moving averages; later batches keep them.
            self.ema_sum.assign(ops.where(keep, self.ema_sum, centres))
            self.ema_count.assign(ops.where(keep, self.ema_count, ops.ones_like(self.ema_count)))
        self.initialized.assign(ops.logical_or(initialized, usable))

    def _update_codebook(self, flat, flat_indices, finite, weights=None):
        """EMA update and dead-code restarts from one training batch (global statistics);
        none from a batch with non-finite vectors (`finite` False) or whose weights are all
        0. `weights`, one per vector (its example's sample weight), weight the counts and
        sums."""
        if weights is None:
            weights = ops.ones_like(flat_indices, "float32")
        counts = backend.all_reduce_sum(
            ops.segment_sum(weights, flat_indices, num_segments=self.num_embeddings)
        )
        # A batch whose weights are all 0 (over every replica) carries nothing to learn: it
        # leaves the codebook, its averages and restart counters as they were. With decay=0
        # its smoothed counts would be 0 and the EMA codebook 0/0 = NaN.
        learns = ops.logical_and(finite, ops.sum(counts) > 0)
        codebook = ops.cast(ops.convert_to_tensor(self.codebook), "float32")
        if self.ema:
            sums = backend.all_reduce_sum(
                ops.segment_sum(flat * weights[:, None], flat_indices, num_segments=self.num_embeddings)
            )
            ema_count = self.ema_count * self.decay + counts * (1.0 - self.decay)
            ema_sum = self.ema_sum * self.decay + sums * (1.0 - self.decay)
            total = ops.sum(ema_count)
            smoothed = (ema_count + self.epsilon) / (total + self.num_embeddings * self.epsilon) * total
            codebook = ema_sum / smoothed[:, None]
        if self.restart_after is not None:
            unused = ops.where(counts > 0, 0.0, self.unused_steps + 1.0)
            dead = unused >= float(self.restart_after)
            picks = keras.random.randint(
                (self.num_embeddings,), 0, ops.shape(flat)[0], seed=self.seed_generator
            )
            candidates = backend.from_first_replica(ops.take(flat, picks, axis=0))
            codebook = ops.where(dead[:, None], candidates, codebook)
            if self.ema:
                ema_sum = ops.where(dead[:, None], candidates, ema_sum)
                ema_count = ops.where(dead, 1.0, ema_count)
            self.unused_steps.assign(ops.where(learns, ops.where(dead, 0.0, unused), self.unused_steps))
        if self.ema:
            self.ema_count.assign(ops.where(learns, ema_count, self.ema_count))
            self.ema_sum.assign(ops.where(learns, ema_sum, self.ema_sum))
        self.codebook.assign(ops.where(learns, ops.cast(codebook, self.codebook.dtype), self.codebook))
