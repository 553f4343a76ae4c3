"""Trains the small MNIST reference models and exports them into the model store.

    python benchmarks/reference_models.py --mnist-dir DIR --out saved_models

(`make reference-models` runs it.) Each model is an MLP 784-256-32 with a Bernoulli
decoder, trained for a few epochs on the 60,000 MNIST training images (grey levels
scaled to [0, 1]), evaluated on the 10,000 test images and exported with
`export_for_serving` to `OUT/<name>/<version>/`, with the data, training settings and
test metrics in its `metadata.json`. `OUT/models.config` is regenerated at the end.
MNIST comes from the IDX files in `--mnist-dir` (default `$KERAS_AE_DATASETS/mnist`), or
from tensorflow-datasets with `--tfds` (which downloads it once).
"""

import argparse
import os
import pathlib
import sys
import time

import numpy as np

# Run against this checkout's keras_ae, whatever is installed in the environment.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

REFERENCE_MODELS = {
    "autoencoder_mnist": ("autoencoder", {}),
    "denoising_autoencoder_mnist": (
        "denoising_autoencoder",
        {"noise": "masking", "noise_level": 0.25, "seed": 0},
    ),
    "vae_mnist": ("vae", {"seed": 0}),
    "beta_vae_mnist": ("beta_vae", {"beta": 4.0, "seed": 0}),
}

COMMON_KWARGS = {
    "input_shape": (784,),
    "latent_dim": 32,
    "architecture": "mlp",
    "hidden_units": (256,),
    "activation": "relu",
    "likelihood": "bernoulli",
}


def default_mnist_dir():
    """`$KERAS_AE_DATASETS/mnist`, or None when the variable is not set."""
    root = os.environ.get("KERAS_AE_DATASETS")
    return os.path.join(root, "mnist") if root else None


def load_mnist(mnist_dir=None, use_tfds=False, tfds_data_dir=None):
    """Returns `(x_train, x_test)`: float32 `(n, 784)` MNIST images in [0, 1].

    Args:
        mnist_dir: a folder with the four MNIST IDX files (`train-images-idx3-ubyte.gz`, ...).
        use_tfds: read MNIST through `tensorflow_datasets` instead (downloaded on first use
            into `tfds_data_dir`, default `~/tensorflow_datasets`).
        tfds_data_dir: the tfds data folder.
    """
    from keras_ae.data import load_dataset

    if not use_tfds and mnist_dir is None:
        raise ValueError(
            "No MNIST folder: pass --mnist-dir DIR (the four IDX files), set KERAS_AE_DATASETS "
            "(DIR/mnist is used), or pass --tfds to read MNIST through tensorflow-datasets."
        )
    source = "mnist" if use_tfds else os.fspath(mnist_dir)
    return tuple(
        load_dataset(source, split, as_numpy=True, flatten=True, data_dir=tfds_data_dir if use_tfds else None)
        for split in ("train", "test")
    )


def train_reference_model(name, x_train, x_test, epochs=3, batch_size=128, learning_rate=1e-3, seed=0):
    """Trains one reference model; returns `(model, metadata)`.

    `metadata` holds the data description, the training settings and the metrics on
    the test set: `evaluate`'s terms, the mean anomaly score of the `score` signature
    (`reconstruction_loss` for deterministic models, `-elbo` for the VAE family) and
    the per-pixel mean squared error of the reconstructions.
    """
    import keras

    import keras_ae

    registry_name, extra = REFERENCE_MODELS[name]
    keras.utils.set_random_seed(seed)
    model = keras_ae.create_model(registry_name, **COMMON_KWARGS, **extra)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    start = time.time()
    history = model.fit(x_train, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
    wall = time.time() - start
    test = model.evaluate(x_test, batch_size=1000, verbose=0, return_dict=True)
    recon = model.reconstruct(x_test, batch_size=1000)
    score = -test["elbo"] if "elbo" in test else test["reconstruction_loss"]
    metadata = {
        "data": {
            "dataset": "MNIST",
            "train_examples": int(len(x_train)),
            "test_examples": int(len(x_test)),
            "preprocessing": "grey levels / 255 as float32 in [0, 1], flattened to 784 (no binarization)",
        },
        "training": {
            "epochs": epochs,
            "batch_size": batch_size,
            "optimizer": "adam",
            "learning_rate": learning_rate,
            "seed": seed,
            "wall_time_s": round(wall, 1),
            "final_train_loss": float(history.history["loss"][-1]),
            "command": "make reference-models  (python benchmarks/reference_models.py)",
        },
        "metrics": {
            "test": {k: float(v) for k, v in test.items()},
            "test_score_mean": float(score),
            "test_pixel_mse": float(np.mean((recon - x_test) ** 2)),
        },
    }
    if model.generative:
        # A fingerprint of the seeded `sample` signature, so that a user (and the tests)
        # can check that the same seed gives the same samples on another machine.
        metadata["sample_check"] = {
            "num_samples": 3,
            "seed": 0,
            "z": model.prior_noise(3, 0).numpy().tolist(),
            "samples_mean": model.sample(3, seed=0).mean(axis=1).tolist(),
        }
    return model, metadata


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python benchmarks/reference_models.py",
        description="Train the MNIST reference models and export them into a TF Serving model store.",
    )
    parser.add_argument(
        "--mnist-dir",
        default=default_mnist_dir(),
        help="folder of the MNIST IDX files (default: $KERAS_AE_DATASETS/mnist)",
    )
    parser.add_argument("--tfds", action="store_true", help="read MNIST through tensorflow-datasets instead")
    parser.add_argument("--tfds-data-dir", default=None)
    parser.add_argument("--out", default="saved_models", help="the model store folder")
    parser.add_argument("--models", nargs="+", default=list(REFERENCE_MODELS), choices=list(REFERENCE_MODELS))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--train-examples", type=int, default=None, help="use only the first N training images"
    )
    parser.add_argument("--version", type=int, default=1)
    parser.add_argument("--overwrite", action="store_true", help="replace existing versions")
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = build_parser().parse_args(argv)
    from keras_ae.export.saved_model import export_model
    from keras_ae.export.store import write_models_config

    for name in args.models:
        # Fail before minutes of training, not after.
        target = os.path.join(args.out, name, str(args.version))
        if os.path.exists(target) and not args.overwrite:
            raise FileExistsError(f"{target} exists: pass --overwrite to replace it, or another --version.")
    x_train, x_test = load_mnist(args.mnist_dir, args.tfds, args.tfds_data_dir)
    if args.train_examples is not None:
        x_train = x_train[: args.train_examples]
    for name in args.models:
        model, metadata = train_reference_model(name, x_train, x_test, args.epochs, args.batch_size)
        metadata["data"]["source"] = "tensorflow-datasets mnist" if args.tfds else "MNIST IDX files"
        path = export_model(
            model,
            os.path.join(args.out, name),
            version=args.version,
            overwrite=args.overwrite,
            metadata=metadata,
        )
        metrics = metadata["metrics"]
        print(
            f"{name}: test score {metrics['test_score_mean']:.2f} nats, pixel MSE "
            f"{metrics['test_pixel_mse']:.4f}, trained in {metadata['training']['wall_time_s']} s -> {path}"
        )
    print(f"Wrote {write_models_config(args.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
