import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import KSparse


def kept(outputs):
    return keras.ops.convert_to_numpy(outputs) != 0


def test_training_keeps_exactly_the_k_largest_per_example(rng):
    x = rng.normal(size=(50, 20)).astype("float32")
    out = keras.ops.convert_to_numpy(KSparse(5, alpha=2)(x, training=True))
    expected = np.zeros_like(x)
    top = np.argsort(-x, axis=1, kind="stable")[:, :5]
    np.put_along_axis(expected, top, np.take_along_axis(x, top, axis=1), axis=1)
    np.testing.assert_array_equal(out, expected)
    assert (kept(out).sum(axis=1) == 5).all()


def test_inference_keeps_alpha_k_capped_at_the_code_size(rng):
    x = rng.normal(size=(10, 20)).astype("float32")
    assert (kept(KSparse(4, alpha=3)(x)).sum(axis=1) == 12).all()
    assert (kept(KSparse(4, alpha=2.5)(x)).sum(axis=1) == 10).all()
    assert (kept(KSparse(8, alpha=3)(x)).sum(axis=1) == 20).all()  # 24 capped at 20
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(KSparse(8, alpha=3)(x)), x)
    assert KSparse(8, alpha=3).inference_k(20) == 20


def test_ties_keep_the_lowest_indices_deterministically():
    x = np.array([[1.0, 2.0, 2.0, 2.0, 0.0, 2.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], "float32")
    layer = KSparse(2)
    for _ in range(3):
        out = keras.ops.convert_to_numpy(layer(x, training=True))
        np.testing.assert_array_equal(out[0], [0, 2, 2, 0, 0, 0])
    ones = np.ones((3, 6), "float32")
    np.testing.assert_array_equal(kept(layer(ones, training=True)), np.tile([1, 1, 0, 0, 0, 0], (3, 1)) == 1)
    np.testing.assert_array_equal(kept(KSparse(2, alpha=2)(ones)), np.tile([1, 1, 1, 1, 0, 0], (3, 1)) == 1)


def test_gradient_flows_only_through_kept_units(rng):
    x = tf.constant(rng.normal(size=(8, 10)).astype("float32"))
    weights = tf.constant(rng.normal(size=(8, 10)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = KSparse(3)(x, training=True)
        loss = tf.reduce_sum(out * weights)
    grad = tape.gradient(loss, x).numpy()
    mask = kept(out)
    np.testing.assert_array_equal(grad[~mask], 0)
    np.testing.assert_allclose(grad[mask], weights.numpy()[mask])


def test_tensor_k_matches_python_k_also_under_xla(rng):
    x = rng.normal(size=(6, 12)).astype("float32")
    layer = KSparse(2)

    @tf.function(jit_compile=True)
    def sparse(inputs, k):
        return layer(inputs, training=True, k=k)

    for k in (1, 4, 7, 12):
        expected = keras.ops.convert_to_numpy(KSparse(k)(x, training=True))
        np.testing.assert_array_equal(layer(x, training=True, k=tf.constant(k)).numpy(), expected)
        np.testing.assert_array_equal(sparse(x, tf.constant(k, "int64")).numpy(), expected)


def test_tensor_k_below_max_k_selects_among_the_max_k_largest(rng):
    x = rng.normal(size=(6, 12)).astype("float32")
    layer = KSparse(2)

    @tf.function(jit_compile=True)
    def sparse(inputs, k):
        return layer(inputs, training=True, k=k, max_k=7)

    for k in (1, 4, 7):
        expected = keras.ops.convert_to_numpy(KSparse(k)(x, training=True))
        np.testing.assert_array_equal(layer(x, training=True, k=tf.constant(k), max_k=7).numpy(), expected)
        np.testing.assert_array_equal(sparse(x, tf.constant(k, "int64")).numpy(), expected)
    # The bound is the contract: a k above it keeps max_k units.
    np.testing.assert_array_equal(
        layer(x, training=True, k=tf.constant(9), max_k=7).numpy(),
        keras.ops.convert_to_numpy(KSparse(7)(x, training=True)),
    )
    with pytest.raises(ValueError, match=r"`max_k` \(at most the code size 12\).*Received: max_k=13"):
        layer(x, training=True, k=tf.constant(3), max_k=13)


@pytest.mark.parametrize("k", [0, -1, 2.0, "3", None, True])
def test_bad_k_is_refused(k):
    with pytest.raises(ValueError, match=r"Received: k="):
        KSparse(k)


def test_k_larger_than_the_code_size_is_refused():
    with pytest.raises(ValueError, match=r"code size 4.*k=5"):
        KSparse(5)(np.zeros((2, 4), "float32"))


@pytest.mark.parametrize("alpha", [0.5, 0, -1, "3", None])
def test_alpha_below_one_is_refused(alpha):
    with pytest.raises(ValueError, match=r"Received: alpha="):
        KSparse(2, alpha=alpha)


def test_a_python_k_given_to_call_is_checked_and_a_numpy_k_keeps_exactly_k(rng):
    x = rng.normal(size=(6, 12)).astype("float32")
    layer = KSparse(2)
    # Keras hands a numpy scalar to `call` as a tensor: it keeps exactly k units too.
    expected = keras.ops.convert_to_numpy(KSparse(5)(x, training=True))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(x, training=True, k=np.int64(5))), expected
    )
    # k = 0 would silently zero the code; k above the code size would fail inside top_k.
    for bad in (0, -1, 13, True):
        with pytest.raises(ValueError, match=rf"`k` \(at most the code size units=12\).*Received: k={bad}"):
            layer(x, training=True, k=bad)
