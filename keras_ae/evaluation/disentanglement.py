"""Disentanglement scores on data with known factors: the BetaVAE and FactorVAE scores (MIG: `mig.py`).

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

Smaller values can be passed for quick checks; the scores get noisier, not biased.
"""

import numpy as np

from keras_ae._validation import check_int
from keras_ae.evaluation.ground_truth_data import (
    as_generator,
    as_representation_function,
    check_ground_truth_data,
    represent_factors,
)


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
        codes1 = represent_factors(data, represent, factors1, rng, observations_per_call)
        codes2 = represent_factors(data, represent, factors2, rng, observations_per_call)
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

    data = check_ground_truth_data(data)
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
        codes = represent_factors(data, represent, factors, rng, observations_per_call)
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
    data = check_ground_truth_data(data)
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
    codes = represent_factors(data, represent, factors, rng, observations_per_call)
    global_variances = codes.var(axis=0, ddof=1)
    # A dimension whose codes never change is never active, also at prune_threshold=0: its
    # normalized variance would be 0/0 (or rounding noise over ~0), and take every vote.
    # Its values are all equal; its computed variance need not be exactly 0.
    constant = np.ptp(codes, axis=0) == 0
    active = ~constant & (np.sqrt(global_variances) >= prune_threshold)
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
