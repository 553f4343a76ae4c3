"""Evaluation metrics of the papers the zoo reproduces.

- Likelihood (VAE family): `elbo`, `importance_weighted_log_likelihood` (Burda et al.'s
  `L_k`), `active_units`.
- Representations: `reconstruction_error`, `linear_probe_error`.
- Contractive diagnostics (Rifai et al.): `jacobian_frobenius_norm`, `saturation_fraction`.
"""

from keras_ae.evaluation.contractive import jacobian_frobenius_norm, saturation_fraction
from keras_ae.evaluation.likelihood import active_units, elbo, importance_weighted_log_likelihood
from keras_ae.evaluation.representation import linear_probe_error, reconstruction_error

__all__ = [
    "active_units",
    "elbo",
    "importance_weighted_log_likelihood",
    "jacobian_frobenius_norm",
    "linear_probe_error",
    "reconstruction_error",
    "saturation_fraction",
]
