"""Per-example loss terms, summed over every feature axis.

Scale convention of the whole package: a reconstruction term is the negative
log-likelihood of one example in nats, *summed* over its features (784 terms for
MNIST), and the models average it over the batch. The KL term is summed over latent
dimensions the same way. This is the scale of the ELBO in Kingma & Welling and of
beta in Higgins et al.; with a per-feature mean instead, beta would silently change
meaning by a factor of the input size (Higgins' normalized beta_norm = beta * M / N).
"""

import math

from keras import ops


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
    x = ops.cast(x, logits.dtype)
    values = ops.relu(logits) - x * logits + ops.log1p(ops.exp(-ops.abs(logits)))
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
    x = ops.cast(x, mean.dtype)
    log_variance = ops.cast(log_variance, mean.dtype)
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
    return _sum_features(ops.square(ops.cast(x, mean.dtype) - mean))


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
    return -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
