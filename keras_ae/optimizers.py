"""Optimizers: Keras' Adam with each variable's update fused into one kernel."""

import keras

from keras_ae import backend


@keras.saving.register_keras_serializable(package="keras_ae")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose update of each variable is one fused kernel.

    The same algorithm, arguments and state as Keras' Adam (it is a subclass and adds
    nothing to its config): only the update of a variable and its two moments runs as
    TensorFlow's fused Adam kernel (`backend.apply_adam`) instead of Keras' ten or so
    element-wise ops, each a pass over the variable's memory. That pass count is most of
    the optimizer's cost for the zoo's dense models, whose steps are small: the fused
    update trains the MNIST VAE 784-512-256-20 1.10x (batch 128) and 1.06x (batch 512)
    as fast on 2 CPU cores (`benchmarks/training_speed.py`, RESULTS.md), as
    `torch.optim.Adam(fused=True)` does for PyTorch.

    Where the fused kernel does not apply it runs Keras' own update: `amsgrad=True`,
    sparse gradients and `tf.distribute` strategies. `compile` of every keras-ae model
    uses it for `optimizer="adam"` (the default) and for instances of Keras' `Adam`
    itself (see `Fitting.compile`).

    Args:
        Those of `keras.optimizers.Adam`.

    Example:
        >>> model = keras_ae.create_model("vae", input_shape=(784,), latent_dim=20)
        >>> model.compile(optimizer=keras_ae.optimizers.FusedAdam(1e-3))

    References:
        Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
    """

    #: While `apply_if` runs: its boolean scalar, which masks every fused update.
    _enabled = None

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or not backend.fuses_adam(gradient):
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        backend.apply_adam(
            variable.value if isinstance(variable, keras.Variable) else variable,
            self._momentums[index].value,
            self._velocities[index].value,
            gradient,
            learning_rate,
            self.beta_1,
            self.beta_2,
            self.epsilon,
            step=self.iterations + 1,
            enabled=self._enabled,
        )

    def masks_updates(self, gradients, variables):
        """Whether `apply_if` can skip a step exactly without a conditional.

        True when every update of `apply` is a fused Adam kernel and nothing else in
        `apply` writes a variable: no AMSGrad, weight decay, EMA, gradient accumulation,
        clipping or loss scaling, dense gradients outside a strategy, and no variable
        with a constraint or `overwrite_with_gradient`.
        """
        if self.amsgrad or self.use_ema or self.gradient_accumulation_steps or self.weight_decay:
            return False
        if self.clipnorm or self.clipvalue or self.global_clipnorm or self.loss_scale_factor:
            return False
        if any(g is not None and not backend.fuses_adam(g) for g in gradients):
            return False
        return not any(
            getattr(v, "constraint", None) is not None or getattr(v, "overwrite_with_gradient", False)
            for v in variables
        )

    def apply_if(self, enabled, gradients, variables):
        """`apply(gradients, variables)` where `enabled` is True; otherwise no change at all.

        A skipped step leaves the variables, both moments and `iterations` exactly as they
        were, like `tf.cond(enabled, apply, no-op)`, but as masked fused updates
        (`backend.apply_adam(..., enabled=...)`) in straight-line code. Under XLA a
        conditional around the update splits the compiled step in two; this keeps it one
        program (the XLA step's guard against a non-finite loss, `TrainingStep.train_step`).
        Only where `masks_updates` holds.

        Args:
            enabled: a boolean scalar tensor.
            gradients, variables: as for `apply`.
        """
        if not self.masks_updates(gradients, variables):
            raise ValueError(
                "apply_if needs updates that masks_updates accepts (plain fused Adam). "
                f"Received: optimizer config={self.get_config()}"
            )
        self._enabled = enabled
        try:
            self.apply(gradients, variables)
        finally:
            del self._enabled
        # `apply` always counts a step; a skipped one is taken back.
        skipped = 1 - keras.ops.cast(enabled, self.iterations.dtype)
        self.iterations.assign_sub(skipped)


def fused(optimizer):
    """Returns `optimizer` with Keras' own Adam updated in place to `FusedAdam`.

    Used by `compile`: the string `"adam"` becomes a `FusedAdam()`, and an instance of
    exactly `keras.optimizers.Adam` becomes one in place (the same object, state and
    config; `FusedAdam` adds no attribute, so the caller's references stay valid).
    Subclasses of Adam (AdamW, users' own) and every other optimizer are left as given.
    """
    if isinstance(optimizer, str) and optimizer.lower() == "adam":
        return FusedAdam()
    if type(optimizer) is keras.optimizers.Adam:
        optimizer.__class__ = FusedAdam
    return optimizer
