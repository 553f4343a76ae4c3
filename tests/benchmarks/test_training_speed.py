"""benchmarks/training_speed.py runs end to end, and its ratios are the ratios of its rates.

Speed itself is never asserted here (machines differ); the script prints ratios measured
side by side, and these tests check that what it prints and writes is consistent.
"""

import json

import pytest

from tests.benchmarks.script_runner import run_script
from tests.conftest import REPO, load_script

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
    # Training FLOP per sample: the decoder's 784 x 1000 product 6 * m * n (forward 2mn,
    # input and weight gradients 2mn each), the encoder's 4 * m * n (its input, the data,
    # gets no gradient).
    flop = (4 + 6) * 784 * 1000
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


def test_the_flop_count_leaves_out_the_data_gradient():
    flop_per_sample = load_script("benchmarks/training_speed.py").flop_per_sample
    # The MLP VAE: every product 784-512, 512-256, 256-20 (twice), 20-256, 256-512, 512-784 at
    # 6mn, but the first, fed the data, at 4mn: 5.68 MFLOP, as the docstring says.
    products = [784 * 512, 512 * 256, 256 * 20, 256 * 20, 20 * 256, 256 * 512, 512 * 784]
    assert flop_per_sample("vae") == 6 * sum(products) - 2 * 784 * 512 == 5_679_104
    assert flop_per_sample("cae") == 7_840_000
    # The conv VAE: 3x its forward, less the first conv's input gradient (its forward again).
    first_conv = 2 * 9 * 14 * 14 * 32
    dense = 6 * (3136 * 256 + 2 * 256 * 16 + 16 * 256 + 256 * 3136)
    convs = 2 * 9 * (14 * 14 * 32 + 7 * 7 * 32 * 64 + 7 * 7 * 64 * 64 + 14 * 14 * 64 * 32 + 28 * 28 * 32)
    assert flop_per_sample("conv_vae") == 3 * convs - first_conv + dense == 49_221_120


@pytest.mark.parametrize(("warmup", "warmup_steps"), [(100, 112), (5, 16), (16, 16)])
def test_the_warmup_runs_the_steps_asked_in_whole_executions(monkeypatch, warmup, warmup_steps):
    # With the defaults (--warmup 100 --steps 64) the warm-up once ran 64 steps, and under
    # 16 none of the TensorFlow floor's executions of 16 steps: it ran on the timed data alone.
    module = load_script("benchmarks/training_speed.py")
    seen = []
    monkeypatch.setattr(module, "contenders", lambda *args: {"keras-ae": lambda x: seen.append(x.copy())})
    module.measure("vae", 2, steps=16, warmup=warmup, rounds=1, with_torch=False)
    warm, timed = seen
    assert len(warm) == 2 * warmup_steps and len(timed) == 2 * 16
    # The warm-up data are the timed data, repeated (here a whole number of times).
    assert (warm.reshape(-1, *timed.shape) == timed).all()
