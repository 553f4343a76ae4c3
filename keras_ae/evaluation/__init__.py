"""Evaluation metrics of the papers the zoo reproduces.

- Likelihood (VAE family): `elbo`, `importance_weighted_log_likelihood` (Burda et al.'s
  `L_k`), `active_units`.
- Representations: `reconstruction_error`, `linear_probe_error` (frozen codes),
  `fine_tuned_error` (the encoder fine-tuned as a classifier).
- Contractive diagnostics (Rifai et al.): `jacobian_frobenius_norm`, `saturation_fraction`.
- Disentanglement on data with known factors: `beta_vae_score`, `factor_vae_score`,
  `mutual_information_gap`, over a `GroundTruthData` (`ArrayGroundTruthData` for arrays,
  `keras_ae.data.load_dsprites` for dSprites).
"""

from keras_ae.evaluation.array_ground_truth_data import ArrayGroundTruthData
from keras_ae.evaluation.contractive import jacobian_frobenius_norm, saturation_fraction
from keras_ae.evaluation.disentanglement import beta_vae_score, factor_vae_score
from keras_ae.evaluation.fine_tuning import fine_tuned_error
from keras_ae.evaluation.ground_truth_data import GroundTruthData
from keras_ae.evaluation.likelihood import active_units, elbo, importance_weighted_log_likelihood
from keras_ae.evaluation.mig import (
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
    mutual_information_gap,
)
from keras_ae.evaluation.representation import linear_probe_error, reconstruction_error

__all__ = [
    "ArrayGroundTruthData",
    "GroundTruthData",
    "active_units",
    "beta_vae_score",
    "discrete_entropy",
    "discrete_mutual_info",
    "elbo",
    "factor_vae_score",
    "fine_tuned_error",
    "histogram_discretize",
    "importance_weighted_log_likelihood",
    "jacobian_frobenius_norm",
    "linear_probe_error",
    "mutual_information_gap",
    "reconstruction_error",
    "saturation_fraction",
]
