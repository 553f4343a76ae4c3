"""Runs the scripts of benchmarks/ for the tests, each in a fresh process, with a time bound."""

import json
import math
import os
import subprocess
import sys

from tests.conftest import REPO

SCRIPTS = REPO / "benchmarks" / "reproduce"


def run_script(path, *args, timeout=300, **env):
    """`subprocess.run` of the script at `path` with `args`, its output captured, in the
    repository, with TensorFlow's C++ logs quiet and `env` added to the environment."""
    return subprocess.run(
        [sys.executable, str(path), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        cwd=REPO,
    )


def run_fast(script, datasets_dir, tmp_path, *extra):
    """A script of benchmarks/reproduce/ in --fast mode: its JSON results and its stdout."""
    output = tmp_path / "results.json"
    process = run_script(
        SCRIPTS / script, "--fast", "--output", str(output), *extra, KERAS_AE_DATASETS=str(datasets_dir)
    )
    assert process.returncode == 0, f"{script} failed:\n{process.stdout}\n{process.stderr}"
    assert "fast mode" in process.stdout and "paper" in process.stdout
    return json.loads(output.read_text()), process.stdout


def finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def load_script_module(name):
    """A module of benchmarks/reproduce/, imported as its scripts import it."""
    import importlib.util

    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


def mnist_chance_error(datasets_dir, split):
    """The test error of always answering the most frequent label of the MNIST `split`
    (e.g. "test[:500]"): the error a probe that learned nothing reaches."""
    import numpy as np

    from keras_ae.data import load_dataset

    _, labels = load_dataset(
        str(datasets_dir / "mnist"), split, as_numpy=True, with_labels=True, flatten=True
    )
    return 1.0 - np.bincount(labels).max() / len(labels)


def check_contractive_preset_figures(preset, datasets_dir, scores):
    """Recomputes a CAE preset's saturation and probe error on fast mode's images (the first
    1,000 training and 200 test images) and asserts they are the run's `scores`: the share
    of its code activations below 0.05 or above 0.95 (Rifai et al.), and the test error of a
    linear probe of its codes at the C the run chose."""
    import numpy as np

    import keras_ae
    from keras_ae.data import load_dataset
    from keras_ae.evaluation import linear_probe_error

    mnist, model = str(datasets_dir / "mnist"), keras_ae.from_preset(preset)
    x_train, y_train = load_dataset(mnist, "train[:1000]", as_numpy=True, with_labels=True, flatten=True)
    x_test, y_test = load_dataset(mnist, "test[:200]", as_numpy=True, with_labels=True, flatten=True)
    codes_train, codes_test = model.encode(x_train), model.encode(x_test)
    saturation = ((codes_test < 0.05) | (codes_test > 0.95)).mean()
    inverse_regularization = scores["probe_inverse_regularization"]
    probe = linear_probe_error(
        codes_train, y_train, codes_test, y_test, inverse_regularization=inverse_regularization
    )
    np.testing.assert_allclose(scores["saturation"], saturation, rtol=0, atol=1e-12)
    np.testing.assert_allclose(scores["probe_error"], probe["error"], rtol=0, atol=1e-12)
