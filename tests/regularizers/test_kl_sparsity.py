import keras
import numpy as np
import pytest

from keras_ae.regularizers import KLSparsity


def kl_penalty(h, rho, beta):
    """Ng's penalty by hand: beta * sum_j KL(rho || mean_b h_bj)."""
    rho_hat = h.astype("float64").mean(axis=0)
    return beta * np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))


def test_penalty_matches_hand_computation(rng):
    h = rng.uniform(0.01, 0.99, (20, 7)).astype("float32")
    reg = KLSparsity(rho=0.1, beta=2.5)
    np.testing.assert_allclose(float(reg.penalty(h)), kl_penalty(h, 0.1, 2.5), rtol=1e-5)
    np.testing.assert_allclose(reg.mean_activation(h), h.mean(axis=0), rtol=1e-6)
    # Called directly it returns batch * penalty, which Keras divides by the batch size.
    np.testing.assert_allclose(float(reg(h)), 20 * kl_penalty(h, 0.1, 2.5), rtol=1e-5)


def test_penalty_is_zero_at_the_target_and_positive_elsewhere():
    reg = KLSparsity(rho=0.2, beta=1.0)
    assert float(reg.penalty(np.full((4, 3), 0.2, "float32"))) == pytest.approx(0.0, abs=1e-6)
    # KL(0.2 || 0.5) per unit, three units.
    expected = 3 * (0.2 * np.log(0.2 / 0.5) + 0.8 * np.log(0.8 / 0.5))
    assert float(reg.penalty(np.full((4, 3), 0.5, "float32"))) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("batch_size", [1, 5, 32, 100])
def test_loss_reaching_the_layer_equals_the_formula_for_any_batch_size(rng, batch_size):
    layer = keras.layers.Dense(6, activation="sigmoid", activity_regularizer=KLSparsity(rho=0.05, beta=3.0))
    x = rng.normal(size=(batch_size, 4)).astype("float32")
    h = keras.ops.convert_to_numpy(layer(x))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), kl_penalty(h, 0.05, 3.0), rtol=1e-5)


def test_saturated_units_give_a_finite_penalty():
    h = np.concatenate([np.ones((3, 2)), np.zeros((3, 2))], axis=1).astype("float32")
    value = float(KLSparsity(rho=0.05, beta=1.0).penalty(h))
    # The mean activations are clipped to [eps, 1 - eps] (Keras' epsilon, 1e-7) before the
    # logarithms: two units at 1 - eps and two at eps, both as float32 rounds them (1 - eps
    # becomes 1 - 1.19e-7: float32's spacing below 1 is 6e-8).
    eps, rho = np.float32(keras.config.epsilon()), 0.05
    low, high = float(eps), float(np.float32(1) - eps)

    def kl(rho_hat):
        return rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))

    assert value == pytest.approx(2 * kl(high) + 2 * kl(low), rel=1e-4)


@pytest.mark.parametrize("rho", [0, 1, 0.0, 1.0, -0.1, 1.5, "0.1", None, True, float("nan")])
def test_rho_outside_the_open_unit_interval_is_refused(rho):
    with pytest.raises(ValueError, match=r"`rho`.*Received: rho="):
        KLSparsity(rho=rho)


@pytest.mark.parametrize("beta", [-1.0, "3", None, float("nan")])
def test_negative_or_non_numeric_beta_is_refused(beta):
    with pytest.raises(ValueError, match=r"Received: beta="):
        KLSparsity(beta=beta)
