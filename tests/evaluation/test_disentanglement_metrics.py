"""BetaVAE score, FactorVAE score and MIG on codes whose answer is known.

The data is a complete grid of 4 discrete factors whose observations are the factors
themselves, so the identity representation is a perfectly disentangled code.
"""

import numpy as np
import pytest

from keras_ae.evaluation import (
    ArrayGroundTruthData,
    beta_vae_score,
    discrete_entropy,
    discrete_mutual_info,
    factor_vae_score,
    histogram_discretize,
    mutual_information_gap,
)

SIZES = (3, 6, 10, 8)
SMALL = {"num_train": 600, "num_eval": 300}


@pytest.fixture(scope="module")
def grid():
    factors = np.indices(SIZES).reshape(len(SIZES), -1).T
    return ArrayGroundTruthData(factors, factors.astype("float32"), factor_names=("a", "b", "c", "d"))


def noise_code(dim=5, seed=0):
    rng = np.random.default_rng(seed)
    return lambda observations: rng.normal(size=(len(observations), dim))


def test_perfectly_disentangled_code_scores_about_one(grid):
    assert beta_vae_score(grid, None, **SMALL)["eval_accuracy"] >= 0.99
    factor_vae = factor_vae_score(grid, None, num_variance_estimate=2000, **SMALL)
    assert factor_vae["eval_accuracy"] == 1.0 and factor_vae["num_active_dims"] == 4
    # The plug-in MI of independent factors is biased up by ~cells / (2 n): MIG just under 1.
    assert mutual_information_gap(grid, None, num_train=10000)["mig"] > 0.97


def test_code_unrelated_to_the_factors_scores_low(grid):
    chance = 1 / len(SIZES)
    assert beta_vae_score(grid, noise_code(), **SMALL)["eval_accuracy"] < chance + 0.1
    assert (
        factor_vae_score(grid, noise_code(), num_variance_estimate=2000, **SMALL)["eval_accuracy"]
        < chance + 0.15
    )
    assert mutual_information_gap(grid, noise_code(), num_train=10000)["mig"] < 0.02


def test_scaling_and_permuting_a_disentangled_code_keeps_the_scores(grid):
    def scaled(observations):
        return observations[:, ::-1] * np.array([0.1, 5.0, -2.0, 30.0])

    assert beta_vae_score(grid, scaled, **SMALL)["eval_accuracy"] >= 0.97
    assert factor_vae_score(grid, scaled, num_variance_estimate=2000, **SMALL)["eval_accuracy"] == 1.0
    assert mutual_information_gap(grid, scaled, num_train=10000)["mig"] > 0.97


def test_mig_is_zero_for_a_redundant_code_and_low_for_a_mixed_one(grid):
    # Each factor copied into two dimensions: fully informative, but no gap at all.
    redundant = mutual_information_gap(grid, lambda o: np.repeat(o, 2, axis=1), num_train=5000)
    np.testing.assert_allclose(redundant["gap_per_factor"], 0.0, atol=1e-12)
    # A rotation mixes the factors in every dimension: MIG drops far below the identity's.
    rotation = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))[0]
    standardized = lambda o: (o - o.mean(0)) / np.array(SIZES)  # noqa: E731
    mixed = mutual_information_gap(grid, lambda o: standardized(o) @ rotation, num_train=10000)
    assert mixed["mig"] < 0.5  # about 0.38 here, against 0.999 for the identity


def test_factor_vae_ignores_collapsed_dimensions(grid):
    def with_constant(observations):
        return np.concatenate([observations, np.full((len(observations), 1), 0.3)], axis=1)

    result = factor_vae_score(grid, with_constant, num_variance_estimate=2000, **SMALL)
    assert result["num_active_dims"] == 4 and result["eval_accuracy"] == 1.0
    # With no pruning the constant dimension is still not active: its normalized variance
    # would be 0/0 and take every vote.
    unpruned = factor_vae_score(grid, with_constant, num_variance_estimate=2000, prune_threshold=0.0, **SMALL)
    assert unpruned["num_active_dims"] == 4 and unpruned["eval_accuracy"] == 1.0
    collapsed = factor_vae_score(grid, lambda o: np.zeros((len(o), 3)), num_variance_estimate=100, **SMALL)
    assert collapsed == {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}


