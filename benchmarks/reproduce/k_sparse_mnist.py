"""Makhzani & Frey (2013), Table 1: logistic-regression error on k-sparse autoencoder codes of MNIST.

Model as in the paper: 1000 hidden units, a linear code of which the k=25 largest units
are kept in training and alpha*k = 75 when encoding, tied weights, a linear decoder
with squared error (`likelihood="mse"`), and k lowered linearly from 100 to 25 over the
first half of training (the paper's schedule against dead units; `--k-schedule-fraction`
sets that part; `--learning-rate-decay cosine` then takes the learning rate to zero
over the steps at the final k). The codes of the
60,000 training images train a logistic regression (scikit-learn, codes standardized;
`--probe-scaling raw` fits the codes as they are, and `choose` takes the scaling with C on
validation); its error on the 10,000 test codes is compared with the paper's 1.35%. The
same probe on raw pixels gives the paper's baseline row (7.20%). The optimizer and the
training budget are ours. `--k-sparse-preset NAME` measures a shipped model instead of
training one. `--alpha 2,3` chooses the encoding's alpha with the probe's scaling and C on
the same validation tenth.

    python benchmarks/reproduce/k_sparse_mnist.py            # full mode (see RESULTS.md)
    python benchmarks/reproduce/k_sparse_mnist.py --fast     # pipeline check, seconds
    python benchmarks/reproduce/k_sparse_mnist.py --k-sparse-preset k_sparse_mnist \
        --probe-scaling choose --skip-raw-pixels             # the shipped model, both scalings
"""

from _common import (
    Stopwatch,
    add_mnist_dir,
    add_mnist_training_args,
    add_optimizer_args,
    base_parser,
    check_optimizer_args,
    load_mnist,
    mnist_check,
    mnist_source,
    parse_list,
    refuse_flags,
    report,
    resolve,
    write_preset,
)
from _k_sparse_probe import parse_alphas, probe_alphas, validation_error
from _k_sparse_training import train

