"""What follows training: `evaluate_run`, `plot_run` and `export_run` on a run folder or `.keras` file."""

import os

import numpy as np

from keras_ae._utils import read_json, write_json_atomically
from keras_ae.data import check_fits, element_shape, load_dataset
from keras_ae.data.sources import has_split
from keras_ae.runs.config import HISTORY_FILE, METRICS_FILE, PLOT_KINDS, eval_binarize
from keras_ae.runs.run_folder import load_run


def _same_dataset(a, b):
    """Whether two dataset names or paths name the same dataset (`data/x.npz` is `./data/x.npz`).

    Registered names (`mnist`, `digits`, `tfds:...`) are names, never paths: `./mnist`, an
    IDX folder, is another dataset than tfds' `mnist`.
    """
    from keras_ae.data.sources import EMBEDDED_DATASETS
    from keras_ae.data.tfds_datasets import GENERIC_PREFIX, TFDS_DATASETS

    a, b = os.fspath(a), os.fspath(b)
    if any(n in EMBEDDED_DATASETS or n in TFDS_DATASETS or n.startswith(GENERIC_PREFIX) for n in (a, b)):
        return a == b
    return os.path.normpath(os.path.abspath(a)) == os.path.normpath(os.path.abspath(b))


def _data_settings(config, dataset, data_dir, binarize):
    """The dataset, data_dir, binarization and its seed to use: explicit ones, else the run's.

    The run's own dataset is read as its validation was: with its data_dir, its
    binarization (a fixed sample) and its seed, so that `metrics.json` scores the same
    binarized images as the run's last validation.
    """
    if dataset is None:
        if config is None:
            raise ValueError("A bare .keras model has no recorded dataset: pass `dataset` (--dataset).")
        dataset = config["dataset"]
    own = config is not None and _same_dataset(dataset, config["dataset"])
    if data_dir is None and own:
        data_dir = config["data_dir"]
    if binarize is None and own:
        binarize = eval_binarize(config["binarize"])
    return os.fspath(dataset), data_dir, binarize, config["seed"] if own else 0, own


def evaluate_run(run, dataset=None, split=None, batch_size=256, data_dir=None, binarize=None, verbose=0):
    """Evaluates a run (or `.keras` model) on a dataset split; returns `{metric: value}`.

    By default the run's own dataset and binarization (dynamic becomes a fixed static
    sample, drawn with the run's seed as its validation's was, so that repeated
    evaluations agree and match the run's last `val_loss`; runs of other seeds are
    therefore scored on other samples), on its `"test"` split, or for a dataset
    without one (a local `.npz` of `x` only), the run's validation split, else `"train"`.
    For a run folder the metrics are also written to `metrics.json`, with the split.

    Raises:
        ValueError: the dataset's examples do not fit the model (the message gives both shapes).
    """
    model, config = load_run(run)
    dataset, data_dir, binarize, seed, own = _data_settings(config, dataset, data_dir, binarize)
    if split is None:
        own_split = own and config["validation_split"]
        split = "test" if has_split(dataset, "test", data_dir) else own_split or "train"
    data = load_dataset(
        dataset, split, batch_size=batch_size, binarize=binarize, shuffle=False, data_dir=data_dir, seed=seed
    )
    check_fits(element_shape(data), model.data_shape, dataset)
    metrics = {k: float(v) for k, v in model.evaluate(data, verbose=verbose, return_dict=True).items()}
    if config is not None:
        write_json_atomically(
            os.path.join(os.fspath(run), METRICS_FILE),
            {"dataset": dataset, "split": split, "metrics": metrics},
        )
    return metrics


