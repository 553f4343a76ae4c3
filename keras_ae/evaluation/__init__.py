"""Evaluation metrics of the papers the zoo reproduces.

- Likelihood (VAE family): `elbo`, `importance_weighted_log_likelihood` (Burda et al.'s
  `L_k`), `active_units`.
"""

from keras_ae.evaluation.likelihood import active_units, elbo, importance_weighted_log_likelihood

__all__ = ["active_units", "elbo", "importance_weighted_log_likelihood"]
