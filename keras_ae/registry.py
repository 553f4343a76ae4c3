"""Model registry: `create_model` and `list_models`, in the manner of timm.

The registry is one table, `MODELS`: registry name -> `"module:Class"`. Adding a model is
one new module under `keras_ae/models/` plus its line here; the shared test harness then
runs it. The table is read without importing the models (so the command line can list
and validate names before TensorFlow is imported); the classes are imported on use.

Every model class also carries the `register_model` decorator, which checks it against
the table and registers it as Keras-serializable under the package "keras_ae", so
`keras.models.load_model` finds it after `import keras_ae`.
"""

import ast
import importlib
import inspect
import os
import re
import sys

#: Registry name -> "module:Class" of every built-in model.
MODELS = {
    "autoencoder": "keras_ae.models.autoencoder:Autoencoder",
    "beta_vae": "keras_ae.models.beta_vae:BetaVAE",
    "contractive_autoencoder": "keras_ae.models.contractive_autoencoder:ContractiveAutoencoder",
    "denoising_autoencoder": "keras_ae.models.denoising_autoencoder:DenoisingAutoencoder",
    "draw": "keras_ae.models.draw:DRAW",
    "k_sparse_autoencoder": "keras_ae.models.k_sparse_autoencoder:KSparseAutoencoder",
    "sparse_autoencoder": "keras_ae.models.sparse_autoencoder:SparseAutoencoder",
    "vae": "keras_ae.models.vae:VAE",
    "vq_vae": "keras_ae.models.vq_vae:VQVAE",
}

# Classes registered so far (built-in ones once imported, user ones when decorated).
_CLASSES = {}


def register_model(name):
    """Class decorator that registers an autoencoder under `name`.

    Built-in models must have their line in `MODELS`; a user's model (defined outside
    `keras_ae`) is added to the registry by the decorator alone.

    Args:
        name: the registry name, e.g. `"beta_vae"`.

    Returns:
        The decorator; it returns the class unchanged apart from registration.
    """
    import keras

    def decorator(cls):
        target = f"{cls.__module__}:{cls.__qualname__}"
        # The same class decorated again (a notebook cell re-run, a module reloaded) replaces
        # its entry; another class under a taken name is refused.
        taken = _CLASSES.get(name)
        taken = f"{taken.__module__}:{taken.__qualname__}" if taken is not None else MODELS.get(name)
        if taken is not None and taken != target:
            raise ValueError(f"A model is already registered as name={name!r}: {taken}")
        if cls.__module__.startswith("keras_ae.") and name not in MODELS:
            raise ValueError(
                f"Add the line {name!r}: {target!r} to keras_ae.registry.MODELS. Received: name={name!r}"
            )
        cls = keras.saving.register_keras_serializable(package="keras_ae")(cls)
        cls.registry_name = name
        MODELS[name] = target
        _CLASSES[name] = cls
        return cls

    return decorator


def list_models():
    """Returns the sorted registry names of every available model.

    Example:
        >>> import keras_ae
        >>> "vae" in keras_ae.list_models()
        True
    """
    return sorted(MODELS)


def check_model_name(name):
    """Returns `name` if it is registered; the error lists the valid names."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"Unknown model name. Expected one of {list_models()}. Received: name={name!r}")
    return name


def get_model_class(name):
    """Returns the class registered under `name` (importing its module on first use).

    Raises:
        ValueError: `name` is not registered; the message lists the valid names.
    """
    check_model_name(name)
    if name not in _CLASSES:
        module, _, attribute = MODELS[name].partition(":")
        getattr(importlib.import_module(module), attribute)
    return _CLASSES[name]


def import_all_models():
    """Imports every registered model's module, so Keras can deserialize any of them.

    `import keras_ae` does this, except in the `keras-ae` command, which imports models
    only when a command needs them: whatever loads a `.keras` file calls it first.
    """
    for name in list_models():
        get_model_class(name)


def model_summary(name):
    """The first line of the model's docstring, read from its source without importing it."""
    module, _, attribute = MODELS[check_model_name(name)].partition(":")
    if module in sys.modules or not module.startswith("keras_ae."):
        return (inspect.getdoc(get_model_class(name)) or "").strip().splitlines()[0]
    # Found by path: `importlib.util.find_spec` would import the parent package (TensorFlow).
    path = os.path.join(os.path.dirname(__file__), *module.split(".")[1:]) + ".py"
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == attribute:
            return (ast.get_docstring(node) or "").strip().splitlines()[0]
    return ""


def create_model(name, /, **kwargs):
    """Builds the model registered under `name` with the constructor arguments `kwargs`.

    Args:
        name: a name from `list_models()`.
        **kwargs: the model's constructor arguments (`input_shape`, `latent_dim`, ...).

    Returns:
        A built, uncompiled `keras.Model`.

    Example:
        >>> model = keras_ae.create_model("vae", input_shape=(28, 28, 1), latent_dim=16,
        ...                               architecture="conv")
    """
    return get_model_class(name)(**kwargs)


def _documented_args(cls):
    """`{argument: first line of its description}` from the `Args:` section of a docstring."""
    doc = inspect.getdoc(cls) or ""
    section = re.search(r"^Args:\n((?:[ \t]+.*\n?)+)", doc, re.MULTILINE)
    described = {}
    if section:
        # An entry is "    name: text" followed by deeper-indented continuation lines.
        for match in re.finditer(
            r"^    (\w+)(?: \(.*?\))?: (.*(?:\n {8,}.*)*)", section.group(1), re.MULTILINE
        ):
            described[match.group(1)] = " ".join(match.group(2).split())
    return described


def model_parameters(name):
    """The constructor arguments of a model, its own first, then its parents'.

    Returns:
        A list of `(argument, default, description)`; `default` is `inspect.Parameter.empty`
        for a required argument.
    """
    import keras

    cls = get_model_class(name)
    seen, parameters = set(), []
    for klass in cls.__mro__:
        if klass is keras.Model or "__init__" not in vars(klass):
            continue
        described = _documented_args(klass)
        for parameter in inspect.signature(klass.__init__).parameters.values():
            if parameter.name in seen or parameter.name == "self":
                continue
            if parameter.kind in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL):
                continue
            seen.add(parameter.name)
            parameters.append((parameter.name, parameter.default, described.get(parameter.name, "")))
        if klass.__name__ == "BaseAutoencoder":
            break
    parameters.append(("name", None, "the model's name"))
    return parameters
