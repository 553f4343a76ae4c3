"""Training speed of keras-ae beside plain Keras and PyTorch, measured side by side.

For each model and batch size, every contender trains the same network on the same
in-memory data, in interleaved rounds (contender A, B, C, then A, B, C again, ...), so a
machine whose speed drifts (shared cores, turbo) affects all of them alike. The table gives
training samples per second (each contender's best round, after warm-up steps; medians and
every round in the JSON), and the ratios that
matter: keras-ae over PyTorch (target >= 1.2) and keras-ae over a plain Keras functional
model trained by Keras' own `fit` with the same settings (the cost of the custom train
step; target >= 0.97).
The machine's float32 matmul peak (numpy, measured in the same run) puts the numbers in
scale: the fraction of it a contender uses is `FLOP per sample * samples/s / peak`.

Contenders:
- `keras-ae`: `create_model(...)` and `compile("adam")`, everything else default.
- `keras-ae xla`: the defaults plus `jit_compile=True` (XLA, not a default on a CPU);
  `keras-ae spe=1`: the defaults with one step per execution (Keras' own default);
  `keras-ae unfused`: the defaults with Keras' own Adam update instead of the fused one
  that `compile` selects (`keras_ae.optimizers.FusedAdam`).
- `keras-ae bf16`: the defaults with `dtype="mixed_bfloat16"` (networks in bfloat16,
  variables and losses in float32): fast only where the hardware multiplies bfloat16
  natively (AMX or AVX512-BF16 CPUs, recent GPUs); emulated elsewhere (not expected to help).
- `keras fit`: the same layers as a plain Keras functional model with its loss (and the
  KL by `add_loss` for the VAE), trained by Keras' own `fit` with Keras' defaults, but
  for the optimizer: the same fused Adam, so that the comparison isolates the step.
- `keras fit spe=16`: the same with keras-ae's default of 16 steps per execution:
  `keras-ae` over it is the cost of the custom train step (target >= 0.97).
- `tensorflow floor` (the MLP VAE only): the same network as a hand-written TensorFlow
  loop, fused Adam, 16 steps compiled by XLA as one program: the most keras-ae could gain
  from removing its and Keras' overheads on this machine.
- `pytorch bf16`: the PyTorch loop under `torch.autocast("cpu", dtype=torch.bfloat16)`,
  PyTorch's own mixed precision, beside `keras-ae bf16`.
- `pytorch`: the same network (VAE, conv VAE, CAE) in a plain PyTorch loop (`torch.compile`, fused Adam),
  only when `torch` is installed (`pip install ".[bench]"`; on a machine without a GPU the
  CPU build is enough and much smaller: `pip install torch --index-url
  https://download.pytorch.org/whl/cpu`); skipped with a message otherwise.

Usage:
    python benchmarks/training_speed.py                         # VAE MLP, conv VAE, CAE; batch 128, 512
    python benchmarks/training_speed.py --models vae --batch-sizes 128 --rounds 3 --steps 100
    python benchmarks/training_speed.py --output speed.json
    python benchmarks/training_speed.py --models conv_vae --contenders "keras-ae bf16,pytorch,pytorch bf16"

Models (Adam 1e-3, Bernoulli likelihood):
- `vae`: 784-512-256-20 ReLU MLP VAE (the MNIST VAE of the issue; 5.68 MFLOP per sample).
- `conv_vae`: 28x28x1 conv VAE (the zoo's "conv" architecture, filters 32, 64, latent 16;
  49.2 MFLOP per sample).
- `cae`: contractive autoencoder 784-1000 sigmoid, tied weights, closed-form Jacobian (7.84
  MFLOP per sample, the Jacobian penalty not counted).

The FLOP per sample are those of a training step's matrix products: 2 per multiply-add
forward, twice that backward (input and weight gradients), less the first layer's input
gradient, which is never computed (its input is the data).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # speed_contenders, imported from anywhere

import numpy as np  # noqa: E402
from speed_contenders import CONTENDERS, MODELS, contenders, torch_available  # noqa: E402


def cpu_description():
    """The CPU model, core count and native bfloat16 instruction sets, for the record."""
    model, flags = platform.processor() or platform.machine(), []
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = [f for f in value.split() if f in ("amx_bf16", "avx512_bf16")]
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, native bfloat16: {', '.join(flags) or 'none'}"


def matmul_peak_gflops(n=1024, repeats=20):
    """The machine's float32 matmul rate with numpy (best of `repeats`), in GFLOP/s."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype("float32")
    a @ a
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _timed_with_cores(fn):
    """`(seconds, cores)`: the wall time of `fn()` and the CPU time of this process (all its
    threads, user and system) divided by it: how many cores the call kept busy on average."""
    cpu = os.times()
    seconds = _timed(fn)
    after = os.times()
    return seconds, (after.user + after.system - cpu.user - cpu.system) / seconds


