"""The `keras-ae` command line: a thin layer over `keras_ae.runs` and `keras_ae.data`.

    keras-ae list                               models and datasets
    keras-ae describe MODEL                     a model's parameters, defaults and help
    keras-ae train [MODEL] [--dataset D] ...    train (or resume) a run into --out
    keras-ae evaluate RUN                       metrics on the test split
    keras-ae plot RUN                           PNGs into RUN/plots
    keras-ae export RUN                         a SavedModel for serving
    keras-ae prepare mnist --from DIR           build a tfds dataset from local raw files
    keras-ae demo                               train + evaluate + plot + export (make demo)

With no options, `keras-ae train` trains a VAE on the embedded 8x8 digits into
runs/vae_digits.

Arguments are parsed and checked (model names, plot kinds, paths) before TensorFlow is
imported, and only the commands that need it import it: `--help`, `list` and a mistyped
name answer at once.
"""

import argparse
import json
import os
import sys

from keras_ae.runs.config import DEFAULTS, PLOT_KINDS

# Model arguments that `train` sets with flags of their own (the rest go through --param).
_FLAG_PARAMETERS = (
    "latent_dim",
    "architecture",
    "hidden_units",
    "filters",
    "activation",
    "likelihood",
    "seed",
)


def _quiet_tensorflow():
    # TensorFlow prints C++ notices when it is imported: this must be set before the import.
    # The command line owns its process, so it may; the library never changes the environment.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _quiet_python_logging():
    import logging
    import warnings

    from absl import logging as absl_logging

    # tfds logs warnings such as "Variant folder ... has no dataset_info.json" and "Dataset
    # mnist downloaded and prepared" (also when nothing was downloaded) through absl.
    absl_logging.set_verbosity(absl_logging.ERROR)
    for name in ("tensorflow", "absl", "tensorflow_datasets"):
        logging.getLogger(name).setLevel(logging.ERROR)
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
    from keras_ae.data.sources import list_datasets
    from keras_ae.registry import list_models, model_summary

    if args.model:
        return cmd_describe(args)
    print("Models (keras-ae train MODEL; `keras-ae describe MODEL` lists its parameters):")
    for name in list_models():
        print(f"  {name:<24} {model_summary(name)}")
    print("\nDatasets (--dataset NAME; also 'tfds:<name>', an IDX folder or an .npz file):")
    for name, description in list_datasets().items():
        print(f"  {name:<24} {description}")
    return 0


def _default_text(default):
    import inspect

    return "required" if default is inspect.Parameter.empty else f"default {default!r}"


def cmd_describe(args):
    from keras_ae.registry import model_parameters, model_summary

    print(f"{args.model}: {model_summary(args.model)}\n")
    print("Parameters (keras-ae train MODEL --param NAME=VALUE; some have their own flags):")
    for name, default, description in model_parameters(args.model):
        flag = f" [--{name.replace('_', '-')}]" if name in _FLAG_PARAMETERS else ""
        print(f"  {name}{flag} ({_default_text(default)})")
        if description:
            print(f"      {description}")
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


def _check_params(args):
    """Refuses `--param` names the model does not take, before any data is loaded."""
    if not args.param:
        return
    from keras_ae.registry import model_parameters

    model = args.model or "vae"
    accepted = {name for name, _, _ in model_parameters(model)}
    unknown = sorted({key for key, _ in args.param} - accepted)
    if unknown:
        raise ValueError(
            f"Unknown --param {', '.join(unknown)} for model {model!r}. Expected some of {sorted(accepted)} "
            f"(`keras-ae describe {model}` explains each)."
        )


def _train(args, out):
    from keras_ae.runs import train_run

    settings = _train_settings(args)
    _check_params(args)
    try:
        model, history = train_run(
            out,
            verbose=args.verbose,
            restart=args.restart,
            tensorboard=not args.no_tensorboard,
            keep_checkpoints=args.keep_checkpoints,
            **settings,
        )
    except KeyboardInterrupt:
        print(
            f"\nInterrupted. Run the same command to resume {out} from its last checkpoint.", file=sys.stderr
        )
        raise SystemExit(130) from None
    last = {k: round(v[-1], 4) for k, v in history.items()} if history else {}
    print(f"Trained {model.registry_name} to epoch {len(next(iter(history.values()), []))}: {last}")
    print(f"Wrote {os.path.join(out, 'model.keras')} (config.json, history.json, checkpoints/, logs/)")
    if getattr(model.likelihood, "name_in_registry", None) == "gaussian":
        print(
            "Note: with a Gaussian likelihood the losses are negative log-densities, which are negative "
            "when the variance is small (a density can exceed 1); lower is still better."
        )
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
    if os.path.isdir(args.run):
        print(f"Wrote {os.path.join(args.run, 'metrics.json')}")
    return 0


def cmd_plot(args):
    from keras_ae.runs import plot_run

    paths = plot_run(
        args.run,
        out=args.out,
        dataset=args.dataset,
        split=args.split,
        data_dir=args.data_dir,
        kinds=args.kinds,
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


# --------------------------------------------------------------------------- argument types
# Checked while parsing, before TensorFlow is imported.
def _model_name(text):
    from keras_ae.registry import list_models

    if text not in list_models():
        raise argparse.ArgumentTypeError(
            f"unknown model {text!r}; expected one of {', '.join(list_models())}"
        )
    return text


def _plot_kinds(text):
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in PLOT_KINDS]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(
            f"unknown plot kinds {unknown or [text]}; expected some of {','.join(PLOT_KINDS)}"
        )
    return kinds


