"""DRAW's attention against the paper: the filterbank's equations, identity glimpses, gamma."""

import keras
import numpy as np
import pytest

from keras_ae.layers import AttentiveRead, AttentiveWrite, GaussianFilterbank
from keras_ae.layers.draw_attention import filterbank
from tests.layers.layer_references import paper_filterbank


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _with_params(layer, params, units=4):
    """Sets the dense map so that any `h_dec` gives the attention parameters `params`."""
    if not layer.built:
        layer.build((None, units))
    dense = layer.params
    dense.kernel.assign(np.zeros((units, 5), "float32"))
    dense.bias.assign(np.asarray(params, "float32"))
    return layer


@pytest.mark.parametrize(
    "params",
    [
        (0.0, 0.0, 0.0, 0.0, 0.0),
        (0.3, -0.5, np.log(2.0), np.log(0.5), np.log(1.5)),  # off-centre, wider, smaller stride
        (-0.9, 0.8, np.log(0.3), 0.2, -0.4),
    ],
)
def test_filterbank_matches_the_papers_equations(params):
    height, width, n = 9, 7, 4
    fy, fx, gamma = filterbank(np.array([params], "float32"), height, width, n)
    ref_y, ref_x, ref_gamma = paper_filterbank(np.array([params]), height, width, n)
    np.testing.assert_allclose(_np(fy), ref_y, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_np(fx), ref_x, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_np(gamma), ref_gamma, rtol=1e-6)
    # Every filter is a distribution over pixels.
    np.testing.assert_allclose(_np(fx).sum(-1), 1.0, rtol=1e-6)
    # The grid centre sits at pixel (A + 1) / 2 * (g~ + 1), in 1-based pixel coordinates:
    # the mean pixel of the filters is the centre (symmetric filters, grid inside the image).
    if params == (0.0, 0.0, 0.0, 0.0, 0.0):
        centres = (_np(fx)[0] * np.arange(1, width + 1)).sum(-1)
        np.testing.assert_allclose(centres.mean(), (width + 1) / 2, rtol=1e-5)


def test_full_size_unit_stride_narrow_glimpse_reads_the_image_back():
    rng = np.random.default_rng(0)
    size = 6
    x = rng.uniform(size=(3, size, size, 2)).astype("float32")
    x_hat = rng.uniform(-1, 1, size=(3, size, size, 2)).astype("float32")
    read = AttentiveRead(size, size, glimpse_size=size)
    read.build([x.shape, x.shape, (None, 4)])
    # Centre g~ = 0, stride delta = (6 - 1) / (6 - 1) * 1 = 1, variance 1e-4, gamma = 1.
    _with_params(read.filterbank, (0.0, 0.0, np.log(1e-4), 0.0, 0.0))
    glimpses = _np(read([x, x_hat, np.zeros((3, 4), "float32")])).reshape(3, size, size, 4)
    np.testing.assert_allclose(glimpses[..., :2], x, atol=1e-6)
    np.testing.assert_allclose(glimpses[..., 2:], x_hat, atol=1e-6)


