"""Likelihood evaluation of VAE-family models (and DRAW): ELBO split, importance-weighted
log p(x), active units.

All functions read the model through three public pieces: `model.encoder` (outputs
`[z_mean, z_log_var, z]`), `model.decoder_network` (codes -> likelihood parameters) and
`model.likelihood.nll(x, params)` (per-example negative log-likelihood, summed over
features). Values are in nats per example.
"""

import math
import warnings

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae._validation import check_int
from keras_ae.losses import gaussian_kl
from keras_ae.losses.functional import loss_dtype

_LOG_2PI = math.log(2.0 * math.pi)


def _check_vae(model):
    if not getattr(model, "variational", False):
        raise ValueError(
            "Expected a variational model (model.variational is True: the VAE family, whose "
            f"encoder outputs [z_mean, z_log_var, z]). Received: model of type {type(model).__name__}"
        )


def _check_iwae(model):
    if getattr(model, "variational", False) or hasattr(model, "log_importance_weights"):
        return
    raise ValueError(
        "Expected a variational model (the VAE family) or one with `log_importance_weights` "
        f"(DRAW). Received: model of type {type(model).__name__}"
    )


def _check_density(model):
    """Bounds on log p(x) need a likelihood that is a normalized density."""
    if not model.likelihood.normalized:
        raise ValueError(
            f"The model's likelihood ({model.likelihood.name_in_registry!r}) scores squared errors "
            "without the Gaussian's normalizing constant, so the ELBO and L_k would not be bounds "
            "on log p(x) in nats. Train with likelihood='gaussian' (a Gaussian with a variance) or "
            f"'bernoulli'. Received: likelihood={model.likelihood.name_in_registry!r}"
        )


def _warn_if_not_a_density_of(model, x):
    """A Bernoulli likelihood is a probability of binary pixels: on grey levels in (0, 1)
    its terms are not the log of a normalized density (the continuous Bernoulli's
    normalizing constant, at least ln 2 per pixel, is missing), so the ELBO and L_k are not
    bounds on log p(x) and do not compare with binarized-MNIST figures. Warned, not refused:
    on grey images they are still the objective the model trained on."""
    if getattr(model.likelihood, "name_in_registry", None) != "bernoulli":
        return
    grey = int(np.count_nonzero((x != 0) & (x != 1)))
    if grey:
        warnings.warn(
            f"`x` holds {grey} values strictly between 0 and 1, and the model's likelihood is "
            "Bernoulli: on grey levels these are not bounds on log p(x) in nats (Loaiza-Ganem & "
            "Cunningham 2019), and do not compare with published figures on binarized MNIST. "
            "Binarize x first, e.g. (rng.uniform(size=x.shape) < x).astype('float32').",
            UserWarning,
            stacklevel=3,
        )


def _as_float_array(model, x):
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"Argument `x` must be floating point (e.g. x.astype('float32') / 255). Received: x with dtype={x.dtype}"
        )
    if x.shape[1:] != tuple(model.data_shape):
        raise ValueError(
            f"Argument `x` must have shape (n, {', '.join(map(str, model.data_shape))}). Received: x with shape={x.shape}"
        )
    # The checks of fit and predict: examples present, finite, in the likelihood's support
    # (a Bernoulli model given 0..255 pixels would report a log-likelihood of -1e6).
    model._check_array(x)
    return x.astype(_dtype(model))


def _dtype(model):
    """The dtype the estimates compute in: float32 for a model whose networks compute in
    half precision (a mixed-precision policy), whose rounding would swamp the log weights."""
    return loss_dtype(model.compute_dtype)


def _log_weights_function(model, jit_compile):
    """A compiled `(x, z_mean, z_log_var, eps) -> log p(x, z) - log q(z | x)` for one chunk.

    `x` is `(b, ...)`, `eps` `(b, c, d)`: `c` importance samples for each of `b` examples.
    """

    d, dtype = model.latent_dim, _dtype(model)
    signature = [
        tf.TensorSpec((None, *model.data_shape), dtype),
        tf.TensorSpec((None, d), dtype),
        tf.TensorSpec((None, d), dtype),
        tf.TensorSpec((None, None, d), dtype),
    ]

    # One trace for every chunk shape: batch and sample axes are left unknown.
    @tf.function(input_signature=signature, jit_compile=jit_compile)
    def log_weights(x, z_mean, z_log_var, eps):
        b, c, d = ops.shape(eps)[0], ops.shape(eps)[1], ops.shape(eps)[2]
        z = z_mean[:, None, :] + ops.exp(0.5 * z_log_var)[:, None, :] * eps
        # log q(z|x) with z = mu + sigma * eps: the Gaussian density of eps, divided by sigma.
        log_q = ops.sum(-0.5 * ops.square(eps) - 0.5 * z_log_var[:, None, :] - 0.5 * _LOG_2PI, axis=-1)
        log_prior = ops.sum(-0.5 * ops.square(z) - 0.5 * _LOG_2PI, axis=-1)
        params = model.decoder_network(ops.reshape(z, (b * c, d)), training=False)
        x_repeated = ops.repeat(x, c, axis=0)
        log_likelihood = -model.likelihood.nll(x_repeated, params)
        return ops.reshape(log_likelihood, (b, c)) + log_prior - log_q

    return log_weights


