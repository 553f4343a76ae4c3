import keras
import numpy as np
import pytest

from keras_ae.layers import Sampling


def test_inference_returns_the_mean_and_training_samples_with_the_right_moments():
    mean = np.full((20000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20000, 2), [np.log(0.25), np.log(4.0)], "float32")
    layer = Sampling(seed=3)
    np.testing.assert_array_equal(layer([mean, log_var]), mean)
    z = keras.ops.convert_to_numpy(layer([mean, log_var], training=True))
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.std(axis=0), [0.5, 2.0], rtol=0.03)


def test_sample_at_inference_and_fresh_noise_per_call():
    mean, log_var = np.zeros((4, 3), "float32"), np.zeros((4, 3), "float32")
    layer = Sampling(seed=1, sample_at_inference=True)
    a, b = layer([mean, log_var]), layer([mean, log_var])
    assert not np.allclose(a, 0.0)
    assert not np.allclose(a, b)  # the SeedGenerator advances between calls


def test_gradient_flows_to_mean_and_log_variance():
    import tensorflow as tf

    mean = tf.Variable(np.zeros((2, 2), "float32"))
    log_var = tf.Variable(np.zeros((2, 2), "float32"))
    with tf.GradientTape() as tape:
        z = Sampling(seed=0)([mean, log_var], training=True)
        loss = tf.reduce_sum(z**2)
    grad_mean, grad_log_var = tape.gradient(loss, [mean, log_var])
    np.testing.assert_allclose(grad_mean, 2 * z.numpy(), rtol=1e-6)
    # z = mean + exp(log_var / 2) * eps, so at mean 0 and log_var 0: eps = z and
    # dL/dlog_var = 2 z * exp(log_var / 2) * eps / 2 = z^2.
    np.testing.assert_allclose(grad_log_var, z.numpy() ** 2, rtol=1e-6)


def test_bad_seed():
    with pytest.raises(ValueError, match="seed='a'"):
        Sampling(seed="a")
