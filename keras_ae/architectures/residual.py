"""The residual convolutional networks of VQ-VAE (van den Oord et al. 2017, appendix)."""

import keras

from keras_ae.architectures.builders import check_units


def residual_stack(x, filters, residual_units, num_blocks, name):
    """`num_blocks` residual blocks (ReLU, 3x3 conv, ReLU, 1x1 conv), then a ReLU."""
    for i in range(num_blocks):
        h = keras.layers.ReLU(name=f"{name}_{i}_relu_a")(x)
        h = keras.layers.Conv2D(residual_units, 3, padding="same", name=f"{name}_{i}_conv3x3")(h)
        h = keras.layers.ReLU(name=f"{name}_{i}_relu_b")(h)
        h = keras.layers.Conv2D(filters, 1, name=f"{name}_{i}_conv1x1")(h)
        x = keras.layers.Add(name=f"{name}_{i}_add")([x, h])
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def residual_encoder_body(inputs, filters, residual_units, residual_blocks):
    """Strided 4x4 convolutions (`filters`), a 3x3 convolution, then residual blocks.

    Each stride-2 convolution halves the height and width (rounding up), so a 28x28
    image becomes a 7x7 grid with two of them.
    """
    filters = check_units("filters", filters, non_empty=True)
    x = inputs
    for i, f in enumerate(filters):
        x = keras.layers.Conv2D(f, 4, strides=2, padding="same", activation="relu", name=f"encoder_conv_{i}")(
            x
        )
    x = keras.layers.Conv2D(filters[-1], 3, padding="same", name="encoder_conv_out")(x)
    return residual_stack(x, filters[-1], residual_units, residual_blocks, "encoder_residual")


def residual_decoder(
    grid_shape, output_shape, filters, residual_units, residual_blocks, name="decoder_network"
):
    """The mirror of `residual_encoder_body`: a `keras.Model` from a `(h, w, d)` grid of
    vectors to the likelihood parameters of an image of `output_shape` (a 3x3
    convolution, residual blocks, strided 4x4 transposed convolutions, cropped to size)."""
    grid = keras.Input(grid_shape, name="quantized")
    x = keras.layers.Conv2D(filters[-1], 3, padding="same", name="decoder_conv_in")(grid)
    x = residual_stack(x, filters[-1], residual_units, residual_blocks, "decoder_residual")
    for i, f in enumerate(reversed(filters[:-1])):
        x = keras.layers.Conv2DTranspose(
            f, 4, strides=2, padding="same", activation="relu", name=f"decoder_deconv_{i}"
        )(x)
    x = keras.layers.Conv2DTranspose(output_shape[-1], 4, strides=2, padding="same", name="decoder_output")(x)
    extra_h, extra_w = x.shape[1] - output_shape[0], x.shape[2] - output_shape[1]
    if extra_h or extra_w:
        x = keras.layers.Cropping2D(
            ((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2)),
            name="decoder_crop",
        )(x)
    return keras.Model(grid, x, name=name)
