"""(d) The committed model store `saved_models/`: every reference model loads, answers on
real MNIST test images with the metrics its metadata.json records, and the README's
request examples run (against in-process stand-ins for the server); the command that
trains and exports the reference models works end to end (on a small budget)."""

import json
import math
import os
import re

import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.data import load_dataset
from keras_ae.export import SIGNATURE_NAMES, list_store, models_config_text, signature_names
from keras_ae.export import client as serving
from tests.conftest import REPO, load_script
from tests.export.serving_case import fake_predict, tf_serving_decode, tf_serving_encode

STORE = REPO / "saved_models"
reference_models = load_script("benchmarks/reference_models.py")
NAMES = sorted(reference_models.REFERENCE_MODELS)


@pytest.fixture(scope="module")
def mnist_test(datasets_dir):
    return load_dataset(str(datasets_dir / "mnist"), "test", as_numpy=True, flatten=True)


@pytest.fixture(scope="module")
def loaded():
    return {name: tf.saved_model.load(str(STORE / name / "1")) for name in NAMES}


def test_the_store_holds_the_reference_models_and_its_config_names_them():
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    assert list_store(STORE) == {name: [1] for name in NAMES}
    text = (STORE / "models.config").read_text()
    assert text == models_config_text(NAMES)  # what write_models_config regenerates
    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    assert [(c.name, c.base_path) for c in config.model_config_list.config] == [
        (n, f"/models/{n}") for n in NAMES
    ]


