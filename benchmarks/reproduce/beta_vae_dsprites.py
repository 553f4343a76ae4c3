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

Long runs (issue #17): `--steps` sets a budget in training steps instead of epochs
(disentanglement_lib: 300,000 steps of batch 64), `--seeds` trains every variant once
per seed and reports the median, `--capacity` adds Burgess et al.'s capacity-controlled
model (C from 0 to 25 nats over `--capacity-steps`, 100,000 by default; gamma 1000),
`--architecture conv` uses a convolutional encoder (strided 32-32-64-64 convolutions, a
256-unit layer; about 3 MB of weights, a preset's size), and the best model (BetaVAE
score) can be kept with `--save-preset` and pictured with `--traversals`.

    python benchmarks/reproduce/beta_vae_dsprites.py            # full mode (see RESULTS.md)
    python benchmarks/reproduce/beta_vae_dsprites.py --fast     # pipeline check, seconds
    python benchmarks/reproduce/beta_vae_dsprites.py --architecture conv --steps 300000 \
        --seeds 0,1,2 --capacity --save-preset keras_ae/presets/beta_vae_dsprites \
        --traversals beta_vae_traversals.png    # disentanglement_lib's length: a GPU job
"""

import pathlib

from _beta_vae_args import parse_args
from _common import Stopwatch, datasets_dir, report, write_preset

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
CONV_FILTERS = (32, 32, 64, 64)
# Burgess et al. (2018), dSprites: C from 0 to 25 nats over 100,000 iterations, gamma 1000.
CAPACITY = {"capacity_max": 25.0, "capacity_steps": 100_000, "gamma": 1000.0}


def exact_epochs(steps, steps_per_pass):
    """`(epochs, steps_per_epoch)` with `epochs * steps_per_epoch == steps` exactly and
    `steps_per_epoch <= steps_per_pass`: the fewest such epochs. With a step budget the data
    repeats, so an epoch is only Keras' unit of logging; rounding epochs up to whole passes
    would overshoot the budget by up to a pass."""
    fewest = -(-steps // steps_per_pass)
    # At most twice the fewest epochs: a step count with no divisor there (a prime, say)
    # would otherwise become thousands of one-step epochs.
    for epochs in range(fewest, 2 * fewest + 1):
        if steps % epochs == 0:
            return epochs, steps // epochs
    raise ValueError(
        f"--steps must split into at most {2 * fewest} equal epochs of at most {steps_per_pass} steps "
        f"(a pass over the images), e.g. --steps {fewest * steps_per_pass}. Received: --steps {steps}"
    )


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0], FAST, FULL, CAPACITY["capacity_steps"])
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else [args.seed]

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
    variants = {f"beta={float(b):g}": {"beta": float(b)} for b in args.betas.split(",")}
    if args.capacity:
        variants["capacity"] = {"beta": 1.0, **CAPACITY, "capacity_steps": args.capacity_steps}
    steps_per_epoch = -(-len(images) // args.batch_size)
    epochs = args.epochs
    if args.steps:
        epochs, steps_per_epoch = exact_epochs(args.steps, steps_per_epoch)
    clock.lap("load")

    def build(seed, **variant):
        keras.utils.set_random_seed(seed)
        architecture = {"architecture": args.architecture, "hidden_units": hidden_units}
        if args.architecture == "conv":
            architecture["filters"] = CONV_FILTERS
        return keras_ae.create_model(
            "beta_vae",
            input_shape=(64, 64, 1),
            latent_dim=args.latent_dim,
            activation="relu",
            seed=seed,
            **architecture,
            **variant,
        )

    def scores(model, seed):
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
        mig = mutual_information_gap(coded, None, num_train=args.metric_train, random_state=seed)
        return {
            "beta_vae_score": beta_vae_score(coded, None, random_state=seed, **sizes),
            "factor_vae_score": factor_vae_score(
                coded, None, num_variance_estimate=args.metric_train, random_state=seed, **sizes
            ),
            "mig": mig["mig"],
            "mig_per_factor": dict(zip(data.factor_names, mig["gap_per_factor"].tolist(), strict=True)),
            "active_units": int((codes.var(axis=0) > 1e-2).sum()),
        }

    def headline(result):
        return {
            "beta_vae_score": result["beta_vae_score"]["eval_accuracy"],
            "factor_vae_score": result["factor_vae_score"]["eval_accuracy"],
            "mig": result["mig"],
            "active_units": result["active_units"],
        }

    # How far above an uninformed code the trained models land: the same encoder, untrained.
    untrained_model = build(seeds[0], **next(iter(variants.values())))
    if args.save_preset:
        from keras_ae.presets import check_preset_size

        check_preset_size(untrained_model)  # now, not after hours of training (the mlp network: 52 MB)
    untrained = scores(untrained_model, seeds[0])
    clock.lap("metrics untrained")
    results = {"untrained_encoder": untrained, "per_variant": {}, "per_beta": {}, "paper": PAPER}
    rows_out = [
        ("untrained encoder: BetaVAE score", untrained["beta_vae_score"]["eval_accuracy"], None),
        ("untrained encoder: FactorVAE score", untrained["factor_vae_score"]["eval_accuracy"], None),
        ("untrained encoder: MIG", untrained["mig"], None),
    ]
    best = (-1.0, None, None, None, None)  # score, variant label, seed, model, variant
    for label, variant in variants.items():
        per_seed = {}
        for seed in seeds:
            # The model first: `build` sets the global seed, and a dataset's shuffle takes
            # the global seed in force when the dataset is made (beside its own `seed`), so
            # made before it, the batch order would follow the previous model's seed.
            model = build(seed, **variant)
            train = (
                tf.data.Dataset.from_tensor_slices(images)
                .shuffle(len(images), seed=seed)
                .batch(args.batch_size)
                .map(lambda b: tf.cast(b, tf.float32), num_parallel_calls=tf.data.AUTOTUNE)
            )
            if args.steps:
                train = train.repeat()
            model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
            history = model.fit(
                train.prefetch(tf.data.AUTOTUNE),
                epochs=epochs,
                steps_per_epoch=steps_per_epoch if args.steps else None,
                shuffle=False,
                verbose=0 if args.fast else 2,
            )
            clock.lap(f"train {label} seed {seed}")
            result = scores(model, seed)
            clock.lap(f"metrics {label} seed {seed}")
            logs = {name: float(values[-1]) for name, values in history.history.items()}
            steps = int(model.optimizer.iterations.numpy())
            per_seed[seed] = {**result, "final_train_logs": logs, "steps": steps}
            if result["beta_vae_score"]["eval_accuracy"] > best[0]:
                best = (result["beta_vae_score"]["eval_accuracy"], label, seed, model, variant)
        medians = {
            key: float(np.median([headline(r)[key] for r in per_seed.values()]))
            for key in ("beta_vae_score", "factor_vae_score", "mig", "active_units")
        }
        results["per_variant"][label] = {"variant": variant, "per_seed": per_seed, "median": medians}
        if label.startswith("beta=") and len(seeds) == 1:
            results["per_beta"][variant["beta"]] = per_seed[seeds[0]]
        over = f"median of {len(seeds)} seeds" if len(seeds) > 1 else f"seed {seeds[0]}"
        logs = per_seed[seeds[-1]]["final_train_logs"]
        rows_out += [
            (
                f"{label}: BetaVAE score ({over})",
                medians["beta_vae_score"],
                PAPER["beta_vae_score"].get(variant["beta"]) if label.startswith("beta=") else None,
            ),
            (f"{label}: FactorVAE score", medians["factor_vae_score"], None),
            (f"{label}: MIG", medians["mig"], None),
            (f"{label}: active units (of {args.latent_dim})", medians["active_units"], None),
            (
                f"{label}: train recon / KL (nats), seed {seeds[-1]}",
                f"{logs['reconstruction_loss']:.1f} / {logs['kl_loss']:.2f}",
                None,
            ),
        ]
    _, best_label, best_seed, model, variant = best
    name = f"{best_label}, seed {best_seed}"
    results["best"] = name
    rows_out.append(("best model (BetaVAE score)", name, None))
    budget = f"{args.steps} steps" if args.steps else f"{args.epochs} epochs"
    report(
        "Higgins et al. 2017, dSprites (BetaVAE score; FactorVAE score and MIG added)",
        rows_out,
        args,
        results,
        clock,
        notes=[
            f"{len(images)} training images, {budget}, batch {args.batch_size}, Adam {args.learning_rate:g}, "
            f"{args.architecture} encoder, seeds {seeds}"
        ],
    )
    if args.traversals:
        from keras_ae.plotting import plot_latent_traversals

        sample = data.observations[rng.choice(len(data), 500, replace=False)].astype("float32")
        plot_latent_traversals(model, sample, args.traversals, title=f"dSprites, {name}")
        print(f"Wrote {args.traversals}")
    if args.save_preset:
        variant_results = results["per_variant"][best_label]
        # The check figure: a beta model's training loss (the KL weighted by beta). A capacity
        # model's loss, gamma * |KL - C|, would multiply the KL's float rounding by gamma (1000)
        # and break the tolerance across CPUs, so its card checks the plain ELBO.
        figure, objective = (
            ("elbo", "the ELBO (a log-likelihood bound: reconstruction and KL unweighted)")
            if "capacity_max" in variant
            else ("loss", f"the negative ELBO with the KL weighted by beta = {variant['beta']:g}")
        )
        write_preset(
            args,
            model,
            clock,
            summary=f"beta-VAE on dSprites ({name}: the best BetaVAE score of the run), {args.architecture} "
            f"encoder, {args.latent_dim} latents, Bernoulli decoder.",
            data={
                "dataset": "dSprites, downsampled grid (dsprites_downsampled.npz, 46,080 images)",
                "train": f"{len(images)} images",
            },
            figures={
                # This model's own scores (its seed's), then its variant's medians.
                **headline(variant_results["per_seed"][best_seed]),
                "median_over_seeds": variant_results["median"],
                "paper_beta_vae_score": PAPER["beta_vae_score"],
            },
            check={
                "figure": figure,
                "description": f"{objective} (nats) on the first 1,000 images of "
                "dsprites_downsampled.npz (pass it as `source`)",
                "dataset": "dsprites_downsampled.npz",
                "split": "train",
                "examples": 1000,
                "tolerance": 0.5,
            },
            # Passes over the training images (under --steps, `epochs` is Keras' unit of logging).
            epochs=epochs if not args.steps else round(args.steps * args.batch_size / len(images), 2),
            batch_size=args.batch_size,
            train_lap=f"train {best_label} seed {best_seed}",
            source=str(
                pathlib.Path(args.dsprites_dir or datasets_dir() / "dsprites") / "dsprites_downsampled.npz"
            ),
        )


if __name__ == "__main__":
    main()
