"""Memory and speed of `load_dataset` over in-memory arrays, beside tf.data's defaults.

`load_dataset` holds an array's data once: one aligned copy that its tensor shares, with
tf.data's default graph rewrites off (they copy the tensors again). Plain
`tf.data.Dataset.from_tensor_slices(x)` holds two copies besides `x`. This script measures
them in fresh processes: the resident memory that each pipeline adds, in copies of the
array, after 200 batches (`load_dataset` in order, and shuffled, where its batches are
gathered from the array whatever its size: smaller splits go through a shuffle buffer
that holds a copy of its own). Then, in one process and interleaved rounds (the order rotates),
batches/s of `load_dataset`'s pipelines with and without the default rewrites switched
back on: the ratio says what switching them off costs in speed.

Usage:
    python benchmarks/in_memory_pipeline.py                 # 150,000 64x64 uint8 images
    python benchmarks/in_memory_pipeline.py --examples 737280 --rounds 5
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, REPO)

# Run in a fresh process per pipeline: the array, then the pipeline and 200 of its batches.
MEMORY_PROBE = """
import json, sys
import numpy as np

def resident():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS"))

import tensorflow as tf
import keras_ae

examples, pipeline = int(sys.argv[1]), sys.argv[2]
x = np.random.default_rng(0).integers(0, 256, size=(examples, 64, 64), dtype=np.uint8)
before = resident()
if pipeline == "plain tf.data":
    dataset = tf.data.Dataset.from_tensor_slices(x).shuffle(10_000, seed=0).batch(64)
elif pipeline == "keras-ae, in order":  # examples sliced from the tensor
    dataset = keras_ae.data.load_dataset(x, "train", batch_size=64, shuffle=False)
else:  # shuffled: batches gathered from the tensor (above 100,000 examples; forced here)
    keras_ae.data.pipeline._WHOLE_SHUFFLE = 0
    dataset = keras_ae.data.load_dataset(x, "train", batch_size=64)
for _ in dataset.take(200):
    pass
print("RESULT" + json.dumps({"copies": (resident() - before) / x.nbytes}))
"""


def memory_copies(examples, pipeline):
    process = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(examples), pipeline],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    )
    return json.loads(process.stdout.split("RESULT", 1)[1])["copies"]


def with_default_rewrites(dataset):
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = True
    return dataset.with_options(options)


def speeds(examples, rounds, batches):
    import numpy as np

    import keras_ae

    x = np.random.default_rng(0).integers(0, 256, size=(examples, 64, 64), dtype=np.uint8)
    mnist = os.path.join(os.environ.get("KERAS_AE_DATASETS", ""), "mnist")
    sources = {"64x64 array, gathered": (x, {})}
    if os.path.isdir(mnist):
        sources["MNIST files, dynamic binarization"] = (mnist, {"binarize": "dynamic"})
    pipelines = {}
    for name, (source, options) in sources.items():
        ours = keras_ae.data.load_dataset(source, "train", batch_size=64, **options)
        pipelines[name, "keras-ae"] = ours
        pipelines[name, "default rewrites"] = with_default_rewrites(ours)
    rates = {key: [] for key in pipelines}
    keys = list(pipelines)
    for key in keys:  # warm-up: traces and first passes
        for _ in pipelines[key].take(20):
            pass
    for r in range(rounds):
        for key in keys[r % len(keys) :] + keys[: r % len(keys)]:
            start = time.perf_counter()
            for _ in pipelines[key].take(batches):
                pass
            rates[key].append(batches / (time.perf_counter() - start))
    return {key: statistics.median(values) for key, values in rates.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=150_000, help="images in the array")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    parser.add_argument("--batches", type=int, default=400, help="batches per pipeline per round")
    args = parser.parse_args(argv)
    if args.examples < 1 or args.rounds < 1 or args.batches < 1:
        parser.error(f"--examples, --rounds and --batches must be 1 or more. Received: {vars(args)}")

    print(f"resident memory added by a pipeline over {args.examples:,} 64x64 uint8 images, in copies:")
    for pipeline in ("plain tf.data", "keras-ae, in order", "keras-ae, shuffled"):
        print(f"  {pipeline:20s} {memory_copies(args.examples, pipeline):5.2f}")
    rates = speeds(args.examples, args.rounds, args.batches)
    print(f"batches/s of 64, median of {args.rounds} interleaved rounds (ratio keras-ae / default rewrites):")
    for name in dict.fromkeys(source for source, _ in rates):
        ours, rewritten = rates[name, "keras-ae"], rates[name, "default rewrites"]
        print(f"  {name:36s} {ours:7.0f} vs {rewritten:7.0f}   ratio {ours / rewritten:.2f}")


if __name__ == "__main__":
    main()
