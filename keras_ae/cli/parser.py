"""The `keras-ae` argument parser and the argument types it checks while parsing.

Checked while parsing (before TensorFlow is imported): model names, plot kinds, paths.
"""

import argparse
import json
import os

from keras_ae.cli.commands import (
    cmd_demo,
    cmd_describe,
    cmd_evaluate,
    cmd_export,
    cmd_list,
    cmd_plot,
    cmd_prepare,
    cmd_train,
)
from keras_ae.runs.config import DEFAULT_PRIOR_EPOCHS, DEFAULTS, PLOT_KINDS


def _units(text):
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ints, e.g. 256,128; got {text!r}"
        ) from None


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1; got {text!r}")
    return value


def _param(text):
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, e.g. beta=4; got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


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


def _preset_name(text):
    from keras_ae.presets.cards import list_presets, preset_dir

    try:
        preset_dir(text)  # the one rule for what names a preset
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown preset {text!r}; expected one of {', '.join(list_presets())} or a preset folder"
        ) from None
    return text


def _check_export(parser, args):
    """A run or a preset, not both; a preset has no run folder to export into."""
    if (args.run is None) == (args.preset is None):
        parser.error(
            f"pass a RUN or --preset NAME, one of the two. Received: run={args.run!r}, preset={args.preset!r}"
        )
    if args.preset is not None and args.export_dir is None:
        parser.error(
            f"--preset needs --export-dir, the model's folder in a store. Received: preset={args.preset!r}"
        )


def _existing_folder(text):
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"the folder {text} does not exist")
    return text


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
        "--prior-epochs",
        type=int,
        help=f"epochs of the learned prior after training (vq_vae; default: {DEFAULT_PRIOR_EPOCHS}, 0: none)",
    )
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
        help="dense widths, e.g. 256,128 (default: 512,256 for mlp, 256 for conv; 256,128 on digits)",
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
    p.add_argument(
        "--restart",
        action="store_true",
        help="discard the run (its checkpoints, logs, plots, exports and results) and start over; "
        "refused in a folder that is not a keras-ae run",
    )
    p.add_argument(
        "--keep-checkpoints",
        type=_positive_int,
        default=2,
        metavar="N",
        help="keep the checkpoints of the last N epochs (default: 2, so that a damaged latest one "
        "has an intact one to fall back on)",
    )
    p.add_argument(
        "--save-every",
        type=_positive_int,
        metavar="STEPS",
        help="also checkpoint every STEPS training steps inside an epoch (at the end of a Keras "
        "execution, 16 steps by default); a killed run resumes at that step and ends with the "
        "weights of an uninterrupted one (default: after each epoch only)",
    )
    p.add_argument(
        "--deterministic",
        action="store_true",
        help="turn on TensorFlow's op determinism (bit-for-bit repeatable runs, maybe slower)",
    )
    p.add_argument("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    p.add_argument(
        "--distribute",
        choices=["mirrored", "multi_worker"],
        help="train under tf.distribute: 'mirrored' (this machine's devices) or 'multi_worker' (the workers "
        "of TF_CONFIG or of a Slurm allocation; run the same command on every worker)",
    )
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

    p = sub.add_parser("list", help="list models, datasets and trained presets (with MODEL: its parameters)")
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
    p.add_argument(
        "--split", help="default: test, or for a dataset without one the run's validation split, else train"
    )
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

    p = sub.add_parser(
        "export", help="export a run's model (or a shipped preset) as a SavedModel for serving"
    )
    p.add_argument("run", nargs="?", type=_existing_run, help="a run folder or a .keras file")
    p.add_argument(
        "--preset",
        type=_preset_name,
        metavar="NAME",
        help="export this trained preset (`keras-ae list` names them) instead of a run; needs --export-dir",
    )
    p.add_argument("--export-dir", help="default: RUN/saved_model")
    p.add_argument("--version", type=int, help="model version (TF Serving layout EXPORT_DIR/VERSION)")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_export, check=lambda args, parser=p: _check_export(parser, args))

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
