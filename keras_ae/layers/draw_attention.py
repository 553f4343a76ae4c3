"""DRAW's selective attention: a grid of Gaussian filters, and the read and write it drives."""

import math

import keras
from keras import ops

from keras_ae._config import KnownConfig
from keras_ae._validation import check_int, check_number


def grid_geometry(params, image_height, image_width, glimpse_size):
    """The grid's centre and stride from the five attention parameters (eq. 22-24).

    Args:
        params: `(batch, 5)` tensor, as `filterbank` takes it.
        image_height, image_width: B and A.
        glimpse_size: N.

    Returns:
        `(g_X, g_Y, delta)`, each `(batch, 1)`, in 1-based pixel coordinates.
    """
    params = ops.cast(params, "float32")
    gx_, gy_, _, log_delta, _ = ops.split(params, 5, axis=-1)
    gx = (image_width + 1) / 2.0 * (gx_ + 1.0)
    gy = (image_height + 1) / 2.0 * (gy_ + 1.0)
    delta = (max(image_height, image_width) - 1) / max(glimpse_size - 1, 1) * ops.exp(log_delta)
    return gx, gy, delta


def filterbank(params, image_height, image_width, glimpse_size):
    """The paper's filterbank from the five attention parameters (Gregor et al. 2015, eq. 21-26).

    `params` holds `(g~_X, g~_Y, log sigma^2, log delta~, log gamma)` per example:

    - grid centre `g_X = (A + 1) / 2 * (g~_X + 1)`, `g_Y = (B + 1) / 2 * (g~_Y + 1)`
      (A the width, B the height, pixel coordinates 1..A and 1..B);
    - stride `delta = (max(A, B) - 1) / (N - 1) * delta~`;
    - filter centres `mu_X^i = g_X + (i - N/2 - 0.5) * delta`, i = 1..N (same for Y);
    - `F_X[i, a] = exp(-(a - mu_X^i)^2 / (2 sigma^2)) / Z_X`, normalized so that
      `sum_a F_X[i, a] = 1` (same for `F_Y` over the rows);
    - intensity `gamma`.

    Args:
        params: `(batch, 5)` tensor.
        image_height, image_width: B and A.
        glimpse_size: N.

    Returns:
        `(filters_y, filters_x, gamma)`: `(batch, N, B)`, `(batch, N, A)` and `(batch, 1)`.
    """
    params = ops.cast(params, "float32")
    gx, gy, delta = grid_geometry(params, image_height, image_width, glimpse_size)
    _, _, log_sigma2, _, log_gamma = ops.split(params, 5, axis=-1)
    sigma2 = ops.exp(log_sigma2)
    offsets = ops.arange(1, glimpse_size + 1, dtype="float32") - glimpse_size / 2.0 - 0.5
    mu_x = gx + offsets[None, :] * delta  # (batch, N)
    mu_y = gy + offsets[None, :] * delta

    def bank(mu, size):
        pixels = ops.arange(1, size + 1, dtype="float32")
        # exp(-(a - mu)^2 / (2 sigma^2)) / Z is a softmax over the pixels a: computed as one,
        # it stays exact where every term underflows in float32 (a narrow filter centred
        # outside the image), instead of turning into 0 / 0.
        return ops.softmax(
            -ops.square(pixels[None, None, :] - mu[:, :, None]) / (2.0 * sigma2[:, :, None]), axis=-1
        )

    return bank(mu_y, image_height), bank(mu_x, image_width), ops.exp(log_gamma)