def _sequential_log_weights_function(model, jit_compile):
    """A compiled `(x, eps) -> log p(x, z) - log q(z | x)` for models whose posterior is a
    sequence (DRAW): `eps` `(b, c, *code_shape)` are the standard normal draws of `c` paths
    for each of `b` examples; the model runs each path (`log_importance_weights`)."""
    shape, dtype = tuple(model.code_spec.shape), _dtype(model)
    signature = [tf.TensorSpec((None, *model.data_shape), dtype), tf.TensorSpec((None, None, *shape), dtype)]

    @tf.function(input_signature=signature, jit_compile=jit_compile)
    def log_weights(x, eps):
        b, c = ops.shape(eps)[0], ops.shape(eps)[1]
        values = model.log_importance_weights(ops.repeat(x, c, axis=0), ops.reshape(eps, (b * c, *shape)))
        return ops.reshape(values, (b, c))

    return log_weights


def _posterior(model, x):
    outputs = model.encoder(x, training=False)
    return tuple(ops.cast(t, _dtype(model)) for t in outputs[:2])


def importance_weighted_log_likelihood(
    model, x, num_samples=5000, max_rows=8192, seed=0, jit_compile=True, verbose=1
):
    """Importance-weighted estimate `L_k` of `log p(x)` per example, with `k = num_samples`.

    `L_k = log (1/k) sum_i p(x, z_i) / q(z_i | x)` with `z_i ~ q(z | x)`, computed with a
    log-sum-exp in float64. `E[L_1]` is the ELBO, `E[L_k]` increases with `k` and tends to
    `log p(x)` (Burda et al., theorem 1); the test NLL of Burda et al. is `-mean(L_5000)`.

    Memory is bounded by `max_rows`: at most that many decoder evaluations at once
    (samples are chunked; several examples share a call when `k` is small).

    For a model whose posterior is a sequence (DRAW), each importance sample is a whole
    path `z_1..z_T`, and its weight sums the prior and posterior terms over the steps
    (`model.log_importance_weights`).

    Args:
        model: a VAE-family model (encoder outputs `[z_mean, z_log_var, z]`), or DRAW.
        x: float array `(n, *input_shape)`, e.g. binarized MNIST for a Bernoulli decoder
            (on grey levels a Bernoulli model's values are not bounds on log p(x): a
            `UserWarning` says so).
        num_samples: `k`, the number of importance samples per example, >= 1.
        max_rows: decoder evaluations per call (memory bound), >= 1.
        seed: integer seed of the importance samples.
        jit_compile: compile the log-weight computation with XLA (about 4x faster on
            CPU for an MLP decoder); set False for decoders XLA cannot compile.
        verbose: 1 shows a Keras progress bar over the examples, 0 nothing.

    Returns:
        A float64 array `(n,)` of `L_k` values in nats.

    Example:
        >>> nll = -importance_weighted_log_likelihood(vae, x_test, num_samples=5000).mean()

    References:
        Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016, eq. 8.
    """
    _check_iwae(model)
    _check_density(model)
    x = _as_float_array(model, x)
    _warn_if_not_a_density_of(model, x)
    num_samples = check_int("num_samples", num_samples)
    max_rows = check_int("max_rows", max_rows)
    seed = check_int("seed", seed, minimum=0)
    chunk = min(num_samples, max_rows)
    examples_per_call = max(1, max_rows // chunk)
    sequential = not getattr(model, "variational", False)
    make = _sequential_log_weights_function if sequential else _log_weights_function
    log_weights = make(model, bool(jit_compile))
    seed_generator = keras.random.SeedGenerator(seed)
    d = model.latent_dim
    results = np.empty(len(x), dtype=np.float64)
    check_int("verbose", verbose, minimum=0, maximum=2)
    progress = keras.utils.Progbar(len(x), verbose=verbose, unit_name="example") if verbose else None
    for start in range(0, len(x), examples_per_call):
        batch = ops.convert_to_tensor(x[start : start + examples_per_call])
        if not sequential:
            z_mean, z_log_var = _posterior(model, batch)
        b = batch.shape[0]
        # A running log-sum-exp over sample chunks keeps memory at one chunk.
        running_max = np.full(b, -np.inf)
        running_sum = np.zeros(b)
        for done in range(0, num_samples, chunk):
            c = min(chunk, num_samples - done)
            if sequential:
                eps = keras.random.normal(
                    (b, c, *model.code_spec.shape), dtype=batch.dtype, seed=seed_generator
                )
                values = ops.convert_to_numpy(log_weights(batch, eps)).astype(np.float64)
            else:
                eps = keras.random.normal((b, c, d), dtype=z_mean.dtype, seed=seed_generator)
                values = ops.convert_to_numpy(log_weights(batch, z_mean, z_log_var, eps)).astype(np.float64)
            new_max = np.maximum(running_max, values.max(axis=1))
            running_sum = running_sum * np.exp(running_max - new_max) + np.exp(values - new_max[:, None]).sum(
                axis=1
            )
            running_max = new_max
        results[start : start + b] = running_max + np.log(running_sum) - math.log(num_samples)
        if progress is not None:
            progress.add(b)
    return results


def elbo(model, x, num_samples=1, batch_size=256, seed=0):
    """The ELBO of `x` split into its reconstruction and KL terms, averaged over examples.

    `ELBO = -reconstruction - kl` with `reconstruction = E_q[-log p(x | z)]` (Monte Carlo
    with `num_samples` draws of `z ~ q(z | x)` per example) and the KL in closed form,
    exactly the terms the model trains on.

    Args:
        model: a VAE-family model.
        x: float array `(n, *input_shape)` (binary for a Bernoulli model to be a bound on
            log p(x); on grey levels a `UserWarning` says it is not).
        num_samples: draws of `z` per example for the reconstruction term, >= 1.
        batch_size: examples per call.
        seed: integer seed of the draws.

    Returns:
        `{"reconstruction": float, "kl": float, "elbo": float}` in nats per example.

    Example:
        >>> terms = elbo(vae, x_test)
        >>> terms["elbo"] == -(terms["reconstruction"] + terms["kl"])

    References:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, eq. 10.
    """
    _check_vae(model)
    _check_density(model)
    x = _as_float_array(model, x)
    _warn_if_not_a_density_of(model, x)
    num_samples = check_int("num_samples", num_samples)
    batch_size = check_int("batch_size", batch_size)
    seed_generator = keras.random.SeedGenerator(check_int("seed", seed, minimum=0))

    d, dtype = model.latent_dim, _dtype(model)

    @tf.function(
        input_signature=[
            tf.TensorSpec((None, *model.data_shape), dtype),
            tf.TensorSpec((None, None, d), dtype),
        ]
    )
    def terms(x, eps):
        z_mean, z_log_var = _posterior(model, x)
        b, s = ops.shape(eps)[0], ops.shape(eps)[1]
        z = z_mean[:, None, :] + ops.exp(0.5 * z_log_var)[:, None, :] * eps
        params = model.decoder_network(ops.reshape(z, (b * s, -1)), training=False)
        nll = model.likelihood.nll(ops.repeat(x, s, axis=0), params)
        return ops.mean(ops.reshape(nll, (b, s)), axis=1), gaussian_kl(z_mean, z_log_var)

    per_call = max(1, batch_size // num_samples)
    reconstruction, kl = [], []
    for start in range(0, len(x), per_call):
        batch = ops.convert_to_tensor(x[start : start + per_call])
        eps = keras.random.normal(
            (batch.shape[0], num_samples, model.latent_dim), dtype=dtype, seed=seed_generator
        )
        r, k = terms(batch, eps)
        reconstruction.append(ops.convert_to_numpy(r))
        kl.append(ops.convert_to_numpy(k))
    reconstruction = float(np.concatenate(reconstruction).astype(np.float64).mean())
    kl = float(np.concatenate(kl).astype(np.float64).mean())
    return {"reconstruction": reconstruction, "kl": kl, "elbo": -(reconstruction + kl)}


def active_units(model, x, threshold=1e-2, batch_size=256):
    """Counts the active latent units: `A_u = Cov_x(E_q[u | x]) > threshold` (Burda et al.).

    The activity of unit `u` is the variance over the data of its posterior mean; units
    whose posterior ignores the input (collapsed to the prior) have activity ~0.

    Args:
        model: a VAE-family model.
        x: float array `(n, *input_shape)`, e.g. the test set.
        threshold: activity above which a unit counts as active (Burda et al.: 1e-2).
        batch_size: examples per encoder call.

    Returns:
        `{"num_active": int, "activity": (latent_dim,) float64 array}`.

    References:
        Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders", ICLR 2016, section 5.2.
    """
    _check_vae(model)
    x = _as_float_array(model, x)
    batch_size = check_int("batch_size", batch_size)
    if len(x) < 2:
        raise ValueError(
            f"Argument `x` needs at least 2 examples for a variance. Received: x with shape={x.shape}"
        )
    means = model.encoder.predict(x, batch_size=batch_size, verbose=0)[0].astype(np.float64)
    activity = means.var(axis=0)
    return {"num_active": int((activity > threshold).sum()), "activity": activity}
