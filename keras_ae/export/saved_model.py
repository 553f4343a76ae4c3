"""`export_for_serving`: a TF Serving SavedModel with named signatures, written atomically."""

import datetime
import json
import os
import re
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from keras_ae._utils import current_umask, walk_layers, write_json_atomically
from keras_ae._validation import check_int
from keras_ae.export.signatures import serving_signatures
from keras_ae.export.versions import claim_next_version, publish_version, version_path
from keras_ae.models.base_autoencoder import BaseAutoencoder
from keras_ae.version import __version__

#: Op types that call back into Python: a SavedModel cannot carry them, and TF Serving
#: (a C++ server) cannot run them.
PYTHON_OPS = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

METADATA_FILE = "metadata.json"


def export_for_serving(model, export_dir, version=None, overwrite=False):
    """Exports `model` as a TF Serving SavedModel in `export_dir/<version>/`.

    `export_dir` is the model's base folder (TF Serving's `--model_base_path`, e.g.
    `saved_models/vae_mnist`); each version is a numbered subfolder. The SavedModel is
    written with `keras.export.ExportArchive` into a temporary folder next to the target
    and renamed into place, so a server watching `export_dir` never sees a partial
    version. The signatures (see `keras_ae.export.signatures.serving_signatures`):
    `serving_default` and `reconstruct` (x -> reconstruction), `encode`, `decode`,
    `score` (per-example anomaly score) and, for the VAE family, `sample` and
    `sample_from_noise`. The version folder also holds `metadata.json` (model name,
    config, signatures, versions of keras-ae, Keras and TensorFlow, date).

    Args:
        model: a `BaseAutoencoder` (any model from `keras_ae.create_model`). An unbuilt
            model is built by calling it on one zero batch.
        export_dir: the model's base folder; created if missing.
        version: an int >= 1. Defaults to the next free version: one more than the
            largest numbered subfolder, or 1 in an empty folder, claimed atomically:
            several processes exporting into one folder at once each get their own
            complete version (see `claim_next_version`).
        overwrite: replace an existing `export_dir/<version>/`. The old folder is renamed
            aside and the new one renamed in: a server polling between the two renames may
            briefly miss that version, so give a live server a new version instead.

    Returns:
        The path of the version folder, `export_dir/<version>`.

    Raises:
        FileExistsError: the version exists and `overwrite` is false.
        ValueError: `model` is not an autoencoder of the zoo, `version` is invalid, a layer
            is not serializable or cannot run in a graph (the message names the layer).

    Example:
        >>> path = keras_ae.export.export_for_serving(vae, "saved_models/vae_mnist")
        >>> reloaded = tf.saved_model.load(path)
        >>> reloaded.signatures["score"](x=tf.constant(x_test[:8]))["score"]
    """
    return export_model(model, export_dir, version=version, overwrite=overwrite)


