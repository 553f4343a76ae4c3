"""Training runs: a folder holding a resolved config, checkpoints, logs, the model and pictures.

`train_run` is what `keras-ae train` calls; `evaluate_run`, `plot_run` and `export_run` are
`keras-ae evaluate`, `plot` and `export`. Layout of a run folder:

    config.json            the resolved configuration (every default filled in)
    checkpoints/           epoch_NNNN.keras + state.json (resume point, history so far)
    logs/                  TensorBoard logs (`tensorboard --logdir runs/NAME/logs`)
    model.keras            the trained model
    history.json           per-epoch metrics of the whole run
    metrics.json           written by `evaluate_run`
    plots/*.png            written by `plot_run`
    saved_model/           written by `export_run`
"""

import inspect
import json
import os
import shutil

import keras
import numpy as np

from keras_ae.data import check_fits, element_shape, load_dataset
from keras_ae.data.sources import has_split
from keras_ae.registry import get_model_class
from keras_ae.runs.run_checkpoint import RunCheckpoint
from keras_ae.runs.tensorboard_scalars import TensorBoardScalars
from keras_ae.version import __version__

# Defaults of every run, then per-dataset presets tuned so that the default run is quick and
# its pictures are good. The embedded digits are grey levels (17 values): a Gaussian
# likelihood with a small fixed variance rewards sharp reconstructions much more than a
# Bernoulli one, whose KL settles near 3.5 nats and whose samples come out blurred.
DEFAULTS = {
    "model": "vae",
    "dataset": "digits",
    "data_dir": None,
    "split": "train",
    "validation_split": "auto",
    "binarize": None,
    "epochs": 10,
    "batch_size": 128,
    "learning_rate": 1e-3,
    "seed": 0,
    "latent_dim": 16,
    "architecture": "mlp",
    "hidden_units": None,
    "filters": None,
    "activation": "relu",
    "likelihood": "bernoulli",
    "variance": None,
    "params": {},
}
DATASET_PRESETS = {
    "digits": {
        "epochs": 60,
        "batch_size": 64,
        "learning_rate": 3e-3,
        "latent_dim": 8,
        "hidden_units": [256, 128],
        "likelihood": "gaussian",
        "variance": 0.05,
    },
}
# Keys that may differ when the same run is resumed.
_RESUMABLE = ("epochs",)
CONFIG_FILE, HISTORY_FILE, MODEL_FILE, METRICS_FILE = (
    "config.json",
    "history.json",
    "model.keras",
    "metrics.json",
)


def resolve_config(**overrides):
    """Fills every default in: `DEFAULTS`, then the dataset's preset, then `overrides`.

    Values of None in `overrides` mean "use the default".

    Returns:
        The resolved config dict (JSON-serializable), as saved in `config.json`.
    """
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown run settings {sorted(unknown)}. Expected some of {sorted(DEFAULTS)}.")
    overrides = {k: v for k, v in overrides.items() if v is not None}
    dataset = overrides.get("dataset", DEFAULTS["dataset"])
    if not isinstance(dataset, (str, os.PathLike)):
        raise ValueError(
            "A run records its dataset in config.json, so it needs a dataset name or path; to train on "
            f"arrays call model.fit. Received: dataset of type {type(dataset).__name__}"
        )
    overrides["dataset"] = os.fspath(dataset)
    config = dict(DEFAULTS)
    config.update(DATASET_PRESETS.get(overrides["dataset"], {}))
    config.update(overrides)
    if config["data_dir"] is not None:
        config["data_dir"] = os.fspath(config["data_dir"])
    for key in ("hidden_units", "filters"):
        if config[key] is not None:
            config[key] = [int(v) for v in config[key]]
    config["params"] = dict(config["params"])
    if config["likelihood"] != "gaussian":
        config["variance"] = None  # e.g. the digits preset's variance under --likelihood bernoulli
    get_model_class(config["model"])  # unknown model names list the valid ones
    if isinstance(config["validation_split"], str) and config["validation_split"].lower() == "none":
        config["validation_split"] = False
    if config["validation_split"] == "auto":
        has_test = has_split(config["dataset"], "test", config["data_dir"])
        config["validation_split"] = "test" if has_test else None
    for key in ("epochs", "batch_size"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"Argument `{key}` must be an int >= 1. Received: {key}={value!r}")
    return config


