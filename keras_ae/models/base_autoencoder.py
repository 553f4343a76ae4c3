"""The shared base of every autoencoder: networks, training step and logged terms."""

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae.architectures import (
    build_decoder,
    check_architecture,
    check_input_shape,
    encoder_body,
)
from keras_ae.losses import BernoulliLikelihood, get_likelihood


def check_latent_dim(latent_dim):
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"Argument `latent_dim` must be an int >= 1. Received: latent_dim={latent_dim!r}")
    return latent_dim


def weighted_mean(values, sample_weight):
    """Mean of per-example `values` over the batch, Keras' "sum_over_batch_size" way:
    `sum(values * sample_weight) / batch_size`."""
    if sample_weight is None:
        return ops.mean(values)
    sample_weight = ops.reshape(ops.cast(sample_weight, values.dtype), ops.shape(values))
    return ops.sum(values * sample_weight) / ops.cast(ops.shape(values)[0], values.dtype)


class BaseAutoencoder(keras.Model):
    """Base class of the zoo: owns the decoder, the likelihood and the training loop.

    A variant builds its encoder in `build_encoder`, defines its forward pass in
    `forward`, and adds loss terms with `add_loss` (or regularizers) during the call.
    The training step sums the reconstruction term and `self.losses`; every term a
    variant reports in `compute_loss_terms` is logged under its own name.

    Scale: the reconstruction loss is the negative log-likelihood of one example,
    summed over its features, averaged over the batch (see `keras_ae.losses`).

    Args:
        input_shape: shape of one example, without the batch axis: `(784,)` or `(28, 28, 1)`.
            Optional when `encoder` is given (read from it).
        latent_dim: size of the code. Optional when `encoder` is given.
        architecture: `"mlp"` or `"conv"` for the built-in networks.
        hidden_units: dense layer widths of the encoder (the decoder mirrors them).
        filters: convolution widths (`"conv"` only).
        activation: hidden activation of the built-in networks.
        encoder: optional user `keras.Model` mapping an example to features or to the code.
        decoder: optional user `keras.Model` mapping the code to the likelihood's
            parameters (logits for `"bernoulli"`: end it with a linear layer).
        likelihood: `"bernoulli"`, `"gaussian"`, `"mse"` or a `Likelihood` layer.
        **kwargs: base `keras.Model` arguments (`name`, ...).
    """

    def __init__(
        self,
        input_shape=None,
        latent_dim=None,
        architecture="mlp",
        hidden_units=None,
        filters=(32, 64),
        activation="relu",
        encoder=None,
        decoder=None,
        likelihood="bernoulli",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if isinstance(decoder, dict):
            decoder = keras.saving.deserialize_keras_object(decoder)
        for arg, value in (("encoder", encoder), ("decoder", decoder)):
            if value is not None and not isinstance(value, keras.Model):
                raise ValueError(f"Argument `{arg}` must be a keras.Model or None. Received: {arg}={value!r}")
        if input_shape is None and encoder is not None:
            input_shape = tuple(encoder.input_shape[1:])
        self.data_shape = check_input_shape(input_shape)
        check_architecture(architecture, self.data_shape if encoder is None else ())
        self.architecture = architecture
        self.hidden_units = None if hidden_units is None else tuple(hidden_units)
        self.filters = tuple(filters)
        self.activation = activation
        self.likelihood = get_likelihood(likelihood)
        self._likelihood_arg = likelihood if isinstance(likelihood, str) else None

        inputs = keras.Input(self.data_shape, name="x")
        if encoder is None:
            self._user_encoder_name = None
            features = encoder_body(inputs, architecture, hidden_units, filters, activation)
        else:
            if tuple(encoder.input_shape[1:]) != self.data_shape:
                raise ValueError(
                    f"The encoder's input shape {tuple(encoder.input_shape[1:])} does not match "
                    f"input_shape={self.data_shape}."
                )
            self._user_encoder_name = encoder.name
            features = encoder(inputs)
        self.latent_dim = latent_dim
        self.encoder = self.build_encoder(inputs, features)
        self.latent_dim = check_latent_dim(self.latent_dim)

        if decoder is None:
            self._user_decoder = False
            self.decoder_network = self.build_decoder_network()
        else:
            self._user_decoder = True
            self._check_user_decoder(decoder)
            self.decoder_network = decoder
        z = keras.Input((self.latent_dim,), name="z")
        # `.decoder` maps codes to reconstructions in data space (probabilities for a
        # Bernoulli likelihood), as in the keras-io VAE example; training uses the
        # likelihood parameters of `decoder_network` directly for numerical stability.
        self.decoder = keras.Model(z, self.likelihood(self.decoder_network(z)), name="decoder")

        # Optimizer steps taken by `train_step`; schedules (capacity, k) read it.
        # It is a weight of the model, so it is saved and restored with it.
        self.train_step_count = self.add_weight(
            name="train_step_count",
            shape=(),
            dtype="int64",
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
        )
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        self.built = True

    # ----------------------------------------------------------------- networks
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

    def _check_user_decoder(self, decoder):
        if tuple(decoder.input_shape[1:]) != (self.latent_dim,):
            raise ValueError(
                f"The decoder's input shape {tuple(decoder.input_shape[1:])} does not match "
                f"latent_dim={self.latent_dim}."
            )
        if tuple(decoder.output_shape[1:]) != self.data_shape:
            raise ValueError(
                f"The decoder's output shape {tuple(decoder.output_shape[1:])} does not match "
                f"input_shape={self.data_shape}."
            )
        last = decoder.layers[-1]
        if getattr(last, "activation", None) is keras.activations.sigmoid and isinstance(
            self.likelihood, BernoulliLikelihood
        ):
            raise ValueError(
                "With likelihood='bernoulli' the decoder must output logits: end it with a linear "
                f"layer. Received: a decoder whose last layer {last.name!r} applies a sigmoid."
            )

    # ----------------------------------------------------------------- forward
    def forward(self, x, training=False, sample_weight=None):
        """Runs the model and returns a dict of named tensors.

        Keys: `"code"`, `"params"` (the decoder's likelihood parameters) and
        `"reconstruction"` (their mean), plus variant-specific entries.
        """
        raise NotImplementedError

    def call(self, inputs, training=False, sample_weight=None, return_outputs=False):
        """Reconstructs `inputs` (or returns every intermediate with `return_outputs=True`).

        Args:
            inputs: a float batch shaped `(batch, *input_shape)`.
            training: whether to run in training mode (corruption, sampling).
            sample_weight: optional per-example weights for terms added with `add_loss`.
            return_outputs: return the dict of `forward` instead of the reconstruction.
        """
        self._check_batch(inputs)
        outputs = self.forward(inputs, training=training, sample_weight=sample_weight)
        return outputs if return_outputs else outputs["reconstruction"]

    def _check_batch(self, x):
        if not hasattr(x, "dtype") or not hasattr(x, "shape"):
            raise ValueError(f"Expected a float tensor or array for `x`. Received: x={type(x).__name__}")
        if "float" not in str(getattr(x.dtype, "name", x.dtype)):
            raise ValueError(
                "Inputs `x` must be floating point (e.g. x.astype('float32') / 255). "
                f"Received: x with dtype={getattr(x.dtype, 'name', x.dtype)}"
            )
        shape = tuple(x.shape)
        if len(shape) != len(self.data_shape) + 1 or any(
            d is not None and d != e for d, e in zip(shape[1:], self.data_shape, strict=False)
        ):
            raise ValueError(
                f"Inputs `x` must have shape (batch, {', '.join(map(str, self.data_shape))}) to fit "
                f"input_shape={self.data_shape}. Received: x with shape={shape}"
            )

    # ----------------------------------------------------------------- losses
    @property
    def metric_names(self):
        """Names of the logged terms, in order; variants extend it."""
        return ("loss", "reconstruction_loss")

    def compute_loss_terms(self, x, outputs, sample_weight=None):
        """Returns the named scalar terms to log; `"reconstruction_loss"` is optimized.

        Every other optimized term reaches the loss through `self.losses`. Variants
        extend the dict with diagnostics (KL, ELBO, capacity, ...).
        """
        nll = self.likelihood.nll(x, outputs["params"])
        return {"reconstruction_loss": weighted_mean(nll, sample_weight)}

    def corrupt(self, x):
        """The training-time input corruption; the identity unless a variant overrides it."""
        return x

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _unpack(self, data):
        x, _, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if isinstance(x, (tuple, list)) and len(x) == 1:
            x = x[0]
        self._check_batch(x)
        x = tf.debugging.check_numerics(
            ops.cast(x, self.compute_dtype), "keras_ae: the input batch `x` contains NaN or Inf"
        )
        return x, sample_weight

    def _step(self, data, training):
        x, sample_weight = self._unpack(data)
        inputs = self.corrupt(x) if training else x
        outputs = self(inputs, training=training, sample_weight=sample_weight, return_outputs=True)
        logs = self.compute_loss_terms(x, outputs, sample_weight)
        loss = logs["reconstruction_loss"]
        if self.losses:
            loss = loss + ops.sum(self.losses)
        logs["loss"] = loss
        return x, loss, logs

    def _replica_weight(self, batch_size):
        """Fraction of the global batch held by this replica (1 without distribution).

        Each replica's loss is an average over its local examples; weighting it by
        local/global batch size makes the all-reduced gradient that of the global batch.
        """
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return 1.0
        local = ops.cast(batch_size, "float32")
        return local / context.all_reduce(tf.distribute.ReduceOp.SUM, local)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            x, loss, logs = self._step(data, training=True)
            scaled_loss = loss * ops.cast(self._replica_weight(ops.shape(x)[0]), loss.dtype)
            scaled_loss = self.optimizer.scale_loss(scaled_loss)
        variables = self.trainable_variables
        gradients = tape.gradient(scaled_loss, variables)
        self.optimizer.apply(gradients, variables)
        self.train_step_count.assign_add(1)
        return self._update_trackers(logs, ops.shape(x)[0])

    def test_step(self, data):
        x, _, logs = self._step(data, training=False)
        return self._update_trackers(logs, ops.shape(x)[0])

    def _update_trackers(self, logs, batch_size):
        for name, tracker in self.trackers.items():
            tracker.update_state(logs[name], sample_weight=batch_size)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    # ----------------------------------------------------------------- numpy API
    def _check_array(self, x, arg="x"):
        """Eager checks of array inputs, so bad data fails before any graph is traced."""
        if isinstance(x, (tuple, list)) and len(x) >= 1:
            x = x[0]
        if not isinstance(x, np.ndarray):
            return
        self._check_batch(x)
        if not np.isfinite(x).all():
            raise ValueError(
                f"Argument `{arg}` contains NaN or Inf values. Received: {arg} with shape={x.shape}"
            )
        self.likelihood.check_targets(x)

    def fit(self, x=None, y=None, *args, validation_data=None, **kwargs):
        self._check_array(x)
        if validation_data is not None:
            self._check_array(validation_data, "validation_data")
        return super().fit(x, y, *args, validation_data=validation_data, **kwargs)

    def evaluate(self, x=None, *args, **kwargs):
        self._check_array(x)
        return super().evaluate(x, *args, **kwargs)

    def predict(self, x, *args, **kwargs):
        self._check_array(x)
        return super().predict(x, *args, **kwargs)

    def encode(self, x, batch_size=256):
        """Returns the codes of `x` as a numpy array (the posterior mean for a VAE)."""
        self._check_array(x)
        codes = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        return codes[0] if isinstance(codes, (list, tuple)) else codes

    def decode(self, z, batch_size=256):
        """Returns the reconstructions (likelihood means) of codes `z` as a numpy array."""
        z = np.asarray(z, dtype="float32")
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(
                f"Argument `z` must have shape (batch, {self.latent_dim}). Received: z with shape={z.shape}"
            )
        return self.decoder.predict(z, batch_size=batch_size, verbose=0)

    def reconstruct(self, x, batch_size=256):
        """Returns the deterministic reconstructions of `x` as a numpy array."""
        return self.predict(x, batch_size=batch_size, verbose=0)

    # ----------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        encoder = None
        if self._user_encoder_name is not None:
            encoder = keras.saving.serialize_keras_object(self.encoder.get_layer(self._user_encoder_name))
        config.update(
            {
                "input_shape": self.data_shape,
                "latent_dim": self.latent_dim,
                "architecture": self.architecture,
                "hidden_units": self.hidden_units,
                "filters": self.filters,
                "activation": self.activation,
                "encoder": encoder,
                "decoder": keras.saving.serialize_keras_object(self.decoder_network)
                if self._user_decoder
                else None,
                "likelihood": self._likelihood_arg
                if self._likelihood_arg is not None
                else keras.saving.serialize_keras_object(self.likelihood),
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)
