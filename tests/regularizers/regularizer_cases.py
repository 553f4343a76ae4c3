"""The entries of the regularizer harness (`test_regularizer_harness.py`), with each penalty by hand."""

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from keras_ae.regularizers import KLSparsity, L1Activity


def _kl_sparsity(h, rho, beta):
    """Ng's penalty by hand: beta * sum_j KL(rho || rho_hat_j), rho_hat the batch mean."""
    rho_hat = h.astype("float64").mean(axis=0)
    return beta * np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))


def _l1_activity(h, weight):
    """weight * mean over the batch of sum_j |h_bj|."""
    return weight * np.abs(h.astype("float64")).sum(axis=1).mean()


@dataclasses.dataclass(frozen=True)
class RegularizerCase:
    """One activity regularizer.

    Attributes:
        cls: the regularizer class.
        init_kwargs: every constructor argument.
        penalty: `(h, **init_kwargs) -> float`, the penalty by hand on a `(batch, units)`
            activation batch: the term that must reach the loss (`layer.losses`).
        activation: activation of the `Dense` layer it regularizes in the layer checks.
        activation_range: activations are drawn uniformly from `[low, high)`.
        bad_kwargs: `(overrides, argument name)` pairs that must raise a `ValueError`.
    """

    cls: type
    init_kwargs: dict
    penalty: Callable
    activation: str | None = None
    activation_range: tuple = (-1.0, 1.0)
    bad_kwargs: tuple = ()

    def make(self, **overrides):
        return self.cls(**{**self.init_kwargs, **overrides})


REGULARIZER_CASES = [
    RegularizerCase(
        KLSparsity,
        {"rho": 0.1, "beta": 2.5},
        _kl_sparsity,
        activation="sigmoid",
        activation_range=(0.02, 0.98),
        bad_kwargs=(({"rho": 0.0}, "rho"), ({"rho": True}, "rho"), ({"beta": -1.0}, "beta")),
    ),
    RegularizerCase(
        L1Activity,
        {"weight": 0.03},
        _l1_activity,
        bad_kwargs=(({"weight": -0.1}, "weight"), ({"weight": True}, "weight")),
    ),
]


def regularizer_cases():
    return [pytest.param(case, id=case.cls.__name__) for case in REGULARIZER_CASES]
