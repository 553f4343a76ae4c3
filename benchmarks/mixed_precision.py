"""Does `mixed_bfloat16` train the MNIST VAE as well as float32, and how much faster?

Issue #13 asks for a bfloat16 option where the hardware multiplies bfloat16 natively, with
the ELBO within 0.5 nat of float32. This script trains the issue's VAE (784-512-256-20
ReLU, Bernoulli, Adam 1e-3, batch 128) on the MNIST training images binarized once, for the
same number of epochs, with the same seed and data order, once per contender:

- `float32`, seed `--seed`: the defaults;
- `mixed_bfloat16`, seed `--seed`: `create_model(..., dtype="mixed_bfloat16")`;
- `float32`, seed `--seed + 1`: the same defaults with another seed, so the difference
  between two float32 runs (initialization and sampling noise) sits beside the
  difference that bfloat16 makes.

The epochs are interleaved (one epoch of each contender in turn), so the samples/s ratio
is measured side by side. The test -ELBO averages `--elbo-samples` seeded posterior draws
per test image (binarized once, seed 123), evaluated in float32 for every model: the
bfloat16 model's weights are float32 already, and evaluating them in float32 separates
what bfloat16 training did to the weights from bfloat16's rounding at evaluation, which
is reported too.

Usage:
    python benchmarks/mixed_precision.py                  # 20 epochs
    python benchmarks/mixed_precision.py --epochs 5 --output mixed.json
"""

import argparse
import datetime
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "reproduce"))

from _common import load_mnist, machine  # noqa: E402  (puts this checkout's keras_ae first on the path)

MODEL = {"input_shape": (784,), "latent_dim": 20, "hidden_units": (512, 256)}


def bfloat16_hardware():
    """The CPU's native bfloat16 instruction sets (from /proc/cpuinfo), for the record."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next(line.split(":", 1)[1].split() for line in cpuinfo if line.startswith("flags"))
    except (OSError, StopIteration):
        return []
    return sorted(flag for flag in flags if flag in ("amx_bf16", "avx512_bf16"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--elbo-samples", type=int, default=5, help="posterior draws per test image")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--num-train", type=int, help="training images (default: all 60000)")
    parser.add_argument("--output", help="also write the results as JSON to this path")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or args.elbo_samples < 1:
        parser.error(
            "--epochs, --batch-size and --elbo-samples must be positive. Received: "
            f"epochs={args.epochs}, batch_size={args.batch_size}, elbo_samples={args.elbo_samples}"
        )

    import keras
    import numpy as np

    import keras_ae
    from keras_ae.evaluation import elbo

    (x_train, _), (x_test, _) = load_mnist(None, args.num_train)
    x_train = (np.random.default_rng(args.seed).uniform(size=x_train.shape) < x_train).astype("float32")
    x_test = (np.random.default_rng(123).uniform(size=x_test.shape) < x_test).astype("float32")

    contenders = {
        "float32": ("float32", args.seed),
        "mixed_bfloat16": ("mixed_bfloat16", args.seed),
        f"float32, seed {args.seed + 1}": ("float32", args.seed + 1),
    }
    models, rates = {}, {name: [] for name in contenders}
    for name, (dtype, seed) in contenders.items():
        keras.utils.set_random_seed(seed)
        model = keras_ae.create_model("vae", **MODEL, seed=seed, dtype=dtype)
        model.compile(optimizer=keras.optimizers.Adam(1e-3))
        models[name] = model
    started = time.perf_counter()
    for epoch in range(args.epochs):
        for name, model in models.items():
            # The same order of batches for every contender: one shuffle per epoch, seeded.
            order = np.random.default_rng([args.seed, epoch]).permutation(len(x_train))
            start = time.perf_counter()
            model.fit(x_train[order], batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
            rates[name].append(len(x_train) / (time.perf_counter() - start))
        print(
            f"epoch {epoch + 1}: "
            + ", ".join(f"{name} {rates[name][-1] / 1e3:.2f}k samples/s" for name in models),
            flush=True,
        )
    wall = time.perf_counter() - started

    def negative_elbo(model):
        return -elbo(model, x_test, num_samples=args.elbo_samples, seed=args.seed)["elbo"]

    results = {}
    for name, model in models.items():
        # Every model's weights evaluated in float32 (weights are float32 under both policies).
        evaluator = keras_ae.create_model("vae", **MODEL, seed=contenders[name][1])
        evaluator.set_weights(model.get_weights())
        results[name] = {
            "test_negative_elbo": negative_elbo(evaluator),
            "samples_per_second_best": max(rates[name]),
            "samples_per_second_median": float(np.median(rates[name])),
        }
    results["mixed_bfloat16"]["test_negative_elbo_evaluated_in_bfloat16"] = negative_elbo(
        models["mixed_bfloat16"]
    )

    reference = results["float32"]["test_negative_elbo"]
    print(f"\nMNIST VAE 784-512-256-20, {args.epochs} epochs of batch {args.batch_size}; {machine()}")
    print(f"native bfloat16 instructions: {', '.join(bfloat16_hardware()) or 'none (bfloat16 is emulated)'}")
    for name, row in results.items():
        print(
            f"{name:>20}: test -ELBO {row['test_negative_elbo']:.2f} nats "
            f"({row['test_negative_elbo'] - reference:+.2f} vs float32), "
            f"{row['samples_per_second_best'] / 1e3:.2f}k samples/s best, "
            f"{row['samples_per_second_median'] / 1e3:.2f}k median"
        )
    summary = {
        "bfloat16_minus_float32_nats": results["mixed_bfloat16"]["test_negative_elbo"] - reference,
        "seed_to_seed_float32_nats": results[f"float32, seed {args.seed + 1}"]["test_negative_elbo"]
        - reference,
        "bfloat16_speedup_median": results["mixed_bfloat16"]["samples_per_second_median"]
        / results["float32"]["samples_per_second_median"],
    }
    print(
        f"bfloat16 - float32: {summary['bfloat16_minus_float32_nats']:+.2f} nats (target: within 0.5); "
        f"another float32 seed: {summary['seed_to_seed_float32_nats']:+.2f} nats; "
        f"bfloat16 speed-up (medians): {summary['bfloat16_speedup_median']:.2f}x"
    )
    if args.output:
        with open(args.output, "w") as f:
            json.dump(
                {
                    "command": " ".join(["python", "benchmarks/mixed_precision.py", *(argv or sys.argv[1:])]),
                    "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "machine": machine(),
                    "bfloat16_instructions": bfloat16_hardware(),
                    "wall_seconds": round(wall, 1),
                    "arguments": vars(args),
                    "results": results,
                    "summary": summary,
                    "per_epoch_samples_per_second": rates,
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
