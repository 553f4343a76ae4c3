"""Where a training step's time goes, by op: keras-ae in float32 and bfloat16, beside PyTorch.

Issue #13 left one question open: with AMX/AVX512-BF16, `mixed_bfloat16` makes keras-ae
1.2-1.6x faster, but PyTorch's own bfloat16 gains 1.4-2.3x on the same machine. This script
profiles the same training steps of each contender and sums the time of every kernel by its
op type, so the two can be compared class by class: the matrix multiplications, the casts
that mixed precision adds, the optimizer update, and the element-wise rest.

- keras-ae: `create_model(...)`, `compile("adam")` and `fit` on an in-memory array, as in
  `speed_contenders.keras_ae_fit`, optionally with `dtype="mixed_bfloat16"`; profiled with TensorFlow's
  profiler (`tf.profiler.experimental`), whose trace (an XSpace protobuf) this script reads
  directly: each kernel run is one event named `op_name:OpType` on an executor thread.
- PyTorch (when installed): `speed_contenders.pytorch_fit`'s compiled loop, float32 and under
  `torch.autocast(bfloat16)`, profiled with `torch.profiler` (self CPU time per op).

Times are per training step, summed over the threads that ran kernels: on 2 cores a step's
kernel time can exceed its wall time. Ratios between rows measured in one run are the
figures to read; absolute times vary with the machine and its load.

Usage:
    python benchmarks/step_profile.py                                 # VAE, batch 128
    python benchmarks/step_profile.py --batch-size 512 --steps 160 --output profile.json
    python benchmarks/step_profile.py --model cae --contenders "keras-ae,keras-ae bf16"
"""

import argparse
import collections
import datetime
import glob
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import speed_contenders  # noqa: E402
import training_speed  # noqa: E402

CONTENDERS = ("keras-ae", "keras-ae bf16", "pytorch", "pytorch bf16")

# Op types (TensorFlow) and op names (PyTorch) by class; everything else is "element-wise
# and other". oneDNN's fused matmuls carry their bias and activation inside.
TF_CLASSES = {
    "matmul": ("MatMul", "_MklMatMul", "_MklNativeFusedMatMul", "_FusedMatMul", "BatchMatMulV2", "Conv2D",
               "Conv2DBackpropInput", "Conv2DBackpropFilter", "_MklNativeConv2D", "_FusedConv2D",
               "_MklNativeFusedConv2D", "_MklNativeConv2DBackpropInput", "_MklNativeConv2DBackpropFilter"),
    "cast": ("Cast", "_MklCast"),
    "optimizer": ("ResourceApplyAdam", "AssignVariableOp", "AssignAddVariableOp", "AssignSubVariableOp"),
}  # fmt: skip
TORCH_CLASSES = {
    "matmul": ("aten::mm", "aten::addmm", "aten::bmm", "aten::convolution", "aten::mkldnn_convolution",
               "aten::convolution_backward", "mkldnn::_linear_pointwise", "aten::_convolution"),
    "cast": ("aten::_to_copy", "aten::to", "aten::copy_"),
    "optimizer": ("aten::_fused_adam_", "aten::_fused_adamw_"),
}  # fmt: skip
CLASSES = ("matmul", "cast", "optimizer", "element-wise and other")


def classify(op, classes):
    for name, members in classes.items():
        if op in members:
            return name
    # Everything else, torch.compile's generated kernels ("## Call CompiledFxGraph ...") too.
    return "element-wise and other"


def xspace_kernel_events(logdir):
    """Yields `(op type, duration in ps)` of each kernel in the TensorFlow profiler's trace in
    `logdir`."""
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    paths = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))
    if not paths:
        raise RuntimeError(f"The TensorFlow profiler wrote no trace under {logdir}.")
    space = xplane_pb2.XSpace()
    with open(paths[-1], "rb") as f:
        space.ParseFromString(f.read())
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            # Kernels run on the executor's inter-op threads; Eigen's intra-op workers
            # only record their regions, and the Python thread records the call itself.
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name or name.startswith("ExecutorState"):
                    continue
                yield name.rsplit(":", 1)[1], event.duration_ps


def xspace_kernel_times(logdir):
    """Sums kernel durations (ps) by op type from the TensorFlow profiler's trace in `logdir`."""
    totals = collections.Counter()
    for op_type, duration_ps in xspace_kernel_events(logdir):
        totals[op_type] += duration_ps
    return totals


def profile_keras_ae(model_name, batch_size, steps, warmup, dtype):
    import tensorflow as tf

    x = _data(model_name, batch_size, steps)
    fit = speed_contenders.keras_ae_fit(model_name, batch_size, dtype=dtype)
    # builds, traces and warms every function first (x repeated: --warmup may exceed --steps)
    fit(training_speed.repeated(x, warmup * batch_size))
    unprofiled = _timed(fit, x)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        try:
            start = time.perf_counter()
            fit(x)
            wall = time.perf_counter() - start
        finally:
            # A profiler left running would refuse the next start in this process.
            tf.profiler.experimental.stop()
        totals = xspace_kernel_times(logdir)
    return unprofiled, wall, {op: ps / 1e9 for op, ps in totals.items()}, TF_CLASSES  # ms


