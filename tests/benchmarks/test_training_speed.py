"""benchmarks/training_speed.py runs end to end, and its ratios are the ratios of its rates.

Speed itself is never asserted here (machines differ); the script prints ratios measured
side by side, and these tests check that what it prints and writes is consistent.
"""

import json

import pytest

from tests.benchmarks.script_runner import run_script
from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "training_speed.py"


def run(*args, timeout=300):
    return run_script(SCRIPT, *args, timeout=timeout)


def test_a_tiny_run_writes_rates_and_their_ratios(tmp_path):
    output = tmp_path / "speed.json"
    options = ("--models", "cae", "--batch-sizes", "32", "--steps", "16", "--warmup", "16", "--rounds", "2")
    process = run(*options, "--contenders", "keras fit spe=16", "--output", str(output))
    assert process.returncode == 0, process.stdout + process.stderr
    assert "cae       batch 32" in process.stdout and "custom step" in process.stdout
    written = json.loads(output.read_text())
    assert written["arguments"]["contenders"] == "keras fit spe=16" and written["matmul_peak_gflops"] > 0
    (row,) = written["results"]
    assert set(row["samples_per_s"]) == {"keras-ae", "keras fit spe=16"}
    for label, rounds in row["rounds_samples_per_s"].items():
        # Two interleaved rounds each; the table's figure is the best one, the median beside it.
        assert len(rounds) == 2 and min(rounds) > 0
        assert row["samples_per_s"][label] == max(rounds)
        assert row["median_samples_per_s"][label] == pytest.approx(sum(rounds) / 2)
        assert all(busy > 0 for busy in row["rounds_cores_busy"][label])
    rates = row["samples_per_s"]
    assert row["custom_step_ratio"] == pytest.approx(rates["keras-ae"] / rates["keras fit spe=16"])
    assert "keras_ae_over_pytorch" not in row  # PyTorch did not run: no ratio over it
    # 2 * 6 * 784 * 1000 training FLOP per sample (two dense products, forward and backward).
    flop = 2 * 6 * 784 * 1000
    expected_fraction = flop * rates["keras-ae"] / (written["matmul_peak_gflops"] * 1e9)
    assert row["keras_ae_peak_fraction"] == pytest.approx(expected_fraction)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--contenders", "pytorch,bogus"), "unknown contenders ['bogus']"),
        (("--models", "rbm"), "unknown model 'rbm'"),
        (("--rounds", "0"), "--rounds must be 1 or more. Received: 0"),
        (("--warmup", "0"), "--warmup must be 1 or more. Received: 0"),
        (("--batch-sizes", "128,x"), "--batch-sizes must list positive integers. Received: '128,x'"),
        (("--batch-sizes", "0"), "--batch-sizes must list positive integers. Received: '0'"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(flags, message):
    process = run(*flags, timeout=60)
    assert process.returncode == 2 and message in process.stderr
    assert "matmul peak" not in process.stdout  # refused before measuring anything
