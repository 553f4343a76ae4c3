"""Runs the scripts of benchmarks/reproduce/ for the tests: in --fast mode, in a fresh process."""

import json
import math
import os
import subprocess
import sys

from tests.conftest import REPO

SCRIPTS = REPO / "benchmarks" / "reproduce"


def run_fast(script, datasets_dir, tmp_path, *extra):
    output = tmp_path / "results.json"
    env = dict(os.environ, KERAS_AE_DATASETS=str(datasets_dir), TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--fast", "--output", str(output), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=REPO,
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
