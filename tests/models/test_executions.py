"""Step counts given to `fit` and `evaluate` run exactly at any `steps_per_execution`."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.models.executions import dividing_steps_per_execution


def test_dividing_steps_per_execution():
    assert dividing_steps_per_execution(16, [10]) == 10
    assert dividing_steps_per_execution(16, [40]) == 10
    assert dividing_steps_per_execution(16, [32, None]) == 16
    assert dividing_steps_per_execution(16, [625]) == 5
    assert dividing_steps_per_execution(16, [12, 8]) == 4  # divides both
    assert dividing_steps_per_execution(16, [7]) == 7
    assert dividing_steps_per_execution(16, [17]) == 1
    assert dividing_steps_per_execution(16, [None, None]) == 16


def model_and_data():
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("autoencoder", input_shape=(6,), latent_dim=2, hidden_units=(5,))
    model.compile(optimizer="adam")  # keras-ae's default: 16 steps per execution
    x = np.random.default_rng(0).uniform(size=(64, 6)).astype("float32")
    return model, tf.data.Dataset.from_tensor_slices(x).batch(4).repeat()


def test_fit_trains_exactly_steps_per_epoch_and_keeps_the_compiled_count():
    model, data = model_and_data()
    assert model.steps_per_execution == 16
    seen = []
    callback = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(int(model.optimizer.iterations.numpy()))
    )
    ends = []
    batches = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: ends.append(batch))
    model.fit(data, steps_per_epoch=10, epochs=2, verbose=0, callbacks=[callback, batches])
    assert seen == [10, 20]  # Keras alone: 16 and 32
    assert ends == [9, 9]  # one execution of 10 steps per epoch
    assert model.steps_per_execution == 16
    # The next fit runs at the compiled count again, whole executions of 16: Keras reports a
    # batch at the last step of each execution (the first fit's executions were of 10).
    ends = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: ends.append(batch))
    model.fit(data, steps_per_epoch=32, epochs=1, verbose=0, callbacks=[callback])
    assert int(model.optimizer.iterations.numpy()) == 52
    assert ends == [15, 31]


def test_validation_and_evaluate_steps_run_exactly():
    model, data = model_and_data()
    batches = []

    class CountTestBatches(keras.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            batches.append(batch)

    # steps_per_epoch=12, validation_steps=8: one count that divides both, 4.
    model.fit(
        data,
        steps_per_epoch=12,
        epochs=1,
        verbose=0,
        validation_data=data,
        validation_steps=8,
        callbacks=[CountTestBatches()],
    )
    assert int(model.optimizer.iterations.numpy()) == 12
    assert batches[-1] == 7  # the last of 8 validation batches (Keras alone: 15)
    batches.clear()
    # evaluate(steps=6): the mean over exactly the first 6 batches of the (repeating) data.
    logs = model.evaluate(data, steps=6, verbose=0, return_dict=True, callbacks=[CountTestBatches()])
    assert batches[-1] == 5
    reference = np.mean([model.evaluate(b, verbose=0, return_dict=True)["loss"] for b in data.take(6)])
    np.testing.assert_allclose(logs["loss"], reference, rtol=1e-5)


def test_bad_step_counts_are_refused_by_name():
    model, data = model_and_data()
    with pytest.raises(ValueError, match="steps_per_epoch.*Received: steps_per_epoch=2.5"):
        model.fit(data, steps_per_epoch=2.5, verbose=0)
    with pytest.raises(ValueError, match="steps.*Received: steps=0"):
        model.evaluate(data, steps=0, verbose=0)


def test_a_model_loaded_under_a_strategy_runs_one_step_per_execution(tmp_path):
    # Saved with the default 16 steps per execution and loaded in a strategy's scope (a run
    # resumed with --distribute), it takes the value `compile` gives under a strategy: the
    # multi-step loop fails there on a partial last execution.
    model = keras_ae.create_model("autoencoder", input_shape=(6,), latent_dim=2, hidden_units=(4,))
    model.compile()
    model.fit(np.random.default_rng(0).uniform(size=(8, 6)).astype("float32"), epochs=1, verbose=0)
    assert model.steps_per_execution == 16
    model.save(tmp_path / "model.keras")
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        loaded = keras.models.load_model(tmp_path / "model.keras")
    assert loaded.steps_per_execution == 1
    assert keras.models.load_model(tmp_path / "model.keras").steps_per_execution == 16
