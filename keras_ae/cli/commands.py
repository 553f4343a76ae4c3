"""The `keras-ae` commands: each turns parsed arguments into calls of `keras_ae.runs`.

TensorFlow is imported inside the commands that need it, never at module level.
"""

import json
import os
import sys


def cmd_list(args):
    from keras_ae.data.sources import list_datasets
    from keras_ae.presets.cards import list_presets, preset_card
    from keras_ae.registry import list_models, model_summary

    if args.model:
        return cmd_describe(args)
    print("Models (keras-ae train MODEL; `keras-ae describe MODEL` lists its parameters):")
    for name in list_models():
        print(f"  {name:<24} {model_summary(name)}")
    print("\nDatasets (--dataset NAME; also 'tfds:<name>', an IDX folder or an .npz file):")
    for name, description in list_datasets().items():
        print(f"  {name:<24} {description}")
    print("\nPresets, trained models (keras_ae.from_preset(NAME); their figures: keras_ae.preset_card(NAME);")
    print("for TF Serving: keras-ae export --preset NAME --export-dir DIR):")
    for name in list_presets():
        print(f"  {name:<24} {_preset_line(preset_card(name))}")
    return 0


def _preset_line(card):
    """A card in one line: the model, its data and its training (the figures: `preset_card`)."""
    dataset = str(card["data"].get("dataset", "")).split(",")[0]
    training = card["training"]
    return f"{card['model']} on {dataset}, {training['steps']:,} steps of batch {training['batch_size']}"


def _default_text(default):
    import inspect

    return "required" if default is inspect.Parameter.empty else f"default {default!r}"


def _setting_text(value):
    """A run setting as its flag takes it: lists as `256,128`, other values as their repr."""
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else repr(value)


def _train_default_text(model, name):
    """What `train` passes for a flag parameter: the run default and the digits preset's value.

    The constructor's own default does not apply to a run: `train` sets these arguments from
    `keras_ae.runs.config.DEFAULTS` and `DATASET_PRESETS` (a `None` setting leaves the model's
    own default in place).
    """
    from keras_ae.registry import get_model_class
    from keras_ae.runs.config import DATASET_PRESETS, DEFAULTS, takes_preset_widths

    run_default = DEFAULTS[name]
    text = "default the model's own" if run_default is None else f"default {_setting_text(run_default)}"
    digits = DATASET_PRESETS["digits"]
    preset = digits.get(name, run_default)
    if name == "hidden_units" and not takes_preset_widths(get_model_class(model), DEFAULTS["architecture"]):
        preset = run_default
    if preset != run_default:
        text += f", {_setting_text(preset)}"
        if name == "likelihood" and digits.get("variance") is not None:
            text += f" with --variance {digits['variance']:g}"
        text += " on digits"
    return f"set by train: {text}"


def cmd_describe(args):
    from keras_ae.registry import model_parameters, model_summary
    from keras_ae.runs.config import SETTING_ARGUMENTS

    print(f"{args.model}: {model_summary(args.model)}\n")
    print("Parameters (keras-ae train MODEL --param NAME=VALUE; some have their own flags):")
    for name, default, description in model_parameters(args.model):
        if name == "input_shape":
            print(f"  {name} (set by train: the dataset's example shape)")
        elif name in SETTING_ARGUMENTS:
            # `train` sets these from its own flags and run defaults, not the constructor's.
            print(f"  {name} [--{name.replace('_', '-')}] ({_train_default_text(args.model, name)})")
        else:
            print(f"  {name} ({_default_text(default)})")
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
        "prior_epochs": args.prior_epochs,
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
    from keras_ae.runs.distribution import is_chief_process

    settings = _train_settings(args)
    _check_params(args)
    try:
        model, history = train_run(
            out,
            verbose=args.verbose,
            restart=args.restart,
            tensorboard=not args.no_tensorboard,
            keep_checkpoints=args.keep_checkpoints,
            save_every=args.save_every,
            distribute=args.distribute,
            deterministic=args.deterministic,
            **settings,
        )
    except KeyboardInterrupt:
        print(
            f"\nInterrupted. Run the same command to resume {out} from its last checkpoint.", file=sys.stderr
        )
        raise SystemExit(130) from None
    last = {k: round(v[-1], 4) for k, v in history.items()} if history else {}
    print(f"Trained {model.registry_name} to epoch {len(next(iter(history.values()), []))}: {last}")
    if is_chief_process(args.distribute):
        print(f"Wrote {os.path.join(out, 'model.keras')} (config.json, history.json, checkpoints/, logs/)")
    else:
        print(f"This worker wrote nothing: the chief writes {out}.")
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
    if args.preset is not None:
        from keras_ae.presets import export_preset

        path = export_preset(args.preset, args.export_dir, version=args.version, overwrite=args.overwrite)
        print(f"Exported {path}")
        return 0
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
    from keras_ae.runs.distribution import is_chief_process

    out = args.out
    _train(args, out)
    if not is_chief_process(args.distribute):
        # The evaluation, pictures and export read and write the run folder: the chief's
        # alone (several workers would race on one export and read a model.keras that
        # the chief may not have written yet).
        print("This worker's part of the demo is done: the chief evaluates, plots and exports.")
        return 0
    metrics = evaluate_run(out)
    with open(os.path.join(out, "metrics.json")) as f:
        split = json.load(f)["split"]
    print(f"Metrics on {split}:", json.dumps({k: round(v, 3) for k, v in metrics.items()}))
    for kind, path in plot_run(out).items():
        print(f"{kind:<16} {path}")
    print("Exported", export_run(out, version=1, overwrite=True))
    return 0
