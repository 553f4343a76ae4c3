"""The gated PixelCNN block: causal (raster-order) convolutions without a blind spot."""

import keras
from keras import ops

from keras_ae._config import KnownConfig
from keras_ae._validation import check_bool, check_int


def shift_down(x):
    """Moves a `(batch, H, W, C)` grid one row down (zeros enter at the top)."""
    return ops.pad(x, ((0, 0), (1, 0), (0, 0), (0, 0)))[:, :-1]


def shift_right(x):
    """Moves a `(batch, H, W, C)` grid one column right (zeros enter on the left)."""
    return ops.pad(x, ((0, 0), (0, 0), (1, 0), (0, 0)))[:, :, :-1]


def _plus(size, extra):
    return None if size is None else size + extra


def gate(x):
    """`tanh(a) * sigmoid(b)` of the two halves of the last axis."""
    a, b = ops.split(x, 2, axis=-1)
    return ops.tanh(a) * ops.sigmoid(b)


@keras.saving.register_keras_serializable(package="keras_ae")
class GatedPixelCNNBlock(KnownConfig, keras.layers.Layer):
    """One gated PixelCNN layer with a vertical and a horizontal stack.

    Position `(i, j)` of the horizontal output depends only on positions before it in
    raster order (rows above, and the same row to the left; also `(i, j)` itself unless
    `first=True`), so a stack of blocks is an autoregressive model. The vertical stack
    sees the rows above through a `(k // 2 + 1) x k` convolution; it reaches the
    horizontal stack shifted one row down, which removes the blind spot of masked 3x3
    convolutions. Each stack has the gated activation `tanh(W_f * x) * sigmoid(W_g * x)`;
    the horizontal stack has a residual connection (not in the first block, whose input
    holds the current position).

    Args:
        filters: channels of both stacks, >= 1 (inputs must have this many channels).
        kernel_size: odd size k of the receptive window, >= 1.
        first: the first block of a network (mask "A": excludes the current position).
        **kwargs: base `Layer` arguments.

    Returns:
        Called on `[vertical, horizontal]` grids `(batch, H, W, filters)`, the next
        `[vertical, horizontal]`.

    Example:
        >>> embedded = keras.layers.Embedding(128, 64)(indices)  # (batch, 7, 7, 64)
        >>> v, h = GatedPixelCNNBlock(64, first=True)([embedded, embedded])
        >>> v, h = GatedPixelCNNBlock(64)([v, h])

    References:
        van den Oord et al., "Conditional Image Generation with PixelCNN Decoders",
        NeurIPS 2016 (section 2.2, figure 2).
    """

    def __init__(self, filters, kernel_size=3, first=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int("filters", filters)
        self.kernel_size = check_int("kernel_size", kernel_size)
        if self.kernel_size % 2 == 0:
            raise ValueError(f"Argument `kernel_size` must be odd. Received: kernel_size={kernel_size}")
        self.first = check_bool("first", first)
        half = self.kernel_size // 2
        # Sublayers in this layer's dtype policy (Keras' default would be the global one).
        policy = self.dtype_policy
        self.vertical_conv = keras.layers.Conv2D(
            2 * filters, (half + 1, self.kernel_size), name="vertical", dtype=policy
        )
        self.vertical_to_horizontal = keras.layers.Conv2D(
            2 * filters, 1, name="vertical_to_horizontal", dtype=policy
        )
        self.horizontal_conv = keras.layers.Conv2D(
            2 * filters, (1, half + 1), name="horizontal", dtype=policy
        )
        self.horizontal_out = keras.layers.Conv2D(filters, 1, name="horizontal_out", dtype=policy)

    def build(self, input_shape):
        for shape in input_shape:
            if len(shape) != 4 or shape[-1] != self.filters:
                raise ValueError(
                    f"GatedPixelCNNBlock takes [vertical, horizontal] grids (batch, H, W, "
                    f"{self.filters}). Received: input shapes={[tuple(s) for s in input_shape]}"
                )
        batch, height, width, channels = tuple(input_shape[0])
        half = self.kernel_size // 2
        # The convolutions see the padded grids of `call`.
        self.vertical_conv.build((batch, _plus(height, half), _plus(width, 2 * half), channels))
        self.vertical_to_horizontal.build((batch, height, width, 2 * self.filters))
        self.horizontal_conv.build((batch, height, _plus(width, half), channels))
        self.horizontal_out.build((batch, height, width, self.filters))

    def call(self, inputs):
        vertical, horizontal = inputs
        half = self.kernel_size // 2
        # Rows i - k//2 .. i, columns j - k//2 .. j + k//2 (padding keeps H and W).
        v = self.vertical_conv(ops.pad(vertical, ((0, 0), (half, 0), (half, half), (0, 0))))
        # Columns j - k//2 .. j of row i; the first block moves one column further left.
        h_in = shift_right(horizontal) if self.first else horizontal
        h = self.horizontal_conv(ops.pad(h_in, ((0, 0), (0, 0), (half, 0), (0, 0))))
        # The vertical features of rows < i only reach position (i, j) of the horizontal stack.
        h = h + self.vertical_to_horizontal(shift_down(v))
        h = self.horizontal_out(gate(h))
        if not self.first:
            h = h + horizontal
        return [gate(v), h]

    def compute_output_shape(self, input_shape):
        return [tuple(input_shape[0]), tuple(input_shape[1])]

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "kernel_size": self.kernel_size, "first": self.first})
        return config
