"""The k-sparse autoencoder (Makhzani & Frey)."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._validation import check_int, check_non_negative, check_number
from keras_ae.layers import KSparse
from keras_ae.layers.k_sparse import check_k
from keras_ae.layers.replica_losses import ReplicaLosses
from keras_ae.models.autoencoder import Autoencoder
from keras_ae.models.training_step import weighted_mean
from keras_ae.registry import register_model


@register_model("k_sparse_autoencoder")
class KSparseAutoencoder(ReplicaLosses, Autoencoder):
    """Autoencoder with a linear code of which only the `k` largest units are kept.

    The encoder computes a linear code `z = W x + b` and the `KSparse` layer keeps
    its `k` largest entries per example (support `Gamma = supp_k(z)`); the decoder
    reconstructs from that sparse code, and gradients flow through the kept units
    only. `encode` (the features) keeps `min(floor(alpha * k), latent_dim)` units, as
    in the paper's test-time encoder; `predict` and evaluation decode the code the
    model trains on (k units), so validation reports the training objective. With
    `tied_weights=True` the decoder uses the transpose of the encoder's kernel.

    k schedule (optional): with `k_start`, training starts with `k_start` units and
    lowers `k` linearly to `k` over the first `k_schedule_fraction` of training (the
    paper: the first half), counted in optimizer steps:
    `k_t = k + ceil((k_start - k) * max(0, h - t) / h)` with
    `h = max(1, int(total_steps * k_schedule_fraction))` and `t = train_step_count`, so
    early steps keep more units and fewer units are left dead. The count is a model weight (saved with the
    model); validation never advances it. `k` is logged (the current training k).

    Dead units (optional, `aux_k`): a unit that is never among the kept units gets no
    gradient, so once it stops winning it never comes back. With `aux_k`, the model
    counts for each unit the training batches since it was last kept by any example
    (`steps_since_active`, a saved weight, updated by every training-mode call); a unit
    at `dead_steps` or more is dead. The auxiliary loss asks the `aux_k` largest dead
    units of each example's linear code, `z_aux`, to reconstruct what the model's
    reconstruction misses: `aux_weight * mean_b ||stop_gradient(x - x_hat) -
    (g(z_aux) - g(0))||^2`, summed over the features, where `g` maps a code to the
    reconstruction (the decoder's mean). With the paper's tied linear decoder
    `g(z_aux) - g(0) = W^T z_aux`: Gao et al.'s AuxK term, which gives the dead units
    a gradient towards the residual. It is added with `add_loss` (in `model.losses`)
    whenever the model computes its losses (training and evaluation), and is 0 while no
    unit is dead (the term would then be a constant); `aux_loss` and `dead_units` are
    logged. While units are dead a step runs the decoder once more
    (`benchmarks/k_sparse_step.py` times it). Under a distribution strategy the count
    is the global batch's: a unit kept on any replica is alive. (That all-reduce runs
    mid-call; the model's own loss terms are kept per replica, but an activity regularizer
    on a layer of a custom encoder or decoder would then mix between replicas.)

    Args:
        input_shape: shape of one example.
        latent_dim: number of code units.
        k: units kept per example in training, 1 <= k <= latent_dim.
        alpha: inference multiplier, >= 1 (paper: 3 for MNIST); `alpha * k` is capped at
            `latent_dim`.
        k_start: first value of the k schedule (k <= k_start <= latent_dim), or None
            for a constant `k`.
        total_steps: optimizer steps of the whole training run; required with `k_start`.
        k_schedule_fraction: the fraction of `total_steps` over which k falls from
            `k_start` to `k`, in (0, 1] (paper: 0.5; 1 lowers k over the whole run).
        code_activation: activation before the selection (linear in the paper).
        aux_k: dead units per example in the auxiliary loss, 1 <= aux_k <= latent_dim,
            or None (the paper) for no auxiliary loss.
        aux_weight: weight of the auxiliary loss, >= 0 (Gao et al.: 1/32).
        dead_steps: training batches without being kept after which a unit is dead,
            >= 1 (used with `aux_k`).
        **kwargs: see `Autoencoder` (`tied_weights`, `hidden_units`, `encoder`, ...). A
            user `encoder` outputs the code before selection.

    Example:
        >>> model = keras_ae.create_model("k_sparse_autoencoder", input_shape=(784,), latent_dim=1000,
        ...                               hidden_units=(), k=25, alpha=3, tied_weights=True)

    References:
        Makhzani & Frey, "k-Sparse Autoencoders", ICLR 2014 (arXiv:1312.5663).
        Gao et al., "Scaling and evaluating sparse autoencoders", 2024 (arXiv:2406.04093),
        section 2.4 and appendix A.2 (the AuxK loss).
    """

    def __init__(
        self,
        input_shape=None,
        latent_dim=None,
        k=25,
        alpha=3.0,
        k_start=None,
        total_steps=None,
        k_schedule_fraction=0.5,
        code_activation="linear",
        aux_k=None,
        aux_weight=1 / 32,
        dead_steps=1000,
        **kwargs,
    ):
        self.k = check_k("k", k)
        self.aux_k = None if aux_k is None else check_k("aux_k", aux_k)
        self.aux_weight = check_non_negative("aux_weight", aux_weight)
        self.dead_steps = check_int("dead_steps", dead_steps)
        self.alpha = check_number("alpha", alpha, minimum=1)
        if k_start is not None:
            k_start = check_k("k_start", k_start)
            if k_start < k:
                raise ValueError(
                    f"Argument `k_start` must be >= k={k}: the schedule lowers k. Received: k_start={k_start}"
                )
            total_steps = check_int(
                "total_steps", total_steps, what="(optimizer steps of the whole run, needed with k_start)"
            )
        elif total_steps is not None:
            raise ValueError(
                f"Argument `total_steps` only applies with a k schedule (k_start). Received: total_steps={total_steps!r}"
            )
        self.k_schedule_fraction = check_number(
            "k_schedule_fraction", k_schedule_fraction, minimum=0, maximum=1, exclusive_minimum=True
        )
        self.k_start = k_start
        self.total_steps = total_steps
        # The model's dtype policy is its `dtype` argument, or the global one (None).
        self.k_sparse = KSparse(self.k, alpha=self.alpha, name="k_sparse", dtype=kwargs.get("dtype"))
        super().__init__(
            input_shape=input_shape, latent_dim=latent_dim, code_activation=code_activation, **kwargs
        )
        if self.aux_k is not None:
            # A weight, so a resumed run keeps its count; only with aux_k, so models
            # without it keep the weights files they had.
            self.steps_since_active = self.add_weight(
                name="steps_since_active",
                shape=(self.latent_dim,),
                dtype="int64",
                initializer="zeros",
                trainable=False,
                aggregation="only_first_replica",
            )

    def build_encoder(self, inputs, features):
        # `linear_encoder` maps x to the code before selection; training calls it and
        # then `k_sparse` with the scheduled k, `encoder` applies the inference k.
        self.linear_encoder = super().build_encoder(inputs, features)
        check_k("k", self.k, self.latent_dim, "latent_dim")
        if self.k_start is not None:
            check_k("k_start", self.k_start, self.latent_dim, "latent_dim")
        if self.aux_k is not None:
            check_k("aux_k", self.aux_k, self.latent_dim, "latent_dim")
        code = self.k_sparse(self.linear_encoder.outputs[0])
        return keras.Model(inputs, code, name="encoder")

    @property
    def inference_k(self):
        """Units kept at inference: `min(floor(alpha * k), latent_dim)`."""
        return self.k_sparse.inference_k(self.latent_dim)

    def current_k(self):
        """The training k at the current optimizer step (an int without a schedule)."""
        if self.k_start is None:
            return self.k
        length = max(1, int(self.total_steps * self.k_schedule_fraction))
        remaining = ops.maximum(length - ops.cast(self.train_step_count, "int64"), 0)
        # Integer ceil((k_start - k) * remaining / length): exact at every step.
        return self.k + ((self.k_start - self.k) * remaining + length - 1) // length

    @property
    def metric_names(self):
        names = (*super().metric_names, "k")
        return names if self.aux_k is None else (*names, "aux_loss", "dead_units")

    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        # Training, evaluation and reconstruction all decode the code the model trains
        # on (k units), so validation reports the training objective; only `encode`
        # (the features, as in the paper's test-time encoder) keeps alpha * k units.
        linear_code = self.linear_encoder(x, training=training)
        k = self.current_k()
        # The schedule's k never exceeds k_start: only that many units need sorting.
        code = self.k_sparse(linear_code, training=True, k=k, max_k=self.k_start)
        outputs = {
            "code": code,
            "linear_code": linear_code,
            "k": k,
            **self.decode_code(code, training=training),
        }
        if self.aux_k is not None and compute_losses:
            outputs.update(self.aux_loss(x, outputs, sample_weight, training=training))
        return outputs

    def aux_loss(self, x, outputs, sample_weight=None, training=False):
        """The dead units' auxiliary loss (see the class docstring), added with `add_loss`.

        Reads the dead units from `steps_since_active` before this batch; in training it
        then counts the batch: units kept by any example go back to 0, the others add 1.

        Returns:
            `{"aux_loss": the weighted term, "dead_units": the number of dead units}`.
        """
        linear_code = outputs["linear_code"]
        dead = self.steps_since_active >= self.dead_steps

        def residual_error():
            # The aux_k largest dead units of each example; with fewer dead units than
            # aux_k the threshold falls to -inf and every dead unit is kept.
            candidates = ops.where(dead, linear_code, ops.cast(float("-inf"), linear_code.dtype))
            threshold = ops.top_k(candidates, k=self.aux_k, sorted=True)[0][:, -1:]
            aux_code = ops.where(dead & (candidates >= threshold), linear_code, ops.zeros_like(linear_code))
            # What the dead units add to the reconstruction: g(z_aux) - g(0), W^T z_aux
            # for the tied linear decoder (the decoder's bias cancels).
            offset = self.decode_code(ops.zeros_like(linear_code[:1]), training=training)["reconstruction"]
            added = self.decode_code(aux_code, training=training)["reconstruction"] - offset
            residual = ops.stop_gradient(ops.cast(x, self.dtype) - outputs["reconstruction"])
            error = ops.reshape(residual - added, (ops.shape(residual)[0], -1))
            return self.aux_weight * weighted_mean(ops.sum(ops.square(error), axis=1), sample_weight)

        # Without dead units the term would be the constant aux_weight * ||x - x_hat||^2,
        # with no gradient: it is 0 instead, so that `loss` is the reconstruction's, and
        # the extra decoder pass (about half a plain step's cost) is skipped.
        penalty = ops.cond(ops.any(dead), residual_error, lambda: ops.zeros((), self.dtype))
        self.add_loss(penalty)
        dead_units = ops.sum(ops.cast(dead, penalty.dtype))
        if training:
            active = ops.not_equal(outputs["code"], 0)
            if sample_weight is not None:
                # An example of weight 0 trains none of its units: it keeps none alive.
                weighted = ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1)) > 0
                active = ops.logical_and(active, weighted)
            kept = ops.any(active, axis=0)
            # Under a distribution strategy a unit kept on any replica is alive: the
            # count is the global batch's, the same on every replica. The all-reduce hands
            # over to the other replicas mid-call, hence `ReplicaLosses`.
            kept = backend.all_reduce_sum(ops.cast(kept, "float32")) > 0
            counted = ops.where(kept, ops.zeros_like(self.steps_since_active), self.steps_since_active + 1)
            if sample_weight is not None:
                # A batch whose weights are all 0 trains nothing: it ages no unit either.
                total = backend.all_reduce_sum(ops.sum(ops.cast(sample_weight, "float32")))
                counted = ops.where(total > 0, counted, self.steps_since_active)
            self.steps_since_active.assign(counted)
        return {"aux_loss": penalty, "dead_units": dead_units}

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        logs["k"] = ops.cast(outputs["k"], logs["reconstruction_loss"].dtype)
        if self.aux_k is not None:
            logs["aux_loss"] = outputs["aux_loss"]
            logs["dead_units"] = outputs["dead_units"]
        return logs

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "k": self.k,
                "alpha": self.alpha,
                "k_start": self.k_start,
                "total_steps": self.total_steps,
                "k_schedule_fraction": self.k_schedule_fraction,
                "aux_k": self.aux_k,
                "aux_weight": self.aux_weight,
                "dead_steps": self.dead_steps,
            }
        )
        return config