def dense_flops(sizes, from_data=False):
    """Training FLOP per sample of a chain of dense layers: forward 2*m*n per layer, backward
    twice that (the weight gradient and the input gradient, 2*m*n each). With `from_data`,
    the chain's input is the data, whose gradient is never computed: its first layer costs
    4*m*n."""
    flop = sum(6 * m * n for m, n in zip(sizes[:-1], sizes[1:], strict=False))
    return flop - 2 * sizes[0] * sizes[1] if from_data else flop


def flop_per_sample(name):
    if name == "vae":
        # encoder 784-512-256 (fed the data), two heads 256-20, decoder 20-256-512-784
        return (
            dense_flops([784, 512, 256], from_data=True)
            + 2 * dense_flops([256, 20])
            + dense_flops([20, 256, 512, 784])
        )
    if name == "cae":
        # encoder 784-1000 (fed the data), decoder 1000-784 (the tied weights, transposed)
        return dense_flops([784, 1000], from_data=True) + dense_flops([1000, 784])
    if name == "conv_vae":
        first = 2 * 3 * 3 * 14 * 14 * 1 * 32  # forward MACs x 2 of the first conv (fed the data)
        conv = first + 2 * 3 * 3 * 7 * 7 * 32 * 64  # ... and of both encoder convs
        deconv = 2 * 3 * 3 * (7 * 7 * 64 * 64 + 14 * 14 * 64 * 32) + 2 * 3 * 3 * 28 * 28 * 32
        dense = dense_flops([3136, 256]) + 2 * dense_flops([256, 16]) + dense_flops([16, 256, 3136])
        # Backward: twice the forward (input and weight gradients), but the first conv's
        # input is the data, whose gradient is never computed.
        return 3 * (conv + deconv) - first + dense


def repeated(x, rows):
    """`rows` rows: those of `x` repeated end to end as often as needed, cut at `rows`."""
    return np.resize(x, (rows, *x.shape[1:]))


