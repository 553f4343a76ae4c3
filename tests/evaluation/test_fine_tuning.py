"""`fine_tuned_error`: the paper protocol's encoder + softmax fine-tuning, its choices on
validation only, its annealing and refit, and stacks of encoders."""

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.evaluation import fine_tuned_error
from keras_ae.evaluation.classifier import softmax_classifier


@pytest.fixture(scope="module")
def digits_autoencoder():
    """A 64-32 autoencoder trained 3 epochs on the digits, and the digits' labelled splits:
    what the fine-tuning tests start from (`fine_tuned_error` never changes the model)."""
    (x_train, y_train), (x_test, y_test) = (
        keras_ae.data.load_dataset("digits", split, as_numpy=True, with_labels=True)
        for split in ("train", "test")
    )
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("autoencoder", input_shape=(8, 8, 1), latent_dim=32, hidden_units=())
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=3, batch_size=64, verbose=0)
    return model, (x_train, y_train), (x_test, y_test)


def test_fine_tuned_error_trains_a_copy_of_the_encoder_and_keeps_its_best_epoch(digits_autoencoder):
    model, (x_train, y_train), (x_test, y_test) = digits_autoencoder
    before = [w.copy() for w in model.get_weights()]
    result = fine_tuned_error(model, x_train, y_train, x_test, y_test, epochs=40, patience=5, seed=0)
    for got, want in zip(model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(got, want)  # the model's own encoder is not fine-tuned
    # The kept weights are those of the best validation epoch (Keras' val_accuracy, there).
    assert result["validation_error"] == pytest.approx(min(result["validation_errors"]), abs=1e-6)
    assert 1 <= result["epochs"] == len(result["validation_errors"]) <= 40
    # A 64-32-10 network on the 10 digit classes: a few percent (chance: 90%); 360 test
    # images, so one error is 0.28 points.
    assert result["error"] < 0.08 and result["train_error"] < 0.05
    with pytest.raises(
        ValueError,
        match=f"train_images` must have one label per image. Received: {len(x_train)} images and 3 ",
    ):
        fine_tuned_error(model, x_train, y_train[:3], x_test, y_test)
    with pytest.raises(ValueError, match="Received: momentum=1"):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, momentum=1)


def test_fine_tuned_error_chooses_its_settings_on_validation_only(digits_autoencoder):
    model, (x_train, y_train), (x_test, y_test) = digits_autoencoder
    kwargs = {"epochs": 6, "patience": 6, "seed": 0}
    # A learning rate of 1e-6 leaves the random softmax layer nearly as it started (near
    # chance), so the choice must fall on 0.05, whatever the weight decay.
    grid = fine_tuned_error(
        model, x_train, y_train, x_test, y_test, learning_rate=[1e-6, 0.05], weight_decay=[0, 1e-3], **kwargs
    )
    assert all(c["batch_size"] == 100 for c in grid["candidates"]) and grid["batch_size"] == 100
    assert [(c["learning_rate"], c["weight_decay"]) for c in grid["candidates"]] == [
        (1e-6, 0.0), (1e-6, 1e-3), (0.05, 0.0), (0.05, 1e-3)
    ]  # fmt: skip
    by_setting = {(c["learning_rate"], c["weight_decay"]): c["validation_error"] for c in grid["candidates"]}
    assert min(by_setting[(1e-6, 0.0)], by_setting[(1e-6, 1e-3)]) > 0.5
    assert grid["learning_rate"] == 0.05
    assert grid["validation_error"] == min(by_setting.values())
    # The chosen candidate is the same network a single-setting call trains: same split,
    # same initialization, same shuffles.
    single = fine_tuned_error(
        model,
        x_train,
        y_train,
        x_test,
        y_test,
        learning_rate=0.05,
        weight_decay=grid["weight_decay"],
        **kwargs,
    )
    assert single["error"] == pytest.approx(grid["error"], abs=1e-9)
    assert single["validation_errors"] == pytest.approx(grid["validation_errors"], abs=1e-9)
    assert len(single["candidates"]) == 1
    with pytest.raises(
        ValueError, match=r"`learning_rate` must be a number > 0 .* Received: learning_rate=\[0.1, 0\]"
    ):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, learning_rate=[0.1, 0])
    with pytest.raises(ValueError, match="Received: weight_decay=-0.1"):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, weight_decay=-0.1)
    with pytest.raises(ValueError, match=r"`batch_size` must be an int >= 1. Received: batch_size=0"):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, batch_size=[64, 0])
    with pytest.raises(ValueError, match=r"Received: weight_decay=\[\]"):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, weight_decay=[])


