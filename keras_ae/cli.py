"""The `keras-ae` command line: a thin layer over `keras_ae.runs` and `keras_ae.data`.

    keras-ae list                               models and datasets
    keras-ae train [MODEL] [--dataset D] ...    train (or resume) a run into --out
    keras-ae evaluate RUN                       metrics on the test split
    keras-ae plot RUN                           PNGs into RUN/plots
    keras-ae export RUN                         a SavedModel for serving
    keras-ae prepare mnist --from DIR           build a tfds dataset from local raw files
    keras-ae demo                               train + evaluate + plot + export (make demo)

With no options, `keras-ae train` trains a VAE on the embedded 8x8 digits into
runs/vae_digits.
"""

import argparse
import json
import os
import sys


def _quiet_tensorflow():
    # TensorFlow prints C++ notices when it is imported: this must be set before the import.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _quiet_python_logging():
    import logging
    import warnings

    from absl import logging as absl_logging

    # tfds logs warnings such as "Variant folder ... has no dataset_info.json" through absl.
    absl_logging.set_verbosity(absl_logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\.|$)")


def _units(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ints, e.g. 256,128; got {text!r}"
        ) from None


def _param(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. beta=4; got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


# --------------------------------------------------------------------------- commands
def cmd_list(args):
    import keras_ae
    from keras_ae.data import list_datasets

    print("Models (keras-ae train MODEL):")
    for name in keras_ae.list_models():
        doc = (keras_ae.get_model_class(name).__doc__ or "").strip().splitlines()[0]
        print(f"  {name:<24} {doc}")
    print("\nDatasets (--dataset NAME; also 'tfds:<name>', an IDX folder or an .npz file):")
    for name, description in list_datasets().items():
        print(f"  {name:<24} {description}")
    return 0


def _run_name(args):
    dataset = os.path.basename(os.path.normpath(args.dataset or "digits")).replace(".npz", "")
    return os.path.join("runs", f"{args.model or 'vae'}_{dataset.replace('tfds:', '')}")


def _train_settings(args):
    return {
        "model": args.model,
        "dataset": args.dataset,
        "data_dir": args.data_dir,
        "split": args.split,
        # None means "the default"; `--validation-split none` turns validation off.
        "validation_split": args.validation_split,  # "none" turns validation off
        "binarize": args.binarize,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "latent_dim": args.latent_dim,
        "architecture": args.architecture,
        "hidden_units": args.hidden_units,
        "filters": args.filters,
        "activation": args.activation,
        "likelihood": args.likelihood,
        "variance": args.variance,
        "params": dict(args.param or []) or None,
    }


def _train(args, out):
    from keras_ae.runs import train_run

    settings = _train_settings(args)
    try:
        model, history = train_run(
            out, verbose=args.verbose, restart=args.restart, tensorboard=not args.no_tensorboard, **settings
        )
    except KeyboardInterrupt:
        print(
            f"\nInterrupted. Run the same command to resume {out} from its last checkpoint.", file=sys.stderr
        )
        raise SystemExit(130) from None
    last = {k: round(v[-1], 4) for k, v in history.items()} if history else {}
    print(f"Trained {model.registry_name} to epoch {len(next(iter(history.values()), []))}: {last}")
    print(f"Wrote {os.path.join(out, 'model.keras')} (config.json, history.json, checkpoints/, logs/)")
    return model


def cmd_train(args):
    _train(args, args.out or _run_name(args))
    return 0


def cmd_evaluate(args):
    from keras_ae.runs import evaluate_run

    metrics = evaluate_run(
        args.run, dataset=args.dataset, split=args.split, batch_size=args.batch_size, data_dir=args.data_dir
    )
    print(json.dumps({k: round(v, 4) for k, v in metrics.items()}))
    return 0


def cmd_plot(args):
    from keras_ae.runs import plot_run

    kinds = args.kinds.split(",") if args.kinds else None
    paths = plot_run(
        args.run, out=args.out, dataset=args.dataset, split=args.split, data_dir=args.data_dir, kinds=kinds
    )
    for kind, path in paths.items():
        print(f"{kind:<16} {path}")
    return 0


def cmd_export(args):
    from keras_ae.runs import export_run

    path = export_run(args.run, export_dir=args.export_dir, version=args.version, overwrite=args.overwrite)
    print(f"Exported {path}")
    return 0


def cmd_prepare(args):
    from keras_ae.data import prepare_tfds

    path = prepare_tfds(args.name, getattr(args, "from"), data_dir=args.data_dir)
    print(
        f"Prepared {args.name} in {path}; load it offline with data_dir={args.data_dir or '(tfds default)'}"
    )
    return 0


def cmd_demo(args):
    from keras_ae.runs import evaluate_run, export_run, plot_run

    out = args.out
    _train(args, out)
    print("Test metrics:", json.dumps({k: round(v, 3) for k, v in evaluate_run(out).items()}))
    for kind, path in plot_run(out).items():
        print(f"{kind:<16} {path}")
    print("Exported", export_run(out, version=1, overwrite=True))
    return 0


# --------------------------------------------------------------------------- parser
def _add_train_arguments(p, default_out=None):
    p.add_argument("model", nargs="?", default=None, help="a model from `keras-ae list` (default: vae)")
    p.add_argument(
        "--dataset", help="a dataset name, 'tfds:<name>', an IDX folder or an .npz file (default: digits)"
    )
    p.add_argument("--data-dir", help="tensorflow-datasets data folder")
    p.add_argument("--split", help="training split (default: train), e.g. 'train[:10%%]'")
    p.add_argument("--validation-split", help="validation split, or 'none' (default: test when it exists)")
    p.add_argument("--binarize", choices=["static", "dynamic", "threshold"], help="binarize the images")
    p.add_argument("--epochs", type=int, help="final epoch count (default: 60 on digits, else 10)")
    p.add_argument("--batch-size", type=int)
    p.add_argument("--learning-rate", "--lr", type=float, help="Adam learning rate")
    p.add_argument("--seed", type=int)
    p.add_argument("--latent-dim", type=int)
    p.add_argument("--architecture", choices=["mlp", "conv"])
    p.add_argument("--hidden-units", type=_units, help="dense widths, e.g. 256,128")
    p.add_argument("--filters", type=_units, help="conv widths, e.g. 32,64")
    p.add_argument("--activation")
    p.add_argument("--likelihood", choices=["bernoulli", "gaussian", "mse"])
    p.add_argument("--variance", type=float, help="fixed variance of the gaussian likelihood")
    p.add_argument(
        "--param",
        type=_param,
        action="append",
        metavar="KEY=VALUE",
        help="extra model argument (JSON value), repeatable",
    )
    p.add_argument("--out", default=default_out, help="run folder (default: runs/MODEL_DATASET)")
    p.add_argument("--restart", action="store_true", help="discard the run's checkpoints and start over")
    p.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    p.add_argument(
        "--verbose",
        type=int,
        default=1,
        choices=[0, 1, 2],
        help="1: progress bar (default), 2: a line per epoch",
    )


def build_parser():
    parser = argparse.ArgumentParser(
        prog="keras-ae",
        description="Train, evaluate, plot and export keras-ae autoencoders.",
        epilog="Every run folder holds config.json, checkpoints/, logs/ (TensorBoard), model.keras and history.json; "
        "running the same train command again resumes it.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("list", help="list models and datasets")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("train", help="train (or resume) a model; defaults: a VAE on the embedded digits")
    _add_train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a run on a dataset split")
    p.add_argument("run", help="a run folder or a .keras file")
    p.add_argument("--dataset", help="default: the run's dataset")
    p.add_argument("--data-dir")
    p.add_argument("--split", default="test")
    p.add_argument("--batch-size", type=int, default=256)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("plot", help="write the run's pictures (PNG)")
    p.add_argument("run", help="a run folder or a .keras file")
    p.add_argument("--out", help="folder of the PNGs (default: RUN/plots)")
    p.add_argument("--dataset", help="default: the run's dataset")
    p.add_argument("--data-dir")
    p.add_argument("--split", help="default: the run's validation split (else test, else train)")
    p.add_argument(
        "--kinds",
        help="comma-separated subset of reconstructions,samples,traversals,manifold,latent_scatter,filters,loss_curves",
    )
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("export", help="export a run's model as a SavedModel for serving")
    p.add_argument("run", help="a run folder or a .keras file")
    p.add_argument("--export-dir", help="default: RUN/saved_model")
    p.add_argument("--version", type=int, help="model version (TF Serving layout EXPORT_DIR/VERSION)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("prepare", help="build a tensorflow-datasets dataset offline from its raw files")
    p.add_argument("name", help="e.g. mnist, fashion_mnist")
    p.add_argument(
        "--from",
        required=True,
        metavar="DIR",
        help="folder of the raw files (train-images-idx3-ubyte.gz, ...)",
    )
    p.add_argument("--data-dir", help="tfds data folder to write (default: tfds' default)")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("demo", help="the default train, then evaluate, plot and export (make demo)")
    _add_train_arguments(p, default_out=os.path.join("runs", "demo"))
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    _quiet_python_logging()
    from keras_ae.data import DatasetNotPreparedError

    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, FileExistsError, DatasetNotPreparedError) as error:
        print(f"keras-ae {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
