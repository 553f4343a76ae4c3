"""`fit` on one in-memory array through `ResidentArrayFit`: the same training as Keras'
own loop over the same batches, every example once per epoch, Keras' callbacks and
validation unchanged, and a non-finite loss stopped with the weights kept finite."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.models import resident_fit

KW = {"input_shape": (6,), "latent_dim": 2, "hidden_units": (5,)}


@pytest.fixture(scope="module")
def data():
    # 45 examples in batches of 4: 11 whole batches and a last one of a single example.
    return np.random.default_rng(0).uniform(size=(45, 6)).astype("float32")


def twin_models(name="autoencoder", **compile_args):
    """Two models with equal weights and equal optimizer state."""
    models = []
    for _ in range(2):
        keras.utils.set_random_seed(1)
        model = keras_ae.create_model(name, **KW)
        model.compile(optimizer="adam", **compile_args)
        models.append(model)
    return models


@pytest.mark.parametrize("steps_per_execution", [16, 5, 1])
@pytest.mark.parametrize("jit_compile", [False, True])
def test_trains_exactly_as_keras_loop_over_the_same_batches(data, steps_per_execution, jit_compile):
    resident, keras_fed = twin_models(steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    assert resident_fit.applies(resident, data, None, (), {"batch_size": 4, "shuffle": False})
    history = resident.fit(data, batch_size=4, epochs=2, shuffle=False, verbose=0)
    reference = keras_fed.fit(tf.data.Dataset.from_tensor_slices(data).batch(4), epochs=2, verbose=0)
    assert int(resident.train_step_count.numpy()) == 2 * 12  # every batch, the small last one too
    assert int(resident.optimizer.iterations.numpy()) == 2 * 12
    for got, want in zip(resident.get_weights(), keras_fed.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(history.history["loss"], reference.history["loss"], rtol=1e-5)


def test_each_epoch_visits_every_example_once_in_a_fresh_seeded_order(data):
    model, _ = twin_models()
    orders = []
    for seed in (3, 3, 4):
        keras.utils.set_random_seed(seed)
        feed = resident_fit.ResidentArrayFit(model, data, batch_size=4, shuffle=True)
        epochs = []
        for _ in range(2):
            feed()  # 12 batches: one execution of 16 steps covers the epoch
            epochs.append(feed._order.numpy())
        orders.append(epochs)
    for epoch in orders[0]:
        np.testing.assert_array_equal(np.sort(epoch), np.arange(len(data)))
    assert not np.array_equal(orders[0][0], orders[0][1])  # reshuffled every epoch
    np.testing.assert_array_equal(orders[0], orders[1])  # the global seed decides the orders
    assert not np.array_equal(orders[0][0], orders[2][0])


def test_keras_callbacks_validation_and_train_function_are_kept(data):
    model, _ = twin_models(steps_per_execution=5)
    ends = []
    batch_end = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: ends.append(batch))
    history = model.fit(
        data, batch_size=4, epochs=3, validation_data=data[:8], callbacks=[batch_end], verbose=0
    )
    assert ends == [4, 9, 14] * 3  # 12 batches in executions of 5, 5 and 2, as Keras reports them
    assert len(history.history["loss"]) == 3
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(data[:8], verbose=0)[0], rel=1e-5)
    assert model.train_function is None  # Keras' own is built afresh for a dataset
    model.fit(tf.data.Dataset.from_tensor_slices(data).batch(4), epochs=1, verbose=0)
    assert int(model.train_step_count.numpy()) == 4 * 12


# Eager runs take the `tf.data` path for arrays, which validates the same way.
@pytest.mark.parametrize("run_eagerly", [False, True])
def test_validation_runs_in_batches_of_batch_size_unless_told_otherwise(data, run_eagerly):
    model, _ = twin_models(steps_per_execution=1, run_eagerly=run_eagerly)
    for extra, batches in (({}, [0, 1]), ({"validation_batch_size": 8}, [0])):
        seen = []
        test_end = keras.callbacks.LambdaCallback(
            on_test_batch_end=lambda batch, logs, seen=seen: seen.append(batch)
        )
        model.fit(data, batch_size=4, validation_data=data[:8], callbacks=[test_end], verbose=0, **extra)
        assert seen == batches


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("feed", ["array", "dataset"])
def test_a_diverging_fit_raises_and_keeps_the_weights_finite(data, jit_compile, feed):
    keras.utils.set_random_seed(0)  # an initialization from which this SGD diverges
    model = keras_ae.create_model("autoencoder", **KW)
    model.compile(optimizer=keras.optimizers.SGD(1e12), jit_compile=jit_compile)
    x = data if feed == "array" else tf.data.Dataset.from_tensor_slices(data).batch(4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        model.fit(x, batch_size=4, epochs=3, shuffle=False, verbose=0)
    assert all(np.isfinite(w).all() for w in model.get_weights())
    if feed == "array":  # the loop stops at the step that met the non-finite loss
        assert int(model.train_step_count.numpy()) == int(model.optimizer.iterations.numpy())


def test_only_plain_array_fits_take_the_resident_path(data):
    model, _ = twin_models()
    assert resident_fit.applies(model, data, None, (), {})
    assert not resident_fit.applies(model, data, np.zeros(len(data)), (), {})  # sample weights
    assert not resident_fit.applies(model, data, None, (), {"validation_split": 0.2})
    assert not resident_fit.applies(model, data, None, (), {"shuffle": "batch"})
    assert not resident_fit.applies(model, tf.data.Dataset.from_tensor_slices(data), None, (), {})
    model.compile(optimizer="adam", run_eagerly=True)
    assert not resident_fit.applies(model, data, None, (), {})


def test_both_array_feeds_hold_one_copy_of_the_array(data):
    # The resident feed's tensor and the pipeline's share one aligned copy of x
    # (keras_ae.data.in_memory): x itself is not their memory, so changing it after the
    # feed is made changes nothing, and the pipeline has tf.data's default rewrites off
    # (they would copy the tensor again).
    model, _ = twin_models()
    x = data.copy()
    feed = resident_fit.ResidentArrayFit(model, x, batch_size=4, shuffle=False)
    pipeline = model._array_dataset(x, batch_size=4, shuffle=False)
    x[...] = -1.0
    np.testing.assert_array_equal(feed.data.numpy(), data)
    np.testing.assert_array_equal(np.concatenate(list(pipeline.as_numpy_iterator())), data)
    assert pipeline.options().experimental_optimization.apply_default_optimizations is False


class NaNAtThirdStep(keras_ae.models.Autoencoder):
    """An autoencoder whose third training step has a NaN loss (and NaN gradients)."""

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        if training:
            poison = keras.ops.where(self.train_step_count == 2, float("nan"), 0.0)
            logs["reconstruction_loss"] = logs["reconstruction_loss"] + poison
        return logs


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("feed", ["array", "dataset"])
# Under XLA a conditional skips SGD's update; the fused Adam's is masked instead.
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_non_finite_step_changes_nothing_and_fit_raises(data, jit_compile, feed, optimizer):
    def make(cls):
        keras.utils.set_random_seed(3)
        model = cls(**KW)
        model.compile(
            optimizer=keras.optimizers.SGD(0.1) if optimizer == "sgd" else keras.optimizers.Adam(0.01),
            jit_compile=jit_compile,
        )
        return model

    poisoned, healthy = make(NaNAtThirdStep), make(keras_ae.models.Autoencoder)
    x = data if feed == "array" else tf.data.Dataset.from_tensor_slices(data).batch(4)
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        poisoned.fit(x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    healthy.fit(data[:8], batch_size=4, epochs=1, shuffle=False, verbose=0)
    # Exactly the two finite steps were taken: weights, optimizer state and counters as
    # after them, bit for bit.
    assert int(poisoned.train_step_count.numpy()) == int(poisoned.optimizer.iterations.numpy()) == 2
    for got, want in zip(
        poisoned.weights + poisoned.optimizer.variables,
        healthy.weights + healthy.optimizer.variables,
        strict=True,
    ):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
