"""The shared harness: every model in `list_models()` must pass these tests.

A new model is tested by registering it (and giving it small kwargs in
`harness_kwargs` if it needs any beyond the common ones).
"""

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.version import __version__
from tests.conftest import run_python

INPUT_SHAPE = (12, 12, 1)
LATENT_DIM = 3


def harness_kwargs(name):
    """Small constructor arguments for `name`: the common ones plus a model's own."""
    kwargs = {
        "input_shape": INPUT_SHAPE,
        "latent_dim": LATENT_DIM,
        "architecture": "conv",
        "hidden_units": (16,),
        "filters": (4, 8),
    }
    kwargs.update(HARNESS_EXTRA.get(name, {}))
    if name == "vq_vae":
        # A small PixelCNN prior over the 3x3 index grids: the harness covers sampling,
        # saving and exporting a VQ-VAE with its prior too.
        prior = keras_ae.PixelCNNPrior((3, 3), kwargs["num_embeddings"], filters=8, num_blocks=2)
        kwargs["prior"] = keras.saving.serialize_keras_object(prior)
    return kwargs


def random_codes(model, n, seed=2):
    """`n` valid codes for `model.decode`: normal vectors, or indices for VQ-VAE."""
    rng = np.random.default_rng(seed)
    spec = model.code_spec
    if spec.dtype == "int32":
        return rng.integers(0, model.num_embeddings, size=(n, *spec.shape)).astype("int32")
    return rng.normal(size=(n, *spec.shape)).astype("float32")


HARNESS_EXTRA = {
    "beta_vae": {"capacity_max": 5.0, "capacity_steps": 10},
    "denoising_autoencoder": {"noise": "salt_and_pepper", "noise_level": 0.2, "seed": 3},
    # LSTMs over 3 steps with attentive read (2x2) and write (3x3); no conv options.
    "draw": {
        "architecture": None,
        "hidden_units": None,
        "filters": None,
        "steps": 3,
        "encoder_units": 8,
        "decoder_units": 8,
        "read_size": 2,
        "write_size": 3,
        "seed": 4,
    },
    # k <= latent_dim=3; the schedule (3 -> 2 over 5 of 10 steps) and the dead units'
    # auxiliary loss with its saved count run in the harness too.
    "k_sparse_autoencoder": {
        "k": 2,
        "alpha": 3,
        "k_start": 3,
        "total_steps": 10,
        "aux_k": 1,
        "dead_steps": 1,
    },
    "vae": {"seed": 1},
    # EMA codebook with restarts: the harness runs the non-trainable codebook state too.
    "vq_vae": {"hidden_units": None, "num_embeddings": 8, "ema": True, "restart_after": 2, "seed": 2},
}

MODELS = keras_ae.list_models()

# Models whose `encode` gives other codes than the ones `predict` decodes, and why.
ENCODE_DIFFERS = {"k_sparse_autoencoder": "encode keeps alpha * k units (features); predict decodes k"}


