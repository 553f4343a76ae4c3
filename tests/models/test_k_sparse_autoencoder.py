import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import KSparse


def small(**kwargs):
    keras.utils.set_random_seed(0)
    args = {"input_shape": (12,), "latent_dim": 10, "hidden_units": (), "k": 3, "alpha": 2}
    return keras_ae.create_model("k_sparse_autoencoder", **{**args, **kwargs})


def nonzeros(codes):
    return np.count_nonzero(keras.ops.convert_to_numpy(codes), axis=1)


def test_paper_call_builds_a_linear_tied_k_sparse_code():
    model = keras_ae.create_model(
        "k_sparse_autoencoder",
        input_shape=(784,),
        latent_dim=1000,
        hidden_units=(),
        k=25,
        alpha=3,
        tied_weights=True,
    )
    assert model.encoder.get_layer("code").activation is keras.activations.linear
    assert isinstance(model.encoder.get_layer("k_sparse"), KSparse)
    assert model.inference_k == 75
    codes = model.encode(np.random.default_rng(0).uniform(size=(4, 784)).astype("float32"))
    assert (np.count_nonzero(codes, axis=1) == 75).all()


def test_training_keeps_k_units_and_inference_keeps_alpha_k(rng):
    model = small()
    x = rng.uniform(size=(20, 12)).astype("float32")
    outputs = model(x, training=True, return_outputs=True)
    assert (nonzeros(outputs["code"]) == 3).all()
    linear = keras.ops.convert_to_numpy(outputs["linear_code"])
    top = np.argsort(-linear, axis=1, kind="stable")[:, :3]
    np.testing.assert_array_equal(
        np.take_along_axis(keras.ops.convert_to_numpy(outputs["code"]), top, axis=1),
        np.take_along_axis(linear, top, axis=1),
    )
    # Evaluation and reconstruction decode the code the model trains on (k units); only the
    # features of `encode` keep alpha * k, as the paper's test-time encoder does.
    assert (nonzeros(model(x, return_outputs=True)["code"]) == 3).all()
    assert (np.count_nonzero(model.encode(x), axis=1) == 6).all()
    assert small(k=4, alpha=3).inference_k == 10  # 12 capped at latent_dim


def test_reconstruction_loss_is_that_of_the_sparse_code(rng):
    model = small()
    model.compile(optimizer="adam")
    x = rng.uniform(size=(8, 12)).astype("float32")
    logs = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    # The training objective: decode the k = 3 largest linear units (by hand with numpy).
    linear = model.linear_encoder.predict(x, verbose=0)
    threshold = np.sort(linear, axis=1)[:, -3][:, None]
    code = np.where(linear >= threshold, linear, 0.0).astype("float32")
    assert (np.count_nonzero(code, axis=1) == 3).all()
    logits = model.decoder_network.predict(code, verbose=0).astype("float64")
    nll = np.sum(np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits))), axis=1).mean()
    np.testing.assert_allclose(logs["reconstruction_loss"], nll, rtol=1e-5)
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"])
    assert logs["k"] == 3
    np.testing.assert_allclose(model.reconstruct(x), 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6)


def test_k_schedule_values_per_optimizer_step(rng):
    # k_t = k + ceil((k_start - k) * max(0, h - t) / h), h = total_steps // 2 = 4.
    model = small(k=2, k_start=10, total_steps=8)
    x = rng.uniform(size=(5, 12)).astype("float32")
    expected = [10, 8, 6, 4, 2, 2, 2, 2, 2, 2]
    for step, k in enumerate(expected):
        model.train_step_count.assign(step)
        assert int(model.current_k()) == k
        assert (nonzeros(model(x, training=True, return_outputs=True)["code"]) == k).all()
        assert (nonzeros(model(x, return_outputs=True)["code"]) == k).all()  # evaluation: the training k
        assert (np.count_nonzero(model.encode(x), axis=1) == 4).all()  # features: alpha * final k
    odd = small(k=1, k_start=4, total_steps=7)  # h = 3: 4, 3, 2, 1
    values = []
    for step in range(5):
        odd.train_step_count.assign(step)
        values.append(int(odd.current_k()))
    assert values == [4, 3, 2, 1, 1]
    # k_schedule_fraction=1 lowers k over the whole run: h = total_steps = 4.
    whole = small(k=2, k_start=10, total_steps=4, k_schedule_fraction=1.0)
    values = []
    for step in range(6):
        whole.train_step_count.assign(step)
        values.append(int(whole.current_k()))
    assert values == [10, 8, 6, 4, 2, 2]
    # A quarter of 10 steps: h = int(2.5) = 2.
    quarter = small(k=2, k_start=10, total_steps=10, k_schedule_fraction=0.25)
    values = []
    for step in range(4):
        quarter.train_step_count.assign(step)
        values.append(int(quarter.current_k()))
    assert values == [10, 6, 2, 2]


