import math

import keras
import pytest

from keras_ae.architectures import build_decoder, encoder_body


@pytest.mark.parametrize("shape", [(28, 28, 1), (8, 8, 1), (32, 32, 3), (7, 9, 2), (64, 64, 1)])
def test_conv_decoder_restores_any_image_shape(shape):
    assert build_decoder(5, shape, "conv", hidden_units=(16,), filters=(4, 8)).output_shape == (None, *shape)
    inputs = keras.Input(shape)
    assert encoder_body(inputs, "conv", hidden_units=(16,), filters=(4, 8)).shape == (None, 16)


@pytest.mark.parametrize("shape", [(784,), (28, 28), (8, 8, 1)])
def test_mlp_handles_any_rank(shape):
    decoder = build_decoder(3, shape, "mlp", hidden_units=(32, 16))
    assert decoder.output_shape == (None, *shape)
    assert [layer.units for layer in decoder.layers if isinstance(layer, keras.layers.Dense)] == [
        16,
        32,
        math.prod(shape),
    ]
    # The output layer is linear: it parameterizes the likelihood (logits or means).
    assert decoder.get_layer("decoder_output").activation is keras.activations.linear


def test_bad_units():
    with pytest.raises(ValueError, match="hidden_units"):
        build_decoder(3, (4,), "mlp", hidden_units=(0,))