def build_model(config, input_shape):
    """Builds the uncompiled model a resolved config describes, for examples of `input_shape`."""
    cls = get_model_class(config["model"])
    kwargs = {
        "input_shape": tuple(input_shape),
        "latent_dim": config["latent_dim"],
        "architecture": config["architecture"],
        "activation": config["activation"],
    }
    if config["hidden_units"] is not None:
        kwargs["hidden_units"] = tuple(config["hidden_units"])
    if config["filters"] is not None:
        kwargs["filters"] = tuple(config["filters"])
    if config["likelihood"] == "gaussian" and config["variance"] is not None:
        from keras_ae.losses import GaussianLikelihood

        kwargs["likelihood"] = GaussianLikelihood(variance=float(config["variance"]))
    else:
        kwargs["likelihood"] = config["likelihood"]
    accepted = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            accepted |= set(inspect.signature(klass.__init__).parameters)
    if "seed" in accepted:
        kwargs["seed"] = config["seed"]
    kwargs.update(config["params"])
    keras.utils.set_random_seed(config["seed"])
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"Model {config['model']!r} does not accept these arguments: {error}") from None


def _config_difference(saved, config):
    return {
        key: (saved.get(key), config[key])
        for key in config
        if key not in _RESUMABLE and saved.get(key) != config[key]
    }


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _write_json(path, payload):
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2)
    os.replace(tmp, path)


def _eval_binarize(binarize):
    # A fresh sample per evaluation would make two evaluations disagree: use a fixed one.
    return "static" if binarize == "dynamic" else binarize


def train_run(out, callbacks=(), verbose=1, restart=False, tensorboard=True, **settings):
    """Trains (or resumes) the run in folder `out`; returns `(model, history)`.

    The resolved config is saved as `out/config.json`. A checkpoint is written after every
    epoch; calling `train_run` again with the same settings resumes from the last
    checkpoint and trains up to `epochs` (raising `epochs` extends a finished run).

    Args:
        out: the run folder, e.g. `"runs/vae_digits"`.
        callbacks: extra Keras callbacks.
        verbose: Keras' fit verbosity (1: progress bar, 2: one line per epoch, 0: silent).
        restart: delete the run's checkpoints, logs and results (including `plots/` and
            `saved_model/`) and train from scratch.
        tensorboard: write TensorBoard logs under `out/logs`.
        **settings: run settings (see `DEFAULTS`): `model`, `dataset`, `epochs`,
            `batch_size`, `latent_dim`, `learning_rate`, `params` (extra model arguments) ...

    Returns:
        The trained model and the history of every epoch (`{metric: [values]}`).

    Raises:
        ValueError: `out` holds a run with different settings (the message lists them).

    Example:
        >>> model, history = train_run("runs/vae_mnist", model="vae", dataset="mnist",
        ...                            epochs=20, latent_dim=16)
    """
    out = os.fspath(out)
    config = resolve_config(**settings)
    config_path = os.path.join(out, CONFIG_FILE)
    checkpoints = os.path.join(out, "checkpoints")
    if restart:
        for name in ("checkpoints", "logs", "plots", "saved_model"):
            shutil.rmtree(os.path.join(out, name), ignore_errors=True)
        for name in (CONFIG_FILE, HISTORY_FILE, MODEL_FILE, METRICS_FILE):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    elif os.path.isfile(config_path):
        difference = _config_difference(_read_json(config_path), config)
        if difference:
            details = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in difference.items())
            raise ValueError(
                f"{out} holds a run with other settings ({details}). Use another --out, or --restart "
                "to discard it."
            )
    state = RunCheckpoint.load_state(checkpoints)
    initial_epoch = state["epoch"] if state else 0
    # Resumed epochs get a fresh, reproducible shuffle instead of replaying epoch 1's order.
    train_data = load_dataset(
        config["dataset"],
        config["split"],
        batch_size=config["batch_size"],
        binarize=config["binarize"],
        seed=config["seed"] + initial_epoch,
        data_dir=config["data_dir"],
    )
    validation_data = None
    if config["validation_split"]:
        validation_data = load_dataset(
            config["dataset"],
            config["validation_split"],
            batch_size=max(config["batch_size"], 256),
            binarize=_eval_binarize(config["binarize"]),
            seed=config["seed"],
            shuffle=False,
            data_dir=config["data_dir"],
        )
    if state:
        model = keras.models.load_model(state["path"])
        history = state["history"]
    else:
        model = build_model(config, element_shape(train_data))
        model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]))
        history = {}
    check_fits(element_shape(train_data), model.data_shape, config["dataset"])
    os.makedirs(out, exist_ok=True)
    _write_json(config_path, dict(config, keras_ae_version=__version__))

    if initial_epoch < config["epochs"]:
        run_callbacks = [RunCheckpoint(checkpoints, history)]
        if tensorboard:
            run_callbacks.append(TensorBoardScalars(os.path.join(out, "logs")))
        model.fit(
            train_data,
            epochs=config["epochs"],
            initial_epoch=initial_epoch,
            validation_data=validation_data,
            callbacks=run_callbacks + list(callbacks),
            verbose=verbose,
            shuffle=False,  # the pipeline shuffles (seeded) itself
        )
    elif verbose:
        print(f"{out} is already trained to epoch {initial_epoch} (asked: {config['epochs']}).")
    model.save(os.path.join(out, MODEL_FILE))
    _write_json(os.path.join(out, HISTORY_FILE), history)
    return model, history


