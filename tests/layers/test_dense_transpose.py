import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import DenseTranspose
from tests.conftest import run_python


def tied_pair(units=4, inputs=6):
    dense = keras.layers.Dense(units, activation="sigmoid", name="code")
    dense.build((None, inputs))
    return dense, DenseTranspose(dense, name="tied")


def test_output_is_the_transpose_of_the_tied_kernel_plus_own_bias(rng):
    dense, tied = tied_pair()
    tied.build((None, 4))
    tied.bias.assign(rng.normal(size=6).astype("float32"))
    z = rng.normal(size=(5, 4)).astype("float32")
    expected = z @ dense.kernel.numpy().T + tied.bias.numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tied(z)), expected, rtol=1e-5, atol=1e-6)
    assert tied.kernel is dense.kernel
    assert [w.path for w in tied.weights if w.path.startswith("tied")] == ["tied/bias"]
    assert DenseTranspose(dense, activation="sigmoid").compute_output_shape((None, 4)) == (None, 6)


def test_kernel_is_shared_not_copied(rng):
    dense, tied = tied_pair()
    z = rng.normal(size=(3, 4)).astype("float32")
    before = keras.ops.convert_to_numpy(tied(z))
    dense.kernel.assign(dense.kernel.numpy() * 2)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tied(z)), 2 * before, rtol=1e-5, atol=1e-6)
    x = tf.constant(rng.normal(size=(3, 6)).astype("float32"))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tied(z)) + tf.reduce_sum(dense(x))
    grads = tape.gradient(loss, [dense.kernel, tied.bias])
    # d/dW of sum(z W^T) is sum_b z_b broadcast over inputs: the decoder's gradient reaches the kernel.
    with tf.GradientTape() as tape:
        encoder_only = tf.reduce_sum(dense(x))
    encoder_grad = tape.gradient(encoder_only, dense.kernel)
    np.testing.assert_allclose(
        grads[0].numpy() - encoder_grad.numpy(), np.tile(z.sum(axis=0), (6, 1)), rtol=1e-5
    )


def functional_tied_model():
    x = keras.Input((6,), name="x")
    dense = keras.layers.Dense(3, activation="sigmoid", name="code")
    out = DenseTranspose(dense, name="tied")(keras.layers.Dense(3, name="mix")(dense(x)))
    return keras.Model(x, out)


def test_config_round_trip_restores_the_tie_by_name(rng):
    # The layer's own config round trip is in test_layer_harness.py; here, the tie.
    _, tied = tied_pair()
    assert DenseTranspose.from_config(tied.get_config()).tied_to is None  # resolved at the first call
    model = functional_tied_model()
    restored = keras.Model.from_config(json.loads(json.dumps(model.get_config())))
    assert restored.get_layer("tied").tied_to is restored.get_layer("code")
    restored.set_weights(model.get_weights())
    x = rng.uniform(size=(4, 6)).astype("float32")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


LOAD = """
import os, numpy as np, keras, keras_ae
model = keras.models.load_model(os.environ["MODEL"])
tied, code = model.get_layer("tied"), model.get_layer("code")
assert tied.tied_to is code and tied.kernel is code.kernel
np.save(os.environ["OUT"], model.predict(np.load(os.environ["X"]), verbose=0))
code.kernel.assign(code.kernel.numpy() + 1.0)
np.save(os.environ["OUT2"], model.predict(np.load(os.environ["X"]), verbose=0))
"""


def test_tie_survives_save_and_load_in_a_fresh_process(tmp_path, rng):
    model = functional_tied_model()
    model.get_layer("tied").bias.assign(rng.normal(size=6).astype("float32"))
    x = rng.uniform(size=(5, 6)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    model.save(tmp_path / "m.keras")
    env = {"MODEL": str(tmp_path / "m.keras"), "X": str(tmp_path / "x.npy")}
    env.update(OUT=str(tmp_path / "out.npy"), OUT2=str(tmp_path / "out2.npy"))
    run_python(LOAD, env=env)
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), model.predict(x, verbose=0))
    # Shifting the encoder kernel there changed the decoder too: one shared variable.
    code = model.get_layer("code")
    code.kernel.assign(code.kernel.numpy() + 1.0)
    np.testing.assert_allclose(
        np.load(tmp_path / "out2.npy"), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"Received: tied_to=3"):
        DenseTranspose(3)
    with pytest.raises(ValueError, match=r"tied_to='nowhere'"):
        x = keras.Input((4,))
        DenseTranspose("nowhere")(keras.layers.Dense(2, name="code")(x))
    dense, tied = tied_pair(units=4, inputs=6)
    with pytest.raises(ValueError, match=r"expects inputs with 4 features"):
        tied(np.zeros((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"must be built"):
        DenseTranspose(keras.layers.Dense(3))(np.zeros((2, 3), "float32"))
