"""beta-VAE: the Higgins objective, and Burgess' controlled capacity with its ramp state."""

import keras
import numpy as np
import pytest

import keras_ae

KW = {"input_shape": (20,), "latent_dim": 3, "hidden_units": (16,), "seed": 0}


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).uniform(size=(64, 20)).astype("float32")


def test_beta_one_equals_the_vae_step_for_step(data):
    vae = keras_ae.create_model("vae", **KW)
    beta_vae = keras_ae.create_model("beta_vae", beta=1.0, **KW)
    beta_vae.set_weights(vae.get_weights())
    for model in (vae, beta_vae):
        model.compile(optimizer=keras.optimizers.SGD(0.01))
    a = vae.fit(data, epochs=2, batch_size=16, shuffle=False, verbose=0).history
    b = beta_vae.fit(data, epochs=2, batch_size=16, shuffle=False, verbose=0).history
    np.testing.assert_allclose(b["loss"], a["loss"], rtol=1e-6)
    for w_vae, w_beta in zip(vae.get_weights(), beta_vae.get_weights(), strict=True):
        np.testing.assert_allclose(w_beta, w_vae, rtol=1e-6, atol=1e-7)


def test_beta_multiplies_the_kl(data):
    model = keras_ae.create_model("beta_vae", beta=4.0, **KW)
    model.compile(optimizer="adam")
    logs = model.evaluate(data, batch_size=32, verbose=0, return_dict=True)
    # The KL term by hand from the encoder's posterior: KL(N(mu, s^2) || N(0, 1)) summed
    # over the latent units, averaged over the examples (two equal batches).
    z_mean, z_log_var, _ = (np.asarray(t, "float64") for t in model.encoder(data, training=False))
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1.0 - z_log_var, axis=1).mean()
    assert kl > 1e-3  # the untrained posterior is not the prior: the factor 4 is visible
    assert logs["kl_loss"] == pytest.approx(kl, rel=1e-5)
    assert logs["loss"] - logs["reconstruction_loss"] == pytest.approx(4.0 * kl, rel=1e-4)
    assert logs["elbo"] == pytest.approx(-(logs["reconstruction_loss"] + kl), rel=1e-5)


class RecordCapacity(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.values = []

    def on_train_batch_begin(self, batch, logs=None):
        self.values.append(float(self.model.capacity()))


def test_capacity_ramps_per_optimizer_step_and_validation_never_advances_it(data):
    model = keras_ae.create_model("beta_vae", capacity_max=6.0, capacity_steps=8, gamma=100.0, **KW)
    model.compile(optimizer="adam", steps_per_execution=1)  # the callback sees every step
    record = RecordCapacity()
    history = model.fit(data, epochs=3, batch_size=16, validation_data=(data,), callbacks=[record], verbose=0)
    expected = [min(6.0, 6.0 * t / 8) for t in range(12)]
    np.testing.assert_allclose(record.values, expected, rtol=1e-6)
    assert int(model.train_step_count.numpy()) == 12
    # Logged capacity is the epoch mean of the per-step values; validation sees the final one.
    np.testing.assert_allclose(
        history.history["capacity"], [np.mean(expected[i * 4 : i * 4 + 4]) for i in range(3)], rtol=1e-5
    )
    np.testing.assert_allclose(history.history["val_capacity"], [3.0, 6.0, 6.0], rtol=1e-6)
    logs = model.evaluate(data, verbose=0, return_dict=True)
    assert int(model.train_step_count.numpy()) == 12
    assert logs["loss"] == pytest.approx(
        logs["reconstruction_loss"] + 100.0 * abs(logs["kl_loss"] - 6.0), rel=1e-5
    )


def test_ramp_state_is_saved_with_the_model(data, tmp_path):
    model = keras_ae.create_model("beta_vae", capacity_max=10.0, capacity_steps=100, **KW)
    model.compile(optimizer="adam")
    model.fit(data, epochs=1, batch_size=16, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.models.load_model(tmp_path / "m.keras")
    assert float(restored.capacity()) == pytest.approx(10.0 * 4 / 100)
    restored.fit(data, epochs=1, batch_size=16, verbose=0)
    assert float(restored.capacity()) == pytest.approx(10.0 * 8 / 100)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"beta": -1.0}, "beta=-1.0"),
        ({"capacity_max": -2}, "capacity_max=-2"),
        ({"capacity_steps": 0}, "capacity_steps=0"),
        ({"gamma": "x"}, "gamma='x'"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_ae.create_model("beta_vae", **KW, **kwargs)


@pytest.mark.parametrize("weights", [[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
def test_capacity_term_targets_the_weighted_mean_kl(data, weights):
    # Burgess' |KL - C| must pull the KL of the weighted examples to C: with 0/1 weights
    # it is gamma * mean(w) * |mean KL of the weighted examples - C|, not
    # gamma * |sum(w * KL) / B - C| (which would push the kept examples to KL = 2C).
    model = keras_ae.create_model("beta_vae", capacity_max=1.0, capacity_steps=1, gamma=100.0, **KW)
    model.compile(optimizer="adam")
    model.train_step_count.assign(1)  # C = capacity_max
    x, w = data[:4], np.asarray(weights, "float32")
    z_mean, z_log_var, _ = (np.asarray(t, "float64") for t in model.encoder(x, training=False))
    kl = 0.5 * np.sum(z_mean**2 + np.exp(z_log_var) - 1.0 - z_log_var, axis=1)
    kept = w > 0
    expected = 100.0 * w.mean() * abs(kl[kept].mean() - 1.0) if kept.any() else 0.0
    logs = model.test_on_batch(x, sample_weight=w, return_dict=True)
    assert logs["loss"] - logs["reconstruction_loss"] == pytest.approx(expected, rel=1e-4, abs=1e-5)
    if kept.all():
        # All-ones weights: the unweighted formula, gamma * |mean KL - C|.
        unweighted = model.test_on_batch(x, return_dict=True)
        assert unweighted["loss"] - unweighted["reconstruction_loss"] == pytest.approx(
            100.0 * abs(kl.mean() - 1.0), rel=1e-4
        )
        assert logs["loss"] == pytest.approx(unweighted["loss"], rel=1e-6)
