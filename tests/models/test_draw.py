"""DRAW specifics: the ELBO by hand, the recurrence, generation steps, bad arguments.

Fit/evaluate/save/load/export run in the shared harnesses (with attention).
"""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import backend
from tests.models.test_harness import make_data

KW = {
    "input_shape": (12, 12, 1),
    "latent_dim": 3,
    "steps": 4,
    "encoder_units": 8,
    "decoder_units": 8,
    "seed": 5,
}


def _np(x):
    return keras.ops.convert_to_numpy(x)


VECTOR = {
    "input_shape": (20,),
    "latent_dim": 2,
    "steps": 3,
    "encoder_units": 4,
    "decoder_units": 4,
    "seed": 5,
}


def _binary_vectors(n):
    return (np.random.default_rng(0).uniform(size=(n, 20)) > 0.5).astype("float32")


@pytest.mark.parametrize(
    ("kwargs", "data"),
    [
        (KW, make_data),
        ({**KW, "read_size": 2, "write_size": 3}, make_data),
        (VECTOR, _binary_vectors),  # vector inputs: no attention, dense reads and writes
    ],
    ids=["images", "attention", "vectors"],
)
def test_evaluate_reports_the_elbo_of_one_keyed_path_by_hand(kwargs, data):
    model = keras_ae.create_model("draw", **kwargs)
    model.compile(optimizer="adam")
    x = data(16)
    logs = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    steps, latent = kwargs["steps"], kwargs["latent_dim"]
    keys = backend.example_keys(x.reshape(16, -1), kwargs["seed"])
    eps = backend.keyed_normal(keys, (steps, latent))
    path = model.unroll(x, noise=eps)
    mean, log_var = _np(path["z_mean"]).astype("float64"), _np(path["z_log_var"]).astype("float64")
    # KL summed over the steps and the latent units: the constant is -1/2 per unit and step.
    kl = 0.5 * np.sum(mean**2 + np.exp(log_var) - log_var - 1.0, axis=(1, 2))
    logits = _np(path["logits"]).astype("float64").reshape(16, -1)
    target = x.reshape(16, -1)
    nll = np.sum(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits))), axis=1)
    assert logs["kl_loss"] == pytest.approx(kl.mean(), rel=1e-4)
    assert logs["reconstruction_loss"] == pytest.approx(nll.mean(), rel=1e-5)
    assert logs["elbo"] == pytest.approx(-(kl + nll).mean(), rel=1e-5)


