"""Every model trains under Keras' `mixed_bfloat16` policy: the networks compute in bfloat16,
while the variables, the loss terms and everything the model returns stay float32."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.losses import bernoulli_nll, gaussian_kl, gaussian_nll, squared_error
from tests.models.test_harness import MODELS, harness_kwargs, make_data, random_codes


def _bfloat16_values(shape, seed, low=-3.0, high=3.0):
    """Values exactly representable in bfloat16, as float32 and as bfloat16 tensors."""
    values = np.random.default_rng(seed).uniform(low, high, size=shape).astype("float32")
    half = tf.cast(values, tf.bfloat16)
    return tf.cast(half, tf.float32), half


@pytest.mark.parametrize(
    "term",
    [
        lambda a, b: bernoulli_nll(tf.cast(a > 0, a.dtype), b),
        lambda a, b: gaussian_nll(a, b, tf.constant(-0.5, a.dtype)),
        squared_error,
        gaussian_kl,
    ],
    ids=["bernoulli_nll", "gaussian_nll", "squared_error", "gaussian_kl"],
)
def test_loss_terms_of_half_precision_inputs_are_computed_in_float32(term):
    # 784 features, as for MNIST: summed in bfloat16 the result would keep 3 digits.
    (a32, a16), (b32, b16) = _bfloat16_values((8, 784), 0), _bfloat16_values((8, 784), 1)
    expected = term(a32, b32)
    got = term(a16, b16)
    assert got.dtype == tf.float32
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_every_model_trains_in_mixed_bfloat16_and_returns_float32(mixed_bfloat16, name):
    x = make_data()
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model(name, **harness_kwargs(name))
    assert model.compute_dtype == "bfloat16"
    assert all(w.dtype in ("float32", "int64", "bool") for w in model.weights)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(x, epochs=3, batch_size=32, verbose=0).history
    for values in history.values():
        assert np.all(np.isfinite(values))
    assert history["reconstruction_loss"][-1] < history["reconstruction_loss"][0]

    recon = model.predict(x[:8], verbose=0)
    codes = model.encode(x[:8])
    assert recon.dtype == np.float32 and model.decode(random_codes(model, 4)).dtype == np.float32
    assert codes.dtype == model.code_spec.dtype

    # The loss of the bfloat16 networks is that of the same weights in float32 to within
    # bfloat16's rounding of the activations (DRAW's LSTMs compound it over their steps).
    mixed = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    keras.mixed_precision.set_global_policy("float32")
    twin = keras_ae.create_model(name, **harness_kwargs(name))
    twin.compile(optimizer=keras.optimizers.Adam(1e-2))
    twin.set_weights(model.get_weights())
    full = twin.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    tolerance = 0.05 if name == "draw" else 0.02
    assert mixed["reconstruction_loss"] == pytest.approx(full["reconstruction_loss"], rel=tolerance)
    expected = twin.predict(x[:8], verbose=0)
    if model.discrete:
        # A vector near the midpoint of two codes can take the other code under bfloat16's
        # rounding of z_e (a different code, a different patch): compare the examples whose
        # codes agree, and let few flip.
        same = np.all((codes == twin.encode(x[:8])).reshape(len(codes), -1), axis=1)
        assert same.sum() >= 6, same
        recon, expected = recon[same], expected[same]
    np.testing.assert_allclose(recon, expected, atol=0.02)


def test_a_mixed_precision_model_saves_loads_and_exports_float32(mixed_bfloat16, tmp_path):
    x = make_data(32)
    model = keras_ae.create_model("vae", **harness_kwargs("vae"))
    model.compile()
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    path = tmp_path / "vae.keras"
    model.save(path)
    keras.mixed_precision.set_global_policy("float32")
    # The policy travels with the file: the loaded model computes in bfloat16 again.
    restored = keras.models.load_model(path)
    assert restored.compute_dtype == "bfloat16"
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))

    model.export_for_serving(str(tmp_path / "export"), version=1)
    loaded = tf.saved_model.load(str(tmp_path / "export" / "1"))
    outputs = loaded.signatures["reconstruct"](x=tf.constant(x))
    assert outputs["reconstruction"].dtype == tf.float32
    np.testing.assert_allclose(outputs["reconstruction"].numpy(), model.predict(x, verbose=0), atol=1e-6)
    score = loaded.signatures["score"](x=tf.constant(x))["score"]
    assert score.dtype == tf.float32 and np.all(np.isfinite(score.numpy()))
    # Every float output of every signature is float32 (the codes of `encode` and `sample`
    # are computed in bfloat16), so the client reads the whole export.
    from keras_ae.export.client import load_signatures

    signatures = load_signatures(tmp_path / "export")
    assert set(signatures) >= {"encode", "sample", "sample_from_noise", "score"}
    for name, signature in signatures.items():
        for output, (dtype, _) in signature.outputs.items():
            assert dtype == np.float32, (name, output, dtype)
    codes = loaded.signatures["encode"](x=tf.constant(x))
    z_mean = keras.ops.convert_to_numpy(model.encoder(x, training=False)[0])
    assert z_mean.dtype != np.float32  # computed in bfloat16, served exactly as float32
    # bfloat16 rounding differs between the graph and eager kernels: one bfloat16 step apart.
    np.testing.assert_allclose(codes["z_mean"].numpy(), z_mean.astype("float32"), rtol=2e-2, atol=1e-3)


@pytest.mark.parametrize("name", MODELS)
def test_the_policy_can_be_given_to_one_model_instead_of_globally(name):
    kwargs = harness_kwargs(name)
    # The harness's prior is a config saved under float32: here `fit_prior` creates one.
    kwargs.pop("prior", None)
    model = keras_ae.create_model(name, **kwargs, dtype="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"
    x = make_data(32)
    if name == "vq_vae":
        model.fit_prior(x, epochs=1, batch_size=16, verbose=0, filters=8, num_blocks=2)
    # Every layer the model owns, down to the sublayers of composite layers (DRAW's
    # attention, the corruption, the k-sparse step, the VQ-VAE's prior), computes in it.
    layers = [
        layer for layer in model._flatten_layers(include_self=False) if layer.weights or not layer._layers
    ]
    policies = {f"{layer.name} ({type(layer).__name__})": layer.dtype_policy.name for layer in layers}
    assert {n: p for n, p in policies.items() if p != "mixed_bfloat16"} == {}
    model.compile()
    assert np.isfinite(model.fit(x, epochs=1, batch_size=16, verbose=0).history["loss"][0])
    assert keras_ae.create_model(name, **harness_kwargs(name)).compute_dtype == "float32"


@pytest.mark.parametrize("name", ["vae", "draw"])
def test_likelihood_estimates_of_a_mixed_precision_model_compute_in_float32(mixed_bfloat16, name):
    from keras_ae.evaluation import elbo, importance_weighted_log_likelihood

    x = (make_data(16) > 0.5).astype("float32")
    model = keras_ae.create_model(name, **harness_kwargs(name))
    keras.mixed_precision.set_global_policy("float32")
    twin = keras_ae.create_model(name, **harness_kwargs(name))
    twin.set_weights(model.get_weights())
    for estimate in (
        lambda m: importance_weighted_log_likelihood(m, x, num_samples=64, verbose=0),
        *((lambda m: np.array([elbo(m, x, num_samples=4)["elbo"]]),) if name == "vae" else ()),
    ):
        mixed, full = estimate(model), estimate(twin)
        assert np.all(np.isfinite(mixed))
        # The same seeded draws in float32: only the networks' bfloat16 rounding differs.
        np.testing.assert_allclose(mixed, full, rtol=0.02)


def test_draws_importance_weight_scores_q_at_the_bfloat16_z_its_path_used(mixed_bfloat16):
    # Under bfloat16 the path's z_t is mu + sigma * eps rounded; log q must be taken at that
    # z, which the prior and the decoder saw, not at the unrounded point eps gives. A small
    # sigma makes the rounding of z large in units of sigma.
    model = keras_ae.create_model("draw", **harness_kwargs("draw"))
    bias = model.z_log_var_layer.bias
    bias.assign(np.full(bias.shape, -8.0, "float32"))  # sigma ~ 0.02
    x = (make_data(8) > 0.5).astype("float32")
    steps, latent_dim = model.steps, model.latent_dim
    eps = np.random.default_rng(3).normal(size=(8, steps, latent_dim)).astype("float32")
    path = model.unroll(x, noise=eps)
    mean, log_var, z = (np.asarray(path[k], "float64") for k in ("z_mean", "z_log_var", "z"))
    logits = np.asarray(path["logits"], "float64").reshape(8, -1)
    log_px = -np.sum(np.maximum(logits, 0) - logits * x.reshape(8, -1) + np.log1p(np.exp(-np.abs(logits))), 1)
    half_log_2pi = 0.5 * np.log(2 * np.pi)
    log_prior = np.sum(-0.5 * z**2 - half_log_2pi, axis=(1, 2))
    log_q = np.sum(-0.5 * (z - mean) ** 2 / np.exp(log_var) - 0.5 * log_var - half_log_2pi, axis=(1, 2))
    np.testing.assert_allclose(
        np.asarray(model.log_importance_weights(x, eps)), log_px + log_prior - log_q, rtol=0, atol=2e-3
    )


def test_steps_the_loss_scaler_skips_are_not_counted():
    # Under mixed_float16 Keras' LossScaleOptimizer skips a step whose scaled gradients
    # overflow float16 (halving its scale) without advancing its iterations. The model's
    # step count, which drives the k and capacity schedules, counts the applied updates.
    x = np.random.default_rng(0).uniform(size=(64, 6)).astype("float32")
    model = keras_ae.create_model(
        "autoencoder", input_shape=(6,), latent_dim=2, hidden_units=(4,), dtype="mixed_float16"
    )
    # 2^26 overflows the first steps' float16 gradients, until ten halvings bring it to 2^16.
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.01), initial_scale=2.0**26)
    model.compile(optimizer=optimizer, steps_per_execution=1)
    model.fit(x, epochs=1, batch_size=2, verbose=0)
    applied = int(optimizer.iterations.numpy())
    assert 0 < applied < 32  # some of the 32 steps were skipped, later ones applied
    assert int(model.train_step_count.numpy()) == applied
