"""Encoder and decoder builders (MLP and convolutional)."""

from keras_ae.architectures.builders import (
    ARCHITECTURES,
    DEFAULT_FILTERS,
    DEFAULT_HIDDEN_UNITS,
    build_decoder,
    check_architecture,
    check_input_shape,
    encoder_body,
)

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_FILTERS",
    "DEFAULT_HIDDEN_UNITS",
    "build_decoder",
    "check_architecture",
    "check_input_shape",
    "encoder_body",
]
