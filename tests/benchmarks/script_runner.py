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
