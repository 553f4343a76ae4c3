"""Encoder and decoder builders (MLP, convolutional, and VQ-VAE's residual networks)."""

from keras_ae.architectures.builders import (
    ARCHITECTURES,
    DEFAULT_FILTERS,
    DEFAULT_HIDDEN_UNITS,
    build_decoder,
    check_architecture,
    check_input_shape,
    check_units,
    encoder_body,
)
from keras_ae.architectures.residual import residual_decoder, residual_encoder_body, residual_stack

__all__ = [
    "ARCHITECTURES",
    "DEFAULT_FILTERS",
    "DEFAULT_HIDDEN_UNITS",
    "build_decoder",
    "check_architecture",
    "check_input_shape",
    "check_units",
    "encoder_body",
    "residual_decoder",
    "residual_encoder_body",
    "residual_stack",
]
