"""The contractive autoencoder (Rifai et al.)."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._validation import check_choice, check_non_negative
from keras_ae.losses.functional import in_loss_dtype
from keras_ae.models.autoencoder import Autoencoder, is_sigmoid
from keras_ae.models.base_autoencoder import weighted_mean
from keras_ae.registry import register_model

JACOBIANS = ("auto", "closed_form", "autodiff")


@register_model("contractive_autoencoder")
class ContractiveAutoencoder(Autoencoder):
    """Autoencoder penalized by the Frobenius norm of the encoder's Jacobian.

    The loss adds `contractive_weight * mean_b ||J_f(x_b)||_F^2` (with `add_loss`),
    where `J_f(x) = dh/dx` is the Jacobian of the code with respect to the input: the
    code is made locally insensitive to input directions that the reconstruction
    does not need.

    Two exact ways to compute `||J_f(x)||_F^2`:

    - closed form, for a single dense sigmoid encoder layer `h = sigmoid(W x + b)`
      (built-in encoder with `architecture="mlp"`, `hidden_units=()` and a sigmoid
      code): `sum_j (h_j (1 - h_j))^2 sum_i W_ij^2`. It costs `O(batch * units +
      inputs * units)`, small next to the encoder's matmul.
    - autodiff, for any other encoder (deeper MLPs, convolutions, user encoders):
      `tf.GradientTape.batch_jacobian` of the code with respect to the input, then the
      sum of squares. It costs about `latent_dim` backward passes of the encoder per
      step (vectorized with pfor; memory `batch * latent_dim * input_size` for the
      Jacobian), and its gradient is a second-order derivative. XLA constant folding
      hangs on this batch Jacobian, so `compile(jit_compile=True)` is refused and
      `jit_compile="auto"` resolves to False for it.

    Logged terms: `contractive_loss` (the term added to the loss) and
    `jacobian_norm` (the batch mean of `||J_f(x)||_F`). The penalty is computed when
    the training or evaluation step asks for the loss terms; `predict`,
    `reconstruct` and serving skip it.

    Args:
        input_shape: shape of one example.
        latent_dim: number of code units.
        contractive_weight: `lambda`, >= 0.
        jacobian: `"auto"` (closed form when it applies, autodiff otherwise),
            `"closed_form"` (ValueError when it does not apply) or `"autodiff"`.
        code_activation: activation of the built-in code layer (sigmoid, as in the paper).
        **kwargs: see `Autoencoder` (`tied_weights`, `hidden_units`, `encoder`, ...).

    Example:
        >>> model = keras_ae.create_model("contractive_autoencoder", input_shape=(784,), latent_dim=1000,
        ...                               hidden_units=(), tied_weights=True, contractive_weight=0.1)

    References:
        Rifai, Vincent, Muller, Glorot & Bengio, "Contractive Auto-Encoders: Explicit
        Invariance During Feature Extraction", ICML 2011, equations 5-7 (closed form
        for the sigmoid encoder in section 5.1).
    """

    def __init__(
        self,
        input_shape=None,
        latent_dim=None,
        contractive_weight=0.1,
        jacobian="auto",
        code_activation="sigmoid",
        **kwargs,
    ):
        self.contractive_weight = check_non_negative("contractive_weight", contractive_weight)
        self.jacobian = check_choice("jacobian", jacobian, JACOBIANS)
        super().__init__(
            input_shape=input_shape, latent_dim=latent_dim, code_activation=code_activation, **kwargs
        )
        single_dense_sigmoid = (
            self._user_encoder_name is None
            and self.architecture == "mlp"
            and self.hidden_units == ()
            and is_sigmoid(self.code_activation)
        )
        if jacobian == "closed_form" and not single_dense_sigmoid:
            raise ValueError(
                "jacobian='closed_form' needs a single dense sigmoid encoder layer: architecture='mlp', "
                "hidden_units=(), code_activation='sigmoid' and no user encoder. Received: "
                f"architecture={self.architecture!r}, hidden_units={self.hidden_units!r}, "
                f"code_activation={self.code_activation!r}"
                + (", a user encoder" if self._user_encoder_name else "")
            )
        self.uses_closed_form = single_dense_sigmoid and jacobian != "autodiff"
        if not self.uses_closed_form:
            # Makes Keras resolve jit_compile="auto" to False for this model.
            self.supports_jit = False

    @property
    def jit_compile(self):
        return keras.Model.jit_compile.fget(self)

    @jit_compile.setter
    def jit_compile(self, value):
        # `compile(jit_compile=True)` and a later `model.jit_compile = True` both land here;
        # "auto" already resolves to False through `supports_jit`.
        if value is True and not getattr(self, "uses_closed_form", True):
            raise ValueError(
                "The autodiff Jacobian path of the contractive autoencoder cannot run under XLA "
                "(constant folding hangs on the batch Jacobian). Use jit_compile=False or 'auto', or "
                "the closed form (architecture='mlp', hidden_units=(), sigmoid code). "
                "Received: jit_compile=True"
            )
        keras.Model.jit_compile.fset(self, value)

    # ----------------------------------------------------------------- Jacobian
    def closed_form_jacobian_sq_norms(self, code):
        """`||J_f(x)||_F^2` per example from the sigmoid code `h` of a single dense layer.

        `dh_j/dx_i = h_j (1 - h_j) W_ij`, so the squared norm factorizes into
        `sum_j (h_j (1 - h_j))^2 sum_i W_ij^2`.
        """
        (code,) = in_loss_dtype(code)
        kernel = ops.cast(self.encoder.get_layer("code").kernel, code.dtype)
        slope = code * (1.0 - code)
        return ops.sum(ops.square(slope) * ops.sum(ops.square(kernel), axis=0), axis=-1)

    def autodiff_jacobian_sq_norms(self, x, training=False):
        """Returns `(code, ||J_f(x)||_F^2 per example)` with an exact batch Jacobian."""
        x = ops.convert_to_tensor(x, self.compute_dtype)
        code, jacobian = backend.batch_jacobian(lambda v: self.encoder(v, training=training), x)
        # jacobian: (batch, latent_dim, *input_shape)
        (jacobian,) = in_loss_dtype(jacobian)
        return code, ops.sum(ops.reshape(ops.square(jacobian), (ops.shape(jacobian)[0], -1)), axis=-1)

    def jacobian_sq_norms(self, x, training=False):
        """Returns `(code, ||J_f(x)||_F^2 per example)` by the model's Jacobian path."""
        if self.uses_closed_form:
            code = self.encoder(x, training=training)
            return code, self.closed_form_jacobian_sq_norms(code)
        return self.autodiff_jacobian_sq_norms(x, training=training)

    # ----------------------------------------------------------------- forward
    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        if not compute_losses:
            # predict() and serving want the reconstruction only: no Jacobian there.
            return super().forward(x, training=training)
        code, sq_norms = self.jacobian_sq_norms(x, training=training)
        penalty = self.contractive_weight * weighted_mean(sq_norms, sample_weight)
        # In `model.losses` whenever the model runs in training mode, as Keras' add_loss
        # contract says, so model(x, training=True) carries its penalty.
        self.add_loss(penalty)
        return {
            "code": code,
            "contractive_loss": penalty,
            "jacobian_norm": weighted_mean(ops.sqrt(sq_norms), sample_weight),
            **self.decode_code(code, training=training),
        }

    @property
    def metric_names(self):
        return (*super().metric_names, "contractive_loss", "jacobian_norm")

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        logs["contractive_loss"] = outputs["contractive_loss"]
        logs["jacobian_norm"] = outputs["jacobian_norm"]
        return logs

    def get_config(self):
        config = super().get_config()
        config.update({"contractive_weight": self.contractive_weight, "jacobian": self.jacobian})
        return config
