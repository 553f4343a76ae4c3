"""Every TensorFlow-only operation the models use, in one package.

The models are written with `keras.ops` wherever Keras has an equivalent. What it has
not lives here, so a second Keras backend later replaces this one package:

- `gradients`: the gradient tape, batch Jacobians, the fused Adam update;
- `checks`: in-graph numerics assertions, error kinds, ordering and conditionals;
- `draws`: counter-based and stateless random draws, independent across replicas;
- `distribute`: replica weights and shares, cross-replica sums, logs under a strategy.

Callers use the names below as `backend.<name>`.
"""

from keras_ae.backend.checks import (
    after,
    assert_indices_in_range,
    checked_loss_and_weight,
    cond,
    enable_op_determinism,
    is_finite,
    is_non_finite_error,
    is_out_of_memory,
    run_if_finite,
)
from keras_ae.backend.distribute import (
    all_reduce_sum,
    fill_empty_share,
    from_first_replica,
    in_distribution_scope,
    logs_for_strategy,
    replica_weight,
    tracker_means,
)
from keras_ae.backend.draws import (
    example_keys,
    keyed_normal,
    mix32,
    replica_normal,
    replica_uniform,
    stateless_categorical,
    stateless_normal,
)
from keras_ae.backend.gradients import apply_adam, batch_jacobian, fuses_adam, value_and_gradients

__all__ = [
    "after",
    "all_reduce_sum",
    "apply_adam",
    "checked_loss_and_weight",
    "assert_indices_in_range",
    "batch_jacobian",
    "cond",
    "enable_op_determinism",
    "example_keys",
    "fill_empty_share",
    "from_first_replica",
    "fuses_adam",
    "in_distribution_scope",
    "is_finite",
    "is_non_finite_error",
    "is_out_of_memory",
    "keyed_normal",
    "logs_for_strategy",
    "mix32",
    "replica_normal",
    "replica_uniform",
    "replica_weight",
    "run_if_finite",
    "stateless_categorical",
    "stateless_normal",
    "tracker_means",
    "value_and_gradients",
]
