"""benchmarks/step_profile.py reads TensorFlow's own trace: the kernels it sums are real ones."""

import json

from tests.benchmarks.script_runner import run_script
from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "step_profile.py"


def run(*args, timeout=300):
    return run_script(SCRIPT, *args, timeout=timeout)


def test_profiles_float32_and_bfloat16_steps_by_op(tmp_path):
    output = tmp_path / "profile.json"
    process = run(
        "--contenders", "keras-ae,keras-ae bf16", "--steps", "4", "--warmup", "2", "--top", "100",
        "--output", str(output),
    )  # fmt: skip
    assert process.returncode == 0, process.stdout + process.stderr
    results = json.loads(output.read_text())["results"]
    for name in ("keras-ae", "keras-ae bf16"):
        r = results[name]
        classes = r["by_class_ms_per_step"]
        # Every kernel is in exactly one class, and all of them are listed (--top 100).
        assert abs(sum(classes.values()) - r["kernel_ms_per_step"]) < 1e-6
        assert abs(sum(r["top_ops_ms_per_step"].values()) - r["kernel_ms_per_step"]) < 1e-6
        # The VAE's step multiplies matrices and updates 14 variables with the fused Adam.
        assert classes["matmul"] > 0 and r["top_ops_ms_per_step"]["ResourceApplyAdam"] > 0
    # Mixed precision casts every weight and activation; the float32 step casts only scalars.
    assert (
        results["keras-ae bf16"]["by_class_ms_per_step"]["cast"]
        > results["keras-ae"]["by_class_ms_per_step"]["cast"]
    )
    assert "Cast" in results["keras-ae bf16"]["top_ops_ms_per_step"]
    assert "keras-ae bf16" in process.stdout and "ResourceApplyAdam" in process.stdout


def test_rejects_unknown_contenders_and_sizes():
    process = run("--contenders", "keras-ae,jax")
    assert (
        process.returncode == 2
        and "--contenders must name some of" in process.stderr
        and "'keras-ae,jax'" in process.stderr
    )
    process = run("--steps", "0")
    assert process.returncode == 2 and "--steps must be >= 1. Received: 0" in process.stderr