def test_fit_follows_the_schedule_and_logs_k(rng):
    model = small(k=2, k_start=6, total_steps=8)
    model.compile(optimizer="adam", steps_per_execution=1)  # a callback after every batch
    seen = []
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: seen.append(int(model.current_k()))
    )
    x = rng.uniform(size=(32, 12)).astype("float32")
    history = model.fit(x, epochs=2, batch_size=8, verbose=0, callbacks=[callback], validation_data=(x,))
    assert seen == [6, 5, 4, 3, 2, 2, 2, 2]
    assert history.history["k"] == pytest.approx([np.mean([6, 5, 4, 3]), 2.0])
    # Validation reports the objective at the step it runs: k after the epoch's last step.
    assert history.history["val_k"] == [2.0, 2.0]
    assert int(model.train_step_count.numpy()) == 8


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"Received: k=0"):
        small(k=0)
    with pytest.raises(ValueError, match=r"code size latent_dim=10.*k=11"):
        small(k=11)
    with pytest.raises(ValueError, match=r"Received: alpha=0.5"):
        small(alpha=0.5)
    with pytest.raises(ValueError, match=r"k_start.*Received: k_start=2"):
        small(k=3, k_start=2, total_steps=10)
    with pytest.raises(ValueError, match=r"code size latent_dim=10.*k_start=11"):
        small(k=3, k_start=11, total_steps=10)
    with pytest.raises(ValueError, match=r"total_steps=None"):
        small(k=3, k_start=5)
    with pytest.raises(ValueError, match=r"only applies with a k schedule.*total_steps=100"):
        small(total_steps=100)
    for fraction in (0, 1.5, float("nan")):
        with pytest.raises(
            ValueError, match=rf"k_schedule_fraction.*Received: k_schedule_fraction={fraction}"
        ):
            small(k=3, k_start=5, total_steps=10, k_schedule_fraction=fraction)


def test_user_encoder_output_is_the_code_before_selection(rng):
    inputs = keras.Input((12,))
    encoder = keras.Model(inputs, keras.layers.Dense(7, name="mine")(inputs))
    model = keras_ae.create_model("k_sparse_autoencoder", encoder=encoder, k=2, alpha=2, hidden_units=(5,))
    x = rng.uniform(size=(4, 12)).astype("float32")
    assert model.latent_dim == 7
    assert (np.count_nonzero(model.encode(x), axis=1) == 4).all()
    with pytest.raises(ValueError, match=r"code size latent_dim=7.*k=8"):
        keras_ae.create_model("k_sparse_autoencoder", encoder=encoder, k=8)


def paper_like(**kwargs):
    # Tied weights and a linear decoder with squared error, as in the paper: the dead units
    # add W^T z_aux to the reconstruction.
    return small(likelihood="mse", tied_weights=True, **kwargs)


def test_aux_loss_and_dead_unit_count_by_hand(rng):
    model = paper_like(aux_k=2, aux_weight=0.5, dead_steps=3)
    before = np.array([5, 0, 3, 2, 7, 0, 0, 9, 0, 0])
    model.steps_since_active.assign(before)
    x = rng.uniform(size=(6, 12)).astype("float32")
    outputs = model(x, training=True, return_outputs=True)
    linear = keras.ops.convert_to_numpy(outputs["linear_code"]).astype("float64")
    dead = before >= 3  # units 0, 2, 4 and 7
    aux = np.zeros_like(linear)
    for row in range(len(x)):
        units = np.flatnonzero(dead)
        top = units[np.argsort(-linear[row, units])[:2]]
        aux[row, top] = linear[row, top]
    kernel = keras.ops.convert_to_numpy(model.encoder.get_layer("code").kernel).astype("float64")
    residual = x - keras.ops.convert_to_numpy(outputs["reconstruction"]).astype("float64")
    expected = 0.5 * np.mean(np.sum((residual - aux @ kernel.T) ** 2, axis=1))
    np.testing.assert_allclose(float(outputs["aux_loss"]), expected, rtol=1e-5)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), expected, rtol=1e-5)
    assert float(outputs["dead_units"]) == 4
    # The batch is counted: units kept by any example go back to 0, the others add 1.
    kept = np.any(keras.ops.convert_to_numpy(outputs["code"]) != 0, axis=0)
    np.testing.assert_array_equal(model.steps_since_active.numpy(), np.where(kept, 0, before + 1))
    # Evaluation reports the same term and leaves the count alone.
    counted = model.steps_since_active.numpy().copy()
    model(x, return_outputs=True)
    np.testing.assert_array_equal(model.steps_since_active.numpy(), counted)
    # No dead unit: the term is 0, not the constant it would be.
    model.steps_since_active.assign(np.zeros(10))
    assert float(model(x, training=True, return_outputs=True)["aux_loss"]) == 0.0


