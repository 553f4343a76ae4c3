"""Decoder likelihoods: what the decoder's output parameterizes and how it is scored.

A likelihood is a small Keras layer so that a learned variance is an ordinary
weight of the model, saved and restored with it.
"""

import math

import keras
from keras import ops

from keras_ae._config import KnownConfig
from keras_ae._validation import check_bool, check_number
from keras_ae.losses.functional import bernoulli_nll, gaussian_nll, squared_error


class Likelihood(KnownConfig, keras.layers.Layer):
    """Base class: maps decoder outputs to a mean and scores targets against them.

    Subclasses implement `nll(x, params)` (per example, summed over features) and
    `mean(params)`. `check_targets(x)` raises for targets outside the support.
    """

    name_in_registry = None
    #: Whether `nll` is a normalized density's negative log (with every constant), so that
    #: the ELBO and importance-weighted bounds are bounds on log p(x) in nats.
    normalized = True

    def call(self, params):
        # The decoder model's output: float32 (the variables' dtype) under a mixed-precision
        # policy too, as Keras advises for a model's last layer.
        return ops.cast(self.mean(params), self.dtype)

    def mean(self, params):
        raise NotImplementedError

    def nll(self, x, params):
        raise NotImplementedError

    def check_targets(self, x):
        """Validates a numpy batch of targets; the default accepts any finite values."""

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="keras_ae")
class BernoulliLikelihood(Likelihood):
    """Independent Bernoulli pixels; the decoder outputs logits.

    Targets must lie in [0, 1] (binary or grey levels, as in most MNIST VAEs).

    Example:
        >>> BernoulliLikelihood().nll(x, logits)  # (batch,) nats

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, appendix C.1.
    """

    name_in_registry = "bernoulli"

    def mean(self, params):
        return ops.sigmoid(params)

    def nll(self, x, params):
        return bernoulli_nll(x, params)

    def check_targets(self, x):
        low, high = float(x.min()), float(x.max())
        if low < 0.0 or high > 1.0:
            raise ValueError(
                "likelihood='bernoulli' needs inputs in [0, 1]; scale the data (e.g. x / 255) "
                f"or use likelihood='gaussian'. Received: inputs with min={low}, max={high}"
            )


@keras.saving.register_keras_serializable(package="keras_ae")
class GaussianLikelihood(Likelihood):
    """Independent Gaussian features with one shared variance; the decoder outputs means.

    Args:
        variance: the (initial) variance, > 0.
        learn_variance: whether the log-variance is a trainable weight.
        **kwargs: base `Layer` arguments.

    Example:
        >>> GaussianLikelihood(variance=0.1, learn_variance=True)

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, appendix C.2.
    """

    name_in_registry = "gaussian"

    def __init__(self, variance=1.0, learn_variance=False, **kwargs):
        super().__init__(**kwargs)
        self.variance = check_number("variance", variance, minimum=0, exclusive_minimum=True)
        self.learn_variance = check_bool("learn_variance", learn_variance)
        self.log_variance = self.add_weight(
            name="log_variance",
            shape=(),
            initializer=keras.initializers.Constant(math.log(self.variance)),
            trainable=self.learn_variance,
        )
        self.built = True

    def mean(self, params):
        return params

    def nll(self, x, params):
        return gaussian_nll(x, params, self.log_variance)

    def get_config(self):
        config = super().get_config()
        config.update({"variance": self.variance, "learn_variance": self.learn_variance})
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
class MeanSquaredErrorLikelihood(Likelihood):
    """Sum of squared errors, i.e. a Gaussian with variance 1/2 up to a constant.

    Example:
        >>> MeanSquaredErrorLikelihood().nll(x, x_hat)  # (batch,)
    """

    name_in_registry = "mse"
    # The squared error leaves out the Gaussian's constant (D/2) log(pi): a training loss,
    # not a log-density, so no bound on log p(x) is computed from it.
    normalized = False

    def mean(self, params):
        return params

    def nll(self, x, params):
        return squared_error(x, params)


LIKELIHOODS = {
    cls.name_in_registry: cls for cls in (BernoulliLikelihood, GaussianLikelihood, MeanSquaredErrorLikelihood)
}


def get_likelihood(likelihood):
    """Returns a likelihood layer from a name (`"bernoulli"`, `"gaussian"`, `"mse"`), a
    `{"name": ..., **arguments}` dict, a serialized config, or a `Likelihood` instance."""
    if isinstance(likelihood, Likelihood):
        return likelihood
    if isinstance(likelihood, dict) and "class_name" not in likelihood:
        # The short form of run configs: {"name": "gaussian", "variance": 0.05}.
        options = dict(likelihood)
        name = options.pop("name", None)
        if not isinstance(name, str) or name not in LIKELIHOODS:
            raise ValueError(
                f"Unknown likelihood. Expected one of {sorted(LIKELIHOODS)}. Received: likelihood={likelihood!r}"
            )
        try:
            return LIKELIHOODS[name](**options)
        except TypeError as error:  # an option the likelihood does not take
            raise ValueError(
                f"Invalid likelihood options ({error}). Received: likelihood={likelihood!r}"
            ) from None
    if isinstance(likelihood, dict):
        restored = keras.saving.deserialize_keras_object(likelihood)
        if not isinstance(restored, Likelihood):
            raise ValueError(
                f"The config does not describe a likelihood. Received: likelihood={likelihood!r}"
            )
        return restored
    if isinstance(likelihood, str) and likelihood in LIKELIHOODS:
        return LIKELIHOODS[likelihood]()
    raise ValueError(
        f"Unknown likelihood. Expected one of {sorted(LIKELIHOODS)} or a Likelihood instance. "
        f"Received: likelihood={likelihood!r}"
    )
