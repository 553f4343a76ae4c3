"""(a) Every model in `list_models()` exports, and each reloaded signature gives element-wise
the model's own outputs (predict, encode, decode, evaluate, sample)."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.export import SIGNATURE_NAMES, export_for_serving
from tests.models.test_harness import harness_kwargs, make_data, random_codes

MODELS = keras_ae.list_models()
VARIATIONAL = {name for name in MODELS if keras_ae.get_model_class(name).variational}
# Generative: the VAE family, DRAW, and models the harness builds with a prior (VQ-VAE).
GENERATIVE = {name for name in MODELS if keras_ae.get_model_class(name).generative is True} | {
    name for name in MODELS if "prior" in harness_kwargs(name)
}

EXPECTED_OUTPUTS = {
    "serving_default": {"reconstruction"},
    "reconstruct": {"reconstruction"},
    "decode": {"reconstruction"},
    "sample": {"samples", "z"},
    "sample_from_noise": {"samples"},
}
EXPECTED_INPUTS = {"sample": {"num_samples", "seed"}, "sample_from_noise": {"noise"}}


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """Builds, compiles and exports every registered model once; reloads each export."""
    store = tmp_path_factory.mktemp("store")
    result = {}
    for name in MODELS:
        keras.utils.set_random_seed(0)
        model = keras_ae.create_model(name, **harness_kwargs(name))
        model.compile(optimizer="adam")
        path = export_for_serving(model, store / name)
        result[name] = {
            "model": model,
            "path": path,
            "base": store / name,
            "loaded": tf.saved_model.load(path),
        }
    return result


def test_expected_models_are_registered():
    # The export is generic: any model registered later is exported by the same code.
    assert {"autoencoder", "denoising_autoencoder", "vae", "beta_vae"} <= set(MODELS)
    assert {"vae", "beta_vae"} <= GENERATIVE


@pytest.mark.parametrize("name", MODELS)
def test_signature_names_inputs_and_outputs(exports, name):
    entry = exports[name]
    assert entry["path"] == str(entry["base"] / "1")  # the first version of an empty folder
    signatures = entry["loaded"].signatures
    expected = (
        set(SIGNATURE_NAMES) if name in GENERATIVE else set(SIGNATURE_NAMES) - {"sample", "sample_from_noise"}
    )
    if name not in VARIATIONAL:
        expected -= {"sample_from_noise"}
    assert set(signatures) == expected
    model = entry["model"]
    variational = name in VARIATIONAL
    code = model.code_spec
    outputs_of_call = model(make_data(2), return_outputs=True)
    for key, fn in signatures.items():
        inputs = fn.structured_input_signature[1]
        expected_inputs = {code.input_name} if key == "decode" else EXPECTED_INPUTS.get(key, {"x"})
        assert set(inputs) == expected_inputs, key
        for spec in inputs.values():
            if key == "sample":
                assert spec.shape.rank == 0
            else:
                dtype = tf.as_dtype(code.dtype) if key == "decode" else tf.float32
                assert spec.dtype == dtype and spec.shape[0] is None, (key, spec)
        outputs = set(fn.structured_outputs)
        if key == "encode":
            assert outputs == ({"z_mean", "z_log_var"} if variational else {code.output_name})
        elif key == "score":
            assert outputs == {"score", "reconstruction_loss"} | set(model.score_terms(outputs_of_call))
        else:
            assert outputs == EXPECTED_OUTPUTS[key]
        for generic in ("args_0", "output_0"):
            assert generic not in set(inputs) | outputs


@pytest.mark.parametrize("name", MODELS)
def test_signatures_equal_the_models_outputs(exports, name):
    model, signatures = exports[name]["model"], exports[name]["loaded"].signatures
    x = make_data(10, seed=1)
    tx = tf.constant(x)
    expected = model.predict(x, verbose=0)
    for key in ("serving_default", "reconstruct"):
        np.testing.assert_allclose(
            signatures[key](x=tx)["reconstruction"].numpy(), expected, rtol=1e-5, atol=1e-6
        )

    encoded = signatures["encode"](x=tx)
    if name in VARIATIONAL:
        z_mean, z_log_var, _ = model.encoder.predict(x, verbose=0)
        np.testing.assert_allclose(encoded["z_mean"].numpy(), model.encode(x), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(encoded["z_log_var"].numpy(), z_log_var, rtol=1e-5, atol=1e-6)
    else:
        output_name = model.code_spec.output_name
        np.testing.assert_allclose(encoded[output_name].numpy(), model.encode(x), rtol=1e-5, atol=1e-6)

    z = random_codes(model, 7)
    np.testing.assert_allclose(
        signatures["decode"](**{model.code_spec.input_name: tf.constant(z)})["reconstruction"].numpy(),
        model.decode(z),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("name", MODELS)
def test_score_matches_evaluate(exports, name):
    """The per-example score is the model's own loss: its batch mean is `evaluate`'s
    reconstruction loss (deterministic models) or `-elbo` (VAE family, the same Monte
    Carlo draws), and an example's score is the same alone and in a batch."""
    model, signatures = exports[name]["model"], exports[name]["loaded"].signatures
    x = make_data(12, seed=3)
    scores = {k: v.numpy() for k, v in signatures["score"](x=tf.constant(x)).items()}
    assert scores["score"].shape == (12,)
    logs = model.evaluate(x, batch_size=12, verbose=0, return_dict=True)
    if name == "vq_vae":
        # The score is the model's loss per example: reconstruction NLL plus the VQ terms.
        np.testing.assert_allclose(
            scores["score"], scores["reconstruction_loss"] + scores["vq_loss"], rtol=1e-6
        )
        assert np.mean(scores["score"]) == pytest.approx(logs["loss"], rel=1e-5)
        assert np.mean(scores["vq_loss"]) == pytest.approx(logs["vq_loss"], rel=1e-4)
    elif "elbo" in logs:  # the VAE family and DRAW: the score is the negative ELBO
        np.testing.assert_allclose(
            scores["score"], scores["reconstruction_loss"] + scores["kl_loss"], rtol=1e-6
        )
        assert np.mean(scores["score"]) == pytest.approx(-logs["elbo"], rel=1e-5)
        assert np.mean(scores["kl_loss"]) == pytest.approx(logs["kl_loss"], rel=1e-4, abs=1e-6)
    else:
        np.testing.assert_array_equal(scores["score"], scores["reconstruction_loss"])
        assert np.mean(scores["score"]) == pytest.approx(logs["reconstruction_loss"], rel=1e-5)
    assert np.mean(scores["reconstruction_loss"]) == pytest.approx(logs["reconstruction_loss"], rel=1e-5)
    key = {"vq_vae": "loss"}.get(name, "elbo" if "elbo" in logs else "reconstruction_loss")
    for i in (0, 5):
        single = model.evaluate(x[i : i + 1], batch_size=1, verbose=0, return_dict=True)[key]
        alone = signatures["score"](x=tf.constant(x[i : i + 1]))["score"].numpy()[0]
        assert alone == pytest.approx(-single if key == "elbo" else single, rel=1e-5)
        # The Monte Carlo draws are keyed by the example: the same score in any batch.
        assert scores["score"][i] == pytest.approx(alone, rel=1e-5)