def test_fine_tuned_error_anneals_from_the_best_weights_when_validation_stalls(digits_autoencoder):
    model, (x_train, y_train), (x_test, y_test) = digits_autoencoder
    kwargs = {"epochs": 60, "patience": 2, "seed": 0, "learning_rate": 0.05}
    once = fine_tuned_error(model, x_train, y_train, x_test, y_test, **kwargs)
    annealed = fine_tuned_error(model, x_train, y_train, x_test, y_test, learning_rate_drops=2, **kwargs)
    assert once["epoch_learning_rates"] == [0.05] * once["epochs"]
    # The first phase is the run without drops, epoch for epoch; then the rate falls tenfold
    # at each stall (it did stall here: the digits' validation sixth is small and noisy).
    first = len(once["validation_errors"])
    assert annealed["validation_errors"][:first] == pytest.approx(once["validation_errors"], abs=1e-9)
    rates = annealed["epoch_learning_rates"]
    assert rates[:first] == [0.05] * first and len(rates) == annealed["epochs"] == len(
        annealed["validation_errors"]
    )
    assert (
        set(rates[first:]) <= {0.005, 0.0005}
        and rates[first] == 0.005
        and rates == sorted(rates, reverse=True)
    )
    assert annealed["epochs"] <= 60
    # The kept weights are the best epoch's over all phases, so never worse on validation.
    assert annealed["validation_error"] == pytest.approx(min(annealed["validation_errors"]), abs=1e-6)
    assert annealed["validation_error"] <= once["validation_error"] + 1e-9
    with pytest.raises(ValueError, match="Received: learning_rate_drops=-1"):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, learning_rate_drops=-1)


def test_fine_tuned_error_refits_the_chosen_schedule_on_all_training_images(digits_autoencoder):
    model, (x_train, y_train), (x_test, y_test) = digits_autoencoder
    # At 0.2 the first phase soon stalls, so the chosen weights come after the drops.
    kwargs = {"epochs": 30, "patience": 2, "seed": 0, "learning_rate": 0.2, "learning_rate_drops": 2}
    plain = fine_tuned_error(model, x_train, y_train, x_test, y_test, **kwargs)
    result = fine_tuned_error(model, x_train, y_train, x_test, y_test, refit=True, **kwargs)
    assert plain["refit_error"] is None and plain["refit_train_error"] is None
    # The refit comes after the choice and changes none of it.
    for key in ("error", "validation_error", "validation_errors", "epoch_learning_rates", "schedule"):
        assert result[key] == (plain[key] if key == "schedule" else pytest.approx(plain[key], abs=1e-9)), key
    # The schedule, read off the trace by hand: each phase (a run of one rate) resumes from
    # the best weights of the phases before it, so the path to the chosen weights is the
    # path to the previous best plus this phase's epochs up to its own best, whenever this
    # phase beats that best (strictly: ties keep the earlier weights).
    errors, rates, schedule = result["validation_errors"], result["epoch_learning_rates"], result["schedule"]
    assert len(set(rates)) > 1  # the first phase stalled: a multi-phase path is tested
    best_error, path, start = None, [], 0
    while start < len(rates):
        end = start
        while end < len(rates) and rates[end] == rates[start]:
            end += 1
        phase = errors[start:end]
        if best_error is None or min(phase) < best_error:
            best_error, path = min(phase), path + [[rates[start], int(np.argmin(phase)) + 1]]
        start = end
    assert schedule == path
    assert result["validation_error"] == pytest.approx(best_error, abs=1e-6)
    # By hand: the same initialization, its standardization fitted on all training images,
    # and the schedule's phases at their rates with no validation split.
    keras.utils.set_random_seed(0)
    classifier = softmax_classifier(model, x_train, num_classes=10)
    classifier.compile(
        optimizer=keras.optimizers.SGD(0.2, momentum=0.9),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=16,
    )
    for rate, epochs in schedule:
        classifier.optimizer.learning_rate = rate
        classifier.fit(x_train, y_train, epochs=epochs, batch_size=100, shuffle=True, verbose=0)
    for images, labels, key in ((x_test, y_test, "refit_error"), (x_train, y_train, "refit_train_error")):
        predicted = classifier.predict(images, batch_size=1000, verbose=0).argmax(axis=1)
        assert result[key] == pytest.approx(float(np.mean(predicted != labels)), abs=1e-9), key
    assert max(result["refit_error"], result["refit_train_error"]) < 0.5  # chance: 0.9
    with pytest.raises(ValueError, match="Received: refit='yes'"):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, refit="yes")


