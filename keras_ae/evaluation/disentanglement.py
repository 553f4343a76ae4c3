"""Disentanglement scores on data with known factors: BetaVAE score, FactorVAE score, MIG.

Every score takes a `GroundTruthData` (factor sampler + observation function) and a
representation function mapping a batch of observations to a batch of codes: a
callable, a keras-ae model (its `encode`: the posterior mean for the VAE family, as in
disentanglement_lib), or None when the data's observations already are codes (see
`ArrayGroundTruthData.map_observations`, which encodes every distinct image once).

The default sample sizes are those of disentanglement_lib's
`unsupervised_study_v1` metric configs (Locatello et al., ICML 2019):

| score | defaults |
|---|---|
| BetaVAE | batch_size=64 pairs per point, num_train=10000 points, num_eval=5000 |
| FactorVAE | batch_size=64, num_train=10000, num_eval=5000, num_variance_estimate=10000, prune_threshold=0.05 |
| MIG | num_train=10000 samples, 20-bin histogram discretization |

Smaller values can be passed for quick checks; the scores get noisier, not biased
(except MIG, whose plug-in mutual information is biased upwards on few samples).
"""

import numpy as np

from keras_ae._validation import check_int
from keras_ae.evaluation.ground_truth_data import GroundTruthData, as_generator


def _check_data(data):
    if not isinstance(data, GroundTruthData):
        raise ValueError(
            f"Argument `data` must be a GroundTruthData. Received: data of type {type(data).__name__}"
        )
    return data


def as_representation_function(representation):
    """Returns a numpy batch -> numpy codes function from a callable, a keras-ae model or None."""
    if representation is None:
        return lambda observations: np.asarray(observations, dtype=np.float64)
    if hasattr(representation, "encode"):
        return lambda observations: np.asarray(representation.encode(observations), dtype=np.float64)
    if callable(representation):
        return lambda observations: np.asarray(representation(observations), dtype=np.float64)
    raise ValueError(
        "Argument `representation_function` must be a callable, a keras-ae model or None. "
        f"Received: {representation!r}"
    )


def _represent(data, represent, factors, rng, observations_per_call):
    """Codes of observations sampled from `factors`, computed in bounded chunks."""
    codes = []
    for start in range(0, len(factors), observations_per_call):
        chunk = factors[start : start + observations_per_call]
        codes.append(represent(data.sample_observations_from_factors(chunk, rng)))
    codes = np.concatenate(codes)
    if codes.ndim != 2:
        raise ValueError(
            f"The representation function must return (batch, code_dim) codes. Received: shape={codes.shape}"
        )
    return codes


def _factors_holding(data, held_index, held_values, rng):
    """Factors for rows whose factor `held_index[i]` equals `held_values[i]`, the rest drawn."""
    out = np.empty((len(held_index), data.num_factors), dtype=np.int64)
    for k in np.unique(held_index):
        rows = held_index == k
        out[rows] = data.sample_factors_given(int(k), held_values[rows], rng)
    return out


def _progress_bar(total, verbose):
    """A Keras `Progbar` over `total` points, or None for `verbose=0`."""
    if check_int("verbose", verbose, minimum=0, maximum=2) == 0:
        return None
    import keras

    return keras.utils.Progbar(total, verbose=verbose, unit_name="point")


# ----------------------------------------------------------------------------- BetaVAE


