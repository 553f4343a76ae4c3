"""Shared plumbing of the reproduction scripts: paths, data, budgets, the comparison table.

Every script has a full mode (the budget written in benchmarks/RESULTS.md) and a
`--fast` mode: the same pipeline end to end on a tiny budget, run by the test suite.
Its numbers mean nothing beyond "the pipeline runs".
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[2]
# Run against this checkout's keras_ae, whatever is installed in the environment.
sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def datasets_dir():
    """The offline datasets folder: $KERAS_AE_DATASETS, else ../shared/datasets next to the repo."""
    return pathlib.Path(os.environ.get("KERAS_AE_DATASETS", REPO.parent / "shared" / "datasets"))


def base_parser(
    description, fast_help="tiny budget that checks the pipeline end to end (the test suite runs it)"
):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--fast", action="store_true", help=fast_help)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="also write the results as JSON to this path")
    parser.add_argument(
        "--save-preset",
        metavar="DIR",
        help="also save the trained model as a keras-ae preset folder with its card, e.g. "
        "keras_ae/presets/vae_mnist",
    )
    return parser


def machine():
    """The CPU model and core count, for the record."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{model}, {os.cpu_count()} cores"


def command_line():
    """This command as run from the repository root: paths inside a checkout of keras-ae
    (this one, or the one the results are written to) relative to it."""
    from keras_ae.presets import PRESETS_DIR

    roots = [REPO, pathlib.Path(PRESETS_DIR).resolve().parents[1]]

    def relative(argument):
        path = pathlib.Path(argument)
        if path.is_absolute():
            for root in roots:
                if path.resolve().is_relative_to(root):
                    return str(path.resolve().relative_to(root))
        return argument

    return " ".join(["python", *(relative(a) for a in sys.argv)])


def mnist_check(description, tolerance, **extra):
    """A preset card's check on MNIST: the model's `loss` on the first 1,000 test images."""
    check = {"figure": "loss", "description": description, "dataset": "mnist", "split": "test"}
    return {**check, "examples": 1000, "tolerance": tolerance, **extra}


def mnist_source(args):
    """The MNIST IDX folder a script read (`--mnist-dir`, else $KERAS_AE_DATASETS/mnist)."""
    return args.mnist_dir or str(datasets_dir() / "mnist")


def write_preset(
    args,
    model,
    clock,
    *,
    summary,
    data,
    figures,
    check,
    epochs,
    batch_size,
    source=None,
    train_lap="train",
    continues=None,
    steps=None,
):
    """Saves `model` as the preset folder `args.save_preset`, with a card that records this
    command, the training budget and the figures; the card's check figure is measured on
    the written preset (`keras_ae.presets.save_preset`). `train_lap` names the stopwatch lap
    of this model's training (its wall time goes on the card). `continues`: the `training`
    entry of the card of the preset this run started from; the card keeps it under
    `training.continues`, and its epochs, steps and minutes count in the totals. `steps`: the
    training steps, where `model` did not take them itself (an uncompiled copy of the trained
    model); by default its optimizer's count."""
    import keras_ae
    from keras_ae.presets import save_preset

    if train_lap not in clock.laps:
        # The whole run's time would go on the card as this model's (once nine models' time).
        raise ValueError(
            f"train_lap must name a lap of the run's stopwatch, one of {sorted(clock.laps)}. "
            f"Received: train_lap={train_lap!r}"
        )
    card = {
        "summary": summary,
        "data": data,
        "training": {
            "command": command_line(),
            "epochs": epochs,
            "steps": int(model.optimizer.iterations.numpy()) if steps is None else int(steps),
            "batch_size": batch_size,
            "wall_time_minutes": round(clock.laps[train_lap] / 60, 1),
            "machine": machine(),
            "date": datetime.date.today().isoformat(),
            "keras_ae_version": keras_ae.__version__,
        },
        "figures": figures,
        "check": check,
    }
    if continues:
        training = card["training"]
        training["epochs"] += continues["epochs"]
        training["steps"] += continues["steps"]
        training["wall_time_minutes"] = round(
            training["wall_time_minutes"] + continues["wall_time_minutes"], 1
        )
        training["continues"] = continues
    card = save_preset(model, args.save_preset, card, source=source)
    print(
        f"Saved the preset {args.save_preset}: check figure {check['figure']} = {card['check']['value']:.4f}"
    )
    return card


def add_mnist_dir(parser):
    parser.add_argument(
        "--mnist-dir",
        default=None,
        help="folder with the MNIST IDX files (default: $KERAS_AE_DATASETS/mnist)",
    )


def add_mnist_training_args(parser, epochs_help):
    """Budget, optimizer and linear-probe options shared by the MNIST autoencoder scripts."""
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument(
        "--probe-c",
        default="0.001,0.01,0.1,1",
        help="candidate inverse L2 strengths of the probe, chosen on 10%% of the training codes",
    )
    parser.add_argument("--epochs", type=int, help=epochs_help)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--num-train", type=int, help="training images (default: all 60000)")
    parser.add_argument("--num-test", type=int, help="test images (default: all 10000)")