def test_fine_tuned_error_chooses_the_momentum_on_validation_too(digits_autoencoder):
    model, (x_train, y_train), (x_test, y_test) = digits_autoencoder
    kwargs = {"epochs": 4, "patience": 4, "seed": 0, "learning_rate": 1e-3}
    grid = fine_tuned_error(model, x_train, y_train, x_test, y_test, momentum=[0.0, 0.9], **kwargs)
    assert [c["momentum"] for c in grid["candidates"]] == [0.0, 0.9]
    # At a rate of 1e-3, four epochs without momentum leave the softmax layer near its random
    # start; momentum 0.9 takes ten times the steps, so the choice must fall on it.
    assert grid["candidates"][0]["validation_error"] > grid["candidates"][1]["validation_error"]
    assert grid["momentum"] == 0.9
    single = fine_tuned_error(model, x_train, y_train, x_test, y_test, momentum=0.9, **kwargs)
    assert single["error"] == pytest.approx(grid["error"], abs=1e-9)
    with pytest.raises(
        ValueError, match=r"`momentum` must be a number in \[0, 1\) .* Received: momentum=\[0.5, 1\]"
    ):
        fine_tuned_error(model, x_train, y_train, x_test, y_test, momentum=[0.5, 1])


def test_the_fine_tuned_softmax_reads_standardized_codes_of_an_encoder_copy():
    from keras_ae.evaluation.classifier import softmax_classifier

    x = keras_ae.data.load_dataset("digits", "train", as_numpy=True)
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("vae", input_shape=(8, 8, 1), latent_dim=6, hidden_units=(32,))
    model.compile(optimizer="adam")
    model.fit(x, epochs=2, batch_size=64, verbose=0)
    classifier = softmax_classifier(model, x[:500], num_classes=10)
    standardized = keras.Model(classifier.input, classifier.get_layer("standardized_codes").output)
    # On the fitted images, the codes (the VAE's posterior means) reach the softmax layer
    # with mean 0 and variance 1 per unit.
    codes = standardized.predict(x[:500], verbose=0)
    np.testing.assert_allclose(codes.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(codes.var(axis=0), 1, atol=1e-3)
    means = model.encode(x[:500])
    np.testing.assert_allclose(codes, (means - means.mean(0)) / means.std(0), rtol=1e-3, atol=1e-3)
    assert classifier.output.shape[-1] == 10 and classifier.count_params() > model.encoder.count_params()


def test_a_stack_fine_tunes_its_encoders_chained_in_order():
    from keras_ae.evaluation.classifier import softmax_classifier

    (x_train, y_train), (x_test, y_test) = (
        keras_ae.data.load_dataset("digits", split, as_numpy=True, with_labels=True)
        for split in ("train", "test")
    )
    keras.utils.set_random_seed(0)
    lower = keras_ae.create_model(
        "autoencoder", input_shape=(8, 8, 1), latent_dim=32, hidden_units=(), code_activation="sigmoid"
    )
    lower.compile(optimizer=keras.optimizers.Adam(0.01))
    lower.fit(x_train, epochs=20, batch_size=64, verbose=0)
    # Greedy layer-wise pretraining: the upper model learns the lower one's codes.
    upper = keras_ae.create_model(
        "autoencoder", input_shape=(32,), latent_dim=16, hidden_units=(), code_activation="sigmoid"
    )
    # Trained to codes that vary (a few epochs leave them nearly constant, and a stack of those
    # fine-tunes no better than chance).
    upper.compile(optimizer=keras.optimizers.Adam(0.01))
    upper.fit(lower.encode(x_train), epochs=20, batch_size=64, verbose=0)
    before = [w.copy() for m in (lower, upper) for w in m.get_weights()]

    classifier = softmax_classifier([lower, upper], x_train[:500], num_classes=10)
    standardized = keras.Model(classifier.input, classifier.get_layer("standardized_codes").output)
    # Before any fine-tuning the chain computes the upper model's codes of the lower model's
    # codes, standardized on the fitted images.
    top = upper.encode(lower.encode(x_train[:500]))
    np.testing.assert_allclose(
        standardized.predict(x_train[:500], verbose=0),
        (top - top.mean(0)) / np.sqrt(np.maximum(top.var(0), 1e-4)),
        rtol=1e-3,
        atol=1e-3,
    )

    result = fine_tuned_error([lower, upper], x_train, y_train, x_test, y_test, epochs=40, patience=5, seed=0)
    for got, want in zip([w for m in (lower, upper) for w in m.get_weights()], before, strict=True):
        np.testing.assert_array_equal(got, want)  # neither model is fine-tuned itself
    # A 64-32-16-10 network on the 10 digit classes (chance: 90%; one test image is 0.28 points).
    assert result["error"] < 0.1
    assert result["validation_error"] == pytest.approx(min(result["validation_errors"]), abs=1e-6)

    with pytest.raises(
        ValueError, match=r"model 0 encodes to shape \(32,\) and model 1 reads shape \(8, 8, 1\)"
    ):
        fine_tuned_error([lower, lower], x_train, y_train, x_test, y_test)
    with pytest.raises(ValueError, match=r"non-empty list or tuple of them. Received: model=\(\)"):
        fine_tuned_error((), x_train, y_train, x_test, y_test)
