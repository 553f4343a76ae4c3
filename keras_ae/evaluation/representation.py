"""Quality of a learned representation: reconstruction error and linear-probe classification error."""

import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae._validation import check_int
from keras_ae.losses.functional import loss_dtype


def reconstruction_error(model, x, batch_size=256):
    """Deterministic reconstruction error of a keras-ae model, averaged over examples.

    The model reconstructs clean inputs in inference mode (no corruption, the posterior
    mean for a VAE).

    Args:
        model: a keras-ae model.
        x: float array `(n, *input_shape)`.
        batch_size: examples per call.

    Returns:
        `{"squared_error": float, "nll": float}`: the per-example sum of squared errors
        between `x` and the reconstruction (the likelihood mean, e.g. pixel probabilities),
        and the per-example negative log-likelihood of `x` under the decoder's likelihood
        (nats; cross-entropy for a Bernoulli decoder), each averaged over examples.

    Example:
        >>> reconstruction_error(model, x_test)["squared_error"]
    """
    batch_size = check_int("batch_size", batch_size)
    x = np.asarray(x)
    model._check_array(x)

    # The targets stay in float32 under a mixed-precision policy (the model computes in half
    # precision on its own): scoring half-precision-rounded targets would shift the figures.
    dtype = loss_dtype(model.compute_dtype)

    @tf.function(reduce_retracing=True)
    def errors(batch):
        outputs = model(batch, training=False, return_outputs=True)
        reconstruction = ops.cast(outputs["reconstruction"], dtype)
        diff = ops.reshape(batch - reconstruction, (ops.shape(batch)[0], -1))
        return ops.sum(ops.square(diff), axis=1), model.likelihood.nll(batch, outputs["params"])

    squared, nll = [], []
    for start in range(0, len(x), batch_size):
        s, n = errors(ops.convert_to_tensor(x[start : start + batch_size], dtype=dtype))
        squared.append(ops.convert_to_numpy(s))
        nll.append(ops.convert_to_numpy(n))
    return {
        "squared_error": float(np.concatenate(squared).astype(np.float64).mean()),
        "nll": float(np.concatenate(nll).astype(np.float64).mean()),
    }


