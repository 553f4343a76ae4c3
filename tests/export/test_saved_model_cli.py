"""(b) `saved_model_cli`, which loads a SavedModel through the C++ session path that TF
Serving uses, lists every signature as a predict method and computes the same numbers.

One export (a VAE: it has every signature) and two CLI processes for the whole file."""

import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.export import SIGNATURE_NAMES, export_for_serving
from tests.models.test_harness import harness_kwargs, make_data


def saved_model_cli(*args):
    """Runs the `saved_model_cli` of the running Python environment; returns stdout."""
    script = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    command = (
        [script]
        if os.path.exists(script)
        else [sys.executable, "-m", "tensorflow.python.tools.saved_model_cli"]
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([*command, *args], capture_output=True, text=True, timeout=300, env=env)
    if result.returncode != 0:
        raise AssertionError(f"saved_model_cli {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("vae", **harness_kwargs("vae"))
    model.compile(optimizer="adam")
    path = export_for_serving(model, folder / "vae")
    return model, path, folder


def parse_signature_defs(text):
    """`{name: {"method": ..., "inputs": {key: (dtype, shape)}, "outputs": {...}}}` from `show --all`."""
    text = text.split("Concrete Functions:")[0]
    result = {}
    for block in text.split("signature_def['")[1:]:
        name = block.split("']", 1)[0]
        method = re.search(r"Method name is: (\S*)", block).group(1)
        head, _, tail = block.partition("contains the following output(s):")
        tensor = r"(inputs|outputs)\['(\w+)'\] tensor_info:\s+dtype: (\w+)\s+shape: ([^\n]+)"
        specs = {"inputs": {}, "outputs": {}}
        for kind, key, dtype, shape in re.findall(tensor, head + tail):
            specs[kind][key] = (dtype, shape.replace(" ", ""))
        result[name] = {"method": method, **specs}
    return result


def test_show_lists_every_signature_as_a_predict_method(export):
    _, path, _ = export
    defs = parse_signature_defs(saved_model_cli("show", "--dir", path, "--all"))
    served = {name: d for name, d in defs.items() if not name.startswith("__")}
    assert set(served) == set(SIGNATURE_NAMES)
    for name, d in served.items():
        assert d["method"] == "tensorflow/serving/predict", name
    assert served["score"]["inputs"] == {"x": ("DT_FLOAT", "(-1,12,12,1)")}
    assert served["score"]["outputs"] == {
        "score": ("DT_FLOAT", "(-1)"),
        "reconstruction_loss": ("DT_FLOAT", "(-1)"),
        "kl_loss": ("DT_FLOAT", "(-1)"),
    }
    assert served["serving_default"]["outputs"] == {"reconstruction": ("DT_FLOAT", "(-1,12,12,1)")}
    assert served["encode"]["outputs"] == {
        "z_mean": ("DT_FLOAT", "(-1,3)"),
        "z_log_var": ("DT_FLOAT", "(-1,3)"),
    }
    assert served["sample"]["inputs"] == {"num_samples": ("DT_INT32", "()"), "seed": ("DT_INT64", "()")}


def test_run_on_an_npy_input_gives_the_models_numbers(export):
    model, path, folder = export
    x = make_data(9, seed=7)
    np.save(folder / "x.npy", x)
    out = folder / "score_out"
    saved_model_cli(
        "run", "--dir", path, "--tag_set", "serve", "--signature_def", "score",
        "--inputs", f"x={folder / 'x.npy'}", "--outdir", str(out), "--overwrite",
    )  # fmt: skip
    assert sorted(os.listdir(out)) == ["kl_loss.npy", "reconstruction_loss.npy", "score.npy"]
    score = np.load(out / "score.npy")
    logs = model.evaluate(x, batch_size=9, verbose=0, return_dict=True)
    assert score.shape == (9,) and score.dtype == np.float32
    assert score.mean() == pytest.approx(-logs["elbo"], rel=1e-5)
    np.testing.assert_allclose(
        score, np.load(out / "reconstruction_loss.npy") + np.load(out / "kl_loss.npy"), rtol=1e-6
    )
    single = model.evaluate(x[:1], batch_size=1, verbose=0, return_dict=True)
    assert score[0] == pytest.approx(-single["elbo"], rel=1e-5)
