import math

import keras
import numpy as np
import pytest

from keras_ae.losses import (
    BernoulliLikelihood,
    GaussianLikelihood,
    MeanSquaredErrorLikelihood,
    bernoulli_nll,
    gaussian_kl,
    gaussian_nll,
    get_likelihood,
    squared_error,
)


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_bernoulli_nll_matches_the_textbook_formula_summed_over_features(rng):
    x = rng.uniform(size=(5, 28, 28, 1)).astype("float32")
    logits = rng.normal(scale=3, size=x.shape).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype("float64")))
    expected = -(x * np.log(p) + (1 - x) * np.log(1 - p)).reshape(5, -1).sum(axis=1)
    np.testing.assert_allclose(_np(bernoulli_nll(x, logits)), expected, rtol=1e-5)


def test_bernoulli_nll_is_stable_for_extreme_logits():
    x = np.array([[1.0, 0.0, 1.0, 0.0]], "float32")
    logits = np.array([[200.0, -200.0, -200.0, 200.0]], "float32")
    np.testing.assert_allclose(_np(bernoulli_nll(x, logits)), [400.0], rtol=1e-6)


def test_bernoulli_nll_gradient_is_sigmoid_minus_target_at_every_logit_including_zero():
    # d/dl [softplus(l) - x l] = sigmoid(l) - x; at exactly l = 0 (a zero-bias output over
    # dead inputs) the gradients of relu and abs are both 0, which once gave -x here.
    import tensorflow as tf

    x = tf.constant([[0.0, 1.0, 0.3, 1.0, 0.0]])
    logits = tf.Variable([[0.0, 0.0, 0.0, 2.0, -3.0]])
    with tf.GradientTape() as tape:
        loss = bernoulli_nll(x, logits)
    expected = 1 / (1 + np.exp(-logits.numpy())) - x.numpy()
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), expected, rtol=1e-6, atol=1e-7)


def test_gaussian_nll_and_squared_error(rng):
    x = rng.normal(size=(4, 10)).astype("float32")
    mean = rng.normal(size=(4, 10)).astype("float32")
    log_var = math.log(0.5)
    expected = (0.5 * (np.log(2 * np.pi * 0.5) + (x - mean) ** 2 / 0.5)).sum(axis=1)
    np.testing.assert_allclose(_np(gaussian_nll(x, mean, log_var)), expected, rtol=1e-5)
    np.testing.assert_allclose(_np(squared_error(x, mean)), ((x - mean) ** 2).sum(axis=1), rtol=1e-5)


def test_gaussian_kl_closed_form_matches_monte_carlo(rng):
    mu = rng.normal(size=(3, 4))
    log_var = rng.normal(scale=0.5, size=(3, 4))
    closed = _np(gaussian_kl(mu.astype("float32"), log_var.astype("float32")))
    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.standard_normal((200000, 3, 4))
    log_q = -0.5 * (np.log(2 * np.pi) + log_var + ((z - mu) / sigma) ** 2)
    log_p = -0.5 * (np.log(2 * np.pi) + z**2)
    monte_carlo = (log_q - log_p).sum(axis=-1).mean(axis=0)
    np.testing.assert_allclose(closed, monte_carlo, rtol=0.02, atol=0.02)


def test_likelihood_layers_and_learned_variance():
    x = np.array([[0.0, 1.0]], "float32")
    assert np.allclose(_np(BernoulliLikelihood().mean(np.zeros((1, 2), "float32"))), 0.5)
    gaussian = GaussianLikelihood(variance=2.0, learn_variance=True)
    assert gaussian.trainable_weights and np.isclose(gaussian.log_variance.numpy(), np.log(2.0))
    expected = 0.5 * (2 * np.log(2 * np.pi * 2.0) + (0 + 1) / 2.0)
    np.testing.assert_allclose(_np(gaussian.nll(x, np.zeros((1, 2), "float32"))), [expected], rtol=1e-6)
    assert not GaussianLikelihood().trainable_weights
    np.testing.assert_allclose(_np(MeanSquaredErrorLikelihood().nll(x, np.zeros((1, 2), "float32"))), [1.0])


def test_get_likelihood_and_bad_arguments():
    assert isinstance(get_likelihood("mse"), MeanSquaredErrorLikelihood)
    with pytest.raises(ValueError, match="likelihood='laplace'"):
        get_likelihood("laplace")
    with pytest.raises(ValueError, match="variance=0"):
        GaussianLikelihood(variance=0)
    # A non-finite variance would store a NaN or inf log-variance and fail only at the
    # first step; a numpy scalar is a number like any other.
    for bad in (float("nan"), float("inf"), "0.1"):
        with pytest.raises(ValueError, match=r"`variance` must be a finite number > 0"):
            GaussianLikelihood(variance=bad)
    likelihood = GaussianLikelihood(variance=np.float32(0.5))
    assert type(likelihood.get_config()["variance"]) is float
    np.testing.assert_allclose(_np(likelihood.log_variance), np.log(0.5), rtol=1e-6)
    with pytest.raises(ValueError, match="max=1.5"):
        BernoulliLikelihood().check_targets(np.array([0.0, 1.5]))