# --probe-scaling: `linear_probe_error`'s `standardize`, and the codes the report names.
SCALINGS = {"standardized": True, "raw": False, "choose": (True, False)}
PROBE_CODES = {
    "standardized": "standardized codes",
    "raw": "raw codes",
    "choose": "standardized or raw codes (chosen with C)",
}
PAPER = {"error_k25": 0.0135, "error_k40": 0.0154, "error_k10": 0.0210, "error_raw_pixels": 0.0720}
# The flags that describe the training, which a measured preset (--k-sparse-preset) did not have.
TRAINING_FLAGS = (
    "k",
    "k_start",
    "k_schedule_fraction",
    "likelihood",
    "optimizer",
    "momentum",
    "learning_rate",
    "learning_rate_decay",
    "init_std",
    "aux_k",
    "aux_weight",
    "dead_steps",
    "epochs",
    "batch_size",
)
FULL = {"epochs": 100, "batch_size": 100, "num_train": None, "num_test": None, "k_start": 100}
FAST = {"epochs": 1, "batch_size": 100, "num_train": 2000, "num_test": 500, "k_start": 100}


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    add_mnist_dir(parser)
    parser.add_argument("--k", type=int, default=25, help="units kept in training (paper rows: 10, 25, 40)")
    parser.add_argument(
        "--alpha",
        help="alpha*k units kept when encoding (paper: 3, the default when training), or a "
        "comma-separated list to choose from with the probe's scaling and C on its validation tenth "
        "(with --k-sparse-preset: default the preset's own)",
    )
    parser.add_argument(
        "--k-start",
        type=int,
        help="k schedule: start with this many units and lower k linearly over the first half "
        "of training, as the paper does against dead units (default 100; 0 disables)",
    )
    parser.add_argument(
        "--k-schedule-fraction",
        type=float,
        default=0.5,
        help="the fraction of training over which the k schedule lowers k (paper: 0.5; 1: the whole run)",
    )
    parser.add_argument("--likelihood", default="mse", help="reconstruction loss (paper: squared error)")
    add_optimizer_args(
        parser,
        "adam, or sgd with --momentum: the authors' code uses SGD, momentum 0.9 and learning rate 0.01 on "
        "half the summed squared error, i.e. --learning-rate 0.005 on ours",
        momentum=0.9,
    )
    parser.add_argument(
        "--learning-rate-decay",
        choices=("none", "cosine"),
        default="none",
        help="cosine: keep the learning rate while the k schedule lowers k, then decay it to zero "
        "along a cosine over the steps at the final k (without a k schedule: over the whole run)",
    )
    parser.add_argument(
        "--init-std",
        type=float,
        help="draw the tied weights from N(0, std^2) (the authors' code: 0.01) instead of Glorot",
    )
    parser.add_argument(
        "--aux-k",
        type=int,
        help="keep units alive: the AuxK loss (Gao et al. 2024) asks each example's aux-k largest dead "
        "units to reconstruct the residual (default: off, as in the paper)",
    )
    parser.add_argument("--aux-weight", type=float, default=1 / 32, help="the AuxK loss's weight (Gao: 1/32)")
    parser.add_argument(
        "--dead-steps",
        type=int,
        default=1000,
        help="with --aux-k: training batches without being kept after which a unit is dead",
    )
    add_mnist_training_args(parser, "training epochs (full: 100)")
    parser.add_argument("--skip-raw-pixels", action="store_true", help="skip the raw-pixel probe baseline")
    parser.add_argument(
        "--probe-scaling",
        choices=tuple(SCALINGS),
        default="standardized",
        help="the codes the probe fits: standardized (zero mean, unit variance per unit), raw (as "
        "encoded), or choose (both, the better on validation with C)",
    )
    parser.add_argument(
        "--k-sparse-preset",
        metavar="NAME",
        help="measure this preset (a k-sparse autoencoder, or a preset folder) instead of training one; "
        "the training flags are refused with it",
    )
    args = parser.parse_args(argv)
    if args.k_sparse_preset:
        refuse_flags(parser, args, TRAINING_FLAGS, "describe a training; --k-sparse-preset trains none")
        if args.save_preset:
            parser.error(
                "--save-preset saves a model trained here; --k-sparse-preset trains none: pass one of the two"
            )
    if not args.aux_k:
        refuse_flags(parser, args, ["aux_weight", "dead_steps"], "tune the AuxK loss: pass --aux-k with them")
    args = resolve(args, FAST, FULL)
    check_optimizer_args(parser, args)
    if not 0 < args.k_schedule_fraction <= 1:
        parser.error(f"--k-schedule-fraction must lie in (0, 1]. Received: {args.k_schedule_fraction}")
    if args.learning_rate_decay != "none" and args.k_start and args.k_schedule_fraction >= 1:
        parser.error(
            "--learning-rate-decay decays the rate over the steps after the k schedule, and "
            f"--k-schedule-fraction {args.k_schedule_fraction:g} leaves none: use a fraction below 1"
        )
    probe_c = parse_list(parser, "--probe-c", args.probe_c)
    alphas = None if args.alpha is None else parse_alphas(parser, args.alpha)
    # The JSON's `arguments` record the command: flags that did not apply are None, not
    # defaults that look as if they had (a preset's k, optimizer and budget; AuxK's weight).
    unused = list(TRAINING_FLAGS) if args.k_sparse_preset else []
    if not args.aux_k:
        unused += ["aux_weight", "dead_steps"]
    for name in unused:
        setattr(args, name, None)

    import keras

    import keras_ae
    from keras_ae.evaluation import linear_probe_error, reconstruction_error

    clock = Stopwatch()
    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_mnist(args.mnist_dir, args.num_train, args.num_test)
    if args.k_sparse_preset:
        model, history, optimizer = keras_ae.from_preset(args.k_sparse_preset), None, None
        if not isinstance(model, keras_ae.KSparseAutoencoder):
            parser.error(
                "--k-sparse-preset must name a k-sparse autoencoder preset. "
                f"Received: k_sparse_preset={args.k_sparse_preset!r}, a {type(model).__name__}"
            )
        clock.lap("load")
    else:
        # Training builds the model with the first candidate alpha; the others only re-encode.
        model, history, optimizer = train(args, x_train, alpha=3.0 if alphas is None else alphas[0])
        clock.lap("train")
    steps = None if optimizer is None else int(keras.ops.convert_to_numpy(optimizer.iterations))
    model, codes_train, codes_test, by_alpha = probe_alphas(
        model,
        alphas or [model.alpha],
        (x_train, y_train),
        (x_test, y_test),
        inverse_regularization=probe_c,
        standardize=SCALINGS[args.probe_scaling],
    )
    probe = by_alpha[model.alpha]
    k, alpha = model.k, model.alpha
    recon = reconstruction_error(model, x_test)
    kept = (codes_test != 0).sum(axis=1)
    dead = int(((codes_train != 0).sum(axis=0) == 0).sum())
    clock.lap("probe codes")
    raw = None
    if not args.skip_raw_pixels:
        raw = linear_probe_error(x_train, y_train, x_test, y_test, inverse_regularization=probe_c)
        clock.lap("probe raw pixels")

    results = {
        "probe_error": probe["error"],
        "probe_train_error": probe["train_error"],
        "probe_inverse_regularization": probe["inverse_regularization"],
        "probe_validation_errors": probe["validation_errors"],
        "probe_standardized": probe["standardize"],
        "probe_scaling_validation_errors": probe["scaling_validation_errors"],
        "alpha": alpha,
        # With several --alpha candidates: each one's best validation error, and (not used
        # to choose) its test error.
        "alpha_validation_errors": {str(a): validation_error(p) for a, p in by_alpha.items()},
        "alpha_test_errors": {str(a): p["error"] for a, p in by_alpha.items()},
        "raw_pixel_probe_inverse_regularization": None if raw is None else raw["inverse_regularization"],
        "raw_pixel_probe_error": None if raw is None else raw["error"],
        "test_squared_error": recon["squared_error"],
        "nonzero_units_per_test_code": float(kept.mean()),
        "units_never_active_on_train": dead,
        "final_train_loss": None if history is None else float(history.history["loss"][-1]),
        # With --aux-k: the dead units the auxiliary loss saw, averaged over the last epoch.
        "final_dead_units": None
        if history is None or "dead_units" not in history.history
        else float(history.history["dead_units"][-1]),
        "final_learning_rate": None
        if optimizer is None
        else float(keras.ops.convert_to_numpy(optimizer.learning_rate)),
        "paper": PAPER,
    }
    if args.k_sparse_preset:
        results["k_sparse_preset"] = args.k_sparse_preset
        training = f"the preset {args.k_sparse_preset} (k={k}, alpha={alpha:g})"
    else:
        training = (
            f"{args.epochs} / {args.batch_size} / {args.k_start} / {args.optimizer} {args.learning_rate:g}"
            + ("" if args.learning_rate_decay == "none" else f", {args.learning_rate_decay} decay")
            + (
                f", AuxK {args.aux_k} (weight {args.aux_weight:g}, dead after {args.dead_steps})"
                if args.aux_k
                else ""
            )
        )
    paper_error = {25: PAPER["error_k25"], 40: PAPER["error_k40"], 10: PAPER["error_k10"]}.get(k)
    report(
        "Makhzani & Frey 2013, Table 1 (MNIST, 1000 units, logistic regression on codes)",
        [
            (f"probe test error, k={k}, alpha={alpha:g}", probe["error"], paper_error),
            (
                "probe test error, raw pixels",
                None if raw is None else raw["error"],
                PAPER["error_raw_pixels"],
            ),
            (
                "probe C chosen (codes / pixels), codes' scaling",
                f"{probe['inverse_regularization']:g} / "
                + ("-" if raw is None else f"{raw['inverse_regularization']:g}")
                + (", standardized" if probe["standardize"] else ", raw"),
                None,
            ),
            ("non-zero units per test code", float(kept.mean()), float(model.inference_k)),
            ("units never active (train codes)", dead, None),
            ("test squared error per image", recon["squared_error"], None),
            ("epochs / batch size / k_start / optimizer", training, None),
        ],
        args,
        results,
        clock,
        notes=[
            "errors are fractions (0.0135 = 1.35%)",
            f"probe: {PROBE_CODES[args.probe_scaling]}, logistic regression, C from {args.probe_c} chosen on "
            "10% of train",
        ]
        + (
            [
                "alpha chosen with them from "
                + ", ".join(f"{a:g} ({validation_error(p):.4f})" for a, p in by_alpha.items())
                + " (validation errors)"
            ]
            if len(by_alpha) > 1
            else []
        ),
        measured=f"the preset {args.k_sparse_preset}, not trained here" if args.k_sparse_preset else None,
    )
    if args.save_preset:
        write_preset(
            args,
            model,
            clock,
            summary=f"k-sparse autoencoder on MNIST, Makhzani & Frey (2013) Table 1: 1000 units, k={args.k} "
            f"in training (alpha*k={model.inference_k} when encoding), tied weights, linear decoder.",
            data={
                "dataset": "mnist",
                "train": f"{len(x_train)} training images, intensities in [0, 1]",
                "test": f"{len(x_test)} test images",
            },
            figures={
                "probe_test_error": probe["error"],
                "raw_pixel_probe_test_error": None if raw is None else raw["error"],
                "test_squared_error_per_image": recon["squared_error"],
                "units_never_active_on_train": dead,
                "paper_probe_test_error": paper_error,
            },
            check=mnist_check(
                "training loss (squared error) on the first 1,000 test images",
                tolerance=0.05,
            ),
            epochs=args.epochs,
            batch_size=args.batch_size,
            source=mnist_source(args),
            # The model saved may be a copy encoding the chosen alpha, with no optimizer.
            steps=steps,
        )


if __name__ == "__main__":
    main()
