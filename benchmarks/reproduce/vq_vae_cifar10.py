"""van den Oord et al. (2017), Table 1: VQ-VAE bits per dimension on CIFAR-10 (paper: 4.67).

The paper's model: 32x32x3 images, two strided 4x4 convolutions to an 8x8 grid of codes,
two residual blocks, K = 512 codes of size D = 64, Adam 2e-4, then a PixelCNN prior over
the 8x8 index grids. Its figure is an upper bound on the negative log-likelihood of the
8-bit test images:

    -log P(x) <= -log p(x~ | z_q(x~)) - log p_prior(z(x~)) + D_x log 256

with `x~ = (x + u) / 256`, `u ~ U[0, 1)^D_x` (uniform dequantization: a continuous
decoder density on [0, 1] bounds the discrete probability of the pixel bins), and the
encoder's one-hot posterior (its KL term is the prior's `-log p(z)`). Bits per dimension
divide it by `D_x ln 2` with `D_x = 3072`. The decoder here is a Gaussian with a learned
variance (the paper does not say which likelihood gave 4.67).

CIFAR-10 is read with `keras_ae.data.load_dataset`: the tensorflow-datasets name
`cifar10` (prepared in `--data-dir`, or downloaded) or an `.npz` with `x_train`/`x_test`
(uint8). It is not on the development machines, where only `--fast` runs (on generated
colour images).

    python benchmarks/reproduce/vq_vae_cifar10.py --data-dir ~/tensorflow_datasets   # full mode
    python benchmarks/reproduce/vq_vae_cifar10.py --epochs 5 --prior-epochs 5       # a budget
    python benchmarks/reproduce/vq_vae_cifar10.py --fast                            # pipeline check
"""

import math

from _common import Stopwatch, base_parser, report, resolve

PAPER = {"bits_per_dim": 4.67}
FULL = {"epochs": 50, "prior_epochs": 50, "num_train": None, "num_test": None}
FAST = {"epochs": 1, "prior_epochs": 1, "num_train": 256, "num_test": 64}
SCORE_BATCH = 500  # test images per call when scoring


def generated_images(n, seed):
    """Smooth random colour images, uint8 (n, 32, 32, 3): the fast mode's stand-in for CIFAR-10."""
    import numpy as np

    rng = np.random.default_rng(seed)
    grid = np.linspace(-1, 1, 32)
    centres = rng.uniform(-0.6, 0.6, size=(n, 2, 1, 1))
    blob = np.exp(
        -((grid[None, :, None] - centres[:, 0]) ** 2 + (grid[None, None, :] - centres[:, 1]) ** 2) / 0.2
    )
    colours = rng.uniform(0.2, 1.0, size=(n, 1, 1, 3))
    return (255 * blob[..., None] * colours).astype("uint8")


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument("--data", default="cifar10", help="tfds name or an .npz with x_train/x_test (uint8)")
    parser.add_argument("--data-dir", help="tensorflow-datasets data folder (tfds sources)")
    parser.add_argument("--epochs", type=int, help="VQ-VAE epochs (full: 50)")
    parser.add_argument("--prior-epochs", type=int, help="PixelCNN prior epochs (full: 50)")
    parser.add_argument("--num-train", type=int, help="training images (default: all 50000)")
    parser.add_argument("--num-test", type=int, help="test images (default: all 10000)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-4)
    args = resolve(parser.parse_args(argv), FAST, FULL)

    import keras
    import numpy as np

    import keras_ae
    from keras_ae.data import load_dataset

    clock = Stopwatch()
    if args.fast:
        x_train_int, x_test_int = generated_images(args.num_train, 0), generated_images(args.num_test, 1)
    else:
        load = lambda split, n: load_dataset(  # noqa: E731
            args.data, split if n is None else f"{split}[:{n}]", as_numpy=True, data_dir=args.data_dir
        )
        x_train_int = np.rint(load("train", args.num_train) * 255).astype("uint8")
        x_test_int = np.rint(load("test", args.num_test) * 255).astype("uint8")
    if x_train_int.shape[1:] != (32, 32, 3):
        raise ValueError(f"Expected 32x32x3 images. Received: shape={x_train_int.shape}")
    x_train = x_train_int.astype("float32") / 255.0
    rng = np.random.default_rng(args.seed)
    x_test = ((x_test_int + rng.uniform(size=x_test_int.shape)) / 256.0).astype("float32")  # dequantized
    clock.lap("data")

    keras.utils.set_random_seed(args.seed)
    model = keras_ae.create_model(
        "vq_vae",
        input_shape=(32, 32, 3),
        latent_dim=64,
        num_embeddings=512,
        filters=(128, 256),
        residual_units=64,
        ema=True,
        restart_after=100,
        likelihood={"name": "gaussian", "variance": 0.01, "learn_variance": True},
        seed=args.seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    model.fit(x_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0 if args.fast else 2)
    clock.lap("train")
    model.fit_prior(
        x_train, epochs=args.prior_epochs, batch_size=args.batch_size, verbose=0 if args.fast else 2
    )
    clock.lap("prior")

    dims = 32 * 32 * 3
    indices = model.encode(x_test)
    recon_nats, prior_nats = [], []
    # SCORE_BATCH test images at a time: all 10,000 in one call would hold the networks'
    # activations for all of them at once (gigabytes). Every term is per image.
    for start in range(0, len(x_test), SCORE_BATCH):
        outputs = model(x_test[start : start + SCORE_BATCH], training=False, return_outputs=True)
        recon_nats.append(keras.ops.convert_to_numpy(model.reconstruction_nll(outputs["x"], outputs)))
        log_prior = model.prior.log_prob(indices[start : start + SCORE_BATCH])
        prior_nats.append(-keras.ops.convert_to_numpy(log_prior))
    recon_nats = np.concatenate(recon_nats).astype("float64")
    prior_nats = np.concatenate(prior_nats).astype("float64")
    bits = (recon_nats + prior_nats) / (dims * math.log(2.0)) + 8.0
    counts = np.bincount(indices.reshape(-1), minlength=512)
    clock.lap("score")
    results = {
        "bits_per_dim": float(bits.mean()),
        "bits_per_dim_standard_error": float(bits.std() / np.sqrt(len(bits))),
        "reconstruction_bits_per_dim": float(recon_nats.mean() / (dims * math.log(2.0)) + 8.0),
        "prior_bits_per_dim": float(prior_nats.mean() / (dims * math.log(2.0))),
        "codes_used_on_test": int((counts > 0).sum()),
        "paper": PAPER,
    }
    report(
        "van den Oord et al. 2017, Table 1 (CIFAR-10, bits per dimension)",
        [
            ("test bits/dim (upper bound)", results["bits_per_dim"], PAPER["bits_per_dim"]),
            ("  decoder part (incl. 8 bits of dequantization)", results["reconstruction_bits_per_dim"], None),
            ("  prior part", results["prior_bits_per_dim"], None),
            ("codes used on test (of 512)", results["codes_used_on_test"], None),
            ("epochs / prior epochs", f"{args.epochs} / {args.prior_epochs}", None),
        ],
        args,
        results,
        clock,
        notes=["bound on uniformly dequantized 8-bit test images; lower is better"],
    )


if __name__ == "__main__":
    main()
