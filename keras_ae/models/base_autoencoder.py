"""The shared base of every autoencoder: its arguments, forward pass and config (its networks,
training step, Keras entry points and array API are the mixins `Networks`, `TrainingStep`,
`Fitting` and `UserAPI`)."""

import contextlib
import re

import keras
from keras import ops

from keras_ae import backend
from keras_ae._config import check_config
from keras_ae._validation import activation_config, check_activation, check_seed
from keras_ae.architectures import (
    DEFAULT_FILTERS,
    DEFAULT_HIDDEN_UNITS,
    check_architecture,
    check_input_shape,
    check_units,
)
from keras_ae.layers import DynamicBinarization
from keras_ae.layers.seed_state import derived_seed
from keras_ae.losses import get_likelihood
from keras_ae.models.fitting import Fitting
from keras_ae.models.networks import Networks, network_shape
from keras_ae.models.training_step import TrainingStep, weighted_mean  # noqa: F401  (re-exported)
from keras_ae.models.user_api import UserAPI

# The metrics of a model trained on the negative ELBO (the VAE family and DRAW).
ELBO_METRIC_NAMES = ("loss", "reconstruction_loss", "kl_loss", "elbo")
# A model name is the root of its variables' name scopes: TensorFlow's pattern for one.
_SCOPE_NAME = re.compile(r"[A-Za-z0-9.][A-Za-z0-9_.\\/>-]*")


