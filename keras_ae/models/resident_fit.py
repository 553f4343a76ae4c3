"""`fit` on one in-memory array without a `tf.data` iterator: the array stays one tensor,
each execution of `steps_per_execution` training steps gets its batches as one gathered
slice of it, and Keras' own loop (callbacks, progress bar, history, validation) runs
around it unchanged."""

import math

import numpy as np
import tensorflow as tf

from keras_ae import backend
from keras_ae.data.in_memory import shared_tensor
from keras_ae.models.training_step import NON_FINITE_LOSS, TrainingStep


class ResidentArrayFit:
    """Keras' `train_function` for `fit(x)` with `x` one numpy array.

    Keras' `fit` feeds its compiled steps through a `tf.data` iterator. On a 2-core CPU,
    steps fed that way fall for some epochs into a state that keeps about 1.2 cores busy
    instead of 1.8 and trains the MNIST VAE up to 40% slower; steps fed from a tensor never
    did (RESULTS.md, "Training speed"). Here the array is
    copied into one tensor once; every epoch draws one permutation of its examples, and
    each call gathers the next `steps_per_execution` batches in one op and runs them in one
    compiled program (a `tf.while_loop` over `train_step`; XLA when the model's
    `jit_compile` is on). A last partial batch gets its own smaller program.

    Keras' `fit` is given `stand_in_dataset()`, which only tells its loop how many batches
    an epoch has; the calls it makes with its iterator land here and ignore it.

    Args:
        model: the autoencoder; its `train_step` is the step run, unchanged.
        x: numpy array of examples, shape `(n, *model.data_shape)`.
        batch_size: examples per step (the last batch of an epoch may be smaller).
        shuffle: whether each epoch visits the examples in a fresh random order. The
            orders come from `tf.data`'s seeded shuffle, reseeded every epoch from the
            global seed (`keras.utils.set_random_seed`), as Keras' shuffling is.
    """

    def __init__(self, model, x, batch_size, shuffle):
        self.model = model
        self.batch_size = batch_size
        self.num_examples = len(x)
        self.num_batches = math.ceil(self.num_examples / batch_size)
        if tf.config.list_logical_devices("GPU"):
            # The steps gather their batches on the GPU: the array goes to its memory once,
            # as before the host copy below existed (not measured on a GPU here).
            self.data = tf.convert_to_tensor(x)
        else:
            self.data = shared_tensor(x)  # one copy of x, not two (data/in_memory.py)
        order = tf.data.Dataset.range(self.num_examples)
        if shuffle:
            order = order.shuffle(self.num_examples, reshuffle_each_iteration=True)
        # A whole epoch's order as one tensor: one iterator per epoch, never a prefetching one.
        self._orders = order.batch(self.num_examples)
        self._order = None
        self._batches_done = 0
        self._run = _steps_program(model, self.data)

    def stand_in_dataset(self):
        """What Keras' `fit` is given instead of `x`: one element per batch, never read."""
        return tf.data.Dataset.range(self.num_batches)

    def __call__(self, iterator=None):
        """Runs the epoch's next `steps_per_execution` batches; returns the logs."""
        if self._batches_done == 0:
            self._order = next(iter(self._orders))
        first = self._batches_done
        last = min(first + self.model.steps_per_execution, self.num_batches)
        self._batches_done = 0 if last == self.num_batches else last
        full_end = min(last, self.num_examples // self.batch_size)
        logs = None
        if full_end > first:
            logs = self._run_batches(first * self.batch_size, full_end * self.batch_size, full_end - first)
        if last > full_end:  # the epoch's last batch, smaller than batch_size
            logs = self._run_batches(full_end * self.batch_size, self.num_examples, 1)
        return logs

    def _run_batches(self, start, end, count):
        indices = self._order[start:end]
        if 1 < count < self.model.steps_per_execution:
            # Padded to a whole execution (the loop stops after `count` steps): a program
            # is compiled per shape under XLA, so an epoch needs two, not three.
            padding = (self.model.steps_per_execution - count) * self.batch_size
            indices = tf.concat([indices, indices[:padding]], 0)
        batches = tf.gather(self.data, indices)
        batch_size = end - start if count == 1 else self.batch_size
        batches = tf.reshape(batches, (-1, batch_size, *batches.shape[1:]))
        logs, finite = self._run(batches, tf.constant(count))
        if not bool(finite):
            # The step that met the non-finite loss applied no update (and none ran after
            # it), so the weights keep their last finite values.
            raise tf.errors.InvalidArgumentError(None, None, NON_FINITE_LOSS)
        return logs


def _steps_program(model, data):
    """The compiled program that runs `train_step` on the first `count` batches of `batches`
    (shape `(steps, batch, ...)`), stopping after a step whose loss is NaN or Inf; it returns the
    trackers' results and whether every loss was finite. Cached on the model (one per
    `compile` and kind of data), so later `fit` calls reuse its trace: one trace serves
    every number and size of batches (XLA still compiles one program per shape)."""
    key = (model.jit_compile, id(model.optimizer), data.dtype, tuple(data.shape[1:]))
    cached = getattr(model, "_keras_ae_steps_program", None)
    if cached is not None and cached[0] == key:
        return cached[1]

    def run(batches, count):
        def body(step, finite):
            logs = model.train_step(batches[step])
            return step + 1, tf.math.is_finite(logs["loss"])

        tf.while_loop(
            lambda step, finite: tf.logical_and(step < count, finite),
            body,
            (tf.constant(0), tf.constant(True)),
        )
        logs = {tracker.name: tracker.result() for tracker in model.metrics}
        return logs, tf.math.is_finite(logs["loss"])

    signature = [tf.TensorSpec((None, None, *data.shape[1:]), data.dtype), tf.TensorSpec((), tf.int32)]
    program = tf.function(run, input_signature=signature, jit_compile=bool(model.jit_compile))
    model._keras_ae_steps_program = (key, program)
    return program


def plain_array_fit(x, y, args, kwargs):
    """Whether `fit(x, y, *args, **kwargs)` got one in-memory array and only options that
    keras-ae's array paths honour (`batch_size`, `epochs`, `shuffle`, validation, callbacks)."""
    keras_only = ("validation_split", "class_weight", "steps_per_epoch")
    return (
        isinstance(x, np.ndarray)
        and y is None
        and not args
        and kwargs.get("shuffle", True) in (True, False)
        and not any(kwargs.get(name) for name in keras_only)
    )


def applies(model, x, y, args, kwargs):
    """Whether `fit(x, y, *args, **kwargs)` trains through `ResidentArrayFit`: a plain array
    fit of a compiled (not eager) model outside any distribution strategy, whose steps are
    keras-ae's own `train_step`."""
    return (
        plain_array_fit(x, y, args, kwargs)
        and not model.run_eagerly
        and not backend.in_distribution_scope()
        and getattr(model, "_distribute_strategy", None) is None
        and type(model).train_step is TrainingStep.train_step
    )
