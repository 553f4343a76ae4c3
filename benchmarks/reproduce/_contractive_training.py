"""`contractive_mnist.py`'s training steps: build and train a model, choose a weight, fine-tune.

One `Trainer` holds what every step shares (the flags, the splits, the stopwatch), so the
script's `main` only sequences the steps and reports them.
"""

from _common import optimizer_from_args


def build(name, seed, contractive_weight, noise_level, input_dim=784, units=1000):
    """The paper's single-layer model `name` (ae, dae or cae): `units` sigmoid units (the
    paper's 1000), tied weights."""
    import keras_ae

    common = {"input_shape": (input_dim,), "latent_dim": units, "hidden_units": (), "tied_weights": True}
    if name == "cae":
        return keras_ae.create_model(
            "contractive_autoencoder", contractive_weight=contractive_weight, **common
        )
    if name == "dae":
        return keras_ae.create_model(
            "denoising_autoencoder",
            code_activation="sigmoid",
            noise="masking",
            noise_level=noise_level,
            seed=seed,
            **common,
        )
    return keras_ae.create_model("autoencoder", code_activation="sigmoid", **common)


class Trainer:
    """The run's training steps over its splits.

    Args:
        args: the parsed flags (`_contractive_args.parse_args`).
        lists: the parsed comma-separated flags (`probe_c`, `tune_rates`, `tune_momenta`,
            `tune_decays`, `tune_batches`).
        clock: the run's `Stopwatch`; every step adds its lap.
        train: `(x, y)` of all training images (the fine-tuning splits its own validation).
        fit: `(x, y)` of the images models train on (train minus the validation images).
        valid: `(x, y)` of the validation images that choose a weight.
        test: `(x, y)` of the test images.
    """

    def __init__(self, args, lists, clock, train, fit, valid, test):
        self.args, self.lists, self.clock = args, lists, clock
        self.train_split, self.fit_split, self.valid_split, self.test_split = train, fit, valid, test

    def train(self, name, weight, data=None):
        """Model `name` trained on `data` (default: the fitted images) from the run's seed."""
        import keras

        args = self.args
        data = self.fit_split[0] if data is None else data
        keras.utils.set_random_seed(args.seed)
        model = build(
            name, args.seed, weight, args.noise_level, input_dim=data.shape[-1], units=args.hidden_units
        )
        if args.save_preset and name == "cae":
            from keras_ae.presets import check_preset_size

            check_preset_size(model)  # now, not after the training
        if args.init_gain != 1:
            # Glorot-uniform bounds times the gain (4 for sigmoid units in Rifai's code).
            kernel = model.encoder.get_layer("code").kernel
            kernel.assign(kernel * args.init_gain)
        model.compile(optimizer=optimizer_from_args(args, args.learning_rate))
        model.fit(
            data, epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=0 if args.fast else 2
        )
        return model

    def choose(self, candidate_weights, data, valid_data, label):
        """The paper's choice: the CAE weight whose codes classify the validation images best.

        `data` and `valid_data` are the fitted and validation images (or a lower layer's
        codes of them). Returns the chosen weight's model and the selection's record.
        """
        from keras_ae.evaluation import linear_probe_error

        y_fit, y_valid = self.fit_split[1], self.valid_split[1]
        candidates = {}
        for weight in candidate_weights:
            model = self.train("cae", weight, data)
            # The training's own lap (a preset's card takes it), then the probe's.
            self.clock.lap(f"train {label} {weight:g}")
            validation = linear_probe_error(
                model.encode(data),
                y_fit,
                model.encode(valid_data),
                y_valid,
                inverse_regularization=self.lists.probe_c,
            )
            candidates[weight] = (validation["error"], model)
            self.clock.lap(f"probe {label} {weight:g} on validation")
        chosen = min(candidates, key=lambda w: candidates[w][0])
        record = {
            "validation_probe_errors": {f"{w:g}": error for w, (error, _) in candidates.items()},
            "chosen": chosen,
            "fit_images": len(data),
            "validation_images": len(valid_data),
        }
        return candidates[chosen][1], record

    def fine_tune(self, model, name, label):
        """`fine_tuned_error` of a model or a stack with the flags' settings, and the report
        rows of the settings' choice (when several were given) and of the refit (with
        `--fine-tune-refit`); `(None, [])` without `--fine-tune-epochs`."""
        from keras_ae.evaluation import fine_tuned_error

        if not self.args.fine_tune_epochs:
            return None, []
        (x_train, y_train), (x_test, y_test) = self.train_split, self.test_split
        tuned = fine_tuned_error(
            model,
            x_train,
            y_train,
            x_test,
            y_test,
            epochs=self.args.fine_tune_epochs,
            learning_rate=self.lists.tune_rates,
            momentum=self.lists.tune_momenta,
            weight_decay=self.lists.tune_decays,
            batch_size=self.lists.tune_batches,
            learning_rate_drops=self.args.fine_tune_rate_drops,
            patience=self.args.fine_tune_patience,
            refit=self.args.fine_tune_refit,
            seed=self.args.seed,
        )
        self.clock.lap(f"fine-tune {name}")
        rows = []
        if len(tuned["candidates"]) > 1:
            rows.append(
                (
                    f"{label}: fine-tuning chosen on validation (lr/momentum/decay/batch: error)",
                    f"{setting(tuned)} ("
                    + ", ".join(f"{setting(c)}: {c['validation_error']:.4f}" for c in tuned["candidates"])
                    + ")",
                    None,
                )
            )
        if self.args.fine_tune_refit:
            epochs = " + ".join(f"{n} epoch{'s' * (n != 1)} at {rate:g}" for rate, n in tuned["schedule"])
            rows.append(
                (
                    f"{label}: fine-tuned MLP refit on all training images ({epochs})",
                    tuned["refit_error"],
                    None,
                )
            )
        return tuned, rows


def pretraining(model):
    """The optimizer that trained `model`, as the JSON records it: `{"optimizer", "learning_rate",
    "momentum"}` read from the model's own optimizer."""
    config = model.optimizer.get_config()
    return {
        "optimizer": type(model.optimizer).__name__,
        "learning_rate": float(config["learning_rate"]),
        "momentum": float(config.get("momentum", 0.0)),
    }


def setting(tuned):
    """A fine-tuning's settings as `learning rate/momentum/weight decay/batch size`."""
    return f"{tuned['learning_rate']:g}/{tuned['momentum']:g}/{tuned['weight_decay']:g}/{tuned['batch_size']}"


def selection_text(record):
    """A weight choice's record as `chosen (weight: validation error, ...)`."""
    errors = record["validation_probe_errors"]
    return f"{record['chosen']:g} ({', '.join(f'{w}: {e:.4f}' for w, e in errors.items())})"
