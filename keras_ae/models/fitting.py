"""Keras' entry points on every autoencoder: `compile` defaults, and `fit`/`evaluate`/
`predict` with their arrays checked eagerly, before anything is traced."""

import keras
import numpy as np

from keras_ae import backend, optimizers
from keras_ae._validation import check_int
from keras_ae.data.in_memory import shared_tensor, without_graph_rewrites
from keras_ae.models import executions, resident_fit

#: Training steps per call into the compiled graph unless `compile` is told otherwise.
DEFAULT_STEPS_PER_EXECUTION = 16


def labels_for_weights(x, y, sample_weight):
    """The `y` to hand Keras' `fit`/`evaluate` so that `sample_weight` reaches the steps.

    Keras drops `sample_weight` when `y` is None; the zoo's models have no labels, so
    placeholder labels (ignored by the steps) keep the weights in the batch.
    """
    if y is None and sample_weight is not None and hasattr(x, "__len__"):
        return np.zeros((len(x),), "float32")
    return y


class Fitting:
    """Mixin of `BaseAutoencoder` (before `keras.Model` in its bases): Keras' `compile`,
    `fit`, `evaluate` and `predict` with keras-ae's defaults and checks.

    Bad arrays fail before any graph is traced, `compile` defaults to 16 steps per
    execution and the fused Adam, and `fit` on an in-memory array takes the fastest feed
    (`resident_fit`). It relies on the model's `data_shape`, `likelihood` and
    `optimized_variables`.
    """

    def _check_array(self, x, arg="x"):
        """Eager checks of array inputs, so bad data fails before any graph is traced."""
        if x is None:
            raise ValueError(
                f"Argument `{arg}` is required: an array or a tf.data.Dataset of examples. Received: {arg}=None"
            )
        if isinstance(x, (tuple, list)) and len(x) >= 1:
            x = x[0]
        if not isinstance(x, np.ndarray):
            return
        self._check_batch(x)
        if len(x) == 0:
            raise ValueError(f"Argument `{arg}` holds no examples. Received: {arg} with shape={x.shape}")
        if not np.isfinite(x).all():
            raise ValueError(
                f"Argument `{arg}` contains NaN or Inf values. Received: {arg} with shape={x.shape}"
            )
        self.likelihood.check_targets(x)

    def _check_batch(self, x):
        if not hasattr(x, "dtype") or not hasattr(x, "shape"):
            raise ValueError(f"Expected a float tensor or array for `x`. Received: x={type(x).__name__}")
        if "float" not in str(getattr(x.dtype, "name", x.dtype)):
            raise ValueError(
                "Inputs `x` must be floating point (e.g. x.astype('float32') / 255). "
                f"Received: x with dtype={getattr(x.dtype, 'name', x.dtype)}"
            )
        shape = tuple(x.shape)
        if len(shape) != len(self.data_shape) + 1 or any(
            d is not None and d != e for d, e in zip(shape[1:], self.data_shape, strict=False)
        ):
            raise ValueError(
                f"Inputs `x` must have shape (batch, {', '.join(map(str, self.data_shape))}) to fit "
                f"input_shape={self.data_shape}. Received: x with shape={shape}"
            )

    def compile(self, optimizer="adam", *args, steps_per_execution=None, **kwargs):
        """Keras' `compile`, with a default that removes most of the per-step overhead.

        `steps_per_execution=None` runs `DEFAULT_STEPS_PER_EXECUTION` (16) training steps
        per call into the traced graph instead of Keras' 1, which removes most of the
        per-step Python and dispatch cost (about 1.2x for the MNIST VAE at batch 128 on 2
        cores). As in Keras, batch-level callbacks and the progress bar then see every
        16th batch; pass `steps_per_execution=1` to call them after every batch. Under a
        `tf.distribute` strategy's scope the default is 1. A step count given to `fit`
        (`steps_per_epoch`, `validation_steps`) or `evaluate` (`steps`) runs exactly: that
        call uses the largest steps per execution that divides it (Keras alone would round
        it up to whole executions).
        `jit_compile` keeps Keras' meaning ("auto": XLA only where a GPU is present);
        `jit_compile=True` is faster again on a CPU for MLP models at small batches
        (1.05-1.3x at batch 128 on the 2-core CPUs measured; at 512 slower for the VAE,
        faster for the tied CAE; much slower for convolutions), at the cost of an XLA compilation per batch shape (a step whose loss
        is NaN or Inf then makes no update, and `fit` raises after the execution instead of
        in the step). On CPUs with AMX, a model created with `dtype="mixed_bfloat16"` trains
        faster still (README, "Mixed precision").
        Adam runs fused: `"adam"` and instances of `keras.optimizers.Adam` itself train with
        `keras_ae.optimizers.FusedAdam` (the same algorithm, state and config, with each
        variable's update in one kernel; the instance is the caller's object, updated in
        place). `benchmarks/training_speed.py` measures these levers side by side.

        Args:
            optimizer: as in Keras (default: `"adam"`).
            steps_per_execution: int >= 1, or None for the default.
            *args, **kwargs: Keras' other `compile` arguments (`jit_compile`, ...).
        """
        if steps_per_execution is None:
            # Keras' multi-step loop fails on a partial last execution under a distribution
            # strategy (MirroredStrategy, tensorflow-cpu 2.21): one step per execution there.
            steps_per_execution = 1 if backend.in_distribution_scope() else DEFAULT_STEPS_PER_EXECUTION
        steps_per_execution = check_int("steps_per_execution", steps_per_execution)
        super().compile(optimizers.fused(optimizer), *args, steps_per_execution=steps_per_execution, **kwargs)

    def compile_from_config(self, config):
        """Recompiles a loaded model as it was compiled (Keras skips models that override
        `compile`; this one only fills in defaults, so the saved config replays exactly)."""
        config = keras.saving.deserialize_keras_object(config)
        if backend.in_distribution_scope() and config.get("steps_per_execution", 1) > 1:
            # Saved without a strategy (16 steps per execution) and loaded under one, to
            # resume a run with --distribute: one step per execution, as `compile` does there.
            config["steps_per_execution"] = 1
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.optimized_variables)

    def fit(self, x=None, y=None, *args, validation_data=None, sample_weight=None, **kwargs):
        self._check_array(x)
        if validation_data is not None:
            self._check_array(validation_data, "validation_data")
        y = labels_for_weights(x, y, sample_weight)
        if self.optimizer is not None and not self.optimizer.built:
            # Built here, not inside the first traced step: a trace that fails on bad
            # data would otherwise leave variables to be created on a later trace. In the
            # scope of the model's strategy: Keras lets `fit` run outside the scope that
            # created the model, but optimizer variables must be created inside it.
            with self.distribute_strategy.scope():
                self.optimizer.build(self.optimized_variables)
        steps = {name: kwargs.get(name) for name in ("steps_per_epoch", "validation_steps")}
        with executions.whole_executions(self, **steps):
            resident = resident_fit.applies(self, x, y, args, kwargs)
            if resident or resident_fit.plain_array_fit(x, y, args, kwargs):
                batch_size = kwargs.pop("batch_size", None)
                batch_size = 32 if batch_size is None else check_int("batch_size", batch_size)
                shuffle = kwargs.pop("shuffle", True)
                # Keras validates in batches of `batch_size` unless told otherwise, but neither
                # path below hands Keras a batch size (it would validate in batches of 32).
                kwargs["validation_batch_size"] = kwargs.get("validation_batch_size") or batch_size
                if resident:
                    return self._resident_fit(x, batch_size, shuffle, validation_data, kwargs)
                # Under a strategy, or eager: a `tf.data` pipeline that shuffles itself.
                x = self._array_dataset(x, batch_size, shuffle)
                kwargs["shuffle"] = False
            return super().fit(
                x, y, *args, validation_data=validation_data, sample_weight=sample_weight, **kwargs
            )

    def _resident_fit(self, x, batch_size, shuffle, validation_data, kwargs):
        """Keras' `fit` with `resident_fit.ResidentArrayFit` as its train function for the
        call (Keras keeps a built train function and reuses it), restored afterwards."""
        feed = resident_fit.ResidentArrayFit(self, x, batch_size, shuffle)
        keras_function = self.train_function
        self.train_function = feed
        try:
            return super().fit(
                feed.stand_in_dataset(), validation_data=validation_data, shuffle=False, **kwargs
            )
        finally:
            self.train_function = keras_function

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3.15 starts `fit` under a strategy by reducing the first batch over the
        # replicas (to build the model symbolically from it), which fails for a batch of
        # several tensors (x with sample weights) under MultiWorkerMirroredStrategy:
        # "Attempt to convert a value (PerReplica...) to a Tensor". A built model with a
        # built optimizer has nothing left to build, so the reduction is skipped.
        pending = [
            not all(layer.built for layer in self._flatten_layers()),
            self.optimizer is not None and not self.optimizer.built,
            # Metrics or a loss given to `compile` (the steps ignore them, Keras builds them).
            *(getattr(c, "built", True) is False for c in (self._compile_metrics, self._compile_loss)),
        ]
        if not any(pending):
            return
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    @staticmethod
    def _array_dataset(x, batch_size, shuffle):
        """An in-memory array as a `tf.data` pipeline that gathers whole shuffled batches.

        Keras' own array adapter slices and re-batches examples every epoch; gathering a
        batch of shuffled indices from one tensor does the same work in one op, about 15%
        faster for the MNIST VAE on 2 cores. Shuffling is reseeded every epoch from the
        global seed (`keras.utils.set_random_seed`), as Keras' shuffling is.
        """
        import tensorflow as tf

        data = shared_tensor(x)  # one copy of x, which tf.data's rewrites would copy again
        indices = tf.data.Dataset.range(len(x))
        if shuffle:
            indices = indices.shuffle(len(x), reshuffle_each_iteration=True)
        batches = indices.batch(batch_size).map(
            lambda i: tf.gather(data, i), num_parallel_calls=tf.data.AUTOTUNE
        )
        return without_graph_rewrites(batches).prefetch(tf.data.AUTOTUNE)

    def evaluate(self, x=None, y=None, *args, sample_weight=None, **kwargs):
        self._check_array(x)
        y = labels_for_weights(x, y, sample_weight)
        with executions.whole_executions(self, steps=kwargs.get("steps")):
            return super().evaluate(x, y, *args, sample_weight=sample_weight, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_array(x)
        return super().predict(x, *args, **kwargs)