def test_the_canvas_accumulates_writes_and_the_decoder_alone_reproduces_it():
    model = keras_ae.create_model("draw", **KW, read_size=2, write_size=3)
    x = make_data(5)
    codes = model.encode(x)
    assert codes.shape == (5, 4, 3)
    canvases = model.draw_canvas(keras.ops.convert_to_tensor(codes))
    assert len(canvases) == 4
    # Each step adds one write: canvas t depends on z_1..z_t only, so changing the last
    # step's code leaves every earlier canvas as it was and changes the last one.
    changed = codes.copy()
    changed[:, -1] += 1.0
    redrawn = model.draw_canvas(keras.ops.convert_to_tensor(changed))
    for t in range(3):
        np.testing.assert_array_equal(_np(redrawn[t]), _np(canvases[t]))
        assert np.abs(_np(canvases[t + 1]) - _np(canvases[t])).max() > 1e-4  # a write every step
    assert np.abs(_np(redrawn[-1]) - _np(canvases[-1])).max() > 1e-4
    # The mean path's final canvas is the prediction.
    np.testing.assert_allclose(
        _np(model.likelihood.mean(canvases[-1])), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    steps = model.generation_steps(x=x)
    assert steps.shape == (5, 4, 12, 12, 1)
    np.testing.assert_allclose(steps[:, -1], model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    # The error image drives the reads: a different input changes the first step's code only
    # through the read, and the first canvas is the same write for every input given z_1.
    assert not np.allclose(codes[:, 0], codes[:1, 0])
    # Noise that gives all five inputs input 0's first code (z_1 = mean + sigma * eps):
    path = model.unroll(x, noise="mean")
    mean, log_var = _np(path["z_mean"])[:, 0], _np(path["z_log_var"])[:, 0]
    eps = np.zeros((5, 4, 3), "float32")
    eps[:, 0] = (codes[:1, 0] - mean) / np.exp(0.5 * log_var)
    h_dec = _np(model.unroll(x, noise=eps)["h_dec"])
    # The decoder state after step 1 is then the same for every input, and so is its write,
    # which is the decoder alone's first canvas for that z_1.
    np.testing.assert_allclose(h_dec[:, 0], np.repeat(h_dec[:1, 0], 5, axis=0), atol=1e-5)
    first_write = _np(model.writer(h_dec[:, 0])).reshape(5, 12, 12, 1)
    np.testing.assert_allclose(first_write, np.repeat(_np(canvases[0])[:1], 5, axis=0), rtol=1e-4, atol=1e-5)
    # ...while the second step, which reads the input again, differs between inputs.
    assert np.abs(h_dec[:, 1] - h_dec[:1, 1]).max() > 1e-3


def test_samples_are_the_last_generation_step():
    model = keras_ae.create_model("draw", **KW)
    steps = model.generation_steps(6, seed=3)
    samples = model.sample(6, seed=3)
    assert steps.shape == (6, 4, 12, 12, 1)
    np.testing.assert_allclose(steps[:, -1], samples, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.sample(6, seed=3), samples)
    assert not np.allclose(model.sample(6, seed=4), samples)


def test_training_lowers_the_negative_elbo():
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("draw", **KW, read_size=2, write_size=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x = make_data(128)
    history = model.fit(x, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] - 5.0
    assert np.allclose(np.asarray(history.history["loss"]), -np.asarray(history.history["elbo"]), rtol=1e-5)


@pytest.mark.parametrize(
    ("overrides", "pattern"),
    [
        ({"steps": 0}, "steps=0"),
        ({"read_size": 13}, r"image size \(12x12\). Received: read_size=13"),
        ({"write_size": 20}, "write_size=20"),
        ({"write_size": 0}, "write_size=0"),
        ({"encoder_units": 0}, "encoder_units=0"),
        ({"input_shape": (144,), "read_size": 2}, r"image input_shape.*input_shape=\(144,\)"),
        ({"hidden_units": (16,)}, r"hidden_units=\(16,\)"),
        ({"architecture": "conv"}, "architecture='conv'"),
        ({"activation": "tanh"}, "does not apply. Received: activation='tanh'"),
    ],
)
def test_bad_arguments_are_refused_by_name(overrides, pattern):
    with pytest.raises(ValueError, match=pattern):
        keras_ae.create_model("draw", **{**KW, **overrides})


def test_attention_boxes_follow_the_decoder_state_of_each_step():
    model = keras_ae.create_model("draw", **KW, read_size=2, write_size=3)
    x = make_data(5)
    boxes = model.attention_boxes(x)
    assert set(boxes) == {"read", "write"}
    assert boxes["read"].shape == boxes["write"].shape == (5, 4, 3)
    # The read at step t sees h_dec_{t-1} (zeros at t = 1), the write h_dec_t.
    h_dec = _np(model.unroll(x, noise="mean")["h_dec"])
    previous = np.concatenate([np.zeros_like(h_dec[:, :1]), h_dec[:, :-1]], axis=1)
    for name, layer, states in (("read", model.reader, previous), ("write", model.writer, h_dec)):
        expected = _np(layer.filterbank.attended_squares(states.reshape(20, -1))).reshape(5, 4, 3)
        np.testing.assert_allclose(boxes[name], expected, rtol=1e-6)
    # Before training the first read tiles the whole 12 x 12 image: centred, side 12 (N * 12 / N).
    np.testing.assert_allclose(boxes["read"][:, 0], [[6.5, 6.5, 12.0]] * 5, rtol=1e-5)
    assert "read" not in keras_ae.create_model("draw", **KW, write_size=3).attention_boxes(x)


def test_vector_inputs_work_without_attention():
    # The ELBO of vector inputs is checked by hand above; here they train and sample.
    model = keras_ae.create_model("draw", **VECTOR)
    model.compile(optimizer="adam")
    x = _binary_vectors(32)
    assert np.isfinite(model.fit(x, epochs=1, batch_size=16, verbose=0).history["loss"][0])
    samples = model.sample(2, seed=0)
    assert samples.shape == (2, 20)
    # A sample is the decoder's last canvas of the prior draw, through the sigmoid.
    z = _np(model.sample_graph(2, 0)["z"])
    np.testing.assert_allclose(
        samples, _np(model.likelihood.mean(model.draw_canvas(z)[-1])), rtol=1e-5, atol=1e-6
    )


def test_importance_weighted_bound_works_on_draw_paths():
    from keras_ae.evaluation import importance_weighted_log_likelihood

    keras.utils.set_random_seed(1)
    model = keras_ae.create_model("draw", **KW, read_size=2, write_size=3)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x = make_data(64)
    model.fit(x, epochs=2, batch_size=32, verbose=0)
    x = x[:16]
    # log w of one path by hand: log p(x | c_T) + log N(z; 0, I) - log N(z; mu, sigma^2).
    eps = np.random.default_rng(2).normal(size=(16, 4, 3)).astype("float32")
    path = model.unroll(x, noise=eps)
    mean, log_var = _np(path["z_mean"]).astype("float64"), _np(path["z_log_var"]).astype("float64")
    z = mean + np.exp(0.5 * log_var) * eps
    np.testing.assert_allclose(_np(path["z"]), z, rtol=1e-5, atol=1e-6)
    logits, target = _np(path["logits"]).astype("float64").reshape(16, -1), x.reshape(16, -1)
    log_px = -np.sum(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits))), axis=1)
    log_prior = np.sum(-0.5 * z**2 - 0.5 * np.log(2 * np.pi), axis=(1, 2))
    log_q = np.sum(
        -0.5 * ((z - mean) ** 2) / np.exp(log_var) - 0.5 * log_var - 0.5 * np.log(2 * np.pi), axis=(1, 2)
    )
    np.testing.assert_allclose(
        _np(model.log_importance_weights(x, eps)), log_px + log_prior - log_q, rtol=1e-4
    )
    logs = model.evaluate(x, batch_size=16, verbose=0, return_dict=True)
    # E[L_1] is the ELBO; L_k grows with k (Burda et al., theorem 1).
    l1 = importance_weighted_log_likelihood(model, x, num_samples=1, seed=0, jit_compile=False, verbose=0)
    l64 = importance_weighted_log_likelihood(model, x, num_samples=64, seed=0, jit_compile=False, verbose=0)
    assert l1.shape == l64.shape == (16,)
    assert l64.mean() > l1.mean()
    assert abs(l1.mean() - logs["elbo"]) < 3.0