def _first_examples(dataset, split, count, binarize, data_dir, seed):
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
            seed=seed,
        )
        labelled = True
    except ValueError as error:
        # Without labels (or with labels that are no classes) the pictures that need them
        # are left out, not the others.
        if "has no labels" not in str(error) and "integer class labels" not in str(error):
            raise
        data = load_dataset(
            dataset, split, batch_size=512, binarize=binarize, data_dir=data_dir, shuffle=False, seed=seed
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
    models), `"latent_scatter"` (labelled data, continuous codes), `"codebook"` (code usage
    and index grids of a VQ-VAE), `"generation_steps"` and `"attention_steps"` (DRAW's canvas
    step by step, with its glimpses), `"filters"` (a dense first layer, or conv
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
            raise ValueError("Pass `out` (--out) to plot a bare .keras model.")
        out = os.path.join(os.fspath(run), "plots")
    dataset, data_dir, binarize, seed, own = _data_settings(config, dataset, data_dir, None)
    if split is None:
        own_split = own and config["validation_split"]
        split = own_split or ("test" if has_split(dataset, "test", data_dir) else "train")
    x, y = _first_examples(dataset, split, num_examples, binarize, data_dir, seed)
    check_fits(x.shape[1:], model.data_shape, dataset)
    generative = model.generative
    history_path = None if config is None else os.path.join(os.fspath(run), HISTORY_FILE)
    available = {
        "reconstructions": lambda p: plotting.plot_reconstructions(model, x[:10], p),
        "samples": (lambda p: plotting.plot_samples(model, p)) if generative else None,
        "traversals": (lambda p: plotting.plot_latent_traversals(model, x, p)) if model.variational else None,
        "manifold": (lambda p: plotting.plot_latent_manifold(model, p, x=x))
        if model.variational and model.latent_dim >= 2
        else None,
        "latent_scatter": (lambda p: plotting.plot_latent_scatter(model, x, y, p))
        if y is not None and len(model.code_spec.shape) == 1 and not model.discrete
        else None,
        "generation_steps": (lambda p: plotting.plot_generation_steps(model, p))
        if model.sequential
        else None,
        "attention_steps": (lambda p: plotting.plot_attention_steps(model, x, p))
        if model.sequential and (model.read_size or model.write_size)
        else None,
        "codebook": (lambda p: plotting.plot_codebook_usage(model, x, p)) if model.discrete else None,
        "filters": (lambda p: plotting.plot_filters(model, p))
        if not model.sequential and plotting.first_layer_kernel(model) is not None
        else None,
        "loss_curves": (lambda p: plotting.plot_loss_curves(read_json(history_path), p))
        if history_path and os.path.isfile(history_path)
        else None,
    }
    if kinds is None:
        # First-layer filters show strokes for sparse, k-sparse, denoising and contractive
        # autoencoders; a VAE's look like noise, so they are drawn only when asked for.
        skip = {"filters"} if generative else set()
        kinds = [k for k, fn in available.items() if fn is not None and k not in skip]
    unknown = [k for k in kinds if k not in PLOT_KINDS]
    if unknown:
        raise ValueError(f"Unknown plot kinds {unknown}. Expected some of {list(PLOT_KINDS)}.")
    paths = {}
    for kind in kinds:
        if available[kind] is None:
            raise ValueError(f"The plot {kind!r} does not apply to this model or data.")
        paths[kind] = available[kind](os.path.join(out, f"{kind}.png"))
    return paths


def export_run(run, export_dir=None, version=None, overwrite=False):
    """Exports a run's model for TF Serving (`keras_ae.export.export_for_serving`); returns the path.

    Args:
        run: a run folder or a `.keras` file.
        export_dir: the model's folder in a store; `run/saved_model` by default. The export
            goes to `export_dir/<version>/`.
        version: the model version (an int), or None for the next free one.
        overwrite: replace an existing version.
    """
    from keras_ae.export import export_for_serving

    model, config = load_run(run)
    if export_dir is None:
        if config is None:
            raise ValueError("Pass `export_dir` (--export-dir) to export a bare .keras model.")
        export_dir = os.path.join(os.fspath(run), "saved_model")
    return os.fspath(export_for_serving(model, os.fspath(export_dir), version=version, overwrite=overwrite))
