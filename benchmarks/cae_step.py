"""The contractive autoencoder's step beside a plain autoencoder's, tied and untied.

Issue #13's target for the CAE: its training step at most 1.3x a plain AE step of the same
network (784-1000 sigmoid, Bernoulli, Adam). Four contenders, each `create_model(...)` +
`compile(Adam)` with keras-ae's defaults, trained on the same in-memory data in
interleaved rounds (the order rotates each round); the script prints samples/s (median of
the rounds) and the ratio AE / CAE per batch size.

Usage:
    python benchmarks/cae_step.py                    # batch 128 and 512
    python benchmarks/cae_step.py --batch-sizes 512 --rounds 7
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

CONTENDERS = {
    "cae tied": ("contractive_autoencoder", {"tied_weights": True, "contractive_weight": 0.1}),
    "cae untied": ("contractive_autoencoder", {"tied_weights": False, "contractive_weight": 0.1}),
    "ae tied": ("autoencoder", {"tied_weights": True}),
    "ae untied": ("autoencoder", {"tied_weights": False}),
}


def fitter(registry_name, batch_size, **kwargs):
    import keras

    import keras_ae

    keras.utils.set_random_seed(0)
    model = keras_ae.create_model(
        registry_name,
        input_shape=(784,),
        latent_dim=1000,
        hidden_units=(),
        code_activation="sigmoid",
        **kwargs,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return lambda x: model.fit(x, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)


def measure(batch_size, steps, rounds):
    x = (np.random.default_rng(0).uniform(size=(steps * batch_size, 784)) > 0.5).astype("float32")
    fits = {label: fitter(name, batch_size, **kwargs) for label, (name, kwargs) in CONTENDERS.items()}
    for fit in fits.values():  # trace and warm up
        fit(x)
    rates, labels = {label: [] for label in fits}, list(fits)
    for round_index in range(rounds):
        shift = round_index % len(labels)
        for label in labels[shift:] + labels[:shift]:
            start = time.perf_counter()
            fits[label](x)
            rates[label].append(len(x) / (time.perf_counter() - start))
    return {label: statistics.median(values) for label, values in rates.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", default="128,512")
    parser.add_argument("--steps", type=int, default=32, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        rates = measure(batch_size, args.steps, args.rounds)
        table = "  ".join(f"{label}: {rate / 1e3:.2f}k/s" for label, rate in rates.items())
        print(f"batch {batch_size}: {table}")
        print(
            f"  CAE step / AE step: tied {rates['ae tied'] / rates['cae tied']:.2f}, "
            f"untied {rates['ae untied'] / rates['cae untied']:.2f} (target <= 1.3)",
            flush=True,
        )


if __name__ == "__main__":
    main()