def linear_probe_error(
    train_codes,
    train_labels,
    test_codes,
    test_labels,
    inverse_regularization=1.0,
    max_iter=1000,
    standardize=True,
    blas_threads=1,
    validation_fraction=0.1,
    seed=0,
):
    """Test error of a logistic regression trained on frozen codes (a linear probe).

    This measures how linearly separable the classes are in code space. It is not the
    fine-tuned error of the papers that initialize an MLP with the encoder.

    Args:
        train_codes: `(n_train, d)` codes of the training images.
        train_labels: `(n_train,)` class labels.
        test_codes: `(n_test, d)` codes of the test images.
        test_labels: `(n_test,)` class labels.
        inverse_regularization: `C`, the inverse L2 regularization strength of
            scikit-learn's `LogisticRegression`, or a sequence of candidates: each is fitted
            on the training codes minus a held-out `validation_fraction`, and the one with
            the lowest validation error is refitted on all training codes. The test codes
            never take part in the choice.
        max_iter: lbfgs iterations.
        standardize: scale every code dimension to zero mean and unit variance (fitted
            on the training codes) before the regression; or a sequence of candidates
            (e.g. `(True, False)`), chosen with `C` on the held-out codes. Raw codes keep
            their scales, which is itself a prior: a unit the encoder rarely uses stays
            small instead of being blown up to unit variance.
        blas_threads: BLAS threads during the fit, or None for the library default. One
            thread is the default because multi-threaded OpenBLAS spin-waits on a busy
            machine: on 2 shared cores a 2-thread fit measured 30x slower than 1 thread.
        validation_fraction: share of the training codes held out to choose `C`.
        seed: seed of the held-out split.

    Returns:
        `{"error": float, "train_error": float, "inverse_regularization": float,
        "standardize": bool, "validation_errors": {C: error},
        "scaling_validation_errors": {"standardized" or "raw": {C: error}}}`:
        misclassified fractions in [0, 1], the `C` and the scaling used, the validation
        error of each `C` with the chosen scaling, and of every candidate by scaling (both
        empty when there is a single candidate, nothing to choose).

    Example:
        >>> linear_probe_error(model.encode(x_train), y_train, model.encode(x_test), y_test)["error"]

    References:
        Makhzani & Frey, "k-Sparse Autoencoders", ICLR 2014, Table 1 (logistic regression
        on the learned features).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    arrays = {}
    for name, codes, labels in (
        ("train_codes", train_codes, train_labels),
        ("test_codes", test_codes, test_labels),
    ):
        codes = np.asarray(codes, dtype=np.float64)
        labels = np.asarray(labels).reshape(-1)
        if codes.ndim != 2 or len(codes) != len(labels):
            raise ValueError(
                f"Argument `{name}` must be 2-D with one row per label. Received: {name} with "
                f"shape={codes.shape} and {len(labels)} labels"
            )
        if not np.isfinite(codes).all():
            raise ValueError(f"Argument `{name}` contains NaN or Inf values.")
        arrays[name] = (codes, labels)
    (x_train, y_train), (x_test, y_test) = arrays["train_codes"], arrays["test_codes"]
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError(
            f"Train and test codes differ in size. Received: {x_train.shape[1]} and {x_test.shape[1]} dimensions"
        )
    if len(np.unique(y_train)) < 2:
        raise ValueError("Argument `train_labels` must hold at least 2 classes.")
    max_iter = check_int("max_iter", max_iter)

    def fit(x, y, c, scaled):
        steps = [StandardScaler()] if scaled else []
        probe = make_pipeline(*steps, LogisticRegression(C=c, max_iter=max_iter))
        with threadpool_limits(limits=blas_threads):
            return probe.fit(x, y)

    candidates = np.atleast_1d(np.asarray(inverse_regularization, dtype=np.float64))
    if candidates.ndim != 1 or len(candidates) == 0 or not (candidates > 0).all():
        raise ValueError(
            "Argument `inverse_regularization` must be a positive number or a non-empty sequence of them. "
            f"Received: inverse_regularization={inverse_regularization!r}"
        )
    scalings = [standardize] if isinstance(standardize, (bool, np.bool_)) else list(standardize)
    if not scalings or any(not isinstance(scaled, (bool, np.bool_)) for scaled in scalings):
        raise ValueError(
            "Argument `standardize` must be a bool or a non-empty sequence of bools. "
            f"Received: standardize={standardize!r}"
        )
    by_scaling = {}
    if len(candidates) * len(scalings) > 1:
        if not 0 < validation_fraction < 1:
            raise ValueError(
                f"Argument `validation_fraction` must be in (0, 1). Received: validation_fraction={validation_fraction!r}"
            )
        order = np.random.default_rng(seed).permutation(len(x_train))
        n_valid = max(1, int(round(len(x_train) * validation_fraction)))
        valid, fit_rows = order[:n_valid], order[n_valid:]
        for scaled in scalings:
            errors = by_scaling.setdefault(bool(scaled), {})
            for c in candidates:
                probe = fit(x_train[fit_rows], y_train[fit_rows], c, scaled)
                errors[float(c)] = float(np.mean(probe.predict(x_train[valid]) != y_train[valid]))
    # The first of the best candidates wins ties (scalings in the order given, then C).
    scaled, chosen = bool(scalings[0]), float(candidates[0])
    if by_scaling:
        scaled, chosen = min(
            ((s, c) for s, errors in by_scaling.items() for c in errors),
            key=lambda sc: by_scaling[sc[0]][sc[1]],
        )
    probe = fit(x_train, y_train, chosen, scaled)
    return {
        "error": float(np.mean(probe.predict(x_test) != y_test)),
        "train_error": float(np.mean(probe.predict(x_train) != y_train)),
        "inverse_regularization": chosen,
        "standardize": scaled,
        "validation_errors": by_scaling.get(scaled, {}),
        "scaling_validation_errors": {
            ("standardized" if s else "raw"): errors for s, errors in by_scaling.items()
        },
    }
