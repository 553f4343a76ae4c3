"""Index grids -> codebook vectors: the input layer of a VQ-VAE's decoder."""

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import KnownConfig
from keras_ae.layers.vector_quantizer import VectorQuantizer


@keras.saving.register_keras_serializable(package="keras_ae")
class CodebookLookup(KnownConfig, keras.layers.Layer):
    """Looks up the codebook vectors of int code indices in a `VectorQuantizer`.

    The layer shares the quantizer (and so its codebook) with the model that owns it, so a
    VQ-VAE's `decoder` decodes with the codebook being trained. It checks in the graph that
    the indices lie in `[0, num_embeddings)`: a GPU gather would silently return zeros for
    an exported `decode` request out of range. Saved on its own (e.g. `vq.decoder.save`),
    it carries the quantizer's config and codebook, and loads back without the model.

    Args:
        quantizer: the `VectorQuantizer` whose codebook is read, or its serialized config.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Returns:
        Called on int indices of any shape `(...)`: float vectors `(..., embedding_dim)`.

    Example:
        >>> vq = VectorQuantizer(num_embeddings=8, embedding_dim=4)
        >>> vq.build((None, 4))
        >>> CodebookLookup(vq)(np.array([[0, 7]])).shape
        TensorShape([1, 2, 4])
    """

    def __init__(self, quantizer, **kwargs):
        super().__init__(**kwargs)
        if isinstance(quantizer, dict):
            quantizer = keras.saving.deserialize_keras_object(quantizer)
        if not isinstance(quantizer, VectorQuantizer):
            raise ValueError(
                "Argument `quantizer` must be a keras_ae.layers.VectorQuantizer or its serialized "
                f"config. Received: quantizer={quantizer!r}"
            )
        self.quantizer = quantizer

    def build(self, input_shape):
        # A lookup loaded on its own holds a fresh quantizer: build it so that the saved
        # codebook has a variable to load into.
        if not self.quantizer.built:
            self.quantizer.build((None, self.quantizer.embedding_dim))

    def call(self, indices):
        num_embeddings = self.quantizer.num_embeddings
        indices = backend.assert_indices_in_range(
            ops.cast(indices, "int32"),
            num_embeddings,
            f"keras_ae: code indices must lie in [0, {num_embeddings}); received min, max",
        )
        return self.quantizer.lookup(indices)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.quantizer.embedding_dim)

    def get_config(self):
        config = super().get_config()
        quantizer = keras.saving.serialize_keras_object(self.quantizer)
        # The quantizer's constructor arguments only: `build` builds it from them.
        quantizer.pop("build_config", None)
        config["quantizer"] = quantizer
        return config
