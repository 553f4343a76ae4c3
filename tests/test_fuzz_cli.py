"""Hostile command lines, fuzzed: `keras-ae` either works or says which flag is wrong.

Each case takes a command line that works and sets one flag (or the run folder) to a
hostile value: text where a number belongs, negative, zero, huge, NaN, empty, unknown
names, malformed splits and `--param`s, a file where a folder belongs. The command must
succeed (finite results written) or exit with status 2 and a one-line error that names the
flag, its Python name or the `--param` key: an argparse usage error, or the command's own
`keras-ae CMD: error: ...`. A traceback, another exit status or a NaN fails the test.
Derandomized: CI sees the same cases every run.
"""

import contextlib
import io
import itertools
import json
import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keras_ae.cli import main

CLI_FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NUMBERS = ["-1", "0", "abc", "", "3.5", "nan", "inf", "-inf", "1e400", "99999999999999999999999", " 7"]
TEXTS = ["", " ", "..", "☃", "a" * 300, "train[::2]", "train[5:1]", "test[:0]", "nope", "-", "\x00"]
# Hostile values by flag. Large but valid sizes are left out: they would train for hours.
TRAIN_FLAGS = {
    "--epochs": NUMBERS,
    "--batch-size": [*NUMBERS, "100000"],
    "--latent-dim": NUMBERS,
    "--lr": [*NUMBERS, "1e300", "-0.0"],
    "--seed": [*NUMBERS, "-5", str(2**70)],
    "--hidden-units": ["", "a,b", "1,,2", "-3", "0", "4,0", "1e3"],
    "--filters": ["", "a", "-1", "0"],
    "--activation": [*TEXTS, "softmax", "relu6", "linear"],
    "--likelihood": [*TEXTS, "gaussian", "mse"],
    "--variance": [*NUMBERS, "1e-45"],
    "--architecture": [*TEXTS, "conv"],
    "--binarize": [*TEXTS, "static", "threshold"],
    "--dataset": [*TEXTS, "mnist", "tfds:nope", "/nonexistent", "shapes"],
    "--data-dir": ["", "/nonexistent/tfds", "\x00"],
    "--split": TEXTS,
    "--validation-split": [*TEXTS, "none", "train[:8]"],
    "--keep-checkpoints": NUMBERS,
    "--save-every": NUMBERS,
    "--distribute": [*TEXTS, "tpu"],
    "--verbose": [*NUMBERS, "3"],
    "--param": ["=", "beta", "beta=-1", "beta=nan", "k=0", "bogus=1", "=1", "seed=abc", "beta=[1,2]"],
}
RUN_FLAGS = {
    "evaluate": {"--dataset": TRAIN_FLAGS["--dataset"], "--split": TEXTS, "--batch-size": NUMBERS},
    "plot": {"--split": TEXTS, "--kinds": ["", "nope", "samples,nope", ",", "filters"]},
    "export": {"--version": [*NUMBERS, "-3"]},
}
BASE_TRAIN = ["--dataset", "digits", "--split", "train[:64]", "--validation-split", "test[:32]",
              "--epochs", "1", "--hidden-units", "16", "--latent-dim", "2", "--no-tensorboard",
              "--verbose", "0"]  # fmt: skip
_counter = itertools.count()


def run_cli(argv):
    """`(status, stderr)` of `keras-ae ARGV` run in this process."""
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(argv)
        except SystemExit as exit_:  # argparse's usage errors
            status = exit_.code
    return status, stderr.getvalue()


def assert_clear_error(status, stderr, names):
    assert status == 2, f"exit status {status}: {stderr[-500:]}"
    assert "Traceback" not in stderr, stderr
    lines = [line for line in stderr.splitlines() if "error:" in line]
    assert lines, stderr
    named = [n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w])", lines[-1])]
    assert named, f"the error does not name {sorted(names)}: {lines[-1][:400]}"


def names_of(flag, value):
    names = {flag, flag.lstrip("-").replace("-", "_")}
    if flag == "--param":
        names.add(value.partition("=")[0].strip() or "--param")
    if flag == "--lr":
        names.add("learning_rate")
    return names


def with_flag(argv, flag, value):
    """`argv` with `flag` set to `value` (replaced when present, else appended)."""
    argv = list(argv)
    if flag in argv and flag != "--param":
        argv[argv.index(flag) + 1] = value
        return argv
    return [*argv, f"{flag}={value}"]  # `=`: a value such as "-1" is not read as a flag


def assert_finite_history(run):
    history = json.loads((run / "history.json").read_text())
    for values in history.values():
        assert all(math.isfinite(v) for v in values), history


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fuzz") / "run"
    assert run_cli(["train", "vae", *BASE_TRAIN, "--out", str(out)]) == (0, "")
    return out


@CLI_FUZZ
@given(data=st.data())
def test_train_with_one_hostile_flag(tmp_path, data):
    model = data.draw(
        st.sampled_from(["vae", "autoencoder", "k_sparse_autoencoder", "beta_vae"]), label="model"
    )
    flag = data.draw(st.sampled_from(sorted(TRAIN_FLAGS)), label="flag")
    value = data.draw(st.sampled_from(TRAIN_FLAGS[flag]), label="value")
    out = tmp_path / f"run{next(_counter)}"
    argv = with_flag(["train", model, *BASE_TRAIN, "--out", str(out)], flag, value)
    status, stderr = run_cli(argv)
    if status == 0:
        assert_finite_history(out)
        assert (out / "model.keras").is_file()
    else:
        assert_clear_error(status, stderr, names_of(flag, value))


@CLI_FUZZ
@given(data=st.data())
def test_run_commands_with_one_hostile_flag_or_run_folder(trained_run, tmp_path, data):
    command = data.draw(st.sampled_from(sorted(RUN_FLAGS)), label="command")
    target = data.draw(st.sampled_from(["run", "run", "missing", "file", "empty"]), label="target")
    run = {
        "run": trained_run,
        "missing": tmp_path / "missing",
        "file": trained_run / "config.json",
        "empty": tmp_path / f"empty{next(_counter)}",
    }[target]
    if target == "empty":
        run.mkdir()
    argv = [command, str(run)]
    if command == "export":
        argv += ["--export-dir", str(tmp_path / f"export{next(_counter)}")]
    if command == "plot":
        argv += ["--out", str(tmp_path / f"plots{next(_counter)}")]
    flag = value = None
    if target == "run":
        flag = data.draw(st.sampled_from(sorted(RUN_FLAGS[command])), label="flag")
        value = data.draw(st.sampled_from(RUN_FLAGS[command][flag]), label="value")
        argv = with_flag(argv, flag, value)
    status, stderr = run_cli(argv)
    if status == 0:
        assert target == "run", f"{command} succeeded on a {target} run folder"
        if command == "evaluate":
            metrics = json.loads((trained_run / "metrics.json").read_text())
            assert all(math.isfinite(v) for v in metrics.values() if isinstance(v, float)), metrics
    else:
        assert_clear_error(status, stderr, names_of(flag, value) if flag else {"run", str(run)})
