"""The plain (deterministic) autoencoder."""

import keras

from keras_ae._validation import activation_config, check_activation, check_bool, check_int
from keras_ae.layers import DenseTranspose
from keras_ae.models.base_autoencoder import BaseAutoencoder
from keras_ae.registry import register_model


def is_sigmoid(activation):
    """Whether `activation` (a name or a function) is the logistic sigmoid."""
    try:
        return keras.activations.get(activation) is keras.activations.sigmoid
    except (ValueError, TypeError):
        return False


@register_model("autoencoder")
class Autoencoder(BaseAutoencoder):
    """Deterministic autoencoder `x -> h = f(x) -> g(h)`, trained by reconstruction alone.

    Args:
        input_shape: shape of one example, e.g. `(784,)` or `(28, 28, 1)`.
        latent_dim: size of the code `h`; inferred from a user `encoder` if omitted.
        code_activation: activation of the code layer of the built-in encoder.
        tied_weights: decode with the transpose of the encoder's kernel
            (`DenseTranspose`, own bias) instead of a separate decoder. Needs a single
            dense encoder layer: `architecture="mlp"`, `hidden_units=()`, no user
            `encoder` or `decoder`.
        **kwargs: see `BaseAutoencoder` (architecture, hidden_units, filters, activation,
            encoder, decoder, likelihood, name).

    Returns:
        Called on a batch, the reconstruction (the likelihood mean, e.g. pixel probabilities).

    Example:
        >>> model = keras_ae.create_model("autoencoder", input_shape=(784,), latent_dim=32)
        >>> model.compile(optimizer="adam")
        >>> model.fit(x_train, epochs=5)

    References:
        Hinton & Salakhutdinov, "Reducing the Dimensionality of Data with Neural
        Networks", Science 313, 2006.
    """

    def __init__(
        self, input_shape=None, latent_dim=None, code_activation="linear", tied_weights=False, **kwargs
    ):
        self.code_activation = check_activation("code_activation", code_activation)
        self.tied_weights = check_bool("tied_weights", tied_weights)
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, **kwargs)

    def _check_tied_weights(self):
        user = [
            arg
            for arg, given in (
                ("encoder", self._user_encoder_name is not None),
                ("decoder", self._user_decoder),
            )
            if given
        ]
        if self.architecture != "mlp" or self.hidden_units != () or user:
            raise ValueError(
                "tied_weights=True needs a single dense encoder layer: architecture='mlp', "
                "hidden_units=() and no user encoder or decoder. Received: "
                f"architecture={self.architecture!r}, hidden_units={self.hidden_units!r}"
                + (f", a user {' and '.join(user)}" if user else "")
            )

    def build_encoder(self, inputs, features):
        if self.tied_weights:
            self._check_tied_weights()
        if self._user_encoder_name is None:
            if self.latent_dim is None:
                raise ValueError(
                    "Argument `latent_dim` is required without a user encoder. Received: latent_dim=None"
                )
            code = self.code_layer(features)
        else:
            # A user encoder's output *is* the code.
            if isinstance(features, (list, tuple)) or len(features.shape) != 2:
                raise ValueError(
                    "A user encoder of an Autoencoder must output a (batch, latent_dim) code. "
                    f"Received: encoder outputs {features}"
                )
            if self.latent_dim is None:
                self.latent_dim = features.shape[-1]
            elif features.shape[-1] != self.latent_dim:
                raise ValueError(
                    f"The encoder outputs codes of size {features.shape[-1]}, which does not match "
                    f"latent_dim={self.latent_dim}."
                )
            code = features
        return keras.Model(inputs, code, name="encoder")

    def code_layer(self, features, **layer_kwargs):
        """Applies the code layer of the built-in encoder; variants attach regularizers here.

        Args:
            features: the symbolic output of the encoder body.
            **layer_kwargs: further `Dense` arguments, e.g. `activity_regularizer`.
        """
        check_int("latent_dim", self.latent_dim)
        return keras.layers.Dense(
            self.latent_dim, activation=self.code_activation, name="code", **layer_kwargs
        )(features)

    def build_decoder_network(self):
        if not self.tied_weights:
            return super().build_decoder_network()
        # The single code layer reads the flattened input: its transpose writes it back.
        z = keras.Input((self.latent_dim,), name="z")
        flat = DenseTranspose(self.encoder.get_layer("code"), name="decoder_output")(z)
        outputs = keras.layers.Reshape(self.data_shape, name="decoder_reshape")(flat)
        return keras.Model(z, outputs, name="decoder_network")

    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        code = self.encoder(x, training=training)
        return {"code": code, **self.decode_code(code, training=training)}

    def get_config(self):
        config = super().get_config()
        config["code_activation"] = activation_config(self.code_activation)
        config["tied_weights"] = self.tied_weights
        return config
