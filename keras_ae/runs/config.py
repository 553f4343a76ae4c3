"""Run configuration: defaults, dataset presets, resolution of settings, and the model they build.

A run's `config.json` holds two things: the run settings resolved here (dataset, epochs,
batch size, seed, ...) and, under `"model_config"`, the model's own constructor arguments
exactly as its `get_config()` returns them. The settings are what a user typed; the model
config is what was built, so a model is rebuilt from a run with `from_config` alone.
"""

import os

from keras_ae._validation import check_int, check_number
from keras_ae.registry import check_model_name, get_model_class

#: The pictures `plot_run` (`keras-ae plot`) can draw.
PLOT_KINDS = (
    "reconstructions",
    "samples",
    "traversals",
    "manifold",
    "latent_scatter",
    "codebook",
    "generation_steps",
    "attention_steps",
    "filters",
    "loss_curves",
)

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
    # Epochs of the learned prior trained after the autoencoder (discrete models: VQ-VAE);
    # None: DEFAULT_PRIOR_EPOCHS for them.
    "prior_epochs": None,
}
DEFAULT_PRIOR_EPOCHS = 10
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
# Model arguments that `model_kwargs` takes from the data and the run settings: `params`
# may not hold them.
SETTING_ARGUMENTS = (
    "input_shape",
    "latent_dim",
    "architecture",
    "activation",
    "seed",
    "likelihood",
    "hidden_units",
    "filters",
)
# Keys that may differ when the same run is resumed.
RESUMABLE = ("epochs",)
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
            values = config[key]
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                raise ValueError(
                    f"Argument `{key}` must be a list of layer widths, e.g. [256, 128]. Received: {key}={values!r}"
                )
            # Each width an int >= 1: int() would turn 256.7 into 256 and True into 1 unseen.
            config[key] = [check_int(f"{key}[{i}]", v) for i, v in enumerate(values)]
    config["params"] = dict(config["params"])
    # `model_kwargs` sets these from the run settings; a `params` entry would override them
    # silently and leave config.json recording the setting that was not used.
    shadowed = set(config["params"]) & set(SETTING_ARGUMENTS)
    likelihood = config["params"].get("likelihood")
    if isinstance(likelihood, dict) and not {"likelihood", "variance"} & set(overrides):
        # A likelihood config (e.g. a Gaussian with `learn_variance`) says more than the
        # `likelihood` and `variance` settings can: it stands in for them, and config.json
        # records its name as the likelihood.
        shadowed.discard("likelihood")
        config["likelihood"], config["variance"] = likelihood.get("name"), None
    shadowed = sorted(shadowed)
    if shadowed:
        raise ValueError(
            f"`params` holds {', '.join(shadowed)}, which the run sets itself (input_shape from the "
            "dataset, the others from the run settings of the same names: keras-ae train --latent-dim, "
            "--seed, ...; a likelihood config such as {'name': 'gaussian', 'learn_variance': True} "
            f"instead of the likelihood and variance settings). Received: params={config['params']!r}"
        )
    if config["likelihood"] != "gaussian":
        if overrides.get("variance") is not None:
            raise ValueError(
                "`variance` is the fixed variance of the gaussian likelihood. Received: "
                f"variance={overrides['variance']} with likelihood={config['likelihood']!r}"
            )
        config["variance"] = None  # e.g. the digits preset's variance under --likelihood bernoulli
    check_model_name(config["model"])  # unknown model names list the valid ones
    if isinstance(config["validation_split"], str) and not config["validation_split"].strip():
        raise ValueError(
            "Argument `validation_split` must name a split, or be 'none' to validate on nothing. "
            f"Received: validation_split={config['validation_split']!r}"
        )
    if isinstance(config["validation_split"], str) and config["validation_split"].lower() == "none":
        config["validation_split"] = False
    if config["validation_split"] == "auto":
        from keras_ae.data.sources import has_split

        has_test = has_split(config["dataset"], "test", config["data_dir"])
        config["validation_split"] = "test" if has_test else None
    for key in ("epochs", "batch_size"):
        check_int(key, config[key])
    # A rate <= 0 would train nothing or ascend; a negative seed fails deep inside numpy.
    config["learning_rate"] = check_number(
        "learning_rate", config["learning_rate"], minimum=0, exclusive_minimum=True
    )
    # numpy's global seed (`keras.utils.set_random_seed`) takes 32 bits.
    config["seed"] = check_int("seed", config["seed"], minimum=0, maximum=2**32 - 1)
    if config["prior_epochs"] is not None:
        check_int("prior_epochs", config["prior_epochs"], minimum=0)
    return config


def model_kwargs(config, input_shape):
    """The constructor arguments of the model that the run settings `config` describe."""
    kwargs = {
        "input_shape": tuple(input_shape),
        "latent_dim": config["latent_dim"],
        "architecture": config["architecture"],
        "activation": config["activation"],
        "seed": config["seed"],
        # A fixed variance is a setting of the Gaussian likelihood, not of the model.
        "likelihood": config["likelihood"]
        if config["variance"] is None
        else {"name": "gaussian", "variance": float(config["variance"])},
    }
    for key in ("hidden_units", "filters"):
        if config[key] is not None:
            kwargs[key] = tuple(config[key])
    kwargs.update(config["params"])
    return kwargs


def build_model(config, input_shape=None):
    """Builds the uncompiled model of a run config.

    With the `"model_config"` a trained run recorded, the model is `from_config` of it;
    otherwise it is built from the run settings for examples of `input_shape`.
    """
    import keras

    cls = get_model_class(config["model"])
    keras.utils.set_random_seed(config["seed"])
    if config.get("model_config") is not None:
        return cls.from_config(config["model_config"])
    kwargs = model_kwargs(config, input_shape)
    preset_units = DATASET_PRESETS.get(config["dataset"], {}).get("hidden_units")
    # Widths the user gives still reach the model (and its checks).
    from_preset = preset_units is not None and list(kwargs.get("hidden_units", ())) == list(preset_units)
    if from_preset and not takes_preset_widths(cls, kwargs.get("architecture")):
        kwargs.pop("hidden_units")
    try:
        return cls(**kwargs)
    except TypeError as error:
        raise ValueError(f"Model {config['model']!r} does not accept these arguments: {error}") from None


def takes_preset_widths(cls, architecture):
    """Whether a dataset preset's `hidden_units` reach a model of class `cls` built with
    `architecture`: only models whose networks of that architecture have dense layers take
    them (not VQ-VAE's conv nets, nor DRAW's LSTMs)."""
    return architecture in cls.dense_architectures


def config_difference(saved, config):
    """The run settings that differ between a saved config and `config`: `{key: (old, new)}`."""
    return {
        key: (saved.get(key), config[key])
        for key in config
        if key not in RESUMABLE and saved.get(key) != config[key]
    }


def eval_binarize(binarize):
    """The binarization of evaluation data: a fixed sample where training draws a fresh one."""
    # A fresh sample per evaluation would make two evaluations disagree: use a fixed one.
    return "static" if binarize == "dynamic" else binarize