def measure(name, batch_size, steps, warmup, rounds, with_torch, only=None):
    shape = MODELS[name]["input_shape"]
    rng = np.random.default_rng(0)
    # Whole executions of 16 steps, so that every contender trains on every example.
    steps = -(-steps // 16) * 16
    x = (rng.uniform(size=(steps * batch_size, *shape)) > 0.5).astype("float32")
    # The warm-up runs whole executions too (the TensorFlow floor runs nothing of a partial
    # one, so fewer than 16 steps would leave its XLA compile to the first timed round), on
    # x repeated as often as needed: it may be longer than the timed steps.
    warmup = -(-warmup // 16) * 16
    warmup_x = repeated(x, warmup * batch_size)
    fits = contenders(name, batch_size, with_torch, only)
    for fit in fits.values():  # trace, compile and warm up
        fit(warmup_x)
    rates = {label: [] for label in fits}
    cores = {label: [] for label in fits}
    labels = list(fits)
    for round_index in range(rounds):
        # Rotate the order each round: no contender is always first (or last) on a warm machine.
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            seconds, busy = _timed_with_cores(lambda fit=fits[label]: fit(x))
            rates[label].append(len(x) / seconds)
            cores[label].append(busy)
    # The best round, not the median: on the shared 2-core machines here, rounds of the
    # Keras-fed contenders fall into a slow state that keeps about 1.1-1.3 cores busy
    # instead of 1.7 (the same model instance measured 9.0k, 4.7k, 9.8k samples/s in three
    # consecutive rounds; RESULTS.md, "Training speed"), so with several slow rounds a
    # median mixes two speeds. A contender's fastest round is its speed with both cores;
    # the median, and the cores each round kept busy (which tell the states apart), are
    # kept beside it.
    best = {label: max(values) for label, values in rates.items()}
    medians = {label: statistics.median(values) for label, values in rates.items()}
    return best, medians, rates, cores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="vae,conv_vae,cae")
    parser.add_argument("--batch-sizes", default="128,512")
    parser.add_argument(
        "--steps",
        type=int,
        default=64,
        help="timed steps per contender and round (rounded up to a multiple of 16)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=100,
        help="untimed steps per contender first (tracing, XLA), rounded up to a multiple of 16 "
        "(whole executions)",
    )
    parser.add_argument(
        "--rounds", type=int, default=15, help="interleaved rounds (shared machines are noisy)"
    )
    parser.add_argument(
        "--contenders",
        help="comma-separated labels to run (default: all), e.g. 'keras-ae,keras-ae bf16,pytorch'; "
        "keras-ae always runs (the ratios are over it)",
    )
    parser.add_argument("--output", help="also write the results as JSON to this path")
    args = parser.parse_args(argv)
    only = None if args.contenders is None else {"keras-ae", *args.contenders.split(",")}
    if only is not None and not only <= set(CONTENDERS):
        parser.error(
            f"unknown contenders {sorted(only - set(CONTENDERS))}; expected some of {','.join(CONTENDERS)}"
        )
    names = args.models.split(",")
    for name in names:
        if name not in MODELS:
            parser.error(f"unknown model {name!r}; expected some of {','.join(MODELS)}")
    for flag, value in (("--steps", args.steps), ("--warmup", args.warmup), ("--rounds", args.rounds)):
        if value < 1:
            parser.error(f"{flag} must be 1 or more. Received: {value}")
    try:
        batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    except ValueError:
        batch_sizes = []
    if not batch_sizes or min(batch_sizes) < 1:
        parser.error(f"--batch-sizes must list positive integers. Received: {args.batch_sizes!r}")
    with_torch = torch_available()
    if not with_torch:
        print("pytorch: not installed, its column is skipped (pip install '.[bench]' adds it)")
    peak = matmul_peak_gflops()
    print(f"float32 matmul peak (numpy, 1024x1024): {peak:.0f} GFLOP/s on {os.cpu_count()} cores")
    results = []
    for name in names:
        for batch_size in batch_sizes:
            rates, medians, rounds, cores = measure(
                name, batch_size, args.steps, args.warmup, args.rounds, with_torch, only
            )
            flop = flop_per_sample(name)
            row = {
                "model": name,
                "batch_size": batch_size,
                "samples_per_s": rates,
                "median_samples_per_s": medians,
                "rounds_samples_per_s": rounds,
                "rounds_cores_busy": cores,
            }
            # keras-ae over each reference that ran; "custom step" is the cost of the custom
            # train step alone (both with 16 steps per execution).
            references = {
                "keras_ae_over_keras_fit": ("keras fit", "keras-ae/keras fit"),
                "custom_step_ratio": ("keras fit spe=16", "custom step"),
                "fused_adam_ratio": ("keras-ae unfused", "fused Adam"),
                "keras_ae_over_pytorch": ("pytorch", "keras-ae/pytorch"),
            }
            ratios = []
            for key, (label, text) in references.items():
                if label in rates:
                    row[key] = rates["keras-ae"] / rates[label]
                    ratios.append(f"{text} {row[key]:.2f}")
            if flop:
                row["keras_ae_peak_fraction"] = flop * rates["keras-ae"] / (peak * 1e9)
                ratios.append(f"{100 * row['keras_ae_peak_fraction']:.0f}% of peak")
            results.append(row)
            cells = "  ".join(f"{label}: {rate / 1e3:6.2f}k" for label, rate in rates.items())
            ratios = ", ".join(ratios)
            print(f"{name:<9} batch {batch_size:<4} samples/s  {cells}  ({ratios})", flush=True)
            busy = "  ".join(
                f"{label}: {min(values):.2f}-{max(values):.2f}" for label, values in cores.items()
            )
            print(f"{'':<9} cores busy per round (lowest-highest)  {busy}", flush=True)
    if args.output:
        import keras

        with open(args.output, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "machine": cpu_description(),
                    "keras": keras.__version__,
                    "arguments": vars(args),
                    "matmul_peak_gflops": peak,
                    "results": results,
                },
                f,
                indent=2,
            )
    return results


if __name__ == "__main__":
    main()
