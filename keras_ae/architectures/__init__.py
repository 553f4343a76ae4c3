"""Encoder and decoder builders (MLP and convolutional)."""

from keras_ae.architectures.builders import (
    ARCHITECTURES,
    build_decoder,
    check_architecture,
    check_input_shape,
    encoder_body,
)

__all__ = [
    "ARCHITECTURES",
    "build_decoder",
    "check_architecture",
    "check_input_shape",
    "encoder_body",
]
