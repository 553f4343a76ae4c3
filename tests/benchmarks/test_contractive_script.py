"""benchmarks/reproduce/contractive_mnist.py: fast mode end to end, a measured preset, stacks, errors."""

import re

import pytest

from tests.benchmarks.script_runner import (
    check_contractive_preset_figures,
    finite,
    mnist_chance_error,
    run_fast,
)


def test_contractive_mnist_fast(datasets_dir, tmp_path):
    # Two weights: chosen on the validation split (the last 1/6 of the 1,000 fast-mode
    # training images), which every model then trains without. Two fine-tuning learning
    # rates and batch sizes: chosen on the fine-tuning's own validation images. The chosen
    # CAE is saved as a preset.
    preset = tmp_path / "cae_chosen"
    results, stdout = run_fast(
        "contractive_mnist.py",
        datasets_dir,
        tmp_path,
        "--contractive-weight",
        "0.1,1",
        "--fine-tune-learning-rate",
        "0.05,0.2",
        "--fine-tune-batch-size",
        "100,50",
        "--save-preset",
        str(preset),
    )
    assert "0.0114" in stdout and "not measured" not in stdout
    selection = results["weight_selection"]
    assert (selection["fit_images"], selection["validation_images"]) == (834, 166)
    errors = selection["validation_probe_errors"]
    assert set(errors) == {"0.1", "1"} and errors[f"{selection['chosen']:g}"] == min(errors.values())
    assert set(results["per_model"]) == {"ae", "dae", "cae"}
    chance = mnist_chance_error(datasets_dir, "test[:200]")  # always the most frequent label
    for scores in results["per_model"].values():
        assert finite(scores["jacobian_norm"]) and scores["jacobian_norm"] > 0
        # The codes classify after one epoch (probe ~0.1, fine-tuned MLP ~0.2 after 2 epochs).
        tuned = scores["fine_tuned"]
        assert scores["probe_error"] < chance - 0.5 and tuned["error"] < chance - 0.5
        # Fast mode's 2 epochs, none stopped early (patience 5): the weights kept are those
        # of the epoch with the lowest validation error.
        errors = tuned["validation_errors"]
        assert tuned["epochs"] == len(errors) == 2
        assert tuned["schedule"] == [[tuned["learning_rate"], 1 + errors.index(min(errors))]]
        assert [(c["learning_rate"], c["batch_size"]) for c in tuned["candidates"]] == [
            (0.05, 100), (0.05, 50), (0.2, 100), (0.2, 50)
        ]  # fmt: skip
        assert tuned["validation_error"] == min(c["validation_error"] for c in tuned["candidates"])
        # The mean squared entry is ||J||_F^2 / (1000 units * 784 pixels) averaged over the
        # images, so it is at least the squared mean norm over the same count (Jensen).
        assert scores["jacobian_mean_squared_entry"] >= scores["jacobian_norm"] ** 2 / 784_000 * (1 - 1e-9)
    assert finite(results["ae_over_cae_jacobian_norm"])
    assert finite(results["ae_over_cae_jacobian_mean_squared_entry"])
    from keras_ae.presets import preset_card

    # The card names the chosen weight, its figures are the CAE's, and its wall time is the
    # chosen model's own training lap, not the whole choice's.
    card, chosen = preset_card(str(preset)), selection["chosen"]
    assert f"contractive_weight={chosen:g} (chosen on the validation split)." in card["summary"]
    assert card["data"]["train"] == "834 training images"
    assert card["figures"]["probe_test_error"] == results["per_model"]["cae"]["probe_error"]
    assert card["figures"]["ae_over_cae_jacobian_norm"] == results["ae_over_cae_jacobian_norm"]
    lap = results["timings_s"][f"train cae {chosen:g}"]
    assert f"probe cae {chosen:g} on validation" in results["timings_s"]  # timed apart from it
    assert card["training"]["wall_time_minutes"] == round(lap / 60, 1)
    # The CAE's saturation and probe error, recomputed from the saved preset.
    check_contractive_preset_figures(str(preset), datasets_dir, results["per_model"]["cae"])