def make_data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    # Smooth blobs in [0, 1] so that reconstructions are learnable.
    grid = np.linspace(-1, 1, INPUT_SHAPE[0])
    cx, cy = rng.uniform(-0.5, 0.5, (2, n, 1, 1))
    images = np.exp(-((grid[None, :, None] - cx) ** 2 + (grid[None, None, :] - cy) ** 2) / 0.1)
    return images[..., None].astype("float32")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Trains every registered model briefly and saves it; shared by the tests below."""
    folder = tmp_path_factory.mktemp("harness")
    x = make_data()
    results = {}
    for name in MODELS:
        keras.utils.set_random_seed(0)
        model = keras_ae.create_model(name, **harness_kwargs(name))
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        history = model.fit(x, epochs=3, batch_size=32, validation_data=(x[:32],), verbose=0)
        path = folder / f"{name}.keras"
        model.save(path)
        np.save(folder / f"{name}_x.npy", x[:16])
        results[name] = {"model": model, "history": history.history, "path": path, "x": x}
    return results


@pytest.mark.parametrize("name", MODELS)
def test_fit_logs_every_term_and_learns(trained, name):
    model, history = trained[name]["model"], trained[name]["history"]
    names = [m.name for m in model.metrics]
    assert len(names) == len(set(names)), names  # `loss` listed once
    assert set(history) == set(names) | {f"val_{n}" for n in names}
    for values in history.values():
        assert np.all(np.isfinite(values))
    assert history["reconstruction_loss"][-1] < history["reconstruction_loss"][0]
    assert int(model.train_step_count.numpy()) == 3 * 3  # 96 examples / 32 per batch, 3 epochs


@pytest.mark.parametrize("name", MODELS)
def test_evaluate_predict_encode_decode(trained, name):
    model, x = trained[name]["model"], trained[name]["x"]
    logs = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    assert set(logs) == {m.name for m in model.metrics}
    assert np.isfinite(logs["loss"])
    recon = model.predict(x, batch_size=32, verbose=0)
    assert recon.shape == x.shape
    np.testing.assert_allclose(model.reconstruct(x), recon, rtol=1e-5, atol=1e-6)
    codes = model.encode(x)
    assert codes.shape == (len(x), *model.code_spec.shape)
    decoded = model.decode(codes)
    if name not in ENCODE_DIFFERS:
        # For the VAE family the reconstruction decodes the posterior mean: same numbers.
        np.testing.assert_allclose(decoded, recon, rtol=1e-5, atol=1e-5)
    # Evaluation is deterministic: corruption and sampling are train-only.
    again = model.evaluate(x, batch_size=32, verbose=0, return_dict=True)
    assert again["reconstruction_loss"] == pytest.approx(logs["reconstruction_loss"], rel=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_fit_accepts_tf_data_with_labels_and_sample_weights(name):
    x = make_data(64)
    model = keras_ae.create_model(name, **harness_kwargs(name))
    model.compile(optimizer="adam")
    labels = np.arange(len(x))
    weights = np.linspace(0.5, 1.5, len(x)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices((x, labels, weights)).batch(16)
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    # The weights reach the loss (Keras' sum(w * nll) / batch size): weight 3 on the first
    # half and 0 on the second, in one batch, give 3/2 of the first half's mean term.
    half = len(x) // 2
    halves = np.repeat(np.array([3.0, 0.0], "float32"), half)
    weighted = model.evaluate(
        tf.data.Dataset.from_tensor_slices((x, labels, halves)).batch(len(x)), verbose=0, return_dict=True
    )
    first_half = model.evaluate(x[:half], batch_size=half, verbose=0, return_dict=True)
    assert weighted["reconstruction_loss"] == pytest.approx(1.5 * first_half["reconstruction_loss"], rel=1e-5)
    # Plain x, the 1-tuple (x,) and (x, labels) train alike: twins (same seed, same starting
    # weights, same batches) trained on each end with the same weights; labels are ignored.
    trained, arrays, ones = [], {"batch_size": 16, "shuffle": False}, tf.data.Dataset.from_tensor_slices((x,))
    for data, y, feed in ((x, None, arrays), (ones.batch(16), None, {}), (x, labels, arrays)):
        keras.utils.set_random_seed(0)
        twin = keras_ae.create_model(name, **harness_kwargs(name))
        twin.compile(optimizer="adam")
        twin.set_weights(model.get_weights())
        keras.utils.set_random_seed(0)
        twin.fit(data, y, epochs=1, verbose=0, **feed)
        trained.append(twin.get_weights())
    assert any(not np.allclose(a, b) for a, b in zip(trained[0], model.get_weights(), strict=True))
    for weights in trained[1:]:
        for got, want in zip(weights, trained[0], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", MODELS)
def test_config_round_trip_through_json(trained, name):
    model = trained[name]["model"]
    config = json.loads(json.dumps(model.get_config()))
    clone = model.__class__.from_config(config)
    assert json.loads(json.dumps(clone.get_config())) == config
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    clone.set_weights(model.get_weights())
    x = trained[name]["x"][:8]
    np.testing.assert_array_equal(clone.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize("name", MODELS)
def test_a_file_from_another_keras_ae_version_is_refused_naming_the_version(trained, name, tmp_path):
    # A `.keras` file whose model config has an argument this keras-ae does not know
    # (written by a later version, or an older one with an argument since removed).
    edited = tmp_path / f"{name}.keras"
    with zipfile.ZipFile(trained[name]["path"]) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["added_in_keras_ae_9"] = True
                data = json.dumps(config).encode()
            target.writestr(item, data)
    message = (
        rf"{type(trained[name]['model']).__name__} .*\['added_in_keras_ae_9'\] .* keras-ae {__version__}"
    )
    with pytest.raises(ValueError, match=message):
        keras.models.load_model(edited, safe_mode=True)


LOAD_SCRIPT = """
import json, os, numpy as np, keras, keras_ae
out = {}
for name, folder in json.loads(os.environ["HARNESS_MODELS"]).items():
    model = keras.models.load_model(f"{folder}/{name}.keras", safe_mode=True)
    x = np.load(f"{folder}/{name}_x.npy")
    np.save(f"{folder}/{name}_loaded_pred.npy", model.predict(x, verbose=0))
    np.savez(f"{folder}/{name}_loaded_opt.npz", *[v.numpy() for v in model.optimizer.variables])
    np.savez(f"{folder}/{name}_loaded_weights.npz", *[w.numpy() for w in model.weights])
    out[name] = {"class": type(model).__name__, "step": int(model.train_step_count.numpy())}