def test_examples_of_weight_zero_keep_no_unit_alive(rng):
    model = paper_like(aux_k=2, dead_steps=3)
    before = np.arange(10)
    model.steps_since_active.assign(before)
    x = rng.uniform(size=(6, 12)).astype("float32")
    weights = np.array([1, 0, 1, 0, 0, 1], "float32")
    outputs = model(x, training=True, sample_weight=weights, return_outputs=True)
    code = keras.ops.convert_to_numpy(outputs["code"])
    kept = np.any(code[weights > 0] != 0, axis=0)
    assert not np.array_equal(kept, np.any(code != 0, axis=0))  # the weight-0 rows add units
    np.testing.assert_array_equal(model.steps_since_active.numpy(), np.where(kept, 0, before + 1))
    # A batch whose weights are all 0 trains nothing and ages no unit.
    counted = model.steps_since_active.numpy().copy()
    model(x, training=True, sample_weight=np.zeros(6, "float32"), return_outputs=True)
    np.testing.assert_array_equal(model.steps_since_active.numpy(), counted)


def test_aux_loss_gives_a_dead_unit_gradients_that_it_lacks_without(rng):
    x = rng.uniform(size=(64, 12)).astype("float32")

    def train(**kwargs):
        model = paper_like(k=2, **kwargs)
        code = model.encoder.get_layer("code")
        # Unit 0 never wins: a k-sparse code gives it no gradient.
        code.bias.assign(np.r_[-20.0, np.zeros(9)].astype("float32"))
        before = code.kernel.numpy()[:, 0].copy()
        model.compile(optimizer=keras.optimizers.SGD(0.05))
        history = model.fit(x, epochs=2, batch_size=16, verbose=0, shuffle=False)
        return model, before, code, history.history

    plain, before, code, _ = train()
    np.testing.assert_array_equal(code.kernel.numpy()[:, 0], before)
    assert float(code.bias.numpy()[0]) == -20.0
    # aux_k = latent_dim: every dead unit joins the auxiliary code, unit 0 too (with
    # aux_k = 1 only each example's largest dead unit would, never this one).
    revived, before, code, logs = train(aux_k=10, dead_steps=2)
    # Dead from the third batch on (two batches without being kept): from then the
    # auxiliary loss moves its weights.
    assert np.abs(code.kernel.numpy()[:, 0] - before).max() > 1e-4
    assert float(code.bias.numpy()[0]) > -20.0
    assert logs["dead_units"][0] >= 1 and logs["aux_loss"][0] > 0
    assert set(logs) == {"loss", "reconstruction_loss", "k", "aux_loss", "dead_units"}
    config = revived.get_config()
    assert (config["aux_k"], config["aux_weight"], config["dead_steps"]) == (10, 1 / 32, 2)
    assert "aux_k" in plain.get_config() and not hasattr(plain, "steps_since_active")


def test_bad_aux_arguments_are_refused():
    with pytest.raises(ValueError, match=r"Received: aux_k=0"):
        small(aux_k=0)
    with pytest.raises(ValueError, match=r"code size latent_dim=10.*aux_k=11"):
        small(aux_k=11)
    with pytest.raises(ValueError, match=r"Received: aux_weight=-1"):
        small(aux_k=2, aux_weight=-1)
    with pytest.raises(ValueError, match=r"Received: dead_steps=0"):
        small(aux_k=2, dead_steps=0)
