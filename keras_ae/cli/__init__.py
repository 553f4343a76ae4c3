"""The `keras-ae` command line: a thin layer over `keras_ae.runs` and `keras_ae.data`.

    keras-ae list                               models, datasets and trained presets
    keras-ae describe MODEL                     a model's parameters, defaults and help
    keras-ae train [MODEL] [--dataset D] ...    train (or resume) a run into --out
    keras-ae evaluate RUN                       metrics on the test split
    keras-ae plot RUN                           PNGs into RUN/plots
    keras-ae export RUN                         a SavedModel for serving
    keras-ae export --preset NAME --export-dir DIR   a trained preset's SavedModel
    keras-ae prepare mnist --from DIR           build a tfds dataset from local raw files
    keras-ae demo                               train + evaluate + plot + export (make demo)

With no options, `keras-ae train` trains a VAE on the embedded 8x8 digits into
runs/vae_digits.

Arguments are parsed and checked (model names, plot kinds, paths) before TensorFlow is
imported, and only the commands that need it import it: `--help`, `list` and a mistyped
name answer at once.
"""

import os
import sys

from keras_ae.cli.commands import _run_name, _train_settings, cmd_list
from keras_ae.cli.parser import build_parser

__all__ = ["_run_name", "_train_settings", "build_parser", "main"]


def _quiet_tensorflow():
    # TensorFlow prints C++ notices when it is imported: this must be set before the import.
    # The command line owns its process, so it may; the library never changes the environment.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _import_tensorflow_quietly():
    # On CPUs where TensorFlow enables oneDNN by default (AVX-512 machines), TensorFlow 2.21
    # prints a notice about it from C++ while it is imported, whatever TF_CPP_MIN_LOG_LEVEL
    # says. The import runs with file descriptor 2 pointed at /dev/null; a failing import
    # still raises its Python error after stderr is restored.
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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


def main(argv=None):
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    if getattr(args, "check", None):  # what one argument cannot say alone, before TensorFlow
        args.check(args)
    # Only `list` without a MODEL answers without TensorFlow; `describe` and `list MODEL`
    # read the model classes' signatures, which imports Keras and TensorFlow.
    if args.func is not cmd_list or getattr(args, "model", None):
        _import_tensorflow_quietly()
    _quiet_python_logging()
    from keras_ae.data import DatasetNotPreparedError

    try:
        return args.func(args)
    except (
        ValueError,
        FileNotFoundError,
        FileExistsError,
        DatasetNotPreparedError,
        FloatingPointError,  # TrainingDivergedError
        ConnectionError,  # WorkerLostError
    ) as error:
        print(f"keras-ae {args.command}: error: {_in_flag_words(str(error))}", file=sys.stderr)
        return 2


# Library messages name Python arguments; on the command line the flags say the same.
_FLAG_WORDS = (
    ("Pass overwrite=True", "Pass --overwrite"),
    ("pass overwrite=True", "pass --overwrite"),
    ("version=None for the next free version", "no --version for the next free version"),
    ("Received: source=", "Received: --dataset "),
)


def _in_flag_words(message):
    for python, flag in _FLAG_WORDS:
        message = message.replace(python, flag)
    return message
