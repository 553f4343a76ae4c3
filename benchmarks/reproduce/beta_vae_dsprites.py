"""Higgins et al. (2017), dSprites: BetaVAE disentanglement score of a VAE (beta=1) and a beta-VAE (beta=4).

Data: the downsampled dSprites file in $KERAS_AE_DATASETS/dsprites, a complete factorial
grid of 46,080 images (3 shapes x 6 scales x 10 orientations x 16 x 16 positions), so the
metrics can fix one factor and vary the others exactly. The models train on all of it
and are scored on it, as in the paper (which used the full 737,280-image set).

Architecture as in Higgins et al. for dSprites: a fully connected 4096-1200-1200 ReLU
encoder to 10 latents and the mirrored decoder (the paper's decoder has three 1200-unit
tanh layers), a Bernoulli decoder, beta in the summed-over-pixels scale (beta=4 here is
the paper's unnormalized beta). The optimizer and the training budget are ours.

Scores use disentanglement_lib's sample sizes by default: BetaVAE (64 pairs per point,
10000 train / 5000 eval points, scikit-learn logistic regression), FactorVAE (64, 10000,
5000, 10000 for the variances, prune 0.05) and MIG (10000 samples, 20 bins). Every
image is encoded once (posterior means) and the metrics run on the codes.

    python benchmarks/reproduce/beta_vae_dsprites.py            # full mode (see RESULTS.md)
    python benchmarks/reproduce/beta_vae_dsprites.py --fast     # pipeline check, seconds
"""

from _common import Stopwatch, base_parser, datasets_dir, report, resolve

PAPER = {"beta_vae_score": {1.0: 0.6158, 4.0: 0.9923}}
FULL = {
    "epochs": 7,
    "batch_size": 64,
    "hidden_units": "1200,1200",
    "num_images": None,
    "metric_train": 10000,
    "metric_eval": 5000,
    "metric_batch": 64,
}
FAST = {
    "epochs": 1,
    "batch_size": 64,
    "hidden_units": "32",
    "num_images": 1024,
    "metric_train": 200,
    "metric_eval": 100,
    "metric_batch": 16,
}


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    parser.add_argument(
        "--dsprites-dir", help="folder with dsprites_downsampled.npz (default: $KERAS_AE_DATASETS/dsprites)"
    )
    parser.add_argument("--betas", default="1,4", help="comma-separated beta values (paper: 1 and 4)")
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--epochs", type=int, help="passes over the 46,080 images (full: 7)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--hidden-units", help="comma-separated encoder widths (paper: 1200,1200)")
    parser.add_argument("--num-images", type=int, help="train on a random subset of this size (default: all)")
    parser.add_argument("--metric-train", type=int, help="BetaVAE/FactorVAE training points and MIG samples")
    parser.add_argument("--metric-eval", type=int, help="BetaVAE/FactorVAE evaluation points")
    parser.add_argument("--metric-batch", type=int, help="observations per BetaVAE/FactorVAE point")
    args = resolve(parser.parse_args(argv), FAST, FULL)

    import keras
    import numpy as np
    import tensorflow as tf

    import keras_ae
    from keras_ae.data import load_dsprites
    from keras_ae.evaluation import (
        ArrayGroundTruthData,
        beta_vae_score,
        factor_vae_score,
        mutual_information_gap,
    )

    clock = Stopwatch()
    data = load_dsprites(args.dsprites_dir or datasets_dir() / "dsprites", subset="downsampled")
    rng = np.random.default_rng(args.seed)
    rows = (
        np.arange(len(data))
        if args.num_images is None
        else rng.choice(len(data), args.num_images, replace=False)
    )
    images = data.observations[rows]  # uint8, cast per batch: 46,080 float32 images take 755 MB
    hidden_units = tuple(int(u) for u in args.hidden_units.split(","))
    betas = [float(b) for b in args.betas.split(",")]
    clock.lap("load")

    def build(beta):
        keras.utils.set_random_seed(args.seed)
        return keras_ae.create_model(
            "beta_vae",
            input_shape=(64, 64, 1),
            latent_dim=args.latent_dim,
            hidden_units=hidden_units,
            activation="relu",
            beta=beta,
            seed=args.seed,
        )

    def scores(model):
        # Posterior means of every grid image, computed once; the metrics look codes up.
        grid = (
            tf.data.Dataset.from_tensor_slices(data.observations)
            .batch(1024)
            .map(lambda b: tf.cast(b, tf.float32))
        )
        codes = model.encoder.predict(grid, verbose=0)[0]
        coded = ArrayGroundTruthData(data.factors, codes, data.factor_sizes, data.factor_names)
        sizes = {
            "num_train": args.metric_train,
            "num_eval": args.metric_eval,
            "batch_size": args.metric_batch,
        }
        mig = mutual_information_gap(coded, None, num_train=args.metric_train, random_state=args.seed)
        return {
            "beta_vae_score": beta_vae_score(coded, None, random_state=args.seed, **sizes),
            "factor_vae_score": factor_vae_score(
                coded, None, num_variance_estimate=args.metric_train, random_state=args.seed, **sizes
            ),
            "mig": mig["mig"],
            "mig_per_factor": dict(zip(data.factor_names, mig["gap_per_factor"].tolist(), strict=True)),
            "active_units": int((codes.var(axis=0) > 1e-2).sum()),
        }

    # How far above an uninformed code the trained models land: the same encoder, untrained.
    untrained = scores(build(betas[0]))
    clock.lap("metrics untrained")
    results = {"untrained_encoder": untrained, "per_beta": {}, "paper": PAPER}
    rows_out = [
        ("untrained encoder: BetaVAE score", untrained["beta_vae_score"]["eval_accuracy"], None),
        ("untrained encoder: FactorVAE score", untrained["factor_vae_score"]["eval_accuracy"], None),
        ("untrained encoder: MIG", untrained["mig"], None),
    ]
    for beta in betas:
        train = (
            tf.data.Dataset.from_tensor_slices(images)
            .shuffle(len(images), seed=args.seed)
            .batch(args.batch_size)
            .map(lambda b: tf.cast(b, tf.float32), num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE)
        )
        model = build(beta)
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
        history = model.fit(train, epochs=args.epochs, shuffle=False, verbose=0 if args.fast else 2)
        clock.lap(f"train beta={beta:g}")
        result = scores(model)
        clock.lap(f"metrics beta={beta:g}")
        logs = {name: float(values[-1]) for name, values in history.history.items()}
        results["per_beta"][beta] = {**result, "final_train_logs": logs}
        rows_out += [
            (
                f"beta={beta:g}: BetaVAE score",
                result["beta_vae_score"]["eval_accuracy"],
                PAPER["beta_vae_score"].get(beta),
            ),
            (f"beta={beta:g}: FactorVAE score", result["factor_vae_score"]["eval_accuracy"], None),
            (f"beta={beta:g}: MIG", result["mig"], None),
            (f"beta={beta:g}: active units (of {args.latent_dim})", result["active_units"], None),
            (
                f"beta={beta:g}: train recon / KL (nats)",
                f"{logs['reconstruction_loss']:.1f} / {logs['kl_loss']:.2f}",
                None,
            ),
        ]
    report(
        "Higgins et al. 2017, dSprites (BetaVAE score; FactorVAE score and MIG added)",
        rows_out,
        args,
        results,
        clock,
        notes=[
            f"{len(images)} training images, {args.epochs} epochs, batch {args.batch_size}, Adam {args.learning_rate:g}"
        ],
    )


if __name__ == "__main__":
    main()
