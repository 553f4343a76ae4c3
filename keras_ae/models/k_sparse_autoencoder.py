"""The k-sparse autoencoder (Makhzani & Frey)."""

import keras
from keras import ops

from keras_ae._validation import check_int, check_number
from keras_ae.layers import KSparse
from keras_ae.layers.k_sparse import check_k
from keras_ae.models.autoencoder import Autoencoder
from keras_ae.registry import register_model


@register_model("k_sparse_autoencoder")
class KSparseAutoencoder(Autoencoder):
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
        **kwargs: see `Autoencoder` (`tied_weights`, `hidden_units`, `encoder`, ...). A
            user `encoder` outputs the code before selection.

    Example:
        >>> model = keras_ae.create_model("k_sparse_autoencoder", input_shape=(784,), latent_dim=1000,
        ...                               hidden_units=(), k=25, alpha=3, tied_weights=True)

    References:
        Makhzani & Frey, "k-Sparse Autoencoders", ICLR 2014 (arXiv:1312.5663).
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
        **kwargs,
    ):
        self.k = check_k("k", k)
        self.alpha = check_number("alpha", alpha, minimum=1)
        if k_start is not None:
            check_k("k_start", k_start)
            if k_start < k:
                raise ValueError(
                    f"Argument `k_start` must be >= k={k}: the schedule lowers k. Received: k_start={k_start}"
                )
            check_int(
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
        self.k_sparse = KSparse(self.k, alpha=self.alpha, name="k_sparse")
        super().__init__(
            input_shape=input_shape, latent_dim=latent_dim, code_activation=code_activation, **kwargs
        )

    def build_encoder(self, inputs, features):
        # `linear_encoder` maps x to the code before selection; training calls it and
        # then `k_sparse` with the scheduled k, `encoder` applies the inference k.
        self.linear_encoder = super().build_encoder(inputs, features)
        check_k("k", self.k, self.latent_dim, "latent_dim")
        if self.k_start is not None:
            check_k("k_start", self.k_start, self.latent_dim, "latent_dim")
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
        return (*super().metric_names, "k")

    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        # Training, evaluation and reconstruction all decode the code the model trains
        # on (k units), so validation reports the training objective; only `encode`
        # (the features, as in the paper's test-time encoder) keeps alpha * k units.
        linear_code = self.linear_encoder(x, training=training)
        k = self.current_k()
        # The schedule's k never exceeds k_start: only that many units need sorting.
        code = self.k_sparse(linear_code, training=True, k=k, max_k=self.k_start)
        return {"code": code, "linear_code": linear_code, "k": k, **self.decode_code(code, training=training)}

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        logs["k"] = ops.cast(outputs["k"], logs["reconstruction_loss"].dtype)
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
            }
        )
        return config
