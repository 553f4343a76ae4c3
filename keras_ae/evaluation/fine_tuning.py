"""The papers' supervised protocol: an encoder fine-tuned, with a softmax layer, as a classifier."""

import itertools

import keras
import numpy as np

from keras_ae._validation import check_bool, check_int, check_number
from keras_ae.evaluation.classifier import as_stack, softmax_classifier


def fine_tuned_error(
    model,
    train_images,
    train_labels,
    test_images,
    test_labels,
    *,
    epochs=50,
    batch_size=100,
    learning_rate=0.05,
    momentum=0.9,
    weight_decay=0.0,
    validation_fraction=1 / 6,
    patience=5,
    learning_rate_drops=0,
    refit=False,
    seed=0,
):
    """Test error of a classifier initialized with `model`'s encoder and fine-tuned.

    A copy of the encoder (`model` itself is left as it is) gets a softmax layer over the
    classes on its code (the posterior mean for a VAE), standardized with the mean and
    variance of the fitted images' codes (a fixed affine map), and the whole network is trained
    with SGD and momentum on the training images minus a held-out validation share.
    Training stops once the validation error has not improved for `patience` epochs, and
    the weights of the best validation epoch are the ones tested. This is the protocol of
    the papers' fine-tuned rows; `linear_probe_error` keeps the codes frozen instead.
    With `learning_rate_drops`, each stop instead resumes from the best weights so far at a
    tenth of the rate (the classic annealing of an MLP's SGD), that many times.
    With `refit`, the validation images then join the training ones: a fresh classifier is
    trained on all training images for the schedule that led to the chosen weights (the
    epochs at each rate), with no validation left to stop it, and tested too
    (`refit_error`); the classic last step once the settings are chosen (Bengio, 2012,
    section 3.1), which the papers' tables do not always say they took.

    `model` may also be a stack: a list or tuple of models, each trained on the codes of the
    one before (greedy layer-wise pretraining, the papers' CAE-2 or SdA-2). The
    classifier is then a copy of their encoders in that order, fine-tuned together.

    Given sequences for `learning_rate`, `momentum`, `weight_decay` or `batch_size`, every combination
    is fine-tuned from the same encoder on the same split, and the one with the lowest
    validation error is tested (ties: the first in the order given), as the papers chose
    their MLPs' hyper-parameters; the test images never take part in the choice.

    Args:
        model: a keras-ae model with continuous codes, or a non-empty list or tuple of
            them whose every model reads the codes of the one before.
        train_images: `(n_train, *model.data_shape)` images (of a stack: those its first
            model reads).
        train_labels: `(n_train,)` integer class labels in `[0, num_classes)`.
        test_images: `(n_test, *model.data_shape)` images, likewise.
        test_labels: `(n_test,)` integer class labels.
        epochs: the most fine-tuning epochs.
        batch_size: examples per step, or a sequence of candidates.
        learning_rate: SGD's learning rate, or a sequence of candidates.
        momentum: SGD's momentum, in `[0, 1)`, or a sequence of candidates.
        weight_decay: SGD's decoupled weight decay (Keras' `weight_decay`: each step
            shrinks every weight by `learning_rate * weight_decay` of itself), or a sequence
            of candidates.
        validation_fraction: share of the training images held out (seeded) to choose the
            epoch; MNIST's usual 10,000 of 60,000 by default.
        patience: epochs without a better validation error before training stops (or,
            with drops left, before the rate drops).
        learning_rate_drops: how many times training resumes, from the best validation
            epoch's weights, with the learning rate divided by 10; `epochs` bounds all the
            phases together. 0 (the default) stops at the first stall.
        refit: also train the chosen settings' schedule on all training images and test
            that classifier (`refit_error`).
        seed: seed of the held-out split, the softmax layer's initialization and the
            shuffles.

    Returns:
        `{"error": float, "validation_error": float, "train_error": float, "epochs": int,
        "validation_errors": [float], "epoch_learning_rates": [float], "schedule":
        [[learning_rate, epochs]], "learning_rate": float, "momentum": float, "weight_decay":
        float, "batch_size": int, "candidates": [dict], "refit_error": float or None,
        "refit_train_error": float or None}`: misclassified fractions of the test, validation
        and fitted training images with the chosen weights, the number of epochs trained (all
        phases), the validation error after each of them (the best epoch's weights are kept)
        and its learning rate, the epochs at each rate that led to the chosen weights, the
        chosen settings, for every candidate its `learning_rate`, `momentum`,
        `weight_decay`, `batch_size`, `validation_error` and `epochs`, and with `refit` the
        refitted classifier's test error and its error on all training images.

    Example:
        >>> fine_tuned_error(model, x_train, y_train, x_test, y_test)["error"]
        >>> fine_tuned_error(model, x_train, y_train, x_test, y_test, learning_rate=[0.05, 0.1])
        >>> fine_tuned_error(model, x_train, y_train, x_test, y_test, learning_rate_drops=2)
        >>> fine_tuned_error(model, x_train, y_train, x_test, y_test, refit=True)["refit_error"]
        >>> fine_tuned_error([layer_1, layer_2], x_train, y_train, x_test, y_test)  # a stack

    References:
        Rifai et al., "Contractive Auto-Encoders: Explicit Invariance During Feature
        Extraction", ICML 2011, Table 1 (an MLP initialized with the encoder).
        Bengio, "Practical Recommendations for Gradient-Based Training of Deep
        Architectures", 2012, section 3.1 (retraining on training and validation data).
    """
    stack = as_stack(model)
    epochs = check_int("epochs", epochs)
    batch_sizes = [
        check_int("batch_size", b)
        for b in (batch_size if isinstance(batch_size, (list, tuple)) else [batch_size])
    ]
    if not batch_sizes:
        raise ValueError(
            "Argument `batch_size` must be an int or a non-empty sequence of them. Received: batch_size=[]"
        )
    patience = check_int("patience", patience)
    refit = check_bool("refit", refit)
    learning_rate_drops = check_int("learning_rate_drops", learning_rate_drops, minimum=0)
    learning_rates = _candidates("learning_rate", learning_rate, "> 0", minimum=0, exclusive_minimum=True)
    momenta = _candidates("momentum", momentum, "in [0, 1)", minimum=0, maximum=1, exclusive_maximum=True)
    weight_decays = _candidates("weight_decay", weight_decay, ">= 0", minimum=0)
    validation_fraction = check_number(
        "validation_fraction", validation_fraction, minimum=0, maximum=1, exclusive_minimum=True,
        exclusive_maximum=True,
    )  # fmt: skip
    arrays = {}
    for name, images, labels in (
        ("train_images", train_images, train_labels),
        ("test_images", test_images, test_labels),
    ):
        images, labels = np.asarray(images), np.asarray(labels).reshape(-1)
        stack[0]._check_array(images, arg=name)
        if len(images) != len(labels):
            raise ValueError(
                f"Argument `{name}` must have one label per image. Received: {len(images)} images and "
                f"{len(labels)} labels"
            )
        if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
            raise ValueError(
                f"The labels of `{name}` must be non-negative integers. Received: dtype={labels.dtype}"
            )
        arrays[name] = (images.astype(stack[0].compute_dtype), labels)
    (x, y), (x_test, y_test) = arrays["train_images"], arrays["test_images"]
    num_classes = int(max(y.max(), y_test.max())) + 1
    order = np.random.default_rng(seed).permutation(len(x))
    n_valid = int(round(len(x) * validation_fraction))
    if not 0 < n_valid < len(x):
        raise ValueError(
            f"validation_fraction={validation_fraction} holds out {n_valid} of {len(x)} training images: "
            "both parts must be non-empty."
        )
    x_fit, y_fit = x[order[n_valid:]], y[order[n_valid:]]
    x_valid, y_valid = x[order[:n_valid]], y[order[:n_valid]]

    def error(classifier, images, labels):
        predicted = classifier.predict(images, batch_size=1000, verbose=0).argmax(axis=1)
        return float(np.mean(predicted != labels))

    def new_classifier(images, rate, momentum, decay):
        # Every candidate starts from the same softmax initialization and shuffles (the
        # refit from the same seed, over all the images).
        keras.utils.set_random_seed(seed)
        classifier = softmax_classifier(stack, images, num_classes)
        classifier.compile(
            optimizer=keras.optimizers.SGD(rate, momentum=momentum, weight_decay=decay or None),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            # Several steps per call: the same updates, without a Python round trip per
            # small batch (a 784-1000-10 step is about a millisecond).
            steps_per_execution=16,
        )
        return classifier

    best, candidates = None, []
    settings = itertools.product(learning_rates, momenta, weight_decays, batch_sizes)
    for rate, momentum, decay, size in settings:
        classifier = new_classifier(x_fit, rate, momentum, decay)
        validation_errors, rates, schedule = _train(
            classifier,
            (x_fit, y_fit),
            (x_valid, y_valid),
            epochs=epochs,
            batch_size=size,
            patience=patience,
            learning_rate=rate,
            learning_rate_drops=learning_rate_drops,
        )
        candidate = {
            "learning_rate": rate,
            "momentum": momentum,
            "weight_decay": decay,
            "batch_size": size,
            "validation_error": error(classifier, x_valid, y_valid),
            "epochs": len(validation_errors),
        }
        trace = (validation_errors, rates, schedule)
        candidates.append(candidate)
        if best is None or candidate["validation_error"] < best[0]["validation_error"]:
            best = (candidate, classifier, trace)
    chosen, classifier, (validation_errors, rates, schedule) = best
    refit_error = refit_train_error = None
    if refit:
        refitted = new_classifier(x, chosen["learning_rate"], chosen["momentum"], chosen["weight_decay"])
        for rate, phase_epochs in schedule:
            # The momentum buffer carries over from phase to phase, as in `_train` (there
            # from the stalled epoch, here from the best one).
            refitted.optimizer.learning_rate = rate
            refitted.fit(x, y, epochs=phase_epochs, batch_size=chosen["batch_size"], shuffle=True, verbose=0)
        refit_error, refit_train_error = error(refitted, x_test, y_test), error(refitted, x, y)
    return {
        "error": error(classifier, x_test, y_test),
        "validation_error": chosen["validation_error"],
        "train_error": error(classifier, x_fit, y_fit),
        "epochs": chosen["epochs"],
        "validation_errors": validation_errors,
        "epoch_learning_rates": rates,
        "schedule": [list(phase) for phase in schedule],
        "learning_rate": chosen["learning_rate"],
        "momentum": chosen["momentum"],
        "weight_decay": chosen["weight_decay"],
        "batch_size": chosen["batch_size"],
        "candidates": candidates,
        "refit_error": refit_error,
        "refit_train_error": refit_train_error,
    }


