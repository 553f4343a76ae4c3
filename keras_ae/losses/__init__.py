"""Reconstruction likelihoods and divergence terms, per example and summed over features."""

from keras_ae.losses.functional import bernoulli_nll, gaussian_kl, gaussian_nll, squared_error
from keras_ae.losses.likelihoods import (
    LIKELIHOODS,
    BernoulliLikelihood,
    GaussianLikelihood,
    Likelihood,
    MeanSquaredErrorLikelihood,
    get_likelihood,
)

__all__ = [
    "LIKELIHOODS",
    "BernoulliLikelihood",
    "GaussianLikelihood",
    "Likelihood",
    "MeanSquaredErrorLikelihood",
    "bernoulli_nll",
    "gaussian_kl",
    "gaussian_nll",
    "get_likelihood",
    "squared_error",
]
