"""Test environment: nothing writes to the home folder, nothing is left in the temporary
folder, TensorFlow stays quiet, and real datasets come from KERAS_AE_DATASETS (never
downloaded)."""

import atexit
import contextlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

_SCRATCH = tempfile.mkdtemp(prefix="keras_ae_tests_")
# Everything else that asks for a temporary file (tfds leaves an empty `tmp...tfds` folder
# per builder it looks up, subprocesses inherit TMPDIR) writes under the scratch folder,
# which goes when the process ends. pytest's own tmp_path folders stay where they were:
# it keeps the last three runs' for looking into failures.
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", tempfile.gettempdir())
os.environ["TMPDIR"] = os.path.join(_SCRATCH, "tmp")
os.makedirs(os.environ["TMPDIR"])
tempfile.tempdir = os.environ["TMPDIR"]
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ["KERAS_HOME"] = os.path.join(_SCRATCH, "keras_home")
os.environ["TFDS_DATA_DIR"] = os.path.join(_SCRATCH, "tfds")
os.environ["MPLBACKEND"] = "Agg"
os.environ["MPLCONFIGDIR"] = os.path.join(_SCRATCH, "mpl")
os.environ["HYPOTHESIS_STORAGE_DIRECTORY"] = os.path.join(_SCRATCH, "hypothesis")

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


_REAL_NETWORK_PROBE = []


@pytest.fixture(autouse=True)
def _never_download(monkeypatch):
    """No test downloads: in-process tfds loads see every download host as unreachable, so
    an unprepared tfds name fails fast (DatasetNotPreparedError) even on a networked
    machine. The `real_network_probe` fixture is the unpatched probe, for the tests of it."""
    from keras_ae.data import tfds_datasets

    if not _REAL_NETWORK_PROBE:
        _REAL_NETWORK_PROBE.append(tfds_datasets._network_reachable)
    monkeypatch.setattr(tfds_datasets, "_network_reachable", lambda url, timeout=3.0: False)


@pytest.fixture
def real_network_probe(_never_download):
    return _REAL_NETWORK_PROBE[0]


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def mixed_bfloat16():
    """Keras' global dtype policy set to `mixed_bfloat16` for one test, float32 after it."""
    import keras

    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.fixture
def saved_figures(monkeypatch):
    """Every matplotlib Figure saved while the test runs, in order, so that a test can read
    back what a picture shows. The plot functions close their figures after saving; a
    closed Figure still holds its axes and their images, lines and points."""
    from matplotlib.figure import Figure

    figures, savefig = [], Figure.savefig

    def record(figure, *args, **kwargs):
        figures.append(figure)
        return savefig(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return figures


def run_python(code, timeout=300, env=None):
    """Runs `code` in a fresh Python process with the test environment; returns stdout."""
    full_env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=full_env
    )
    if result.returncode != 0:
        raise AssertionError(f"subprocess failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result.stdout


# Every process `start_python` started in the running test: `_reap_started_processes`
# kills and reaps what is left of them when the test ends, however it ends. The list lives
# on `sys`: pytest imports this file as `conftest`, the tests as `tests.conftest`, and the
# two module objects must share it.
_STARTED = sys.__dict__.setdefault("_keras_ae_test_processes", [])


def start_python(code, env=None, cwd=None):
    """Starts `code` in a fresh Python process with the test environment (in the folder
    `cwd`, else this one); returns the Popen.

    Reap it with `finish_processes`, which bounds the time and kills what is left; a test
    that fails first leaves it to `_reap_started_processes`.
    """
    full_env = dict(os.environ, PYTHONPATH=str(REPO), **(env or {}))
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
        cwd=cwd,
    )
    _STARTED.append(process)
    return process


@pytest.fixture(autouse=True)
def _reap_started_processes():
    yield
    while _STARTED:
        process = _STARTED.pop()
        if process.poll() is None:
            process.kill()
        # An unkillable one (in uninterruptible sleep) is left after a minute.
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.communicate(timeout=60)


def finish_processes(processes, timeout=300):
    """Waits for all `processes` (at most `timeout` seconds in all) and returns their stdout.

    Every process is reaped, also when one fails or the time runs out: those still
    running are killed. A failure or a timeout raises AssertionError with the outputs.
    """
    import time

    deadline = time.monotonic() + timeout
    outputs, failures = [], []
    try:
        for process in processes:
            try:
                out, err = process.communicate(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                failures.append(f"timed out after {timeout} s")
                break
            outputs.append(out)
            if process.returncode != 0:
                failures.append(f"exit {process.returncode}:\n{out}\n{err}")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.communicate()
    if failures:
        raise AssertionError("subprocess failed: " + "\n".join(failures))
    return outputs


def load_script(relative_path):
    """Imports a repository script (e.g. `benchmarks/reference_models.py`) as a module."""
    import importlib.util

    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
