"""Cost of a contractive training step relative to a plain autoencoder step.

Prints the ratio of a `ContractiveAutoencoder` training step (closed-form Jacobian
penalty) to a plain `Autoencoder` step of the same architecture (a single dense
sigmoid encoder layer, the paper's MNIST shape 784 -> 1000 by default). The target
is a ratio of at most 1.3. The autodiff (batch Jacobian) path's ratio is printed
for information: it costs about `latent_dim` encoder backward passes per step
(about 1000x a plain step at 784 -> 1000 on a CPU), so it is timed on one step.

Usage:
    python benchmarks/contractive_step.py [--batch-size 128] [--steps 20] [--latent-dim 1000]
    python benchmarks/contractive_step.py --autodiff-steps 0   # closed form only (seconds)
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import keras_ae  # noqa: E402


def seconds_per_step(model, x, batch_size, steps, repeats, jit_compile):
    """Median seconds per training step over `repeats` timed `fit` calls of `steps` batches."""
    model.compile(optimizer="adam", jit_compile=jit_compile)
    model.fit(x[:batch_size], batch_size=batch_size, epochs=1, verbose=0)  # trace and warm up
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x[: steps * batch_size], batch_size=batch_size, epochs=1, verbose=0, shuffle=False)
        timings.append((time.perf_counter() - start) / steps)
    return statistics.median(timings)


def build(name, args, **kwargs):
    keras.utils.set_random_seed(0)
    return keras_ae.create_model(
        name,
        input_shape=(args.input_dim,),
        latent_dim=args.latent_dim,
        hidden_units=(),
        code_activation="sigmoid",
        tied_weights=args.tied_weights,
        **kwargs,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--input-dim", type=int, default=784)
    parser.add_argument("--latent-dim", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--autodiff-steps", type=int, default=1, help="timed steps of the autodiff path (0: skip)"
    )
    parser.add_argument("--tied-weights", action="store_true")
    parser.add_argument("--jit-compile", choices=["auto", "true", "false"], default="auto")
    args = parser.parse_args()
    jit = {"auto": "auto", "true": True, "false": False}[args.jit_compile]

    rng = np.random.default_rng(0)
    n = max(args.steps, args.autodiff_steps, 1) * args.batch_size
    x = rng.uniform(size=(n, args.input_dim)).astype("float32")

    plain = seconds_per_step(build("autoencoder", args), x, args.batch_size, args.steps, args.repeats, jit)
    closed_model = build("contractive_autoencoder", args, jacobian="closed_form")
    closed = seconds_per_step(closed_model, x, args.batch_size, args.steps, args.repeats, jit)
    print(
        f"architecture: {args.input_dim} -> {args.latent_dim} sigmoid, batch {args.batch_size}, "
        f"tied_weights={args.tied_weights}, jit_compile={args.jit_compile}"
    )
    print(f"plain autoencoder step:        {1e3 * plain:8.2f} ms")
    print(f"contractive step, closed form: {1e3 * closed:8.2f} ms")
    print(f"closed-form ratio: {closed / plain:.2f}x (target <= 1.3x)")
    if args.autodiff_steps > 0:
        autodiff_model = build("contractive_autoencoder", args, jacobian="autodiff")
        autodiff = seconds_per_step(autodiff_model, x, args.batch_size, args.autodiff_steps, 1, "auto")
        print(f"contractive step, autodiff:    {1e3 * autodiff:8.2f} ms")
        print(f"autodiff ratio (information): {autodiff / plain:.1f}x")


if __name__ == "__main__":
    main()