def profile_pytorch(model_name, batch_size, steps, warmup, bfloat16):
    import torch

    x = _data(model_name, batch_size, steps)
    fit = speed_contenders.pytorch_fit(model_name, batch_size, bfloat16=bfloat16)
    fit(training_speed.repeated(x, warmup * batch_size))
    unprofiled = _timed(fit, x)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        start = time.perf_counter()
        fit(x)
        wall = time.perf_counter() - start
    totals = {event.key: event.self_cpu_time_total / 1e3 for event in profile.key_averages()}  # ms
    return unprofiled, wall, totals, TORCH_CLASSES


def _timed(fit, x):
    start = time.perf_counter()
    fit(x)
    return time.perf_counter() - start


def _data(model_name, batch_size, steps):
    shape = speed_contenders.MODELS[model_name]["input_shape"]
    rng = np.random.default_rng(0)
    return (rng.uniform(size=(steps * batch_size, *shape)) < 0.3).astype("float32")


def summarize(unprofiled, wall, totals, classes, steps, top):
    per_step = {op: ms / steps for op, ms in totals.items() if ms > 0}
    by_class = dict.fromkeys(CLASSES, 0.0)
    for op, ms in per_step.items():
        by_class[classify(op, classes)] += ms
    return {
        "unprofiled_wall_ms_per_step": 1e3 * unprofiled / steps,
        "wall_ms_per_step": 1e3 * wall / steps,
        "kernel_ms_per_step": sum(per_step.values()),
        "by_class_ms_per_step": by_class,
        "top_ops_ms_per_step": dict(sorted(per_step.items(), key=lambda kv: -kv[1])[:top]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="vae", choices=sorted(speed_contenders.MODELS))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=160, help="profiled training steps per contender")
    parser.add_argument("--warmup", type=int, default=64, help="steps before profiling")
    parser.add_argument("--top", type=int, default=10, help="ops listed per contender")
    parser.add_argument(
        "--contenders",
        default=",".join(CONTENDERS),
        help=f"comma-separated subset of {', '.join(CONTENDERS)}",
    )
    parser.add_argument("--output", help="also write the results as JSON to this path")
    args = parser.parse_args(argv)
    for name in ("batch_size", "steps", "warmup", "top"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1. Received: {getattr(args, name)}")
    chosen = [c.strip() for c in args.contenders.split(",") if c.strip()]
    unknown = [c for c in chosen if c not in CONTENDERS]
    if unknown or not chosen:
        parser.error(f"--contenders must name some of {', '.join(CONTENDERS)}. Received: {args.contenders!r}")
    if any(c.startswith("pytorch") for c in chosen) and not speed_contenders.torch_available():
        print("PyTorch is not installed: its contenders are skipped (pip install '.[bench]').")
        chosen = [c for c in chosen if not c.startswith("pytorch")]

    results = {}
    for name in chosen:
        if name.startswith("keras-ae"):
            dtype = "mixed_bfloat16" if name.endswith("bf16") else None
            measured = profile_keras_ae(args.model, args.batch_size, args.steps, args.warmup, dtype)
        else:
            measured = profile_pytorch(
                args.model, args.batch_size, args.steps, args.warmup, name.endswith("bf16")
            )
        results[name] = summarize(*measured, args.steps, args.top)

    print(f"\n{args.model}, batch {args.batch_size}, {args.steps} profiled steps; ms per step")
    print("(wall: without the profiler, then with it; kernels and classes: summed over threads)")
    header = f"{'contender':<16}{'wall':>8}{'profiled':>10}{'kernels':>9}"
    print(header + "".join(f"{c[:12]:>14}" for c in CLASSES))
    for name, r in results.items():
        row = "".join(f"{r['by_class_ms_per_step'][c]:>14.3f}" for c in CLASSES)
        walls = f"{r['unprofiled_wall_ms_per_step']:>8.3f}{r['wall_ms_per_step']:>10.3f}"
        print(f"{name:<16}{walls}{r['kernel_ms_per_step']:>9.3f}{row}")
    for name, r in results.items():
        print(f"\n{name}: top ops (ms per step)")
        for op, ms in r["top_ops_ms_per_step"].items():
            print(f"  {op[:60]:<60}{ms:>9.3f}")
    if args.output:
        with open(args.output, "w") as f:
            json.dump(
                {
                    "arguments": vars(args),
                    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "machine": training_speed.cpu_description(),
                    "results": results,
                },
                f,
                indent=2,
            )
    return results


if __name__ == "__main__":
    main()
