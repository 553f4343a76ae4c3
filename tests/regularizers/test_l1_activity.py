import keras
import numpy as np
import pytest

from keras_ae.regularizers import L1Activity


def test_penalty_is_the_batch_mean_of_per_example_l1_norms(rng):
    h = rng.normal(size=(9, 5)).astype("float32")
    reg = L1Activity(weight=0.3)
    expected = 0.3 * np.abs(h.astype("float64")).sum(axis=1).mean()
    np.testing.assert_allclose(float(reg.penalty(h)), expected, rtol=1e-6)
    np.testing.assert_allclose(float(reg(h)), 9 * expected, rtol=1e-6)


@pytest.mark.parametrize("batch_size", [1, 6, 50])
def test_loss_reaching_the_layer_equals_the_formula_for_any_batch_size(rng, batch_size):
    layer = keras.layers.Dense(4, activity_regularizer=L1Activity(weight=0.01))
    x = rng.normal(size=(batch_size, 3)).astype("float32")
    h = keras.ops.convert_to_numpy(layer(x)).astype("float64")
    np.testing.assert_allclose(float(layer.losses[0]), 0.01 * np.abs(h).sum(axis=1).mean(), rtol=1e-5)


@pytest.mark.parametrize("weight", [-0.1, "1", None, float("nan")])
def test_negative_or_non_numeric_weight_is_refused(weight):
    with pytest.raises(ValueError, match=r"Received: weight="):
        L1Activity(weight=weight)