def test_contractive_mnist_measures_a_cae_preset(datasets_dir, tmp_path):
    # The shipped CAE is measured, not retrained: its figures are the preset's own.
    results, stdout = run_fast(
        "contractive_mnist.py",
        datasets_dir,
        tmp_path,
        "--models",
        "ae,cae",
        "--cae-preset",
        "contractive_mnist",
        "--fine-tune-epochs",
        "0",
    )
    import numpy as np

    import keras_ae
    from keras_ae.data import load_dataset
    from keras_ae.evaluation import jacobian_frobenius_norm

    assert results["cae_preset"] == "contractive_mnist"
    assert "(fast mode; the CAE is the preset contractive_mnist, not trained here, " in stdout
    x_test = load_dataset(str(datasets_dir / "mnist"), "test[:20]", as_numpy=True, flatten=True)
    norms = jacobian_frobenius_norm(keras_ae.from_preset("contractive_mnist"), x_test)
    cae = results["per_model"]["cae"]
    np.testing.assert_allclose(cae["jacobian_norm"], norms.mean(), rtol=1e-5)
    np.testing.assert_allclose(cae["jacobian_mean_squared_entry"], np.mean(norms**2) / 784_000, rtol=1e-5)
    ae = results["per_model"]["ae"]
    np.testing.assert_allclose(
        results["ae_over_cae_jacobian_mean_squared_entry"],
        ae["jacobian_mean_squared_entry"] / cae["jacobian_mean_squared_entry"],
        rtol=1e-12,
    )


