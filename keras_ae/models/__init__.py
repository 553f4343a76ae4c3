"""The autoencoder zoo: one public class per module."""

from keras_ae.models.autoencoder import Autoencoder
from keras_ae.models.base_autoencoder import BaseAutoencoder
from keras_ae.models.beta_vae import BetaVAE
from keras_ae.models.contractive_autoencoder import ContractiveAutoencoder
from keras_ae.models.denoising_autoencoder import DenoisingAutoencoder
from keras_ae.models.draw import DRAW
from keras_ae.models.k_sparse_autoencoder import KSparseAutoencoder
from keras_ae.models.pixelcnn_prior import PixelCNNPrior
from keras_ae.models.sparse_autoencoder import SparseAutoencoder
from keras_ae.models.vae import VAE
from keras_ae.models.vq_vae import VQVAE

__all__ = [
    "DRAW",
    "VAE",
    "VQVAE",
    "Autoencoder",
    "BaseAutoencoder",
    "BetaVAE",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "KSparseAutoencoder",
    "PixelCNNPrior",
    "SparseAutoencoder",
]