def export_model(model, export_dir, version=None, overwrite=False, metadata=None):
    """`export_for_serving` with extra `metadata` entries merged into `metadata.json`.

    Args:
        metadata: optional JSON-serializable dict (e.g. training data and metrics).
        Other arguments: see `export_for_serving`.
    """
    if not isinstance(model, BaseAutoencoder):
        raise ValueError(
            "export_for_serving needs an autoencoder of the zoo (a keras_ae BaseAutoencoder, e.g. "
            f"from keras_ae.create_model). Received: model of type {type(model).__name__}"
        )
    if metadata is not None:
        json.dumps(metadata)  # fail before any work is done
    export_dir = os.fspath(export_dir)
    os.makedirs(export_dir, exist_ok=True)
    if version is not None:
        version = check_int("version", version, what="(or None for the next free version)")
        target = version_path(export_dir, version)  # an existing "007" is version 7
        if os.path.exists(target) and not overwrite:
            raise FileExistsError(
                f"Version {version} of this model already exists: {target}. Pass overwrite=True to "
                "replace it, or version=None for the next free version."
            )
    _ensure_built(model)
    config = serializable_config(model)
    archive, functions = _build_archive(model)

    # Written outside the numbered folders (a dot name no server or lister reads), then
    # renamed into place: a reader never sees a half-written version.
    tmp = tempfile.mkdtemp(prefix=".export.tmp-", dir=export_dir)
    try:
        # mkdtemp makes the folder private (0700); a server running as another user
        # must read it, so give it the permissions of an ordinary new folder.
        os.chmod(tmp, 0o777 & ~current_umask())
        archive.write_out(tmp, verbose=False)
        info = {
            "model": getattr(model, "registry_name", type(model).__name__),
            "class": f"{type(model).__module__}.{type(model).__qualname__}",
            "name": model.name,
            "version": version,
            "input_shape": list(model.data_shape),
            "latent_dim": model.latent_dim,
            "config": config,
            "signatures": _describe(functions),
            "keras_ae_version": __version__,
            "keras_version": keras.__version__,
            "tensorflow_version": tf.__version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        }
        info.update(metadata or {})

        def stamp(number):
            write_json_atomically(os.path.join(tmp, METADATA_FILE), {**info, "version": number})

        if version is None:
            target = claim_next_version(tmp, export_dir, stamp)
        else:
            stamp(version)
            publish_version(tmp, target, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# --------------------------------------------------------------------------- checks
def _ensure_built(model):
    if model.built and model.encoder.built and model.decoder.built:
        return
    try:
        model(np.zeros((1, *model.data_shape), "float32"), training=False)
    except Exception as error:
        raise ValueError(
            f"The model {model.name!r} is not built, and calling it on a zero batch of shape "
            f"{(1, *model.data_shape)} failed ({type(error).__name__}: {error}). Build it before "
            "exporting: call it once on a batch of data, e.g. `model(x[:1])`."
        ) from error


def _model_layers(model):
    layers = []
    for network in (model.encoder, model.decoder_network, model.likelihood):
        layers.extend(walk_layers(network))
        layers.append(network)
    return layers


def _is_builtin(layer):
    return type(layer).__module__.startswith(("keras.", "keras_ae."))


def _round_trip_error(layer):
    """The error of a JSON serialization round trip of `layer`, or None."""
    try:
        text = json.dumps(keras.saving.serialize_keras_object(layer))
        keras.saving.deserialize_keras_object(json.loads(text))
    except Exception as error:  # any failure means "not serializable"
        return error
    return None


def serializable_config(model):
    """Returns `model.get_config()` after checking that it rebuilds the model.

    `metadata.json` records the config so that an export can be traced back to (and
    rebuilt from) the model. A layer without a working `get_config`, or a class Keras
    cannot find again, gets a ValueError that names it.
    """
    try:
        config = json.loads(json.dumps(model.get_config()))
        model.__class__.from_config(json.loads(json.dumps(config)))
        return config
    except Exception as error:
        model_error = error
    for layer in _model_layers(model):
        if _is_builtin(layer):
            continue
        layer_error = _round_trip_error(layer)
        if layer_error is not None:
            raise ValueError(
                f"Cannot export model {model.name!r}: its layer {layer.name!r} ({type(layer).__name__}) "
                f"is not serializable ({type(layer_error).__name__}: {layer_error}). The export records "
                "the model's config in metadata.json: give the layer a `get_config()` that returns its "
                "constructor arguments and register its class with "
                "`@keras.saving.register_keras_serializable()`."
            ) from layer_error
    raise ValueError(
        f"Cannot export model {model.name!r}: its config does not rebuild the model "
        f"({type(model_error).__name__}: {model_error})."
    ) from model_error


def _layer_in_traceback(error, model):
    """The innermost layer of `model` whose code is on the traceback of `error`."""
    layers = {id(layer): layer for layer in _model_layers(model)}
    found = None
    tb = error.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if id(owner) in layers:
            found = layers[id(owner)]
        tb = tb.tb_next
    return found


def _layer_of_op(op_name, model):
    """The innermost layer of `model` named in the scope path of a graph op."""
    names = {layer.name: layer for layer in _model_layers(model)}
    found = None
    for part in op_name.split("/")[:-1]:
        # TensorFlow uniquifies scope names with `_1`, `_2`, ... suffixes.
        candidates = [part, re.sub(r"_\d+$", "", part)]
        for candidate in candidates:
            if candidate in names:
                found = names[candidate]
                break
    return found


def _python_ops(concrete):
    graph_def = concrete.graph.as_graph_def()
    nodes = list(graph_def.node)
    for function in graph_def.library.function:
        nodes.extend(function.node_def)
    return [node.name for node in nodes if node.op in PYTHON_OPS]


def _build_archive(model):
    archive = keras.export.ExportArchive()
    # No `archive.track(model)`: `add_endpoint` tracks the variables the signatures use.
    # `track` would add the Keras variable wrappers as well, which the checkpoint stores a
    # second time (doubling the size) along with state no signature reads (optimizer step
    # counter, seed generators).
    functions = {}
    for name, (fn, input_signature) in serving_signatures(model).items():
        try:
            functions[name] = archive.add_endpoint(name, fn, input_signature=input_signature)
            concrete = functions[name].get_concrete_function()
        except Exception as error:
            layer = _layer_in_traceback(error, model)
            where = f"its layer {layer.name!r} ({type(layer).__name__})" if layer is not None else "the model"
            raise ValueError(
                f"Cannot export model {model.name!r}: tracing signature {name!r} failed in {where} "
                f"({type(error).__name__}: {error}). A served model runs as a TensorFlow graph without "
                "Python: its layers must use tensor ops only (no `.numpy()`, no Python control flow "
                "on tensor values)."
            ) from error
        python_ops = _python_ops(concrete)
        if python_ops:
            layer = _layer_of_op(python_ops[0], model)
            where = f"its layer {layer.name!r} ({type(layer).__name__})" if layer is not None else "the model"
            raise ValueError(
                f"Cannot export model {model.name!r}: {where} calls Python through "
                f"tf.py_function/tf.numpy_function (op {python_ops[0]!r} in signature {name!r}). "
                "A SavedModel cannot carry Python code and TF Serving cannot run it: rewrite the layer "
                "with tensor ops."
            )
    return archive, functions


def _describe(functions):
    """Input and output specs of each signature, for `metadata.json`."""

    def spec(s):
        return {"dtype": s.dtype.name, "shape": [None if d is None else int(d) for d in s.shape]}

    described = {}
    for name, function in functions.items():
        concrete = function.get_concrete_function()
        inputs = tf.nest.flatten(concrete.structured_input_signature)
        described[name] = {
            "inputs": {s.name: spec(s) for s in inputs},
            "outputs": {key: spec(s) for key, s in concrete.structured_outputs.items()},
        }
    return described
