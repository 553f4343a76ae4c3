"""A dataset with known generative factors, and how the disentanglement metrics draw codes from one."""

import numpy as np


def as_generator(random_state):
    """Returns a `numpy.random.Generator` from a seed, a Generator or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (
        isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
    ):
        return np.random.default_rng(random_state)
    raise ValueError(
        "Argument `random_state` must be an int seed, a numpy Generator or None. "
        f"Received: random_state={random_state!r}"
    )


class GroundTruthData:
    """A dataset whose observations are generated from discrete ground-truth factors.

    Disentanglement metrics need two operations: draw factor values, and draw an
    observation that those factor values generate. Subclasses implement
    `factor_sizes`, `sample_factors` and `sample_observations_from_factors`; factors are
    class indices `0 .. factor_sizes[k] - 1`, one column per factor.

    `sample_factors_given` draws factors with one factor held at given values (the
    "fix one factor, vary the others" step of the BetaVAE and FactorVAE scores). The
    default draws all factors and overwrites that column, which is exact when the
    factors are independent (a full factorial grid, as in dSprites); a dataset with
    dependent factors overrides it with the conditional distribution.

    Example:
        >>> factors, observations = data.sample(64, random_state=0)
        >>> held = data.sample_factors_given(2, np.full(64, 3), random_state=0)

    References:
        The interface follows `GroundTruthData` of Locatello et al., "Challenging Common
        Assumptions in the Unsupervised Learning of Disentangled Representations", ICML 2019
        (disentanglement_lib).
    """

    @property
    def factor_sizes(self):
        """Tuple with the number of values of each factor."""
        raise NotImplementedError

    @property
    def factor_names(self):
        """Tuple of factor names (`factor_0`, ... unless a subclass names them)."""
        return tuple(f"factor_{k}" for k in range(self.num_factors))

    @property
    def num_factors(self):
        return len(self.factor_sizes)

    def sample_factors(self, num, random_state=None):
        """Returns `(num, num_factors)` int64 factor indices drawn from the data distribution."""
        raise NotImplementedError

    def sample_observations_from_factors(self, factors, random_state=None):
        """Returns one observation per row of `factors` (a numpy array, batch first)."""
        raise NotImplementedError

    def sample_factors_given(self, factor_index, values, random_state=None):
        """Draws factors whose column `factor_index` equals `values` (one row per value).

        Args:
            factor_index: which factor to hold, in `[0, num_factors)`.
            values: int array of that factor's values, one per row to draw.
            random_state: seed or numpy Generator.

        Returns:
            `(len(values), num_factors)` int64 factor indices.
        """
        factor_index = self._check_factor_index(factor_index)
        values = np.asarray(values, dtype=np.int64).reshape(-1)
        factors = self.sample_factors(len(values), as_generator(random_state))
        factors[:, factor_index] = values
        return factors

    def sample(self, num, random_state=None):
        """Returns `(factors, observations)` for `num` draws."""
        rng = as_generator(random_state)
        factors = self.sample_factors(num, rng)
        return factors, self.sample_observations_from_factors(factors, rng)

    def sample_observations(self, num, random_state=None):
        """Returns `num` observations drawn from the data distribution."""
        return self.sample(num, random_state)[1]

    def _check_factor_index(self, factor_index):
        if (
            isinstance(factor_index, bool)
            or not isinstance(factor_index, (int, np.integer))
            or not 0 <= factor_index < self.num_factors
        ):
            raise ValueError(
                f"Argument `factor_index` must be an int in [0, {self.num_factors}). "
                f"Received: factor_index={factor_index!r}"
            )
        return int(factor_index)


def check_ground_truth_data(data):
    """Returns `data`, or raises naming the argument when it is not a `GroundTruthData`."""
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


def represent_factors(data, represent, factors, rng, observations_per_call):
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
