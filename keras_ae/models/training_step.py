"""The training and evaluation steps shared by every autoencoder: loss, gradients, trackers."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae import backend
from keras_ae.optimizers import FusedAdam


def weighted_mean(values, sample_weight):
    """Mean of per-example `values` over the batch, Keras' "sum_over_batch_size" way:
    `sum(values * sample_weight) / batch_size`."""
    if sample_weight is None:
        return ops.mean(values)
    sample_weight = ops.reshape(ops.cast(sample_weight, values.dtype), ops.shape(values))
    return ops.sum(values * sample_weight) / ops.cast(ops.shape(values)[0], values.dtype)


#: The message of the in-graph check that stops a step whose loss is NaN or Inf; the check
#: runs before the update, so the weights keep their last finite values.
NON_FINITE_LOSS = (
    "keras_ae: the loss is NaN or Inf: the batch `x` holds NaN or Inf values, or training diverged "
    "(try a lower learning rate)"
)


class TrainingStep:
    """Mixin of `BaseAutoencoder` (before `keras.Model` in its bases): `train_step`,
    `test_step` and the logged metrics.

    The step calls the model (`self(x, training=..., return_outputs=True)`), asks it for
    its named terms (`compute_loss_terms`), adds `self.losses` and updates one Keras
    `Mean` tracker per name in `metric_names`.
    """

    @property
    def metric_names(self):
        """Names of the logged terms, in order; variants extend it."""
        return ("loss", "reconstruction_loss")

    def reconstruction_nll(self, x, outputs, training=False):
        """Per-example negative log-likelihood of `x` under the decoded `outputs`.

        The training objective's reconstruction term; the VAE family overrides it with a
        Monte Carlo estimate over posterior samples outside training.
        """
        return self.likelihood.nll(x, outputs["params"])

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        """Returns the named scalar terms to log; `"reconstruction_loss"` is optimized.

        Every other optimized term reaches the loss through `self.losses`. Variants
        extend the dict with diagnostics (KL, ELBO, capacity, ...).
        """
        nll = self.reconstruction_nll(x, outputs, training=training)
        return {"reconstruction_loss": weighted_mean(nll, sample_weight)}

    def score_terms(self, outputs):
        """Per-example terms added to the reconstruction NLL in the exported `score`.

        A dict name -> `(batch,)` tensor from the outputs of `call(..., return_outputs=True)`;
        the score is the NLL plus their sum (the negative ELBO for the VAE family).
        """
        return {}

    @property
    def optimized_variables(self):
        """The variables `train_step` optimizes: the trainable ones, unless a variant owns a
        separately trained part (VQ-VAE's prior)."""
        return self.trainable_variables

    @property
    def metrics(self):
        return list(self.trackers.values())

    @staticmethod
    def _unpack(data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list)) and len(x) == 1:
            x = x[0]
        return x, sample_weight

    def _step(self, x, sample_weight, training, batch_size):
        """`(loss, replica weight, logs)` of the batch share `x` (`batch_size` examples
        before `fill_empty_share`)."""
        outputs = self(x, training=training, sample_weight=sample_weight, return_outputs=True)
        logs = self.compute_loss_terms(outputs["x"], outputs, sample_weight, training=training)
        loss = logs["reconstruction_loss"]
        if self.losses:
            # Terms a user's layers add in half precision (mixed precision) join in float32.
            loss = loss + ops.sum([ops.cast(term, loss.dtype) for term in self.losses])
        # A non-finite loss stops training with a message instead of silently poisoning the
        # weights. Checking the scalar loss, not the whole input batch, keeps the check
        # nearly free (a batch-sized check cost 12% of a compiled VAE step). Under a
        # strategy the check and the replica's weight share one all-reduce.
        loss, weight = backend.checked_loss_and_weight(loss, batch_size, NON_FINITE_LOSS)
        logs["loss"] = loss
        return loss, weight, logs

    def train_step(self, data):
        x, sample_weight = self._unpack(data)
        batch_size = ops.shape(x)[0]  # this replica's share, which may be empty
        x, sample_weight = backend.fill_empty_share(x, sample_weight)

        def scaled_loss():
            loss, weight, logs = self._step(x, sample_weight, training=True, batch_size=batch_size)
            scaled = loss * ops.cast(weight, loss.dtype)
            return self.optimizer.scale_loss(scaled), logs

        variables = self.optimized_variables
        (_, logs), gradients = backend.value_and_gradients(scaled_loss, variables)

        def update():
            if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer):
                # Under mixed_float16 it skips a step whose scaled gradients overflow, without
                # advancing its iterations: the step count follows it (by the same test of
                # the gradients), so the schedules read from it (k-sparse's k, the capacity
                # C) count applied updates.
                applied = self.optimizer.check_finite(gradients)
                self.optimizer.apply(gradients, variables)
                self.train_step_count.assign_add(ops.cast(applied, self.train_step_count.dtype))
                return
            self.optimizer.apply(gradients, variables)
            self.train_step_count.assign_add(1)

        if not self.jit_compile:
            # The update waits for `_step`'s check of the loss, so a failing check stops it.
            with backend.after(logs["loss"]):
                update()
        elif isinstance(self.optimizer, FusedAdam) and self.optimizer.masks_updates(gradients, variables):
            # XLA drops the in-graph check of `_step`: a step whose loss is not finite makes
            # no update instead, and `fit` raises after the execution (`resident_fit`,
            # `make_train_function`). Masked updates skip it without a conditional, which
            # would split the compiled step (about 15% of the MLP VAE's step, RESULTS.md).
            finite = backend.is_finite(logs["loss"])
            self.optimizer.apply_if(finite, gradients, variables)
            self.train_step_count.assign_add(ops.cast(finite, self.train_step_count.dtype))
        else:
            backend.run_if_finite(logs["loss"], update)
        return self._update_trackers(logs, batch_size)

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        super().make_train_function(force)
        if self.jit_compile:
            # Under XLA a non-finite loss skips its update (`train_step`) but raises nothing
            # in the graph: the host checks the logs after each execution instead.
            compiled = self.train_function

            def checked(iterator):
                logs = compiled(iterator)
                if not np.isfinite(float(logs["loss"])):
                    raise tf.errors.InvalidArgumentError(None, None, NON_FINITE_LOSS)
                return logs

            self.train_function = checked
        return self.train_function

    def test_step(self, data):
        x, sample_weight = self._unpack(data)
        batch_size = ops.shape(x)[0]
        _, _, logs = self._step(
            *backend.fill_empty_share(x, sample_weight), training=False, batch_size=batch_size
        )
        return self._update_trackers(logs, batch_size)

    def _update_trackers(self, logs, batch_size):
        for name, tracker in self.trackers.items():
            tracker.update_state(logs[name], sample_weight=batch_size)
        return backend.logs_for_strategy(backend.tracker_means(self.trackers))