def test_contractive_mnist_holds_the_validation_images_out_with_one_weight(datasets_dir, tmp_path):
    # --hold-out: one weight, no choice, and still the CAE trains without the last sixth of
    # the 1,000 fast-mode training images, as the shipped preset trained without the last
    # 10,000; its saved card says so. --hidden-units sets the code width (the paper's 1000).
    preset = tmp_path / "cae_held_out"
    _, stdout = run_fast(
        "contractive_mnist.py", datasets_dir, tmp_path, "--models", "cae", "--contractive-weight", "0.3",
        "--hold-out", "--fine-tune-epochs", "0", "--hidden-units", "48", "--save-preset", str(preset),
    )  # fmt: skip
    import numpy as np

    import keras_ae
    from keras_ae.presets import preset_card

    card = preset_card(str(preset))
    assert card["data"]["train"] == "834 training images"
    assert card["training"]["steps"] == 9  # one epoch of 834 images in batches of 100
    assert "--hold-out" in card["training"]["command"]
    assert "48 sigmoid units" in card["summary"] and "(MNIST, 48 sigmoid units" in stdout
    assert keras_ae.from_preset(str(preset)).encode(np.zeros((2, 784), "float32")).shape == (2, 48)
    with pytest.raises(AssertionError, match="--hidden-units must be 1 or more. Received: 0"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--hidden-units", "0")
    # A CAE too large for a preset fails before its training, not after.
    with pytest.raises(AssertionError, match="whose weights alone hold 6.0 MB") as failure:
        run_fast(
            "contractive_mnist.py", datasets_dir, tmp_path, "--models", "cae", "--hidden-units", "2000",
            "--save-preset", str(tmp_path / "too_large"),
        )  # fmt: skip
    # Raised where the model is built (the traceback passes no write_preset), nothing written.
    assert "write_preset" not in str(failure.value) and "in train" in str(failure.value)
    assert not (tmp_path / "too_large").exists()


def test_contractive_mnist_pretrains_with_sgd_from_scaled_weights(datasets_dir, tmp_path):
    # --optimizer sgd --momentum: the model trains with that optimizer (the JSON reads it
    # back from the model); --init-gain 4: the code layer starts at 4 times the seed's
    # Glorot weights. A learning rate of 0 leaves them there, to compare exactly.
    preset = tmp_path / "cae_sgd"
    results, _ = run_fast(
        "contractive_mnist.py", datasets_dir, tmp_path, "--models", "cae", "--hidden-units", "48",
        "--optimizer", "sgd", "--momentum", "0.5", "--learning-rate", "0", "--init-gain", "4",
        "--fine-tune-epochs", "0", "--save-preset", str(preset),
    )  # fmt: skip
    import keras
    import numpy as np

    import keras_ae

    assert results["per_model"]["cae"]["pretraining"] == {
        "optimizer": "SGD", "learning_rate": 0.0, "momentum": 0.5
    }  # fmt: skip
    keras.utils.set_random_seed(0)
    fresh = keras_ae.create_model(
        "contractive_autoencoder", input_shape=(784,), latent_dim=48, hidden_units=(), tied_weights=True,
        contractive_weight=0.1,
    )  # fmt: skip
    kernel = keras_ae.from_preset(str(preset)).encoder.get_layer("code").kernel.numpy()
    np.testing.assert_allclose(kernel, 4 * fresh.encoder.get_layer("code").kernel.numpy(), rtol=1e-6)
    for flags, message in (
        (
            ("--momentum", "0.9"),
            "--momentum is SGD's: pass --optimizer sgd with it. Received: optimizer='adam'",
        ),
        (("--optimizer", "sgd", "--momentum", "1"), r"--momentum must lie in \[0, 1\). Received: 1.0"),
        (("--init-gain", "0"), "--init-gain must be positive. Received: 0.0"),
    ):
        with pytest.raises(AssertionError, match=message):
            run_fast("contractive_mnist.py", datasets_dir, tmp_path, *flags)


# Stacks start from the shipped CAE: only their upper layers train in fast mode.
ON_THE_CAE_PRESET = ("--models", "cae", "--cae-preset", "contractive_mnist")


def test_contractive_mnist_stacks_a_second_cae_on_the_first(datasets_dir, tmp_path):
    # CAE-2: a second CAE trained on the shipped CAE's codes, its weight chosen on the
    # validation images, then the 784-1000-1000 stack probed and fine-tuned (its momentum
    # chosen on validation, its rate annealed at stalls).
    results, stdout = run_fast(
        "contractive_mnist.py", datasets_dir, tmp_path, *ON_THE_CAE_PRESET, "--layers", "2",
        "--second-contractive-weight", "0.1,1", "--fine-tune-momentum", "0.9,0", "--fine-tune-rate-drops", "1",
    )  # fmt: skip
    selection = results["second_weight_selection"]
    errors = selection["validation_probe_errors"]
    assert set(errors) == {"0.1", "1"}
    assert selection["chosen"] == float(min(errors, key=errors.get))
    stack = results["per_model"]["cae2"]
    assert stack["second_contractive_weight"] == selection["chosen"]
    assert stack["probe_error"] < mnist_chance_error(datasets_dir, "test[:200]") - 0.5  # ~0.05
    # Fast mode trains the second layer for one epoch on 834 codes, too little for its codes
    # to classify after fine-tuning (tests/evaluation checks a trained stack's error); here the
    # stack's fine-tuning must run its 2 epochs and report a test error.
    assert 0 <= stack["fine_tuned"]["error"] <= 1 and stack["fine_tuned"]["epochs"] == 2
    assert stack["fine_tuned"]["refit_error"] is None and "refit" not in stdout  # no --fine-tune-refit
    for tuned in (stack["fine_tuned"], results["per_model"]["cae"]["fine_tuned"]):
        assert [c["momentum"] for c in tuned["candidates"]] == [0.9, 0.0]
        # Two epochs are within the patience: no stall, so no drop.
        assert tuned["epoch_learning_rates"] == [0.05, 0.05]
    assert re.search(
        r"CAE-2: fine-tuning chosen on validation \(lr/momentum/decay/batch: error\) +0\.05/", stdout
    )
    # Only the second layer's weight was chosen: the first is the preset's, not a selection.
    assert "weight_selection" not in results
    assert re.search(rf"CAE-2: fine-tuned MLP test error +{stack['fine_tuned']['error']:.4g} ", stdout)
    with pytest.raises(AssertionError, match="include cae in --models. Received: models='ae'"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--models", "ae", "--layers", "2")
    with pytest.raises(
        AssertionError, match="pass --layers 2 or 3 with it. Received: second_contractive_weight='0.1,1'"
    ):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--second-contractive-weight", "0.1,1")


def test_contractive_mnist_stacks_a_third_cae_on_the_second(datasets_dir, tmp_path):
    # CAE-3: each layer above the first trains at the preset's weight (0.3) on the codes of
    # the stack below it; each stack is probed, and with --fine-tune-top-only only the whole
    # stack is fine-tuned, then refit on all training images for the chosen schedule (one
    # epoch here).
    results, stdout = run_fast(
        "contractive_mnist.py", datasets_dir, tmp_path, *ON_THE_CAE_PRESET, "--layers", "3",
        "--fine-tune-epochs", "1", "--fine-tune-refit", "--fine-tune-top-only",
    )  # fmt: skip
    per_model = results["per_model"]
    assert set(per_model) == {"cae", "cae2", "cae3"}
    assert per_model["cae2"]["second_contractive_weight"] == pytest.approx(0.3)
    assert per_model["cae3"]["third_contractive_weight"] == pytest.approx(0.3)
    # The first layer is the shipped preset: its figures recomputed from it. Every layer's
    # codes classify (probe errors ~0.05).
    check_contractive_preset_figures("contractive_mnist", datasets_dir, per_model["cae"])
    chance = mnist_chance_error(datasets_dir, "test[:200]")
    for key in ("cae", "cae2", "cae3"):
        assert per_model[key]["probe_error"] < chance - 0.5
    # The CAEs below the top are probed, not fine-tuned.
    assert per_model["cae"]["fine_tuned"] is None and per_model["cae2"]["fine_tuned"] is None
    assert re.search(r"CAE: fine-tuned MLP test error +not measured", stdout)
    assert re.search(r"CAE-2: fine-tuned MLP test error +not measured", stdout)
    tuned = per_model["cae3"]["fine_tuned"]
    assert tuned["epochs"] == 1 and tuned["schedule"] == [[0.05, 1]]
    # One epoch leaves the three-layer stack's MLP near chance (~0.9), so no bound on its
    # error: the refit's errors count mistakes on the 200 test images and on all 1,000
    # training images (not the 834 the chosen schedule was fitted on).
    for error, images in ((tuned["refit_error"], 200), (tuned["refit_train_error"], 1000)):
        assert error * images == pytest.approx(round(error * images), abs=1e-9)
    assert re.search(
        rf"CAE-3: fine-tuned MLP refit on all training images \(1 epoch at 0.05\) +{tuned['refit_error']:.4g} ",
        stdout,
    )
    assert re.search(rf"CAE-3: fine-tuned MLP test error +{tuned['error']:.4g} ", stdout)
    assert "second_weight_selection" not in results and "third_weight_selection" not in results
    # The preset's layer was not trained here; each layer above it was, with Adam 1e-3 (which
    # keras-ae's compile runs as its FusedAdam: the same update).
    assert per_model["cae"]["pretraining"] is None
    assert per_model["cae3"]["pretraining"] == {
        "optimizer": "FusedAdam", "learning_rate": pytest.approx(1e-3), "momentum": 0.0
    }  # fmt: skip


def test_contractive_mnist_rejects_bad_arguments(datasets_dir, tmp_path):
    with pytest.raises(AssertionError, match="--models must list"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--models", "rbm")
    with pytest.raises(
        AssertionError,
        match="--fine-tune-weight-decay takes float values separated by commas. Received: --fine-tune-weight-decay 1e-4;0",
    ):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--fine-tune-weight-decay", "1e-4;0")
    with pytest.raises(AssertionError, match=r"--fine-tune-momentum must lie in \[0, 1\). Received: '0.9,1'"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--fine-tune-momentum", "0.9,1")
    with pytest.raises(AssertionError, match="--fine-tune-rate-drops must be 0 or more. Received: -1"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--fine-tune-rate-drops", "-1")
    with pytest.raises(AssertionError, match="--fine-tune-patience must be 1 or more. Received: 0"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--fine-tune-patience", "0")
    with pytest.raises(
        AssertionError, match="--fine-tune-refit refits a fine-tuning: pass --fine-tune-epochs"
    ):
        run_fast(
            "contractive_mnist.py", datasets_dir, tmp_path, "--fine-tune-refit", "--fine-tune-epochs", "0"
        )
    with pytest.raises(AssertionError, match="include cae in --models. Received: models='ae'"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--models", "ae", "--cae-preset", "x")
    with pytest.raises(AssertionError, match="must name a contractive autoencoder preset.*vae_mnist"):
        run_fast(
            "contractive_mnist.py", datasets_dir, tmp_path, "--models", "cae", "--cae-preset", "vae_mnist"
        )
    with pytest.raises(
        AssertionError, match="pass --layers 2 or 3 and --fine-tune-epochs with it. Received: layers=1,"
    ):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--fine-tune-top-only")