print("RESULT" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def loaded_in_fresh_process(trained):
    """Loads every saved model in one fresh Python process (after `import keras_ae`)."""
    names = {name: str(trained[name]["path"].parent) for name in MODELS}
    stdout = run_python(LOAD_SCRIPT, env={"HARNESS_MODELS": json.dumps(names)})
    return json.loads(stdout.split("RESULT", 1)[1])


@pytest.mark.parametrize("name", MODELS)
def test_save_and_load_in_fresh_process(trained, loaded_in_fresh_process, name):
    model, folder = trained[name]["model"], trained[name]["path"].parent
    info = loaded_in_fresh_process[name]
    assert info["class"] == type(model).__name__
    assert info["step"] == int(model.train_step_count.numpy())
    x = np.load(folder / f"{name}_x.npy")
    np.testing.assert_array_equal(np.load(folder / f"{name}_loaded_pred.npy"), model.predict(x, verbose=0))
    weights = np.load(folder / f"{name}_loaded_weights.npz")
    assert len(weights.files) == len(model.weights) > 0
    for i, w in enumerate(model.weights):
        np.testing.assert_array_equal(weights[f"arr_{i}"], w.numpy())
    optimizer = np.load(folder / f"{name}_loaded_opt.npz")
    assert len(optimizer.files) == len(model.optimizer.variables)
    for i, v in enumerate(model.optimizer.variables):
        np.testing.assert_array_equal(optimizer[f"arr_{i}"], v.numpy())
    assert int(model.optimizer.iterations.numpy()) == 9


@pytest.mark.parametrize("name", MODELS)
def test_training_continues_after_load(trained, name):
    restored = keras.models.load_model(trained[name]["path"])
    history = restored.fit(trained[name]["x"], epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert int(restored.optimizer.iterations.numpy()) == 12
    assert int(restored.train_step_count.numpy()) == 12


@pytest.mark.parametrize("name", MODELS)
def test_bad_inputs_raise_clear_errors(name):
    model = keras_ae.create_model(name, **harness_kwargs(name))
    model.compile(optimizer="adam")
    x = make_data(8)
    with pytest.raises(ValueError, match=r"shape=\(8, 12, 12\)"):
        model.fit(x[..., 0], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="dtype=uint8"):
        model.fit((x * 255).astype("uint8"), epochs=1, verbose=0)
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad, epochs=1, verbose=0)
    out_of_range = x.copy()
    out_of_range[0, 0, 0, 0] = 2.0
    with pytest.raises(ValueError, match=r"likelihood='bernoulli'.*max=2\.0"):
        model.fit(out_of_range, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="latent_dim=0"):
        keras_ae.create_model(name, **{**harness_kwargs(name), "latent_dim": 0})
    with pytest.raises(ValueError, match="likelihood='poisson'"):
        keras_ae.create_model(name, **{**harness_kwargs(name), "likelihood": "poisson"})


@pytest.mark.parametrize("name", MODELS)
def test_missing_or_empty_inputs_raise_clear_errors(name):
    model = keras_ae.create_model(name, **harness_kwargs(name))
    model.compile(optimizer="adam")
    empty = np.zeros((0, *INPUT_SHAPE), "float32")
    for method in (model.fit, model.evaluate, model.predict):
        with pytest.raises(ValueError, match="Argument `x` is required.*x=None"):
            method(None)
        with pytest.raises(ValueError, match=r"holds no examples.*shape=\(0, 12, 12, 1\)"):
            method(empty)
    with pytest.raises(ValueError, match="holds no examples"):
        model.encode(empty)
    with pytest.raises(ValueError, match="holds no codes"):
        model.decode(np.zeros((0, *model.code_spec.shape), model.code_spec.dtype))
