"""Side by side: the VAE 784-200-200-50 of vae_mnist_nll.py, one epoch of 60,000 images at batch 100,
fed by the script's tf.data pipeline (binarizing each batch) or as the grey array binarized by the model.

Interleaved rounds of two epochs each, after one warm-up epoch per feed; prints seconds per
epoch per round and the ratio of the medians (RESULTS.md, section 1).

    python benchmarks/vae_feed_speed.py
"""

import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "reproduce"))
import keras  # noqa: E402
import vae_mnist_nll as v  # noqa: E402

# $KERAS_AE_DATASETS/mnist, as the reproduction scripts read it.
(x, _), _ = v.load_mnist(None, None, None)


def model(array):
    m = v.burda_vae(0, dynamic_binarization=array)
    m.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-4))
    return m


fed = {
    "dataset": (model(False), v.dynamically_binarized(x, 100, 0), {"shuffle": False}),
    "array": (model(True), x, {"batch_size": 100, "shuffle": True}),
}
for m, data, kw in fed.values():
    m.fit(data, epochs=1, verbose=0, **kw)  # warm-up: traces
times = {k: [] for k in fed}
for _ in range(4):
    for k, (m, data, kw) in fed.items():
        t = time.perf_counter()
        m.fit(data, epochs=2, verbose=0, **kw)
        times[k].append((time.perf_counter() - t) / 2)
medians = {k: statistics.median(ts) for k, ts in times.items()}  # of 4 rounds: the mean of the middle two
for k, ts in times.items():
    print(k, "s/epoch per round:", " ".join(f"{t:.2f}" for t in ts), f"median {medians[k]:.2f}")
print("speed ratio array/dataset (medians):", medians["dataset"] / medians["array"])