def test_mutual_information_helpers_match_hand_computations():
    # Equal-width bins of [0, 3] in two: [0, 1.5) -> 1, [1.5, 3] -> 2.
    np.testing.assert_array_equal(
        histogram_discretize(np.array([[0.0], [1.0], [2.0], [3.0]]), 2).ravel(), [1, 1, 2, 2]
    )
    factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    codes = np.array([[5, 7], [5, 8], [6, 7], [6, 7]])
    np.testing.assert_allclose(discrete_entropy(factors), [np.log(2), np.log(2)])
    mi = discrete_mutual_info(codes, factors)
    # Code 0 is factor 0: I = log 2. Code 1 vs factor 1: p(7)=3/4, H(code1) = H(0.25),
    # H(code1 | f1) = 0.5 * H(0.5) (code1 is 7 whenever f1 = 0). I = H(0.25) - 0.5 log 2.
    h_quarter = -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))
    # Code 1 vs factor 0: given f0 = 0 code1 is 7/8 (log 2 nats), given f0 = 1 always 7.
    expected = [[np.log(2), 0.0], [h_quarter - 0.5 * np.log(2), h_quarter - 0.5 * np.log(2)]]
    np.testing.assert_allclose(mi, expected, atol=1e-12)


def test_metrics_reject_bad_arguments(grid):
    with pytest.raises(ValueError, match="GroundTruthData"):
        beta_vae_score(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="num_train=0"):
        mutual_information_gap(grid, num_train=0)
    with pytest.raises(ValueError, match="batch_size=1"):
        factor_vae_score(grid, batch_size=1)
    with pytest.raises(ValueError, match="code_dim=1"):
        mutual_information_gap(grid, lambda o: o[:, :1], num_train=100)


def test_array_data_renders_any_factor_combination_of_a_complete_grid(grid):
    assert grid.is_complete and grid.factor_sizes == SIZES and grid.factor_names == ("a", "b", "c", "d")
    factors = grid.sample_factors(500, random_state=0)
    np.testing.assert_array_equal(grid.sample_observations_from_factors(factors), factors)
    held = grid.sample_factors_given(2, np.full(200, 7), random_state=1)
    assert (held[:, 2] == 7).all() and len(np.unique(held[:, 0])) == 3
    # Uniform marginals: each of the 3 values of factor 0 about a third of the time.
    np.testing.assert_allclose(np.bincount(factors[:, 0]) / 500, 1 / 3, atol=0.07)


def test_incomplete_data_samples_rows_and_conditionals():
    rng = np.random.default_rng(0)
    factors = np.array([[0, 0], [0, 1], [1, 1], [1, 1], [2, 0]])
    observations = np.arange(5) * 10
    data = ArrayGroundTruthData(factors, observations, factor_sizes=(3, 2))
    assert not data.is_complete
    drawn = data.sample_factors(300, rng)
    assert {tuple(row) for row in drawn} <= {tuple(row) for row in factors}
    held = data.sample_factors_given(1, np.ones(100, dtype=int), rng)
    assert (held[:, 1] == 1).all() and set(held[:, 0]) == {0, 1}  # rows with factor 1 == 1
    # Two rows share (1, 1): either may be returned.
    assert set(data.sample_observations_from_factors(np.tile([[1, 1]], (100, 1)), rng)) == {20, 30}
    with pytest.raises(ValueError, match=r"\[1, 0\]"):
        data.sample_observations_from_factors(np.array([[1, 0]]))
    with pytest.raises(ValueError, match="factor_index=2"):
        data.sample_factors_given(2, [0])


def test_array_data_rejects_bad_arrays():
    with pytest.raises(ValueError, match="2-D integer"):
        ArrayGroundTruthData(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="same length"):
        ArrayGroundTruthData(np.zeros((3, 2), dtype=int), np.zeros(4))
    with pytest.raises(ValueError, match="factor_sizes"):
        ArrayGroundTruthData(np.array([[0, 3]]), np.zeros(1), factor_sizes=(1, 3))


def test_map_observations_precomputes_codes(grid):
    calls = []

    def encode(observations):
        calls.append(len(observations))
        return observations * 2.0

    coded = grid.map_observations(encode, batch_size=500)
    assert sum(calls) == len(grid) and max(calls) == 500
    factors = grid.sample_factors(50, random_state=0)
    np.testing.assert_array_equal(coded.sample_observations_from_factors(factors), factors * 2.0)