def _existing_run(text):
    if not os.path.exists(text):
        raise argparse.ArgumentTypeError(f"the run folder (or .keras file) {text} does not exist")
    return text


def _existing_folder(text):
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"the folder {text} does not exist")
    return text


# --------------------------------------------------------------------------- parser
def _add_train_arguments(p, default_out=None):
    p.add_argument(
        "model", nargs="?", default=None, type=_model_name, help="a model from `keras-ae list` (default: vae)"
    )
    p.add_argument(
        "--dataset", help="a dataset name, 'tfds:<name>', an IDX folder or an .npz file (default: digits)"
    )
    p.add_argument(
        "--data-dir",
        help="tensorflow-datasets data folder (default: $TFDS_DATA_DIR, else ~/tensorflow_datasets); "
        "use the same one as `keras-ae prepare --data-dir`",
    )
    p.add_argument("--split", help=f"training split (default: {DEFAULTS['split']}), e.g. 'train[:10%%]'")
    p.add_argument("--validation-split", help="validation split, or 'none' (default: test when it exists)")
    p.add_argument("--binarize", choices=["static", "dynamic", "threshold"], help="binarize the images")
    p.add_argument(
        "--epochs", type=int, help=f"final epoch count (default: {DEFAULTS['epochs']}; 60 on digits)"
    )
    p.add_argument("--batch-size", type=int, help=f"(default: {DEFAULTS['batch_size']}; 64 on digits)")
    p.add_argument(
        "--learning-rate",
        "--lr",
        type=float,
        help=f"Adam learning rate (default: {DEFAULTS['learning_rate']:g}; 3e-3 on digits)",
    )
    p.add_argument(
        "--seed",
        type=int,
        help=f"seed of weights, shuffling and the model's draws (default: {DEFAULTS['seed']})",
    )
    p.add_argument("--latent-dim", type=int, help=f"(default: {DEFAULTS['latent_dim']}; 8 on digits)")
    p.add_argument("--architecture", choices=["mlp", "conv"], help=f"(default: {DEFAULTS['architecture']})")
    p.add_argument(
        "--hidden-units",
        type=_units,
        help="dense widths, e.g. 256,128 (default: 512,256 for mlp, 256 for conv)",
    )
    p.add_argument("--filters", type=_units, help="conv widths (default: 32,64)")
    p.add_argument("--activation", help=f"(default: {DEFAULTS['activation']})")
    p.add_argument(
        "--likelihood",
        choices=["bernoulli", "gaussian", "mse"],
        help=f"(default: {DEFAULTS['likelihood']}; gaussian on digits)",
    )
    p.add_argument(
        "--variance", type=float, help="fixed variance of the gaussian likelihood (0.05 on digits)"
    )
    p.add_argument(
        "--param",
        type=_param,
        action="append",
        metavar="KEY=VALUE",
        help="extra model argument (JSON value), repeatable; `keras-ae describe MODEL` lists them",
    )
    p.add_argument("--out", default=default_out, help="run folder (default: runs/MODEL_DATASET)")
    p.add_argument("--restart", action="store_true", help="discard the run's checkpoints and start over")
    p.add_argument(
        "--keep-checkpoints",
        type=int,
        default=1,
        metavar="N",
        help="keep the checkpoints of the last N epochs (default: 1, the latest)",
    )
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

    p = sub.add_parser("list", help="list models and datasets (with MODEL: its parameters)")
    p.add_argument("model", nargs="?", type=_model_name, help="describe this model instead")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("describe", help="a model's parameters with their defaults and help")
    p.add_argument("model", type=_model_name, help="a model from `keras-ae list`")
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("train", help="train (or resume) a model; defaults: a VAE on the embedded digits")
    _add_train_arguments(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate a run on a dataset split")
    p.add_argument("run", type=_existing_run, help="a run folder or a .keras file")
    p.add_argument("--dataset", help="default: the run's dataset")
    p.add_argument("--data-dir")
    p.add_argument("--split", default="test")
    p.add_argument("--batch-size", type=int, default=256)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("plot", help="write the run's pictures (PNG)")
    p.add_argument("run", type=_existing_run, help="a run folder or a .keras file")
    p.add_argument("--out", help="folder of the PNGs (default: RUN/plots)")
    p.add_argument("--dataset", help="default: the run's dataset")
    p.add_argument("--data-dir")
    p.add_argument("--split", help="default: the run's validation split (else test, else train)")
    p.add_argument(
        "--kinds",
        type=_plot_kinds,
        help=f"comma-separated subset of {','.join(PLOT_KINDS)}",
    )
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("export", help="export a run's model as a SavedModel for serving")
    p.add_argument("run", type=_existing_run, help="a run folder or a .keras file")
    p.add_argument("--export-dir", help="default: RUN/saved_model")
    p.add_argument("--version", type=int, help="model version (TF Serving layout EXPORT_DIR/VERSION)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("prepare", help="build a tensorflow-datasets dataset offline from its raw files")
    p.add_argument("name", help="e.g. mnist, fashion_mnist")
    p.add_argument(
        "--from",
        required=True,
        type=_existing_folder,
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
        print(f"keras-ae {args.command}: error: {_in_flag_words(str(error))}", file=sys.stderr)
        return 2


# Library messages name Python arguments; on the command line the flags say the same.
_FLAG_WORDS = (
    ("Pass overwrite=True", "Pass --overwrite"),
    ("pass overwrite=True", "pass --overwrite"),
    ("version=None for the next free version", "no --version for the next free version"),
)


def _in_flag_words(message):
    for python, flag in _FLAG_WORDS:
        message = message.replace(python, flag)
    return message


if __name__ == "__main__":
    sys.exit(main())
