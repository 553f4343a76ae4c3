"""Keras layers of the zoo: sampling, corruption processes, dynamic binarization, k-sparsity,
tied decoders, vector quantization, gated PixelCNN blocks and DRAW's attention."""

from keras_ae.layers.additive_gaussian_noise import AdditiveGaussianNoise
from keras_ae.layers.codebook_lookup import CodebookLookup
from keras_ae.layers.dense_transpose import DenseTranspose
from keras_ae.layers.draw_attention import AttentiveRead, AttentiveWrite, GaussianFilterbank
from keras_ae.layers.dynamic_binarization import DynamicBinarization
from keras_ae.layers.gated_pixelcnn import GatedPixelCNNBlock
from keras_ae.layers.k_sparse import KSparse
from keras_ae.layers.masking_noise import MaskingNoise
from keras_ae.layers.salt_and_pepper_noise import SaltAndPepperNoise
from keras_ae.layers.sampling import Sampling
from keras_ae.layers.vector_quantizer import VectorQuantizer

NOISE_LAYERS = {
    "masking": MaskingNoise,
    "gaussian": AdditiveGaussianNoise,
    "salt_and_pepper": SaltAndPepperNoise,
}


def get_noise_layer(noise, level, seed=None, **kwargs):
    """Builds the corruption layer named `noise` at corruption `level`.

    Args:
        noise: one of `"masking"`, `"gaussian"`, `"salt_and_pepper"`.
        level: the masking or salt-and-pepper rate, or the Gaussian standard deviation.
        seed: integer seed of the layer.
        **kwargs: further arguments of the layer (e.g. `clip` for Gaussian noise).

    Returns:
        A corruption layer, active only when called with `training=True`.
    """
    if noise not in NOISE_LAYERS:
        raise ValueError(
            f"Unknown noise type. Expected one of {sorted(NOISE_LAYERS)}. Received: noise={noise!r}"
        )
    return NOISE_LAYERS[noise](level, seed=seed, **kwargs)


__all__ = [
    "AdditiveGaussianNoise",
    "AttentiveRead",
    "AttentiveWrite",
    "CodebookLookup",
    "DenseTranspose",
    "DynamicBinarization",
    "GaussianFilterbank",
    "GatedPixelCNNBlock",
    "KSparse",
    "MaskingNoise",
    "NOISE_LAYERS",
    "SaltAndPepperNoise",
    "Sampling",
    "VectorQuantizer",
    "get_noise_layer",
]