def add_optimizer_args(parser, optimizer_help, momentum=0.0):
    """`--optimizer` (adam or sgd) and SGD's `--momentum`, built by `optimizer_from_args`."""
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help=optimizer_help)
    parser.add_argument("--momentum", type=float, default=momentum, help="with --optimizer sgd: its momentum")


def check_optimizer_args(parser, args):
    """Refuses a momentum outside [0, 1), or one given with Adam; with Adam the momentum is
    recorded as None (the JSON's `arguments` then say it did not apply)."""
    if not 0 <= args.momentum < 1:
        parser.error(f"--momentum must lie in [0, 1). Received: {args.momentum}")
    if args.optimizer != "sgd":
        if given_flags(parser, args, ["momentum"]):
            parser.error(
                "--momentum is SGD's: pass --optimizer sgd with it. "
                f"Received: optimizer={args.optimizer!r}, momentum={args.momentum}"
            )
        args.momentum = None


def parse_list(parser, flag, text, kind=float):
    """The comma-separated values of `flag` (e.g. "--seeds"), each converted by `kind` and
    each given once: a repeated value would train or measure the same thing twice and
    overwrite its own results and timings."""
    try:
        values = [kind(item) for item in text.split(",")]
    except ValueError:
        parser.error(f"{flag} takes {kind.__name__} values separated by commas. Received: {flag} {text}")
    if len(set(values)) != len(values):
        parser.error(f"{flag} lists a value twice. Received: {flag} {text}")
    return values


def given_flags(parser, args, names):
    """Of the flags `names` (argparse destinations), those the command set: their values
    differ from the parser's defaults."""
    return [name for name in names if getattr(args, name) != parser.get_default(name)]


def refuse_flags(parser, args, names, reason):
    """A parser error naming each flag of `names` that the command set, when `reason` says
    they do not apply (e.g. "train a model; --k-sparse-preset trains none")."""
    given = given_flags(parser, args, names)
    if given:
        flags = ", ".join("--" + name.replace("_", "-") for name in given)
        received = ", ".join(f"{name}={getattr(args, name)!r}" for name in given)
        parser.error(f"{flags} {reason}. Received: {received}")


def optimizer_from_args(args, learning_rate):
    """The optimizer `--optimizer` names, at `learning_rate` (a float or a schedule)."""
    import keras

    if args.optimizer == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=args.momentum)
    return keras.optimizers.Adam(learning_rate)


def resolve(args, fast, full):
    """Fills every budget argument left at None with its fast or full default."""
    for name, value in (fast if args.fast else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    return args


def load_mnist(folder, num_train=None, num_test=None):
    """MNIST from the IDX files as flat float32 in [0, 1] and int64 labels: `[(x, y) train, (x, y) test]`."""
    from keras_ae.data import load_dataset

    folder = os.fspath(folder or datasets_dir() / "mnist")
    return [
        load_dataset(
            folder, split if n is None else f"{split}[:{n}]", as_numpy=True, with_labels=True, flatten=True
        )
        for split, n in (("train", num_train), ("test", num_test))
    ]


class Stopwatch:
    def __init__(self):
        self.start = time.perf_counter()
        self.laps = {}

    def lap(self, name):
        now = time.perf_counter()
        self.laps[name] = round(now - self.start - sum(self.laps.values()), 1)
        return self.laps[name]

    @property
    def total(self):
        return round(time.perf_counter() - self.start, 1)


def report(title, rows, args, results, stopwatch, notes=(), measured=None):
    """Prints our figures beside the paper's, and writes the JSON when asked.

    `rows` are `(quantity, ours, paper)`; a missing paper figure is printed as "-".
    `measured` names a model that was loaded rather than trained (e.g. a preset), so the
    heading does not pass a measurement off as a full training run.
    """
    results = dict(results)
    results.update(
        {
            "mode": "fast" if args.fast else "full",
            "arguments": {k: v for k, v in vars(args).items() if k != "output"},
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "wall_time_s": stopwatch.total,
            "timings_s": stopwatch.laps,
            "machine": machine(),
        }
    )
    width = max(len(row[0]) for row in rows)
    what = f"{results['mode']} mode" + (f"; {measured}" if measured else "")
    print(f"\n{title} ({what}, {stopwatch.total:.0f} s)")
    print(f"{'quantity':<{width}}  {'ours':>16}  {'paper':>12}")
    for quantity, ours, paper in rows:
        print(f"{quantity:<{width}}  {_fmt(ours):>16}  {_fmt(paper):>12}")
    for note in notes:
        print(f"note: {note}")
    if args.fast:
        print("note: --fast runs a tiny budget to test the pipeline; its figures are not a reproduction.")
    if args.output:
        pathlib.Path(args.output).write_text(json.dumps(results, indent=2, default=_jsonable))
    return results


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}"


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pathlib.Path):
        return str(value)
    raise TypeError(type(value).__name__)
