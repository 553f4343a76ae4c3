"""keras-ae: a Keras 3 / TensorFlow model zoo of autoencoders.

Example:
    >>> import keras_ae
    >>> keras_ae.list_models()
    ['autoencoder', 'beta_vae', 'contractive_autoencoder', 'denoising_autoencoder', 'k_sparse_autoencoder', 'sparse_autoencoder', 'vae']
    >>> model = keras_ae.create_model("vae", input_shape=(28, 28, 1), latent_dim=16,
    ...                               architecture="conv")
"""

from keras_ae._backend import check_backend

check_backend()

from keras_ae import architectures, layers, losses, models, regularizers  # noqa: E402
from keras_ae.models import (  # noqa: E402
    VAE,
    Autoencoder,
    BetaVAE,
    ContractiveAutoencoder,
    DenoisingAutoencoder,
    KSparseAutoencoder,
    SparseAutoencoder,
)
from keras_ae.registry import create_model, get_model_class, list_models  # noqa: E402
from keras_ae.version import __version__  # noqa: E402

__all__ = [
    "VAE",
    "Autoencoder",
    "BetaVAE",
    "ContractiveAutoencoder",
    "DenoisingAutoencoder",
    "KSparseAutoencoder",
    "SparseAutoencoder",
    "__version__",
    "architectures",
    "create_model",
    "get_model_class",
    "layers",
    "list_models",
    "losses",
    "models",
    "regularizers",
]
