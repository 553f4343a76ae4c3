"""The k-sparse autoencoder's training step with and without its k schedule and AuxK loss.

With a k schedule (`k_start`), the step's k is a tensor read from the optimizer step, so
the `KSparse` layer cannot size its `top_k` by it. Before 2026-12-01 it sorted the whole
code (top_k of all 1000 units per example, for the whole run); it now takes the `k_start`
largest (`max_k`) and keeps the first k of them. Five contenders, each the MNIST model of
`benchmarks/reproduce/k_sparse_mnist.py` (784-1000, tied weights, SGD with momentum),
trained on the same in-memory data in interleaved rounds (the order rotates each round):

- `constant k`: no schedule, k = 25 (a static top_k of 25);
- `schedule`: k from 100 to 25 (today's layer: top_k of 100);
- `schedule, full sort`: the same model with the old full sort;
- `schedule, AuxK 50`: the schedule with the dead units' auxiliary loss (`aux_k=50`), no
  unit dead yet (the term is skipped: the cost of counting the units);
- `schedule, AuxK 50, dead units`: the same with `dead_steps=1`, so that every unit not
  kept in the last batch is dead and the auxiliary decoder pass runs every step.

The script prints samples/s (median of the rounds) and the ratios.

Usage:
    python benchmarks/k_sparse_step.py                    # batch 128
    python benchmarks/k_sparse_step.py --batch-sizes 128,512 --rounds 7
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402


def model_classes():
    from keras_ae.models import KSparseAutoencoder

    class FullSortKSparseAutoencoder(KSparseAutoencoder):
        """The step as it was: a tensor k selected among all units (a full sort)."""

        def forward(self, x, training=False, sample_weight=None, compute_losses=True):
            linear_code = self.linear_encoder(x, training=training)
            k = self.current_k()
            code = self.k_sparse(linear_code, training=True, k=k)
            return {
                "code": code,
                "linear_code": linear_code,
                "k": k,
                **self.decode_code(code, training=training),
            }

    schedule = {"k_start": 100, "total_steps": 10**7}
    return {
        "constant k": (KSparseAutoencoder, {}),
        "schedule": (KSparseAutoencoder, schedule),
        "schedule, full sort": (FullSortKSparseAutoencoder, schedule),
        "schedule, AuxK 50": (KSparseAutoencoder, {**schedule, "aux_k": 50}),
        "schedule, AuxK 50, dead units": (KSparseAutoencoder, {**schedule, "aux_k": 50, "dead_steps": 1}),
    }


def fitter(cls, batch_size, **kwargs):
    import keras

    keras.utils.set_random_seed(0)
    model = cls(
        input_shape=(784,), latent_dim=1000, hidden_units=(), k=25, alpha=3, tied_weights=True, **kwargs
    )
    model.compile(optimizer=keras.optimizers.SGD(0.005, momentum=0.9))
    return lambda x: model.fit(x, batch_size=batch_size, epochs=1, verbose=0, shuffle=False)


def measure(batch_size, steps, rounds):
    x = np.random.default_rng(0).uniform(size=(steps * batch_size, 784)).astype("float32")
    fits = {label: fitter(cls, batch_size, **kwargs) for label, (cls, kwargs) in model_classes().items()}
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
    parser.add_argument("--batch-sizes", default="128")
    parser.add_argument("--steps", type=int, default=64, help="training steps per timed round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    for batch_size in (int(b) for b in args.batch_sizes.split(",")):
        rates = measure(batch_size, args.steps, args.rounds)
        table = "  ".join(f"{label}: {rate / 1e3:.2f}k/s" for label, rate in rates.items())
        print(f"batch {batch_size}: {table}")
        print(
            f"  schedule / full sort: {rates['schedule'] / rates['schedule, full sort']:.2f}x; "
            f"constant k / schedule: {rates['constant k'] / rates['schedule']:.2f}x",
            flush=True,
        )
        print(
            f"  AuxK step / schedule: {rates['schedule'] / rates['schedule, AuxK 50']:.2f}x the time, "
            f"{rates['schedule'] / rates['schedule, AuxK 50, dead units']:.2f}x with dead units",
            flush=True,
        )


if __name__ == "__main__":
    main()