def _train(classifier, fit, valid, *, epochs, batch_size, patience, learning_rate, learning_rate_drops):
    """Fits a compiled `classifier` with early stopping on `valid`, then `learning_rate_drops`
    more times from the best weights so far at a tenth of the rate, within `epochs` in all.

    Leaves `classifier` at the weights of its best validation epoch over all phases and
    returns `(validation errors, learning rates, schedule)`: one error and one rate per
    epoch, and the `(learning rate, epochs)` phases that led to the best weights.
    """
    errors, rates, best_error, best_weights, best_schedule = [], [], None, None, []
    for drop in range(learning_rate_drops + 1):
        # The weights this phase starts from: the best so far, reached by `best_schedule`.
        start_schedule = list(best_schedule)
        if drop:
            # A stall at this rate: anneal. The momentum buffer keeps its last velocities;
            # at momentum 0.9 they fade within a few dozen steps.
            classifier.set_weights(best_weights)
            classifier.optimizer.learning_rate = learning_rate / 10**drop
        stop = keras.callbacks.EarlyStopping(
            monitor="val_accuracy", mode="max", patience=patience, restore_best_weights=True
        )
        history = classifier.fit(
            *fit,
            validation_data=valid,
            epochs=epochs - len(errors),
            batch_size=batch_size,
            shuffle=True,
            callbacks=[stop],
            verbose=0,
        )
        phase = [1.0 - float(a) for a in history.history["val_accuracy"]]
        errors += phase
        rates += [learning_rate / 10**drop] * len(phase)
        # EarlyStopping restored this phase's best (its first best epoch, as `argmin`);
        # an earlier phase's may be better still.
        if best_error is None or min(phase) < best_error:
            best_error, best_weights = min(phase), classifier.get_weights()
            best_schedule = start_schedule + [(learning_rate / 10**drop, int(np.argmin(phase)) + 1)]
        if len(errors) >= epochs:
            break
    classifier.set_weights(best_weights)
    return errors, rates, best_schedule


def _candidates(name, value, bound, **limits):
    """`value` as a non-empty list of finite floats within `limits` (`check_number`'s bounds),
    which `bound` says in words for the error message."""
    values = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
    if not values:
        raise ValueError(
            f"Argument `{name}` must be a number or a non-empty sequence of them. Received: {name}=[]"
        )
    for v in values:
        try:
            check_number(name, v, **limits)
        except ValueError:
            raise ValueError(
                f"Argument `{name}` must be a number {bound} or a non-empty sequence of them. "
                f"Received: {name}={value!r}"
            ) from None
    return [float(v) for v in values]