@contextlib.contextmanager
def dtype_policy(policy):
    """A context in which new layers default to the dtype `policy` (Keras' global default
    is per thread, and restored on exit)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


class BaseAutoencoder(UserAPI, Fitting, TrainingStep, Networks, keras.Model):
    """Base class of the zoo: owns the decoder, the likelihood and the training loop.

    The array-level API (`from_preset`, `encode`, `decode`, `reconstruct`, `sample`,
    `export_for_serving`) lives in `UserAPI`; Keras' entry points with their checks and
    defaults (`compile`, `fit`, `evaluate`, `predict`) in `Fitting`; the training and
    evaluation steps in `TrainingStep`; and the building of the encoder and decoder
    networks in `Networks`.

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
        filters: convolution widths (`"conv"` only; default (32, 64)).
        activation: hidden activation of the built-in networks.
        encoder: optional user `keras.Model` mapping an example to features or to the code.
        decoder: optional user `keras.Model` mapping the code to the likelihood's
            parameters (logits for `"bernoulli"`: end it with a linear layer).
        likelihood: `"bernoulli"`, `"gaussian"`, `"mse"` or a `Likelihood` layer.
        seed: integer seed of the model's own random draws (sampling, corruption and the
            evaluation draws of the VAE family); None draws fresh seeds.
        dynamic_binarization: train on a fresh Bernoulli sample of every input (pixel
            intensities in [0, 1] as probabilities) in every training step, as input and as
            target: dynamically binarized MNIST, with plain arrays (`fit(x_grey)`).
            Evaluation and inference see the inputs as given.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Capabilities, declared once on each class and read by export, runs, plotting and
    evaluation (never worked out from a model's attributes):

    - `generative`: the model has a prior to sample from; it implements `sample_graph`,
      and `sample`, the exported `sample` signature and the sample plots work.
    - `variational`: the encoder is a diagonal Gaussian posterior `q(z|x)` (outputs
      `[z_mean, z_log_var, z]`) and the model reports an ELBO; the likelihood metrics of
      `keras_ae.evaluation` apply.
    - `discrete`: codes are integer indices into a codebook (`code_spec`), and the prior
      is learned after the autoencoder (`fit_prior`): VQ-VAE.
    - `dense_architectures`: the architectures whose networks have the dense layers of
      `hidden_units` (all of them, but for VQ-VAE's conv nets and DRAW's LSTMs).
    - `sequential`: the model draws its output in steps (`generation_steps`): DRAW.
    """

    #: Whether the model has a prior to sample from (see `sample_graph`).
    generative = False
    #: Whether the model has a Gaussian posterior q(z|x) and reports an ELBO.
    variational = False
    #: Whether codes are codebook indices with a separately trained prior (`fit_prior`).
    discrete = False
    #: Architectures whose networks have the dense layers of `hidden_units`.
    dense_architectures = ("mlp", "conv")
    #: Whether the model draws its output in steps (`generation_steps`, `attention_boxes`).
    sequential = False

    def __init__(
        self,
        input_shape=None,
        latent_dim=None,
        architecture="mlp",
        hidden_units=None,
        filters=None,
        activation="relu",
        encoder=None,
        decoder=None,
        likelihood="bernoulli",
        seed=None,
        dynamic_binarization=False,
        **kwargs,
    ):
        name = kwargs.get("name")
        if name is not None and not (isinstance(name, str) and _SCOPE_NAME.fullmatch(name)):
            # Checked before Keras sees it: TensorFlow refuses such a name only when the
            # networks are built in its scope, and leaves that scope open behind the error.
            raise ValueError(
                "Argument `name` must start with a letter, digit or '.', followed by letters, digits "
                f"and '_.-/>' (a TensorFlow name scope). Received: name={name!r}"
            )
        super().__init__(**kwargs)
        self.seed = check_seed(seed)
        if not isinstance(dynamic_binarization, bool):
            raise ValueError(
                "Argument `dynamic_binarization` must be True or False. "
                f"Received: dynamic_binarization={dynamic_binarization!r}"
            )
        self.dynamic_binarization = dynamic_binarization
        # A seed of its own: with the model's seed, its uniforms would repeat the bits of
        # the sampling or corruption draws of the same step. In float32 under any policy:
        # the probabilities are the grey levels, which bfloat16 would round.
        self.binarization = (
            DynamicBinarization(
                seed=None if seed is None else derived_seed(seed), dtype="float32", name="binarization"
            )
            if dynamic_binarization
            else None
        )
        if isinstance(encoder, dict):
            encoder = keras.saving.deserialize_keras_object(encoder)
        if isinstance(decoder, dict):
            decoder = keras.saving.deserialize_keras_object(decoder)
        for arg, value in (("encoder", encoder), ("decoder", decoder)):
            if value is not None and not isinstance(value, keras.Model):
                raise ValueError(f"Argument `{arg}` must be a keras.Model or None. Received: {arg}={value!r}")
        if input_shape is None and encoder is not None:
            input_shape = network_shape(encoder, "encoder", "input")
        self.data_shape = check_input_shape(input_shape)
        check_architecture(architecture, self.data_shape)
        self.architecture = architecture
        # The resolved widths (not None), so get_config and run configs say what was built.
        self.hidden_units = check_units(
            "hidden_units", DEFAULT_HIDDEN_UNITS[architecture] if hidden_units is None else hidden_units
        )
        # Convolution widths mean something for "conv" only; an MLP records None.
        if filters is not None:
            check_units("filters", filters, non_empty=architecture == "conv")
        self.filters = (
            tuple(DEFAULT_FILTERS if filters is None else filters) if architecture == "conv" else None
        )
        self._user_decoder = decoder is not None
        self.activation = check_activation("activation", activation)
        self._likelihood_arg = likelihood if isinstance(likelihood, str) else None

        try:
            # The model's own dtype policy (`dtype="mixed_bfloat16"`, or the global policy
            # it was created under and saved with) is every built-in layer's too.
            with dtype_policy(self.dtype_policy):
                self.likelihood = get_likelihood(likelihood)
                self._build_networks(latent_dim, encoder, decoder)
        except Exception as error:
            if not backend.is_out_of_memory(error):
                raise
            shape = re.search(r"shape\[[^\]]*\]", str(error))
            raise ValueError(
                f"{type(self).__name__} does not fit in memory: a weight"
                f"{' of ' + shape.group(0) if shape else ''} is larger than this machine can allocate. "
                "Use smaller sizes. Received: "
                f"input_shape={self.data_shape}, latent_dim={latent_dim}, hidden_units={self.hidden_units}, "
                f"filters={self.filters}"
            ) from None

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

    # ----------------------------------------------------------------- forward
    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        """Runs the model on (already corrupted) inputs and returns a dict of named tensors.

        Keys: `"code"`, `"params"` (the decoder's likelihood parameters) and
        `"reconstruction"` (their mean, see `decode_code`), plus variant-specific entries.

        Args:
            x: the float input batch.
            training: training mode (sampling, train-time k, ...).
            sample_weight: optional per-example weights for terms added with `add_loss`.
            compute_losses: whether the caller wants the loss terms (training, or an
                evaluation step); costly penalties may be skipped when it is False.
        """
        raise NotImplementedError

    def decode_code(self, code, training=False):
        """Decodes codes into `{"params": likelihood parameters, "reconstruction": their mean}`."""
        params = self.decoder_network(code, training=training)
        # Under a mixed-precision policy the networks compute in half precision; what the
        # model returns (predict, reconstruct, serving) is in the variables' float32.
        return {"params": params, "reconstruction": ops.cast(self.likelihood.mean(params), self.dtype)}

    def call(self, inputs, training=False, sample_weight=None, return_outputs=False):
        """Reconstructs `inputs` (or returns every intermediate with `return_outputs=True`).

        In training mode the input is first corrupted (`corrupt`; the identity except for
        the denoising autoencoder), as Keras' noise layers do.

        Args:
            inputs: a float batch shaped `(batch, *input_shape)`.
            training: whether to run in training mode (corruption, sampling).
            sample_weight: optional per-example weights for terms added with `add_loss`.
            return_outputs: return the dict of `forward` (with the clean input under
                `"x"`) instead of the reconstruction.
        """
        self._check_batch(inputs)
        if training and self.binarization is not None:
            # The sample is the input and the target alike.
            inputs = self.binarization(inputs, training=True)
        x = ops.cast(inputs, self.compute_dtype)
        outputs = self.forward(
            self.corrupt(x) if training else x,
            training=training,
            sample_weight=sample_weight,
            compute_losses=bool(training) or return_outputs,
        )
        if not return_outputs:
            return outputs["reconstruction"]
        # The loss target keeps the input's precision (grey levels lose digits in bfloat16).
        outputs["x"] = ops.cast(inputs, self.dtype)
        return outputs

    def corrupt(self, x):
        """The training-time input corruption; the identity unless a variant overrides it."""
        return x

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
                "activation": activation_config(self.activation),
                "seed": self.seed,
                "dynamic_binarization": self.dynamic_binarization,
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
        return cls(**check_config(cls, config))
