import keras
import numpy as np
import pytest

from keras_ae.layers import (
    AdditiveGaussianNoise,
    DynamicBinarization,
    MaskingNoise,
    SaltAndPepperNoise,
    get_noise_layer,
)

X = np.full((200, 500), 0.5, "float32")


def _np(t):
    return keras.ops.convert_to_numpy(t)


def test_masking_zeroes_the_rate_without_rescaling():
    y = _np(MaskingNoise(0.3, seed=0)(X, training=True))
    assert set(np.unique(y)) == {0.0, 0.5}  # kept values are *not* scaled by 1/(1 - rate)
    assert (y == 0).mean() == pytest.approx(0.3, abs=0.005)  # 100k draws: sd 0.0015


def test_gaussian_noise_has_the_requested_moments_and_clips():
    noise = _np(AdditiveGaussianNoise(0.2, seed=0)(X, training=True)) - X
    assert noise.mean() == pytest.approx(0.0, abs=0.002)
    assert noise.std() == pytest.approx(0.2, rel=0.01)
    clipped = _np(AdditiveGaussianNoise(1.0, clip=(0.0, 1.0), seed=0)(X, training=True))
    assert clipped.min() == 0.0 and clipped.max() == 1.0


def test_salt_and_pepper_splits_the_rate_evenly():
    y = _np(SaltAndPepperNoise(0.4, seed=0)(X, training=True))
    assert (y == 0.0).mean() == pytest.approx(0.2, abs=0.005)
    assert (y == 1.0).mean() == pytest.approx(0.2, abs=0.005)
    assert (y == 0.5).mean() == pytest.approx(0.6, abs=0.005)


def test_dynamic_binarization_draws_bernoulli_p_afresh_each_call():
    # Each column holds one probability; 2,000 draws per value: sd of a mean <= 0.011.
    p = np.tile(np.linspace(0.0, 1.0, 11, dtype="float32"), (2000, 1))
    layer = DynamicBinarization(seed=0)
    first, second = _np(layer(p, training=True)), _np(layer(p, training=True))
    assert set(np.unique(first)) == {0.0, 1.0} and first.dtype == np.float32
    np.testing.assert_allclose(first.mean(axis=0), p[0], atol=0.04)
    assert (first[:, 0] == 0).all() and (first[:, -1] == 1).all()  # p = 0 and p = 1 are certain
    # A fresh sample every call, agreeing with the first where p is 0 or 1 only.
    agree = (first == second).mean(axis=0)
    np.testing.assert_allclose(agree, p[0] ** 2 + (1 - p[0]) ** 2, atol=0.04)
    # The same seed repeats the same stream; inference passes the grey levels through.
    np.testing.assert_array_equal(_np(DynamicBinarization(seed=0)(p, training=True)), first)
    np.testing.assert_array_equal(_np(layer(p)), p)


def test_get_noise_layer_and_bad_arguments():
    assert isinstance(get_noise_layer("salt_and_pepper", 0.1), SaltAndPepperNoise)
    with pytest.raises(ValueError, match="noise='speckle'"):
        get_noise_layer("speckle", 0.1)
    with pytest.raises(ValueError, match="rate=1.5"):
        MaskingNoise(1.5)
    with pytest.raises(ValueError, match="stddev=-1"):
        AdditiveGaussianNoise(-1)
    with pytest.raises(ValueError, match="low=1.0, high=0.0"):
        SaltAndPepperNoise(0.1, low=1.0, high=0.0)