def load_run(run):
    """Loads `(model, config)` from a run folder (its `model.keras`, else its last
    checkpoint), or `(model, None)` from a `.keras` file."""
    import keras_ae  # noqa: F401  (registers the model classes for deserialization)

    run = os.fspath(run)
    if os.path.isfile(run) and run.endswith(".keras"):
        return keras.models.load_model(run), None
    config_path = os.path.join(run, CONFIG_FILE)
    if not os.path.isfile(config_path):
        raise FileNotFoundError(f"Not a run folder (no {CONFIG_FILE}) nor a .keras file: {run}")
    config = _read_json(config_path)
    path = os.path.join(run, MODEL_FILE)
    if not os.path.isfile(path):
        state = RunCheckpoint.load_state(os.path.join(run, "checkpoints"))
        if state is None:
            raise FileNotFoundError(f"The run {run} has neither {MODEL_FILE} nor a checkpoint yet.")
        path = state["path"]
    return keras.models.load_model(path), config


def _data_settings(config, dataset, data_dir, binarize):
    """The dataset, data_dir and binarization to use: explicit ones, else the run's."""
    if dataset is None:
        if config is None:
            raise ValueError("A bare .keras model has no recorded dataset: pass `dataset`.")
        dataset = config["dataset"]
    if data_dir is None and config is not None and dataset == config["dataset"]:
        data_dir = config["data_dir"]
    if binarize is None and config is not None and dataset == config["dataset"]:
        binarize = _eval_binarize(config["binarize"])
    return os.fspath(dataset), data_dir, binarize


def evaluate_run(run, dataset=None, split="test", batch_size=256, data_dir=None, binarize=None, verbose=0):
    """Evaluates a run (or `.keras` model) on a dataset split; returns `{metric: value}`.

    By default the run's own dataset and binarization (dynamic becomes a fixed static
    sample, so that repeated evaluations agree). For a run folder the metrics are also
    written to `metrics.json`.

    Raises:
        ValueError: the dataset's examples do not fit the model (the message gives both shapes).
    """
    model, config = load_run(run)
    dataset, data_dir, binarize = _data_settings(config, dataset, data_dir, binarize)
    data = load_dataset(
        dataset, split, batch_size=batch_size, binarize=binarize, shuffle=False, data_dir=data_dir
    )
    check_fits(element_shape(data), model.data_shape, dataset)
    metrics = {k: float(v) for k, v in model.evaluate(data, verbose=verbose, return_dict=True).items()}
    if config is not None:
        _write_json(
            os.path.join(os.fspath(run), METRICS_FILE),
            {"dataset": dataset, "split": split, "metrics": metrics},
        )
    return metrics


def _first_examples(dataset, split, count, binarize, data_dir):
    """The first `count` examples of a split (and labels, or None), read batch by batch so a
    large split is never loaded whole."""
    try:
        data = load_dataset(
            dataset,
            split,
            batch_size=512,
            binarize=binarize,
            data_dir=data_dir,
            shuffle=False,
            with_labels=True,
        )
        labelled = True
    except ValueError as error:
        if "has no labels" not in str(error):
            raise
        data = load_dataset(
            dataset, split, batch_size=512, binarize=binarize, data_dir=data_dir, shuffle=False
        )
        labelled = False
    xs, ys, seen = [], [], 0
    for batch in data.as_numpy_iterator():
        x, y = batch if labelled else (batch, None)
        xs.append(x)
        ys.append(y)
        seen += len(x)
        if seen >= count:
            break
    x = np.concatenate(xs)[:count]
    return x, (np.concatenate(ys)[:count] if labelled else None)


