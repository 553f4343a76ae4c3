"""The vector-quantized variational autoencoder (van den Oord et al. 2017)."""

import keras
import numpy as np
from keras import ops

from keras_ae._validation import (
    check_bool,
    check_code_indices,
    check_int,
    check_non_negative,
    check_number,
)
from keras_ae.architectures import build_decoder, encoder_body, residual_decoder, residual_encoder_body
from keras_ae.layers.codebook_lookup import CodebookLookup
from keras_ae.layers.vector_quantizer import VectorQuantizer
from keras_ae.models.base_autoencoder import BaseAutoencoder
from keras_ae.models.learned_prior import LearnedPrior
from keras_ae.models.networks import CodeSpec
from keras_ae.registry import register_model


@register_model("vq_vae")
class VQVAE(LearnedPrior, BaseAutoencoder):
    """Vector-quantized autoencoder: a discrete latent grid and an optional learned prior.

    The encoder maps an image to a grid of vectors `z_e` of size `latent_dim` (a
    `(H/2^n, W/2^n)` grid for `"conv"`, `num_latents` vectors for `"mlp"`); a
    `VectorQuantizer` replaces each by its nearest of `num_embeddings` codebook vectors,
    and the decoder reconstructs from them. The loss is the reconstruction NLL (summed
    over pixels) plus the VQ terms (`model.losses`). Logged: `reconstruction_loss`,
    `vq_loss` (codebook + commitment), `perplexity` (exp of the entropy of the batch's
    code usage; at most `num_embeddings`) and `codebook_usage` (fraction of codes used in
    the batch).

    Codes are integer index grids: `encode` returns them and `decode` takes them
    (`code_spec`). A `PixelCNNPrior` over the grids (`fit_prior`) makes the model
    generative: `sample(n, seed)` draws grids from it and decodes them, in Python and in
    the exported `sample` signature.

    Networks, as in the paper (its appendix): `"conv"` has `len(filters)` strided 4x4
    convolutions, a 3x3 convolution and `residual_blocks` residual blocks (ReLU, 3x3
    conv with `residual_units` channels, ReLU, 1x1 conv), then a 1x1 convolution to
    `latent_dim`; the decoder mirrors it with strided 4x4 transposed convolutions.
    `"mlp"` is the zoo's MLP with `num_latents * latent_dim` outputs.

    Args:
        input_shape: shape of one example.
        latent_dim: size D of the codebook vectors (the paper's embedding size).
        num_embeddings: number of codebook vectors K, >= 1.
        commitment_cost: beta of the commitment loss (0.25).
        ema: update the codebook by moving averages (decay `decay`) instead of a loss.
        decay: EMA decay in [0, 1).
        restart_after: re-seed codes unused for this many training batches; None never.
        kmeans_init: initialize the codebook by k-means on the first training batch.
        architecture: `"conv"` (default for image shapes) or `"mlp"`.
        filters: strided convolution widths (`"conv"`; default (32, 64)).
        residual_blocks: residual blocks in the encoder and the decoder (`"conv"`), >= 0.
        residual_units: channels of the residual blocks' 3x3 convolutions (`"conv"`).
        num_latents: vectors in an MLP's code (`"mlp"` only; default 16).
        prior: an optional `PixelCNNPrior` (or its config) over the index grids.
        **kwargs: see `BaseAutoencoder` (`hidden_units` for `"mlp"`, `likelihood`, `seed`,
            a user `encoder` whose output's last axis has size `latent_dim`, a user
            `decoder` taking the quantized grid).

    Returns:
        Called on a batch, its reconstruction through the quantized code.

    Example:
        >>> vq = keras_ae.create_model("vq_vae", input_shape=(28, 28, 1), latent_dim=16,
        ...                            num_embeddings=128, ema=True, restart_after=100)
        >>> vq.compile(optimizer="adam")
        >>> vq.fit(x_train, epochs=30, batch_size=128)
        >>> indices = vq.encode(x_test)            # (n, 7, 7) ints in [0, 128)
        >>> vq.fit_prior(x_train, epochs=20)       # PixelCNN over the index grids
        >>> images = vq.sample(16, seed=0)

    References:
        van den Oord, Vinyals & Kavukcuoglu, "Neural Discrete Representation Learning",
        NeurIPS 2017.
    """

    discrete = True
    dense_architectures = ("mlp",)

    def __init__(
        self,
        input_shape=None,
        latent_dim=16,
        num_embeddings=128,
        commitment_cost=0.25,
        ema=False,
        decay=0.99,
        restart_after=None,
        kmeans_init=False,
        architecture=None,
        hidden_units=None,
        residual_blocks=2,
        residual_units=32,
        num_latents=None,
        prior=None,
        **kwargs,
    ):
        if architecture is None:
            shape = (
                input_shape if input_shape is not None else getattr(kwargs.get("encoder"), "input_shape", ())
            )
            architecture = "conv" if shape is not None and len(tuple(shape)) in (3, 4) else "mlp"
        if architecture == "conv":
            if hidden_units:
                raise ValueError(
                    "VQ-VAE's conv networks have no dense layers; leave `hidden_units` unset. "
                    f"Received: hidden_units={hidden_units!r}"
                )
            hidden_units = ()
        elif num_latents is None:
            num_latents = 16
        if architecture == "conv" and num_latents is not None:
            raise ValueError(
                "Argument `num_latents` is for architecture='mlp' (a conv code is a grid). "
                f"Received: num_latents={num_latents!r}"
            )
        self.num_latents = None if num_latents is None else check_int("num_latents", num_latents)
        self.residual_blocks = check_int("residual_blocks", residual_blocks, minimum=0)
        self.residual_units = check_int("residual_units", residual_units)
        # Checked now, built in `build_encoder` (layers assigned before Model.__init__
        # would not be tracked, and their weights not saved).
        self._quantizer_kwargs = {
            "num_embeddings": check_int("num_embeddings", num_embeddings),
            "embedding_dim": check_int("latent_dim", latent_dim),
            "commitment_cost": check_non_negative("commitment_cost", commitment_cost),
            "ema": check_bool("ema", ema),
            "decay": check_number("decay", decay, minimum=0, maximum=1, exclusive_maximum=True),
            "restart_after": None if restart_after is None else check_int("restart_after", restart_after),
            "kmeans_init": check_bool("kmeans_init", kmeans_init),
        }
        super().__init__(
            input_shape=input_shape,
            latent_dim=latent_dim,
            architecture=architecture,
            hidden_units=hidden_units,
            **kwargs,
        )
        self.prior = None
        if prior is not None:
            self.attach_prior(prior)

    # ----------------------------------------------------------------- networks
    @property
    def num_embeddings(self):
        return self.quantizer.num_embeddings

    @property
    def code_spec(self):
        return CodeSpec(self.latent_grid, "int32", "indices", "indices")

    def build_features(self, inputs):
        if self.architecture == "mlp":
            return encoder_body(inputs, "mlp", self.hidden_units, None, self.activation)
        return residual_encoder_body(inputs, self.filters, self.residual_units, self.residual_blocks)

    def build_encoder(self, inputs, features):
        if self._user_encoder_name is not None:
            z_e = features
            if not hasattr(z_e, "shape") or len(z_e.shape) < 3 or z_e.shape[-1] != self.latent_dim:
                raise ValueError(
                    "A VQ-VAE's encoder must output vectors of size latent_dim (the embedding "
                    f"size) on its last axis, on a grid or sequence. latent_dim={self.latent_dim}; "
                    f"received an encoder output with shape={getattr(z_e, 'shape', z_e)}"
                )
        elif self.architecture == "mlp":
            z_e = keras.layers.Dense(self.num_latents * self.latent_dim, name="pre_quantization")(features)
            z_e = keras.layers.Reshape((self.num_latents, self.latent_dim), name="latent_grid")(z_e)
        else:
            z_e = keras.layers.Conv2D(self.latent_dim, 1, name="pre_quantization")(features)
        self.latent_grid = tuple(z_e.shape[1:-1])
        self.quantizer = VectorQuantizer(**self._quantizer_kwargs, seed=self.seed, name="vector_quantizer")
        self.encoder_network = keras.Model(inputs, z_e, name="encoder_network")
        _, indices = self.quantizer(z_e, return_indices=True)
        return keras.Model(inputs, indices, name="encoder")

    @property
    def decoder_input_shape(self):
        return (*self.latent_grid, self.latent_dim)

    def build_decoder_network(self):
        grid_shape = self.decoder_input_shape
        if self.architecture == "mlp":
            return build_decoder(grid_shape, self.data_shape, "mlp", self.hidden_units, None, self.activation)
        return residual_decoder(
            grid_shape, self.data_shape, self.filters, self.residual_units, self.residual_blocks
        )

    def build_decoder_model(self):
        indices = keras.Input(self.latent_grid, dtype="int32", name="indices")
        vectors = CodebookLookup(self.quantizer, name="codebook_lookup")(indices)
        return keras.Model(indices, self.likelihood(self.decoder_network(vectors)), name="decoder")

    # ----------------------------------------------------------------- forward
    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        z_e = self.encoder_network(x, training=training)
        quantized, indices = self.quantizer(
            z_e, training=training, return_indices=True, sample_weight=sample_weight
        )
        return {
            "code": indices,
            "indices": indices,
            "z_e": z_e,
            "quantized": quantized,
            **self.decode_code(quantized, training=training),
        }

    @property
    def metric_names(self):
        return ("loss", "reconstruction_loss", "vq_loss", "perplexity", "codebook_usage")

    def code_usage(self, indices):
        """Perplexity and fraction of codes used among `indices` (any shape): two scalars."""
        flat = ops.reshape(indices, (-1,))
        counts = ops.segment_sum(ops.ones_like(flat, "float32"), flat, num_segments=self.num_embeddings)
        probs = counts / ops.maximum(ops.sum(counts), 1.0)
        entropy = -ops.sum(ops.where(probs > 0, probs * ops.log(ops.maximum(probs, 1e-12)), 0.0))
        return ops.exp(entropy), ops.mean(ops.cast(counts > 0, "float32"))

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        logs["vq_loss"] = ops.sum(self.quantizer.losses)
        logs["perplexity"], logs["codebook_usage"] = self.code_usage(outputs["indices"])
        return logs

    def score_terms(self, outputs):
        return {"vq_loss": self.quantizer.per_example_loss(outputs["z_e"], outputs["quantized"])}

    def _check_codes(self, z):
        """Index grids for `decode`: integers (or integral floats) in [0, num_embeddings)."""
        z = np.asarray(z)
        shape = self.latent_grid
        if z.ndim >= 1 and len(z) == 0:
            raise ValueError(f"Argument `z` (code indices) holds no codes. Received: z with shape={z.shape}")
        if z.ndim != len(shape) + 1 or tuple(z.shape[1:]) != shape:
            raise ValueError(
                f"Argument `z` (code indices) must have shape (batch, {', '.join(map(str, shape))}). "
                f"Received: z with shape={z.shape}"
            )
        return check_code_indices("z", z, self.num_embeddings, integral_floats=True)

    # ----------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_embeddings": self.num_embeddings,
                "commitment_cost": self.quantizer.commitment_cost,
                "ema": self.quantizer.ema,
                "decay": self.quantizer.decay,
                "restart_after": self.quantizer.restart_after,
                "kmeans_init": self.quantizer.kmeans_init,
                "residual_blocks": self.residual_blocks,
                "residual_units": self.residual_units,
                "num_latents": self.num_latents,
                "prior": None if self.prior is None else keras.saving.serialize_keras_object(self.prior),
            }
        )
        return config
