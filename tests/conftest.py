"""Test environment: nothing writes to the home folder, TensorFlow stays quiet, and
real datasets come from KERAS_AE_DATASETS (never downloaded)."""

import os
import pathlib
import subprocess
import sys
import tempfile

_SCRATCH = tempfile.mkdtemp(prefix="keras_ae_tests_")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_HOME"] = os.path.join(_SCRATCH, "keras_home")
os.environ["TFDS_DATA_DIR"] = os.path.join(_SCRATCH, "tfds")
os.environ["MPLBACKEND"] = "Agg"
os.environ["MPLCONFIGDIR"] = os.path.join(_SCRATCH, "mpl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[1]
DATASETS = pathlib.Path(os.environ.get("KERAS_AE_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(scope="session")
def datasets_dir():
    """The offline datasets folder; a missing folder is an error, never a skip."""
    if not (DATASETS / "mnist").is_dir():
        raise FileNotFoundError(
            f"KERAS_AE_DATASETS={DATASETS} has no mnist/ folder; real-data tests need it."
        )
    return DATASETS


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def run_python(code, timeout=300, env=None):
    """Runs `code` in a fresh Python process with the test environment; returns stdout."""
    full_env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=full_env
    )
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


def load_script(relative_path):
    """Imports a repository script (e.g. `benchmarks/reference_models.py`) as a module."""
    import importlib.util

    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
