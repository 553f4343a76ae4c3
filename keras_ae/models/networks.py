"""How every autoencoder builds its networks: the encoder, the decoder and its code spec."""

import collections

import keras

from keras_ae._validation import check_int
from keras_ae.architectures import build_decoder, encoder_body
from keras_ae.losses import BernoulliLikelihood


def network_shape(network, arg, which):
    """The per-example `input_shape` or `output_shape` (`which`) of a user's network, or a
    ValueError naming `arg` when the network has none: a subclassed `keras.Model`, or a
    `keras.Sequential` without a `keras.Input`, has no shape before it is called."""
    try:
        shape = getattr(network, f"{which}_shape")
    except (AttributeError, ValueError):
        shape = None
    if not isinstance(shape, tuple) or not shape:
        raise ValueError(
            f"Argument `{arg}` must have a defined {which} shape: a functional keras.Model, or a "
            "keras.Sequential that starts with keras.Input(shape). Received: "
            f"{arg}={network.name!r} of type {type(network).__name__}"
        )
    return tuple(shape[1:])


class CodeSpec(collections.namedtuple("CodeSpec", ["shape", "dtype", "input_name", "output_name"])):
    """Shape (no batch axis) and dtype of a model's codes, and their names in the export."""


class Networks:
    """Mixin of `BaseAutoencoder` (before `keras.Model` in its bases): builds the networks.

    `BaseAutoencoder.__init__` calls `_build_networks` once, under the model's dtype policy,
    after it has resolved `data_shape`, `architecture`, `hidden_units`, `filters`,
    `activation` and `likelihood`. A variant overrides `build_encoder` (always) and
    `build_decoder_network`, `decoder_input_shape` or `code_spec` where its decoder or
    codes differ.
    """

    def _build_networks(self, latent_dim, encoder, decoder):
        """Builds `encoder`, `decoder_network` and `decoder` (the user's or the built-in ones)."""
        inputs = keras.Input(self.data_shape, name="x")
        if encoder is None:
            self._user_encoder_name = None
            features = self.build_features(inputs)
        else:
            received = network_shape(encoder, "encoder", "input")
            if received != self.data_shape:
                raise ValueError(
                    f"The encoder's input shape {received} does not match input_shape={self.data_shape}."
                )
            self._user_encoder_name = encoder.name
            features = encoder(inputs)
        # None: inferred from a user encoder in `build_encoder`, then checked below.
        self.latent_dim = None if latent_dim is None else check_int("latent_dim", latent_dim)
        self.encoder = self.build_encoder(inputs, features)
        self.latent_dim = check_int("latent_dim", self.latent_dim)

        if decoder is None:
            self.decoder_network = self.build_decoder_network()
        else:
            self._check_user_decoder(decoder)
            self.decoder_network = decoder
        self.decoder = self.build_decoder_model()

    @property
    def code_spec(self):
        """What `encode` returns and `decode` takes, per example: a `CodeSpec`.

        `shape` (without the batch axis), `dtype`, and the names of the code as the
        exported `decode` input and `encode` output. Continuous codes by default; VQ-VAE's
        codes are integer index grids.
        """
        return CodeSpec((self.latent_dim,), "float32", "z", "code")

    def build_features(self, inputs):
        """Returns the built-in encoder body's features of the symbolic `inputs`."""
        return encoder_body(inputs, self.architecture, self.hidden_units, self.filters, self.activation)

    def build_decoder_model(self):
        """Returns `.decoder`: a model from codes (`code_spec`) to data-space reconstructions.

        Reconstructions are the likelihood's means (probabilities for a Bernoulli
        likelihood), as in the keras-io VAE example; training uses the likelihood
        parameters of `decoder_network` directly, for numerical stability.
        """
        spec = self.code_spec
        z = keras.Input(spec.shape, dtype=spec.dtype, name=spec.input_name)
        return keras.Model(z, self.likelihood(self.decoder_network(z)), name="decoder")

    def build_encoder(self, inputs, features):
        """Returns the encoder `keras.Model` from the symbolic `inputs` and `features`.

        Subclasses set `self.latent_dim` here when it was inferred from a user encoder.
        """
        raise NotImplementedError

    def build_decoder_network(self):
        """Returns the built-in decoder network (code -> likelihood parameters).

        Called after `build_encoder`, so variants may reuse encoder layers (tied weights).
        """
        return build_decoder(
            self.latent_dim,
            self.data_shape,
            self.architecture,
            self.hidden_units,
            self.filters,
            self.activation,
        )

    @property
    def decoder_input_shape(self):
        """What a decoder network takes, per example: the code, `(latent_dim,)`; VQ-VAE's
        takes the quantized grid."""
        return (self.latent_dim,)

    def _check_user_decoder(self, decoder):
        expected = self.decoder_input_shape
        received = network_shape(decoder, "decoder", "input")
        if received != expected:
            raise ValueError(
                f"The decoder's input shape {received} does not match "
                f"latent_dim={self.latent_dim}: it must be {expected}."
            )
        received = network_shape(decoder, "decoder", "output")
        if received != self.data_shape:
            raise ValueError(
                f"The decoder's output shape {received} does not match input_shape={self.data_shape}."
            )
        last = decoder.layers[-1]
        if getattr(last, "activation", None) is keras.activations.sigmoid and isinstance(
            self.likelihood, BernoulliLikelihood
        ):
            raise ValueError(
                "With likelihood='bernoulli' the decoder must output logits: end it with a linear "
                f"layer. Received: a decoder whose last layer {last.name!r} applies a sigmoid."
            )
