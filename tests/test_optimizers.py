"""FusedAdam: Keras' Adam, element for element, with each update in one kernel."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.optimizers import FusedAdam

SHAPES = [(7, 5), (5,), (3, 2, 4)]


def _variables():
    rng = np.random.default_rng(1)
    return [keras.Variable(rng.standard_normal(shape).astype("float32")) for shape in SHAPES]


def _gradients(steps):
    rng = np.random.default_rng(2)
    # Mixed scales: tiny gradients make epsilon matter, large ones the bias corrections.
    return [
        [rng.standard_normal(s).astype("float32") * 10.0 ** rng.integers(-6, 2) for s in SHAPES]
        for _ in range(steps)
    ]


def _train(optimizer, steps=6, compiled=None):
    variables = _variables()
    optimizer.build(variables)

    def apply(gradients):
        optimizer.apply(list(gradients), variables)

    if compiled is not None:
        apply = tf.function(apply, jit_compile=compiled)
    for gradients in _gradients(steps):
        apply([tf.constant(g) for g in gradients])
    moments = [m.numpy() for m in optimizer._momentums + optimizer._velocities]
    return [v.numpy() for v in variables], moments


def _schedule():
    # A learning rate that changes between steps, read in the step as Keras' Adam reads it.
    return keras.optimizers.schedules.PiecewiseConstantDecay([2, 4], [3e-2, 1e-2, 3e-3])


@pytest.mark.parametrize("compiled", [None, False, True], ids=["eager", "tf.function", "xla"])
def test_fused_adam_matches_keras_adam_element_wise(compiled):
    arguments = dict(learning_rate=_schedule(), beta_1=0.8, beta_2=0.99, epsilon=1e-4)
    expected_variables, expected_moments = _train(keras.optimizers.Adam(**arguments), compiled=compiled)
    variables, moments = _train(FusedAdam(**arguments), compiled=compiled)
    for got, want in zip(variables + moments, expected_variables + expected_moments, strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-7)
    # The updates did move the variables (six steps of up to 3e-2 each).
    assert (
        max(np.abs(a - b).max() for a, b in zip(variables, [v.numpy() for v in _variables()], strict=True))
        > 0.05
    )


def _op_types(optimizer):
    variables = _variables()
    optimizer.build(variables)
    gradients = [tf.constant(g) for g in _gradients(1)[0]]
    graph = tf.function(lambda: optimizer.apply(gradients, variables)).get_concrete_function().graph
    return {op.type for op in graph.get_operations()}


def test_fused_adam_runs_the_fused_kernel_and_falls_back_where_it_cannot():
    assert "ResourceApplyAdam" in _op_types(FusedAdam(1e-3))
    assert "ResourceApplyAdam" not in _op_types(keras.optimizers.Adam(1e-3))
    # AMSGrad keeps a third moment the fused kernel has no slot for: Keras' update runs.
    assert "ResourceApplyAdam" not in _op_types(FusedAdam(1e-3, amsgrad=True))
    expected, _ = _train(keras.optimizers.Adam(1e-2, amsgrad=True))
    got, _ = _train(FusedAdam(1e-2, amsgrad=True))
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7)


def test_fused_adam_matches_keras_adam_under_a_distribution_strategy():
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        optimizer = FusedAdam(1e-2)
        variables = _variables()
        optimizer.build(variables)
    expected, _ = _train(keras.optimizers.Adam(1e-2), steps=3)
    for gradients in _gradients(3):
        strategy.run(lambda g=gradients: optimizer.apply([tf.constant(x) for x in g], variables))
    for a, b in zip(variables, expected, strict=True):
        np.testing.assert_allclose(a.numpy(), b, rtol=2e-6, atol=1e-7)


def _vae():
    return keras_ae.create_model("vae", input_shape=(12,), latent_dim=2, hidden_units=(8,), seed=0)


def test_compile_fuses_adam_and_leaves_other_optimizers_as_given():
    model = _vae()
    model.compile()
    assert type(model.optimizer) is FusedAdam
    model.compile(optimizer="Adam")
    assert type(model.optimizer) is FusedAdam

    # Keras' own Adam: the caller's object, updated in place with its arguments kept.
    optimizer = keras.optimizers.Adam(3e-4, beta_1=0.5, epsilon=1e-5, clipnorm=1.0)
    config = optimizer.get_config()
    model.compile(optimizer=optimizer)
    assert model.optimizer is optimizer and type(optimizer) is FusedAdam
    assert optimizer.get_config() == config

    # Adam's subclasses (AdamW) and other optimizers are left as given.
    for other in (keras.optimizers.AdamW(1e-3), keras.optimizers.SGD(0.1)):
        model.compile(optimizer=other)
        assert model.optimizer is other and type(other) is not FusedAdam
    model.compile(optimizer="rmsprop")
    assert type(model.optimizer) is keras.optimizers.RMSprop


def test_a_model_trained_with_fused_adam_saves_and_loads_its_optimizer_state(tmp_path):
    x = (np.random.default_rng(0).uniform(size=(64, 12)) > 0.5).astype("float32")
    model = _vae()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, batch_size=16, epochs=2, shuffle=False, verbose=0)
    path = str(tmp_path / "vae.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    assert type(restored.optimizer) is FusedAdam
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 8
    for a, b in zip(restored.optimizer.variables, model.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("compiled", [None, False, True], ids=["eager", "tf.function", "xla"])
def test_apply_if_updates_as_apply_when_enabled_and_changes_nothing_when_not(compiled):
    arguments = dict(learning_rate=_schedule(), beta_1=0.8, beta_2=0.99, epsilon=1e-4)
    expected_variables, expected_moments = _train(FusedAdam(**arguments), compiled=compiled)

    optimizer = FusedAdam(**arguments)
    variables = _variables()
    optimizer.build(variables)

    def apply_if(enabled, gradients):
        optimizer.apply_if(enabled, list(gradients), variables)

    if compiled is not None:
        apply_if = tf.function(apply_if, jit_compile=compiled)
    poisoned = [tf.fill(shape, np.nan) for shape in SHAPES]
    for gradients in _gradients(6):
        state = [v.numpy() for v in variables + optimizer.variables]
        # A skipped step (NaN gradients, as after a non-finite loss) changes no bit of the
        # variables, the moments or the iteration count...
        apply_if(tf.constant(False), poisoned)
        for before, after in zip(state, variables + optimizer.variables, strict=True):
            np.testing.assert_array_equal(after.numpy(), before)
        # ...so the enabled steps in between train exactly as `apply` alone.
        apply_if(tf.constant(True), [tf.constant(g) for g in gradients])
    assert int(optimizer.iterations) == 6
    moments = optimizer._momentums + optimizer._velocities
    for got, want in zip(variables + moments, expected_variables + expected_moments, strict=True):
        np.testing.assert_array_equal(got.numpy(), want)


def test_apply_if_is_refused_where_apply_writes_more_than_the_fused_updates():
    variables = _variables()
    gradients = [tf.constant(g) for g in _gradients(1)[0]]
    assert FusedAdam(1e-3).masks_updates(gradients, variables)
    for arguments in (
        {"amsgrad": True},
        {"weight_decay": 0.01},
        {"clipnorm": 1.0},
        {"use_ema": True},
        {"gradient_accumulation_steps": 2},
        {"loss_scale_factor": 8.0},
    ):
        optimizer = FusedAdam(1e-3, **arguments)
        assert not optimizer.masks_updates(gradients, variables), arguments
        optimizer.build(variables)
        with pytest.raises(ValueError, match="masks_updates"):
            optimizer.apply_if(tf.constant(True), gradients, variables)
    constrained = keras.Variable(np.ones((2,), "float32"))
    constrained.constraint = keras.constraints.NonNeg()
    assert not FusedAdam(1e-3).masks_updates([tf.ones((2,))], [constrained])
    assert not FusedAdam(1e-3).masks_updates([tf.IndexedSlices(tf.ones((1, 5)), [0])], variables[:1])