@pytest.mark.parametrize("name", NAMES)
def test_a_committed_model_answers_with_the_metrics_of_its_metadata(loaded, mnist_test, name):
    folder = STORE / name / "1"
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    assert size < 4e6  # small enough to commit
    metadata = json.loads((folder / "metadata.json").read_text())
    registry_name, extra = reference_models.REFERENCE_MODELS[name]
    assert metadata["model"] == registry_name
    for key, value in {**reference_models.COMMON_KWARGS, **extra}.items():
        assert metadata["config"][key] == (list(value) if isinstance(value, tuple) else value), key
    assert metadata["data"]["dataset"] == "MNIST" and metadata["data"]["test_examples"] == len(mnist_test)
    assert {"keras_ae_version", "created", "training", "metrics"} <= set(metadata)

    signatures = loaded[name].signatures
    assert set(signatures) == set(
        signature_names(keras_ae.get_model_class(registry_name)(**metadata["config"]))
    )
    x = tf.constant(mnist_test)
    scores = signatures["score"](x=x)
    assert float(np.mean(scores["score"])) == pytest.approx(metadata["metrics"]["test_score_mean"], rel=1e-4)
    assert float(np.mean(scores["reconstruction_loss"])) == pytest.approx(
        metadata["metrics"]["test"]["reconstruction_loss"], rel=1e-4
    )
    recon = signatures["reconstruct"](x=x)["reconstruction"].numpy()
    mse = float(np.mean((recon - mnist_test) ** 2))
    assert mse == pytest.approx(metadata["metrics"]["test_pixel_mse"], rel=1e-3)
    # Learned: far better than predicting the mean image for every digit.
    baseline = float(np.mean((mnist_test - mnist_test.mean(axis=0)) ** 2))
    assert mse < 0.5 * baseline
    # Real digits score lower (are less anomalous) than uniform noise images.
    noise = np.random.default_rng(0).uniform(size=(100, 784)).astype("float32")
    assert float(np.max(scores["score"][:100])) < float(
        np.min(signatures["score"](x=tf.constant(noise))["score"])
    )

    encoded = signatures["encode"](x=x[:50])
    code = encoded["z_mean"] if "z_mean" in encoded else encoded["code"]
    decoded = signatures["decode"](z=code)["reconstruction"].numpy()
    np.testing.assert_allclose(decoded, recon[:50], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", [n for n in NAMES if "vae" in n])
def test_seeded_samples_match_the_machine_that_exported_them(loaded, name):
    metadata = json.loads((STORE / name / "1" / "metadata.json").read_text())
    check = metadata["sample_check"]
    out = loaded[name].signatures["sample"](
        num_samples=tf.constant(check["num_samples"]), seed=tf.constant(check["seed"], tf.int64)
    )
    np.testing.assert_allclose(out["z"].numpy(), check["z"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out["samples"].numpy().mean(axis=1), check["samples_mean"], rtol=1e-4)
    assert float(out["samples"].numpy().min()) >= 0.0 and float(out["samples"].numpy().max()) <= 1.0


def test_readme_examples_run_against_stand_ins_for_the_server(loaded, datasets_dir, monkeypatch):
    """Runs every Python block of saved_models/README.md, with REST and gRPC answered by the
    loaded SavedModel following TF Serving's rules (tests/export/serving_case.py)."""
    text = (STORE / "README.md").read_text()
    for signature in SIGNATURE_NAMES:
        section = text.split(f"### {signature}\n", 1)[1].split("###", 1)[0]
        assert f'"signature_name": "{signature}"' in section, signature  # a REST body
        assert f'sigs["{signature}"].grpc_request(' in section, signature  # a gRPC request
    assert "tensorflow_model_server --port=8500 --rest_api_port=8501" in text
    assert (
        'docker run --rm -p 8500:8500 -p 8501:8501 \\\n  -v "$PWD/saved_models:/models" tensorflow/serving'
        in text
    )

    calls = []

    def post_json(url, body, timeout=30.0):
        name = re.search(r"/v1/models/(\w+)", url).group(1)
        concrete = loaded[name].signatures[body["signature_name"]]
        calls.append(("rest", body["signature_name"]))
        return json.loads(
            tf_serving_encode(concrete(**tf_serving_decode(body, concrete)), "instances" in body)
        )

    def grpc_predict(target, request, timeout=30.0):
        assert target == "localhost:8500"
        calls.append(("grpc", request.model_spec.signature_name))
        return fake_predict(loaded[request.model_spec.name], request)

    monkeypatch.setattr(serving, "post_json", post_json)
    monkeypatch.setattr(serving, "grpc_predict", grpc_predict)
    monkeypatch.setenv("KERAS_AE_DATASETS", str(datasets_dir))
    monkeypatch.chdir(REPO)
    namespace = {}
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        exec(compile(block, "saved_models/README.md", "exec"), namespace)
    # The curl bodies are valid requests too.
    curl_bodies = re.findall(r"-d '(\{.*?\})'", text, flags=re.S)
    assert len(curl_bodies) == 2
    for body in map(json.loads, curl_bodies):
        post_json(serving.rest_url("localhost", "vae_mnist"), body)
    assert {kind for kind, _ in calls} == {"rest", "grpc"}
    assert {sig for _, sig in calls} == set(SIGNATURE_NAMES)
    served = loaded["vae_mnist"].signatures["score"](x=namespace["x"])
    np.testing.assert_allclose(namespace["scores"], served["score"])
    # The answer the README quotes is the shipped model's, on the first test image.
    quoted = json.loads(re.search(r'`(\{"predictions": \[\{"score".*?\}), \.\.\.\]\}`', text).group(1) + "]}")
    for key, value in quoted["predictions"][0].items():
        assert served[key].numpy()[0] == pytest.approx(value, abs=1e-3), key
    assert namespace["detector"].predict(namespace["x"], verbose=0).shape == (2,)


def test_reference_models_command_end_to_end(datasets_dir, tmp_path, capsys):
    """The `make reference-models` command on a small budget: trains, exports, configures."""
    out = tmp_path / "store"
    argv = ["--mnist-dir", str(datasets_dir / "mnist"), "--out", str(out), "--models", "vae_mnist"]
    reference_models.main([*argv, "--epochs", "1", "--train-examples", "1000"])
    assert list_store(out) == {"vae_mnist": [1]}
    assert (out / "models.config").read_text() == models_config_text(["vae_mnist"])
    metadata = json.loads((out / "vae_mnist" / "1" / "metadata.json").read_text())
    assert metadata["data"]["train_examples"] == 1000 and metadata["training"]["epochs"] == 1
    # Trained a little: below 784 ln 2 nats, the score of a decoder that outputs p = 1/2
    # for every pixel, and above the fully trained reference model's.
    reference = json.loads((STORE / "vae_mnist" / "1" / "metadata.json").read_text())
    assert (
        reference["metrics"]["test_score_mean"] < metadata["metrics"]["test_score_mean"] < 784 * math.log(2)
    )
    assert "vae_mnist: test score" in capsys.readouterr().out
    with pytest.raises(FileExistsError, match="--overwrite"):
        reference_models.main([*argv, "--epochs", "1", "--train-examples", "100"])
    with pytest.raises(ValueError, match="--mnist-dir"):
        reference_models.load_mnist(None)
    assert os.listdir(out / "vae_mnist") == ["1"]