def tiling_params(image_height, image_width, glimpse_size, intensity=1.0):
    """The attention parameters of a centred N x N grid that tiles the image.

    The stride is `max(A, B) / N` (one cell per filter, the grid spans the image) and the
    standard deviation half a stride, so neighbouring filters overlap and together see
    every pixel. These are the filterbank's parameters before training: with a dense layer's
    zero bias the paper's parametrization starts at stride `(max(A, B) - 1) / (N - 1)` with
    unit variance, which for the paper's 2 x 2 read puts both filters on the image's first
    and last pixels, blank in MNIST, so the encoder starts reading nothing and learns to
    ignore its input.

    Args:
        image_height, image_width: B and A.
        glimpse_size: N.
        intensity: gamma.

    Returns:
        A list of the five parameters `(g~_X, g~_Y, log sigma^2, log delta~, log gamma)`.
    """
    size = max(image_height, image_width)
    stride = size / glimpse_size
    unit = (size - 1) / max(glimpse_size - 1, 1)
    return [0.0, 0.0, math.log((stride / 2.0) ** 2), math.log(stride / unit), math.log(intensity)]


class _ImageAttention(KnownConfig, keras.layers.Layer):
    """What DRAW's attention layers share: the image size and the glimpse size N, checked."""

    def __init__(self, image_height, image_width, glimpse_size, **kwargs):
        super().__init__(**kwargs)
        self.image_height = check_int("image_height", image_height)
        self.image_width = check_int("image_width", image_width)
        self.glimpse_size = check_int("glimpse_size", glimpse_size)
        if self.glimpse_size > max(self.image_height, self.image_width):
            raise ValueError(
                f"Argument `glimpse_size` must be at most the image size ({self.image_height}x"
                f"{self.image_width}). Received: glimpse_size={glimpse_size}"
            )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "image_height": self.image_height,
                "image_width": self.image_width,
                "glimpse_size": self.glimpse_size,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