def _beta_vae_points(data, represent, batch_size, num_points, rng, observations_per_call, progress=None):
    labels = rng.integers(0, data.num_factors, num_points)
    features = []
    points_per_chunk = max(1, observations_per_call // batch_size)
    for start in range(0, num_points, points_per_chunk):
        if progress is not None:
            progress.add(min(points_per_chunk, num_points - start))
        held = np.repeat(labels[start : start + points_per_chunk], batch_size)
        factors1 = data.sample_factors(len(held), rng)
        factors2 = _factors_holding(data, held, factors1[np.arange(len(held)), held], rng)
        codes1 = _represent(data, represent, factors1, rng, observations_per_call)
        codes2 = _represent(data, represent, factors2, rng, observations_per_call)
        diff = np.abs(codes1 - codes2).reshape(-1, batch_size, codes1.shape[1])
        features.append(diff.mean(axis=1))
    return np.concatenate(features), labels


def beta_vae_score(
    data,
    representation_function=None,
    batch_size=64,
    num_train=10000,
    num_eval=5000,
    random_state=0,
    observations_per_call=4096,
    verbose=1,
):
    """The BetaVAE disentanglement score: accuracy of a linear classifier naming the fixed factor.

    Each point: pick a factor k uniformly, draw `batch_size` pairs of observations whose
    factor k agrees (the other factors drawn independently), and average
    `|code(x1) - code(x2)|` over the pairs. A logistic regression (scikit-learn,
    default C=1) trained on `num_train` such points predicts k; the score is its
    accuracy on `num_eval` fresh points. A disentangled code makes the held factor's
    dimension vanish, so the score is ~1; a code unrelated to the factors scores about
    `1 / num_factors`.

    Args:
        data: a `GroundTruthData`.
        representation_function: callable, keras-ae model, or None (observations are codes).
        batch_size: pairs averaged per point (disentanglement_lib: 64).
        num_train: training points (disentanglement_lib: 10000).
        num_eval: evaluation points (disentanglement_lib: 5000).
        random_state: seed or numpy Generator.
        observations_per_call: observations encoded per call (memory bound).
        verbose: 1 shows a progress bar over the points, 0 nothing.

    Returns:
        `{"train_accuracy": float, "eval_accuracy": float}`.

    Example:
        >>> beta_vae_score(data, model, num_train=1000, num_eval=500)["eval_accuracy"]

    References:
        Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained
        Variational Framework", ICLR 2017, section 3; sample sizes from disentanglement_lib.
    """
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    data = _check_data(data)
    batch_size = check_int("batch_size", batch_size)
    num_train = check_int("num_train", num_train)
    num_eval = check_int("num_eval", num_eval)
    observations_per_call = check_int("observations_per_call", observations_per_call)
    rng = as_generator(random_state)
    represent = as_representation_function(representation_function)
    progress = _progress_bar(num_train + num_eval, verbose)
    train_x, train_y = _beta_vae_points(
        data, represent, batch_size, num_train, rng, observations_per_call, progress
    )
    if len(np.unique(train_y)) < 2:
        raise ValueError(
            f"Argument `num_train` is too small: every training point holds the same factor. "
            f"Received: num_train={num_train}"
        )
    # max_iter above sklearn's default 100 so that lbfgs converges on near-separable features.
    classifier = LogisticRegression(max_iter=1000, random_state=0)
    # One BLAS thread: multi-threaded OpenBLAS spin-waits on a busy machine (30x slower here).
    with threadpool_limits(limits=1):
        classifier.fit(train_x, train_y)
    eval_x, eval_y = _beta_vae_points(
        data, represent, batch_size, num_eval, rng, observations_per_call, progress
    )
    return {
        "train_accuracy": float(np.mean(classifier.predict(train_x) == train_y)),
        "eval_accuracy": float(np.mean(classifier.predict(eval_x) == eval_y)),
    }


# --------------------------------------------------------------------------- FactorVAE


def _factor_vae_votes(
    data,
    represent,
    batch_size,
    num_points,
    rng,
    global_variances,
    active,
    observations_per_call,
    progress=None,
):
    votes = np.zeros((data.num_factors, len(global_variances)), dtype=np.int64)
    active_dims = np.flatnonzero(active)
    points_per_chunk = max(1, observations_per_call // batch_size)
    for start in range(0, num_points, points_per_chunk):
        n = min(points_per_chunk, num_points - start)
        if progress is not None:
            progress.add(n)
        labels = rng.integers(0, data.num_factors, n)
        # The held value of each point comes from the data distribution of that factor.
        anchors = data.sample_factors(n, rng)[np.arange(n), labels]
        factors = _factors_holding(data, np.repeat(labels, batch_size), np.repeat(anchors, batch_size), rng)
        codes = _represent(data, represent, factors, rng, observations_per_call)
        local = codes.reshape(n, batch_size, -1).var(axis=1, ddof=1)
        argmin = active_dims[np.argmin(local[:, active] / global_variances[active], axis=1)]
        np.add.at(votes, (labels, argmin), 1)
    return votes


def factor_vae_score(
    data,
    representation_function=None,
    batch_size=64,
    num_train=10000,
    num_eval=5000,
    num_variance_estimate=10000,
    prune_threshold=0.05,
    random_state=0,
    observations_per_call=4096,
    verbose=1,
):
    """The FactorVAE disentanglement score: majority-vote accuracy of "lowest-variance dim -> factor".

    Codes are scaled by their global standard deviation (from `num_variance_estimate`
    observations); dimensions with a standard deviation below `prune_threshold` (collapsed
    to the prior) are ignored. Each point: fix one factor (chosen uniformly) at a value,
    draw `batch_size` observations, and vote for the pair (factor, code dimension with the
    smallest normalized variance). The classifier maps each dimension to its majority
    factor; the score is the fraction of `num_eval` fresh votes it gets right.

    Args:
        data: a `GroundTruthData`.
        representation_function: callable, keras-ae model, or None (observations are codes).
        batch_size: observations per vote (disentanglement_lib: 64; must be >= 2).
        num_train: votes that train the majority classifier (disentanglement_lib: 10000).
        num_eval: votes it is scored on (disentanglement_lib: 5000).
        num_variance_estimate: observations for the global variances (disentanglement_lib: 10000).
        prune_threshold: minimum global standard deviation of an active dimension (0.05).
        random_state: seed or numpy Generator.
        observations_per_call: observations encoded per call (memory bound).
        verbose: 1 shows a progress bar over the votes, 0 nothing.

    Returns:
        `{"train_accuracy": float, "eval_accuracy": float, "num_active_dims": int}`; both
        accuracies are 0 when no dimension is active.

    References:
        Kim & Mnih, "Disentangling by Factorising", ICML 2018, section 4; sample sizes
        from disentanglement_lib.
    """
    data = _check_data(data)
    batch_size = check_int("batch_size", batch_size)
    if batch_size < 2:
        raise ValueError(
            f"Argument `batch_size` must be >= 2 to estimate a variance. Received: batch_size={batch_size}"
        )
    num_train = check_int("num_train", num_train)
    num_eval = check_int("num_eval", num_eval)
    num_variance_estimate = check_int("num_variance_estimate", num_variance_estimate)
    if num_variance_estimate < 2:
        raise ValueError(
            f"Argument `num_variance_estimate` must be >= 2. Received: num_variance_estimate={num_variance_estimate}"
        )
    observations_per_call = check_int("observations_per_call", observations_per_call)
    rng = as_generator(random_state)
    represent = as_representation_function(representation_function)
    factors = data.sample_factors(num_variance_estimate, rng)
    global_variances = _represent(data, represent, factors, rng, observations_per_call).var(axis=0, ddof=1)
    active = np.sqrt(global_variances) >= prune_threshold
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}
    args = (global_variances, active, observations_per_call, _progress_bar(num_train + num_eval, verbose))
    train_votes = _factor_vae_votes(data, represent, batch_size, num_train, rng, *args)
    classifier = np.argmax(train_votes, axis=0)
    dims = np.arange(train_votes.shape[1])
    eval_votes = _factor_vae_votes(data, represent, batch_size, num_eval, rng, *args)
    return {
        "train_accuracy": float(train_votes[classifier, dims].sum() / train_votes.sum()),
        "eval_accuracy": float(eval_votes[classifier, dims].sum() / eval_votes.sum()),
        "num_active_dims": int(active.sum()),
    }


# --------------------------------------------------------------------------------- MIG


def histogram_discretize(values, num_bins=20):
    """Discretizes each column of `values` into `num_bins` equal-width bins (disentanglement_lib's).

    Args:
        values: `(n, d)` array.
        num_bins: bins per column.

    Returns:
        `(n, d)` int array of bin indices in `[1, num_bins]`.
    """
    values = np.asarray(values, dtype=np.float64)
    num_bins = check_int("num_bins", num_bins)
    out = np.empty(values.shape, dtype=np.int64)
    for j in range(values.shape[1]):
        edges = np.histogram(values[:, j], num_bins)[1]
        out[:, j] = np.digitize(values[:, j], edges[:-1])
    return out


def discrete_mutual_info(codes, factors):
    """Plug-in mutual information (nats) between every discrete code column and factor column.

    Returns:
        `(code_dim, num_factors)` array.
    """
    from sklearn.metrics import mutual_info_score

    return np.array(
        [
            [mutual_info_score(factors[:, k], codes[:, j]) for k in range(factors.shape[1])]
            for j in range(codes.shape[1])
        ]
    )


def discrete_entropy(factors):
    """Plug-in entropy (nats) of each column of the integer array `factors`."""
    entropies = []
    for k in range(factors.shape[1]):
        p = np.unique(factors[:, k], return_counts=True)[1] / len(factors)
        entropies.append(float(-(p * np.log(p)).sum()))
    return np.array(entropies)


def mutual_information_gap(
    data,
    representation_function=None,
    num_train=10000,
    num_bins=20,
    random_state=0,
    observations_per_call=4096,
):
    """The Mutual Information Gap: per factor, the normalized gap between its two most informative codes.

    `MIG = mean_k (I(z_a; v_k) - I(z_b; v_k)) / H(v_k)`, where `z_a`, `z_b` are the code
    dimensions with the largest and second largest mutual information with factor `v_k`.
    As in disentanglement_lib, codes are discretized into `num_bins` equal-width bins
    and mutual information and entropy are plug-in estimates on `num_train` samples.

    Args:
        data: a `GroundTruthData`.
        representation_function: callable, keras-ae model, or None (observations are codes).
        num_train: samples (disentanglement_lib: 10000).
        num_bins: histogram bins per code dimension (disentanglement_lib: 20).
        random_state: seed or numpy Generator.
        observations_per_call: observations encoded per call (memory bound).

    Returns:
        `{"mig": float, "gap_per_factor": (num_factors,), "mutual_information":
        (code_dim, num_factors), "entropy": (num_factors,)}`.

    References:
        Chen et al., "Isolating Sources of Disentanglement in Variational Autoencoders",
        NeurIPS 2018, section 4.1; discretization and sample size from disentanglement_lib.
    """
    data = _check_data(data)
    num_train = check_int("num_train", num_train)
    observations_per_call = check_int("observations_per_call", observations_per_call)
    rng = as_generator(random_state)
    represent = as_representation_function(representation_function)
    factors = data.sample_factors(num_train, rng)
    codes = _represent(data, represent, factors, rng, observations_per_call)
    if codes.shape[1] < 2:
        raise ValueError(f"MIG needs codes with at least 2 dimensions. Received: code_dim={codes.shape[1]}")
    entropy = discrete_entropy(factors)
    if (entropy <= 0).any():
        raise ValueError(
            "Every factor must vary in the sample for MIG (zero entropy). Received: factors "
            f"{[data.factor_names[k] for k in np.flatnonzero(entropy <= 0)]} constant over num_train={num_train}"
        )
    mutual_information = discrete_mutual_info(histogram_discretize(codes, num_bins), factors)
    top = np.sort(mutual_information, axis=0)[::-1]
    gap = (top[0] - top[1]) / entropy
    return {
        "mig": float(gap.mean()),
        "gap_per_factor": gap,
        "mutual_information": mutual_information,
        "entropy": entropy,
    }
