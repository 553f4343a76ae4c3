"""Per-example loss terms, summed over every feature axis.

Scale convention of the whole package: a reconstruction term is the negative
log-likelihood of one example in nats, *summed* over its features (784 terms for
MNIST), and the models average it over the batch. The KL term is summed over latent
dimensions the same way. This is the scale of the ELBO in Kingma & Welling and of
beta in Higgins et al.; with a per-feature mean instead, beta would silently change
meaning by a factor of the input size (Higgins' normalized beta_norm = beta * M / N).

Under a mixed-precision policy (`keras.mixed_precision.set_global_policy("mixed_bfloat16")`)
the networks compute in half precision, but every term here is computed and returned in
float32 (`loss_dtype`).
"""

import math

import keras
from keras import ops

#: Half-precision dtypes that a mixed-precision policy computes in. Losses are never
#: computed in them: a sum of 784 per-pixel terms in bfloat16 keeps 3 significant digits.
HALF_DTYPES = ("float16", "bfloat16")


def loss_dtype(dtype):
    """The dtype a loss is computed in for inputs of `dtype`: float32 for half precision
    (mixed-precision policies), the dtype itself otherwise."""
    dtype = keras.backend.standardize_dtype(dtype)
    return "float32" if dtype in HALF_DTYPES else dtype


def in_loss_dtype(*tensors):
    """`tensors` cast to the loss dtype of the first one (see `loss_dtype`)."""
    dtype = loss_dtype(tensors[0].dtype)
    return tuple(ops.cast(t, dtype) for t in tensors)


def _sum_features(values):
    """Sums every axis but the first (batch) one."""
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)


def bernoulli_nll(x, logits):
    """Negative Bernoulli log-likelihood from logits, per example.

    Uses `max(l, 0) - x * l + log(1 + exp(-|l|))`, which never overflows, and is
    valid for any `x` in [0, 1] (continuous-Bernoulli-free "binary cross-entropy").

    Args:
        x: targets in [0, 1], shape `(batch, ...)`.
        logits: decoder logits, same shape.

    Returns:
        A `(batch,)` tensor of nats.
    """
    logits, x = in_loss_dtype(logits, x)
    # max(l, 0) and -|l| through one `where`, as TensorFlow's sigmoid cross-entropy does: the
    # gradients of relu and abs at exactly 0 are both 0, which made the gradient at a zero
    # logit -x instead of sigmoid(0) - x = 0.5 - x.
    positive = logits >= 0
    relu_logits = ops.where(positive, logits, ops.zeros_like(logits))
    neg_abs_logits = ops.where(positive, -logits, logits)
    values = relu_logits - x * logits + ops.log1p(ops.exp(neg_abs_logits))
    return _sum_features(values)


def gaussian_nll(x, mean, log_variance):
    """Negative Gaussian log-likelihood `0.5 * (log(2 pi var) + (x - mu)^2 / var)`, per example.

    Args:
        x: targets, shape `(batch, ...)`.
        mean: decoder means, same shape.
        log_variance: log-variance, broadcastable to `mean` (a scalar for a shared variance).

    Returns:
        A `(batch,)` tensor of nats.
    """
    mean, x, log_variance = in_loss_dtype(mean, x, log_variance)
    values = 0.5 * (math.log(2.0 * math.pi) + log_variance + ops.square(x - mean) * ops.exp(-log_variance))
    # Broadcasting a scalar log-variance still yields one term per feature.
    values = values + ops.zeros_like(mean)
    return _sum_features(values)


def squared_error(x, mean):
    """Sum of squared errors per example (not a per-feature mean).

    Args:
        x: targets, shape `(batch, ...)`.
        mean: reconstructions, same shape.

    Returns:
        A `(batch,)` tensor.
    """
    mean, x = in_loss_dtype(mean, x)
    return _sum_features(ops.square(x - mean))


def gaussian_kl(z_mean, z_log_var):
    """KL(N(z_mean, exp(z_log_var)) || N(0, I)) in closed form, per example.

    `-0.5 * sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)`.

    Args:
        z_mean: posterior means, shape `(batch, latent_dim)`.
        z_log_var: posterior log-variances, same shape.

    Returns:
        A `(batch,)` tensor of nats.

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, appendix B.
    """
    z_mean, z_log_var = in_loss_dtype(z_mean, z_log_var)
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
