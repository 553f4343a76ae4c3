"""benchmarks/step_profile.py reads TensorFlow's own trace: the kernels it sums are real ones.

Kernel times vary with the machine and its load, so nothing here compares durations: the
checks are on which ops the trace holds and how many times each ran.
"""

import collections
import json

import pytest

from tests.benchmarks.script_runner import run_script
from tests.conftest import REPO, load_script

SCRIPT = REPO / "benchmarks" / "step_profile.py"
STEPS = 4


def run(*args, timeout=300):
    return run_script(SCRIPT, *args, timeout=timeout)


def test_profiles_float32_and_bfloat16_steps_by_op(tmp_path):
    output = tmp_path / "profile.json"
    process = run(
        "--contenders", "keras-ae,keras-ae bf16", "--steps", str(STEPS), "--warmup", "2", "--top", "100",
        "--output", str(output),
    )  # fmt: skip
    assert process.returncode == 0, process.stdout + process.stderr
    results = json.loads(output.read_text())["results"]
    matmuls = set(load_script("benchmarks/step_profile.py").TF_CLASSES["matmul"])
    for name in ("keras-ae", "keras-ae bf16"):
        r = results[name]
        classes = r["by_class_ms_per_step"]
        # Every kernel is in exactly one class, and all of them are listed (--top 100).
        assert abs(sum(classes.values()) - r["kernel_ms_per_step"]) < 1e-6
        assert abs(sum(r["top_ops_ms_per_step"].values()) - r["kernel_ms_per_step"]) < 1e-6
        # The VAE's step multiplies matrices and updates its variables with the fused Adam:
        # both op types are in the trace the figures come from.
        assert matmuls & set(r["top_ops_ms_per_step"]) and "ResourceApplyAdam" in r["top_ops_ms_per_step"]
    assert "Cast" in results["keras-ae bf16"]["top_ops_ms_per_step"]
    assert "keras-ae bf16" in process.stdout and "ResourceApplyAdam" in process.stdout


def test_the_trace_holds_each_steps_kernels(monkeypatch):
    # The script's own profiling of the VAE 784-512-256-20 (speed_contenders), with the trace
    # also counted by op type before the script reads its times.
    module = load_script("benchmarks/step_profile.py")
    counted, read_times = [], module.xspace_kernel_times

    def count_then_time(logdir):
        # How many times each op type ran: the same kernel events, counted instead of timed.
        counted.append(collections.Counter(op_type for op_type, _ in module.xspace_kernel_events(logdir)))
        return read_times(logdir)

    monkeypatch.setattr(module, "xspace_kernel_times", count_then_time)
    for dtype in (None, "mixed_bfloat16"):
        _, _, times, classes = module.profile_keras_ae("vae", 128, STEPS, 2, dtype)
        counts = counted[-1]
        # Every op type the script timed ran in the trace.
        assert set(times) <= set(counts) and times
        # 7 dense layers (encoder 512, 256, z_mean, z_log_var; decoder 256, 512, 784): one
        # matmul each forward, and two backward (input and kernel gradients) but for the
        # first layer, whose input needs none: 7 + 13 = 20 per step, all classed as matmuls.
        assert sum(counts[op] for op in classes["matmul"]) == 20 * STEPS, dtype
        # The fused Adam updates each of the 14 variables (7 kernels, 7 biases) once a step.
        assert counts["ResourceApplyAdam"] == 14 * STEPS, dtype
    float32, bfloat16 = counted
    # Mixed precision casts at least each of the 14 float32 variables to bfloat16 every step,
    # on top of the casts of the float32 step.
    assert bfloat16["Cast"] >= float32["Cast"] + 14 * STEPS


def test_rejects_unknown_contenders_and_sizes():
    process = run("--contenders", "keras-ae,jax")
    assert (
        process.returncode == 2
        and "--contenders must name some of" in process.stderr
        and "'keras-ae,jax'" in process.stderr
    )
    process = run("--steps", "0")
    assert process.returncode == 2 and "--steps must be >= 1. Received: 0" in process.stderr


def test_the_profiler_stops_when_the_profiled_fit_raises(monkeypatch, tmp_path):
    import tensorflow as tf

    module = load_script("benchmarks/step_profile.py")
    calls = []

    def failing_fit(*args, **kwargs):
        def fit(x):
            calls.append(len(x))
            if len(calls) == 3:  # warm-up, unprofiled, then the profiled fit
                raise RuntimeError("out of memory")

        return fit

    monkeypatch.setattr(module.speed_contenders, "keras_ae_fit", failing_fit)
    with pytest.raises(RuntimeError, match="out of memory"):
        module.profile_keras_ae("vae", 2, STEPS, 2 * STEPS, None)
    # The warm-up ran the steps asked, more than the profiled ones (the data repeated).
    assert calls == [2 * 2 * STEPS, 2 * STEPS, 2 * STEPS]
    # No profiler left running: a new one starts (it would raise AlreadyExistsError).
    tf.profiler.experimental.start(str(tmp_path))
    tf.profiler.experimental.stop()