def plot_run(run, out=None, dataset=None, split=None, data_dir=None, kinds=None, num_examples=2000):
    """Writes every picture that applies to the run's model; returns `{kind: path}`.

    Kinds: `"reconstructions"`, `"samples"`, `"traversals"`, `"manifold"` (generative
    models), `"latent_scatter"` (labelled data), `"filters"` (a dense first layer, or conv
    kernels; by default only for models outside the VAE family), `"loss_curves"` (run
    folders). `kinds=None` writes all that apply.

    Args:
        run: a run folder or a `.keras` file.
        out: folder of the PNGs; `run/plots` by default.
        dataset, data_dir: the examples to show; the run's dataset by default.
        split: the split to show; by default the run's validation split, else "test" when
            the dataset has one, else "train".
        kinds: a subset of the kinds above.
        num_examples: examples read from the split (encoded for the scatter and the KL
            ranking of latent dimensions).
    """
    from keras_ae import plotting

    model, config = load_run(run)
    if out is None:
        if config is None:
            raise ValueError("Pass `out` to plot a bare .keras model.")
        out = os.path.join(os.fspath(run), "plots")
    dataset, data_dir, binarize = _data_settings(config, dataset, data_dir, None)
    if split is None:
        own = config is not None and dataset == config["dataset"] and config["validation_split"]
        split = own or ("test" if has_split(dataset, "test", data_dir) else "train")
    x, y = _first_examples(dataset, split, num_examples, binarize, data_dir)
    check_fits(x.shape[1:], model.data_shape, dataset)
    generative = hasattr(model, "sample")
    history_path = None if config is None else os.path.join(os.fspath(run), HISTORY_FILE)
    available = {
        "reconstructions": lambda p: plotting.plot_reconstructions(model, x[:10], p),
        "samples": (lambda p: plotting.plot_samples(model, p)) if generative else None,
        "traversals": (lambda p: plotting.plot_latent_traversals(model, x, p)) if generative else None,
        "manifold": (lambda p: plotting.plot_latent_manifold(model, p, x=x)) if generative else None,
        "latent_scatter": (lambda p: plotting.plot_latent_scatter(model, x, y, p)) if y is not None else None,
        "filters": (lambda p: plotting.plot_filters(model, p))
        if plotting.first_layer_kernel(model) is not None
        else None,
        "loss_curves": (lambda p: plotting.plot_loss_curves(_read_json(history_path), p))
        if history_path and os.path.isfile(history_path)
        else None,
    }
    if kinds is None:
        # First-layer filters show strokes for sparse, k-sparse, denoising and contractive
        # autoencoders; a VAE's look like noise, so they are drawn only when asked for.
        skip = {"filters"} if generative else set()
        kinds = [k for k, fn in available.items() if fn is not None and k not in skip]
    unknown = [k for k in kinds if k not in available]
    if unknown:
        raise ValueError(f"Unknown plot kinds {unknown}. Expected some of {list(available)}.")
    paths = {}
    for kind in kinds:
        if available[kind] is None:
            raise ValueError(f"The plot {kind!r} does not apply to this model or data.")
        paths[kind] = available[kind](os.path.join(out, f"{kind}.png"))
    return paths


def export_run(run, export_dir=None, version=None, overwrite=False):
    """Exports a run's model for serving; returns the export path.

    Uses `keras_ae.export.export_for_serving` (named signatures, the TF Serving
    `<export_dir>/<version>/` layout) when that module is installed, else Keras'
    `model.export` SavedModel (into `export_dir/version` when a version is given).

    Args:
        run: a run folder or a `.keras` file.
        export_dir: where to export; `run/saved_model` by default.
        version: the model version (an int), or None.
        overwrite: replace an existing export.
    """
    model, config = load_run(run)
    if export_dir is None:
        if config is None:
            raise ValueError("Pass `export_dir` to export a bare .keras model.")
        export_dir = os.path.join(os.fspath(run), "saved_model")
    export_dir = os.fspath(export_dir)
    try:
        from keras_ae import export as export_module
    except ModuleNotFoundError as error:
        if error.name != "keras_ae.export":
            raise
        export_module = None
    export_for_serving = getattr(export_module, "export_for_serving", None)
    if export_for_serving is not None:
        path = export_for_serving(model, export_dir, version=version, overwrite=overwrite)
        return os.fspath(path) if path is not None else export_dir
    path = export_dir if version is None else os.path.join(export_dir, str(int(version)))
    if os.path.exists(path):
        if not overwrite:
            raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it.")
        shutil.rmtree(path)
    import tensorflow as tf

    # A loaded subclassed model has not been called, so Keras cannot infer the signature.
    signature = [tf.TensorSpec((None, *model.data_shape), tf.float32, name="x")]
    model.export(path, verbose=False, input_signature=signature)
    return path