def test_read_scales_by_gamma_and_write_divides_by_it():
    rng = np.random.default_rng(1)
    size, n = 5, 5
    x = rng.uniform(size=(2, size, size, 1)).astype("float32")
    read = AttentiveRead(size, size, glimpse_size=n)
    read.build([x.shape, x.shape, (None, 4)])
    _with_params(read.filterbank, (0.0, 0.0, np.log(1e-4), 0.0, np.log(3.0)))
    glimpse = _np(read([x, x, np.zeros((2, 4), "float32")])).reshape(2, n, n, 2)
    np.testing.assert_allclose(glimpse[..., 0], 3.0 * x[..., 0], rtol=1e-5)

    write = AttentiveWrite(size, size, channels=1, glimpse_size=n)
    write.build((None, 4))
    _with_params(write.filterbank, (0.0, 0.0, np.log(1e-4), 0.0, np.log(4.0)))
    # The patch is w = W h + b; with W = 0 it is the bias, placed by the transposed filters.
    patch = rng.normal(size=(n * n,)).astype("float32")
    write.patch.kernel.assign(np.zeros((4, n * n), "float32"))
    write.patch.bias.assign(patch)
    canvas = _np(write(np.zeros((2, 4), "float32")))
    np.testing.assert_allclose(canvas[0, ..., 0], patch.reshape(n, n) / 4.0, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("n", [2, 5, 28])
def test_an_untrained_filterbank_tiles_the_whole_image(n):
    # Before training the grid is centred with stride 28 / N and standard deviation half a
    # stride: for the paper's 2 x 2 read, filters at pixels 7.5 and 21.5 with sigma 7 (the
    # zero-bias start of the paper's parametrization puts them on the blank pixels 1 and 28).
    bank = GaussianFilterbank(28, 28, glimpse_size=n)
    fy, fx, gamma = (_np(t) for t in bank(np.zeros((1, 6), "float32")))
    stride = 28 / n
    mu = 14.5 + (np.arange(1, n + 1) - n / 2 - 0.5) * stride
    pixels = np.arange(1, 29)
    expected = np.exp(-((pixels[None, :] - mu[:, None]) ** 2) / (2 * (stride / 2) ** 2))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(fx[0], expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fy[0], expected, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gamma, 1.0, rtol=1e-6)
    # Every pixel gets a share of the glimpse, read off the layer's own filters: no pixel is
    # more than half a stride (one standard deviation) from some filter's centre, so some
    # filter gives it at least exp(-1/2) of that filter's largest weight.
    assert _weakest_pixel_share(fx[0]) >= np.exp(-0.5) and _weakest_pixel_share(fy[0]) >= np.exp(-0.5)
    if n < 28:
        # The check can fail: the paper's zero-bias start (stride (28 - 1) / (N - 1), unit
        # variance) leaves the pixels between its filters unread.
        _, paper_fx, _ = filterbank(np.zeros((1, 5), "float32"), 28, 28, n)
        assert _weakest_pixel_share(_np(paper_fx)[0]) < 0.01


def _weakest_pixel_share(filters):
    """The least, over pixels, of the largest weight a filter gives the pixel relative to that
    filter's peak: 0 for a pixel no filter reads, 1 for one at a filter's peak."""
    return (filters / filters.max(axis=1, keepdims=True)).max(axis=0).min()


def test_attended_squares_are_the_grids_centre_and_extent_by_hand():
    # An off-centre grid that lies inside the image (each filter at least 4 pixels, 4.5
    # standard deviations, from an edge), so that its filters are whole Gaussians.
    height, width, n = 21, 25, 4
    params = (0.04, 0.05, np.log(0.8), np.log(0.5), np.log(1.5))
    bank = _with_params(GaussianFilterbank(height, width, glimpse_size=n), params)
    squares = _np(bank.attended_squares(np.zeros((2, 4), "float32")))
    # Eq. 22-24: g_X = (A + 1) / 2 * (g~_X + 1) = 13 * 1.04, g_Y = (B + 1) / 2 * (g~_Y + 1)
    # = 11 * 1.05 and delta = (max(A, B) - 1) / (N - 1) * delta~ = 24 / 3 * 0.5; the
    # square's side is N * delta.
    gx, gy, delta = 13.52, 11.55, 4.0
    np.testing.assert_allclose(squares, [[gx, gy, n * delta]] * 2, rtol=1e-6)
    # The filterbank's filters sit inside that square, one stride apart around its centre:
    # each filter's centre (its mean pixel, 1-based) read off the layer's output.
    fy, fx, _ = (_np(t) for t in bank(np.zeros((1, 4), "float32")))
    for filters, centre, size in ((fx[0], gx, width), (fy[0], gy, height)):
        means = (filters * np.arange(1, size + 1)).sum(axis=-1)
        np.testing.assert_allclose(np.diff(means), delta, atol=1e-4)
        np.testing.assert_allclose(means.mean(), centre, atol=1e-4)
        assert np.all(np.abs(means - centre) < n * delta / 2)


def test_a_narrow_filter_centred_outside_the_image_stays_normalized():
    # Every term underflows in float32 far outside: the softmax still puts the mass on the edge.
    fy, fx, _ = filterbank(np.array([[5.0, -5.0, np.log(1e-3), 0.0, 0.0]], "float32"), 8, 8, 2)
    np.testing.assert_allclose(_np(fx).sum(-1), 1.0, rtol=1e-6)
    assert _np(fx)[0, :, -1].min() > 0.99 and _np(fy)[0, :, 0].min() > 0.99


def test_glimpses_larger_than_the_image_are_refused():
    with pytest.raises(ValueError, match=r"at most the image size \(5x6\). Received: glimpse_size=7"):
        GaussianFilterbank(5, 6, glimpse_size=7)
    with pytest.raises(ValueError, match="glimpse_size=0"):
        AttentiveWrite(5, 6, channels=1, glimpse_size=0)