class GaussianFilterbank(_ImageAttention):
    """DRAW's attention parameters, a linear map of the decoder state, as a filterbank.

    A dense layer maps `h_dec` to the five parameters of `filterbank`; the layer
    returns the N x B and N x A filter matrices and the intensity. The dense layer's bias
    starts at `tiling_params`: a centred grid that covers the whole image.

    Args:
        image_height, image_width: size of the attended images.
        glimpse_size: N, the glimpse is N x N (at most the image size).
        initial_intensity: gamma before training (> 0); `AttentiveWrite` starts its
            filterbank at `(N / max(A, B))^2` so that its untrained write has unit gain.
        **kwargs: base `Layer` arguments.

    Returns:
        Called on `h_dec` `(batch, units)`, `[filters_y, filters_x, gamma]`.

    Example:
        >>> bank = GaussianFilterbank(28, 28, glimpse_size=5)
        >>> filters_y, filters_x, gamma = bank(h_dec)

    References:
        Gregor et al., "DRAW: A Recurrent Neural Network For Image Generation", ICML 2015,
        section 3.1.
    """

    def __init__(self, image_height, image_width, glimpse_size, initial_intensity=1.0, **kwargs):
        super().__init__(image_height, image_width, glimpse_size, **kwargs)
        self.initial_intensity = check_number(
            "initial_intensity", initial_intensity, minimum=0, exclusive_minimum=True
        )
        start = tiling_params(self.image_height, self.image_width, self.glimpse_size, self.initial_intensity)
        self.params = keras.layers.Dense(
            5,
            bias_initializer=keras.initializers.Constant(start),
            name="attention_params",
            dtype=self.dtype_policy,
        )

    def build(self, input_shape):
        self.params.build(input_shape)

    def call(self, h_dec):
        return list(filterbank(self.params(h_dec), self.image_height, self.image_width, self.glimpse_size))

    def compute_output_shape(self, input_shape):
        batch, n = input_shape[0], self.glimpse_size
        return [(batch, n, self.image_height), (batch, n, self.image_width), (batch, 1)]

    def attended_squares(self, h_dec):
        """Where the filterbank of each decoder state attends: `(batch, 3)` rows of the grid
        centre `(g_X, g_Y)` and the side `N * delta` of the attended square, in 1-based pixel
        coordinates (the boxes of the paper's figures)."""
        gx, gy, delta = grid_geometry(
            self.params(h_dec), self.image_height, self.image_width, self.glimpse_size
        )
        return ops.concatenate([gx, gy, self.glimpse_size * delta], axis=-1)

    def get_config(self):
        config = super().get_config()
        config["initial_intensity"] = self.initial_intensity
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
class AttentiveRead(_ImageAttention):
    """DRAW's read with attention: N x N glimpses of the image and of the error image.

    `read(x, x_hat, h_dec) = gamma * [F_Y x F_X^T, F_Y x_hat F_X^T]` (eq. 27), each channel
    filtered alike, flattened into one vector per example.

    Args:
        image_height, image_width: size of the images.
        glimpse_size: N.
        **kwargs: base `Layer` arguments.

    Returns:
        Called on `[x, x_hat, h_dec]` (images `(batch, B, A, C)` and `(batch, units)`),
        the glimpses `(batch, 2 * N * N * C)`.

    References:
        Gregor et al. 2015, section 3.3.
    """

    def __init__(self, image_height, image_width, glimpse_size, **kwargs):
        super().__init__(image_height, image_width, glimpse_size, **kwargs)
        self.filterbank = GaussianFilterbank(
            image_height, image_width, glimpse_size, name="read_filterbank", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.filterbank.build(input_shape[2])

    def call(self, inputs):
        x, x_hat, h_dec = inputs
        filters_y, filters_x, gamma = self.filterbank(h_dec)
        glimpses = [
            ops.einsum("bnh,bhwc,bmw->bnmc", filters_y, ops.cast(image, "float32"), filters_x)
            for image in (x, x_hat)
        ]
        glimpse = ops.concatenate(glimpses, axis=-1)
        return gamma * ops.reshape(glimpse, (ops.shape(glimpse)[0], -1))

    def compute_output_shape(self, input_shape):
        channels = input_shape[0][-1]
        return (input_shape[0][0], 2 * self.glimpse_size**2 * channels)


@keras.saving.register_keras_serializable(package="keras_ae")
class AttentiveWrite(_ImageAttention):
    """DRAW's write with attention: an N x N patch placed on the canvas by the filterbank.

    `write(h_dec) = 1 / gamma * F_Y^T w F_X` with the patch `w = W(h_dec)` (eq. 28-29); the
    write has its own attention parameters.

    Args:
        image_height, image_width: size of the canvas.
        channels: channels of the canvas.
        glimpse_size: N.
        **kwargs: base `Layer` arguments.

    Returns:
        Called on `h_dec` `(batch, units)`, the canvas update `(batch, B, A, channels)`.

    References:
        Gregor et al. 2015, section 3.3.
    """

    def __init__(self, image_height, image_width, channels, glimpse_size, **kwargs):
        super().__init__(image_height, image_width, glimpse_size, **kwargs)
        self.channels = check_int("channels", channels)
        # Each normalized filter spreads a patch value over about a stride's square of
        # pixels, so with gamma = 1 an untrained write adds about w / stride^2 to the
        # canvas (1/30 for the paper's 5 x 5 write on 28 x 28) and Adam, whose steps are
        # of a fixed size in the weights, needs that many more steps to paint logits of
        # useful size. Starting at gamma = 1 / stride^2 gives the write unit gain.
        gain = (self.glimpse_size / max(self.image_height, self.image_width)) ** 2
        self.filterbank = GaussianFilterbank(
            image_height,
            image_width,
            glimpse_size,
            initial_intensity=gain,
            name="write_filterbank",
            dtype=self.dtype_policy,
        )
        self.patch = keras.layers.Dense(
            glimpse_size * glimpse_size * self.channels, name="write_patch", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.filterbank.build(input_shape)
        self.patch.build(input_shape)

    def call(self, h_dec):
        filters_y, filters_x, gamma = self.filterbank(h_dec)
        n = self.glimpse_size
        patch = ops.reshape(ops.cast(self.patch(h_dec), "float32"), (-1, n, n, self.channels))
        canvas = ops.einsum("bnh,bnmc,bmw->bhwc", filters_y, patch, filters_x)
        return canvas / gamma[:, :, None, None]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.image_height, self.image_width, self.channels)

    def get_config(self):
        config = super().get_config()
        config["channels"] = self.channels
        return config
