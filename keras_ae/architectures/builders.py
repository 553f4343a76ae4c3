"""Encoder and decoder builders for flat vectors and HxWxC images.

The builders return plain functional Keras models, so the networks a zoo model uses
are the same objects a user would write by hand (and could pass in instead).
"""

import math

import keras

from keras_ae._validation import _is_int

ARCHITECTURES = ("mlp", "conv")

DEFAULT_HIDDEN_UNITS = {"mlp": (512, 256), "conv": (256,)}
DEFAULT_FILTERS = (32, 64)


def check_input_shape(input_shape):
    """Returns `input_shape` as a tuple of positive ints, or raises a ValueError."""
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = None
    if not shape or not all(_is_int(d) and d > 0 for d in shape):
        raise ValueError(
            "Argument `input_shape` must be a non-empty tuple of positive ints without the "
            f"batch dimension, e.g. (784,) or (28, 28, 1). Received: input_shape={input_shape!r}"
        )
    # Plain ints (a numpy int would make configs and exports unserializable as JSON).
    return tuple(int(d) for d in shape)


def check_architecture(architecture, input_shape):
    if architecture not in ARCHITECTURES:
        raise ValueError(
            f"Unknown architecture. Expected one of {list(ARCHITECTURES)}. "
            f"Received: architecture={architecture!r}"
        )
    if architecture == "conv" and len(input_shape) != 3:
        raise ValueError(
            "architecture='conv' needs an image input_shape (height, width, channels). "
            f"Received: input_shape={input_shape!r}"
        )


def check_units(name, units, non_empty=False):
    """Returns `units` (layer widths) as a tuple of positive ints, else a ValueError naming `name`."""
    if isinstance(units, (str, bytes)) or not hasattr(units, "__iter__"):
        raise ValueError(f"Argument `{name}` must be a sequence of positive ints. Received: {name}={units!r}")
    units = tuple(units)
    if not all(_is_int(u) and u > 0 for u in units) or (non_empty and not units):
        what = "a non-empty sequence" if non_empty else "a sequence"
        raise ValueError(f"Argument `{name}` must be {what} of positive ints. Received: {name}={units!r}")
    return tuple(int(u) for u in units)


def _downsampled(size, times):
    for _ in range(times):
        size = math.ceil(size / 2)
    return size


def encoder_body(inputs, architecture, hidden_units=None, filters=(32, 64), activation="relu"):
    """Applies the hidden layers of an encoder to `inputs` and returns the features.

    Args:
        inputs: a symbolic `keras.Input`.
        architecture: `"mlp"` (flatten, then dense layers) or `"conv"` (stride-2 3x3
            convolutions, flatten, then dense layers).
        hidden_units: dense layer widths; defaults per architecture.
        filters: convolution widths, one stride-2 layer each (`"conv"` only).
        activation: hidden activation.

    Returns:
        The symbolic feature tensor, shape `(batch, hidden_units[-1])`.
    """
    hidden_units = check_units(
        "hidden_units", DEFAULT_HIDDEN_UNITS[architecture] if hidden_units is None else hidden_units
    )
    x = inputs
    if architecture == "conv":
        for i, f in enumerate(check_units("filters", filters)):
            x = keras.layers.Conv2D(
                f, 3, strides=2, padding="same", activation=activation, name=f"encoder_conv_{i}"
            )(x)
    x = keras.layers.Flatten(name="encoder_flatten")(x)
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation=activation, name=f"encoder_dense_{i}")(x)
    return x


def build_decoder(
    latent_dim,
    output_shape,
    architecture="mlp",
    hidden_units=None,
    filters=(32, 64),
    activation="relu",
    name="decoder_network",
):
    """Builds the decoder network from a code to the likelihood's parameters.

    The output layer is linear: it yields logits for a Bernoulli likelihood and means
    for a Gaussian one. The `"conv"` decoder mirrors the encoder with stride-2
    transposed convolutions and crops to the exact height and width, so odd sizes
    such as 28 or 7 work.

    Args:
        latent_dim: size of the code, or the shape of a grid of code vectors (flattened).
        output_shape: shape of one example, e.g. `(28, 28, 1)`.
        architecture: `"mlp"` or `"conv"`.
        hidden_units: dense widths of the *encoder*; the decoder uses them reversed.
        filters: convolution widths of the encoder; the decoder uses them reversed.
        activation: hidden activation.
        name: model name.

    Returns:
        A functional `keras.Model` mapping `(batch, latent_dim)` to `(batch, *output_shape)`.

    Example:
        >>> build_decoder(16, (28, 28, 1), "conv").output_shape
        (None, 28, 28, 1)
    """
    hidden_units = check_units(
        "hidden_units", DEFAULT_HIDDEN_UNITS[architecture] if hidden_units is None else hidden_units
    )
    if isinstance(latent_dim, tuple):
        # A grid or sequence of code vectors (VQ-VAE's MLP): flattened into the dense layers.
        z = keras.Input(latent_dim, name="quantized")
        x = keras.layers.Flatten(name="decoder_flatten")(z)
    else:
        z = keras.Input((latent_dim,), name="z")
        x = z
    for i, units in enumerate(reversed(hidden_units)):
        x = keras.layers.Dense(units, activation=activation, name=f"decoder_dense_{i}")(x)
    if architecture == "mlp":
        x = keras.layers.Dense(math.prod(output_shape), name="decoder_output")(x)
        x = keras.layers.Reshape(output_shape, name="decoder_reshape")(x)
    else:
        filters = check_units("filters", filters)
        height, width, channels = output_shape
        h, w = _downsampled(height, len(filters)), _downsampled(width, len(filters))
        x = keras.layers.Dense(h * w * filters[-1], activation=activation, name="decoder_project")(x)
        x = keras.layers.Reshape((h, w, filters[-1]), name="decoder_reshape")(x)
        for i, f in enumerate(reversed(filters)):
            x = keras.layers.Conv2DTranspose(
                f, 3, strides=2, padding="same", activation=activation, name=f"decoder_deconv_{i}"
            )(x)
        extra_h, extra_w = h * 2 ** len(filters) - height, w * 2 ** len(filters) - width
        if extra_h or extra_w:
            x = keras.layers.Cropping2D(
                ((extra_h // 2, extra_h - extra_h // 2), (extra_w // 2, extra_w - extra_w // 2)),
                name="decoder_crop",
            )(x)
        x = keras.layers.Conv2D(channels, 3, padding="same", name="decoder_output")(x)
    return keras.Model(z, x, name=name)