@pytest.mark.parametrize("name", sorted(GENERATIVE))
def test_sample_is_seeded_and_equals_model_sample(exports, name):
    model, loaded = exports[name]["model"], exports[name]["loaded"]
    sample = loaded.signatures["sample"]

    def draw(n, seed):
        out = sample(num_samples=tf.constant(n, tf.int32), seed=tf.constant(seed, tf.int64))
        return {k: v.numpy() for k, v in out.items()}

    first, again, other = draw(6, 11), draw(6, 11), draw(6, 12)
    assert first["samples"].shape == (6, *model.data_shape)
    assert first["z"].shape == (6, *model.code_spec.shape)
    np.testing.assert_array_equal(first["samples"], again["samples"])
    assert not np.allclose(first["z"], other["z"])
    # Stateless draws: a smaller draw is a prefix of a larger one.
    np.testing.assert_array_equal(draw(2, 11)["z"], first["z"][:2])
    # The model's own numpy API gives the same samples for the same seed.
    np.testing.assert_allclose(model.sample(6, seed=11), first["samples"], rtol=1e-5, atol=1e-6)
    if name not in VARIATIONAL:
        # A learned prior over index grids: the samples decode the drawn grids.
        np.testing.assert_allclose(model.decode(first["z"]), first["samples"], rtol=1e-5, atol=1e-6)
        return
    # Explicit noise: sample_from_noise decodes exactly those codes.
    from_noise = loaded.signatures["sample_from_noise"](noise=tf.constant(first["z"]))["samples"].numpy()
    np.testing.assert_allclose(from_noise, first["samples"], rtol=1e-6, atol=1e-7)
    # The prior is N(0, I).
    z = draw(4000, 0)["z"]
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1.0) < 0.05


@pytest.mark.parametrize("name", MODELS)
def test_metadata_records_model_and_rebuilds_it(exports, name):
    entry = exports[name]
    with open(f"{entry['path']}/metadata.json", encoding="utf-8") as f:
        metadata = json.load(f)
    model = entry["model"]
    assert metadata["model"] == name
    assert metadata["keras_ae_version"] == keras_ae.__version__
    assert metadata["version"] == 1 and metadata["latent_dim"] == model.latent_dim
    assert set(metadata["signatures"]) == set(entry["loaded"].signatures)
    assert metadata["signatures"]["score"]["inputs"]["x"] == {
        "dtype": "float32",
        "shape": [None, *model.data_shape],
    }
    clone = keras_ae.get_model_class(metadata["model"]).from_config(metadata["config"])
    clone.set_weights(model.get_weights())
    x = make_data(4, seed=4)
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


def test_every_endpoint_loads_as_a_tfsm_layer(exports):
    """Each endpoint of an export is reusable inside Keras as a `TFSMLayer`."""
    entry = exports["vae"]
    model, path = entry["model"], entry["path"]
    x = make_data(5, seed=5)
    z = model.encode(x)

    encode = keras.layers.TFSMLayer(path, call_endpoint="encode")
    decode = keras.layers.TFSMLayer(path, call_endpoint="decode", trainable=False)
    inputs = keras.Input(model.data_shape)
    codes = encode(inputs)["z_mean"]
    roundtrip = keras.Model(inputs, decode(codes)["reconstruction"])
    np.testing.assert_allclose(
        roundtrip.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6
    )
    assert len(encode.weights) > 0 and not decode.trainable_weights

    calls = {
        "serving_default": (x, "reconstruction", model.predict(x, verbose=0)),
        "reconstruct": (x, "reconstruction", model.predict(x, verbose=0)),
        "score": (
            x,
            "score",
            exports["vae"]["loaded"].signatures["score"](x=tf.constant(x))["score"].numpy(),
        ),
        "sample_from_noise": (z, "samples", model.decode(z)),
        "sample": (
            {"num_samples": tf.constant(3), "seed": tf.constant(4, tf.int64)},
            "samples",
            model.sample(3, seed=4),
        ),
    }
    for endpoint, (value, key, expected) in calls.items():
        layer = keras.layers.TFSMLayer(path, call_endpoint=endpoint)
        out = layer(value)[key]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(out), expected, rtol=1e-5, atol=1e-6)
