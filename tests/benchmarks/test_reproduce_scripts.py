"""Each reproduction script's --fast mode runs end to end in a fresh process.

Fast mode trains for a few seconds, so only the pipeline is checked here: the script
exits cleanly, prints our figure beside the paper's, and writes finite results.
"""

import json
import math
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import pytest

from tests.conftest import REPO

SCRIPTS = REPO / "benchmarks" / "reproduce"


def run_fast(script, datasets_dir, tmp_path, *extra):
    output = tmp_path / "results.json"
    env = dict(os.environ, KERAS_AE_DATASETS=str(datasets_dir), TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.run(
        [sys.executable, str(SCRIPTS / script), "--fast", "--output", str(output), *extra],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=REPO,
    )
    assert process.returncode == 0, f"{script} failed:\n{process.stdout}\n{process.stderr}"
    assert "fast mode" in process.stdout and "paper" in process.stdout
    return json.loads(output.read_text()), process.stdout


def finite(value):
    return isinstance(value, (int, float)) and math.isfinite(value)


def test_vae_mnist_nll_fast(datasets_dir, tmp_path):
    preset = tmp_path / "vae_mnist_fast"
    results, stdout = run_fast("vae_mnist_nll.py", datasets_dir, tmp_path, "--save-preset", str(preset))
    assert "86.76" in stdout
    # The preset it saved: the card records this command and this run's figures, and its
    # check figure recomputes.
    import numpy as np

    import keras_ae
    from keras_ae.presets import check_preset, preset_card

    card = preset_card(preset)
    assert card["training"]["command"].startswith("python benchmarks/reproduce/vae_mnist_nll.py --fast")
    assert card["training"]["epochs"] == 1 and card["training"]["steps"] == 20  # 2000 images / 100
    assert card["figures"]["test_nll_nats (-L_50)"] == results["test_nll"]
    measured, expected, tolerance = check_preset(preset, source=datasets_dir / "mnist")
    assert abs(measured - expected) <= tolerance
    assert results["mode"] == "fast" and results["arguments"]["k"] == 50
    assert finite(results["test_nll"]) and results["test_nll"] > 0
    # L_k is a tighter bound than the ELBO: -L_k <= -ELBO up to Monte Carlo noise.
    assert (
        results["test_nll"] <= results["subset_negative_elbo"] + 3 * results["test_nll_standard_error"] + 1.0
    )
    assert 0 <= results["active_units"] <= 50

    # Trained on from that preset for one annealing epoch, on the in-memory array that the
    # model binarizes itself: the new card keeps the earlier run's record and counts its
    # epochs, steps and minutes in the totals.
    further = tmp_path / "vae_mnist_fast_annealed"
    args = (
        "--feed",
        "array",
        "--initial-preset",
        str(preset),
        "--epochs",
        "0",
        "--anneal-epochs",
        "1",
        "--save-preset",
        str(further),
    )
    results_further, _ = run_fast("vae_mnist_nll.py", datasets_dir, tmp_path, *args)
    card_further = preset_card(further)
    assert card_further["training"]["continues"] == card["training"] == results_further["continues"]
    assert card_further["training"]["epochs"] == 2 and card_further["training"]["steps"] == 40
    assert "--anneal-epochs 1" in card_further["training"]["command"]
    before, after = keras_ae.from_preset(preset), keras_ae.from_preset(further)
    assert not np.allclose(before.get_weights()[0], after.get_weights()[0])
    assert not before.dynamic_binarization and after.dynamic_binarization
    measured, expected, tolerance = check_preset(further, source=datasets_dir / "mnist")
    assert abs(measured - expected) <= tolerance


def test_the_burda_schedule_gives_each_stage_its_steps(monkeypatch):
    import keras
    import numpy as np

    monkeypatch.syspath_prepend(str(SCRIPTS))
    from vae_mnist_nll import annealed, burda_schedule

    rates = [1e-3 * 10 ** (-i / 7) for i in range(8)]

    def learning_rates_seen(steps_per_epoch, schedule_epochs, num_steps, anneal_after=None):
        # The rate of each update as a real Adam applies it: read before the update.
        schedule = burda_schedule(steps_per_epoch, schedule_epochs)
        if anneal_after is not None:
            schedule = annealed(schedule, anneal_after * steps_per_epoch, 1e-5)
        optimizer = keras.optimizers.Adam(keras.optimizers.schedules.PiecewiseConstantDecay(*schedule))
        variable = keras.Variable(np.zeros(1, "float32"))
        seen = []
        for _ in range(num_steps):
            seen.append(float(optimizer.learning_rate))
            optimizer.apply([np.ones(1, "float32")], [variable])
        return np.array(seen)

    # The paper's schedule, 2 steps per epoch: stage i holds 3^i epochs = 2 * 3^i updates.
    expected = np.concatenate([np.full(2 * 3**i, rates[i]) for i in range(5)])
    np.testing.assert_allclose(learning_rates_seen(2, 3280, len(expected)), expected, rtol=1e-6)
    # Compressed 10x into 328 epochs of 10 steps: stage i then holds 3^i steps, and the
    # last stage's 1e-4 stays on after the schedule's end.
    expected = np.concatenate([np.full(3**i, rates[i]) for i in range(8)] + [np.full(5, 1e-4)])
    np.testing.assert_allclose(learning_rates_seen(10, 328, len(expected)), expected, rtol=1e-6)
    # Annealed after 3 epochs of 2 steps: stage 0's 2 steps, 4 of stage 1's 6, then 1e-5.
    expected = [rates[0]] * 2 + [rates[1]] * 4 + [1e-5] * 3
    np.testing.assert_allclose(learning_rates_seen(2, 3280, 9, anneal_after=3), expected, rtol=1e-6)
    # Annealed after 0 epochs (a preset trained on): 1e-5 from the first step.
    np.testing.assert_allclose(learning_rates_seen(2, 3280, 3, anneal_after=0), [1e-5] * 3, rtol=1e-6)


def test_beta_vae_dsprites_fast(datasets_dir, tmp_path):
    preset, picture = tmp_path / "beta_vae_fast", tmp_path / "traversals.png"
    # 20 steps over 16 batches of 64 per pass: exactly 20 (2 epochs of 10), not two passes.
    options = (
        "--architecture",
        "conv",
        "--steps",
        "20",
        "--save-preset",
        str(preset),
        "--traversals",
        str(picture),
        "--capacity",
        "--capacity-steps",
        "10",
    )
    results, stdout = run_fast("beta_vae_dsprites.py", datasets_dir, tmp_path, *options)
    assert "0.6158" in stdout and "0.9923" in stdout
    # The best model is saved as a preset whose card holds its score and whose check
    # figure recomputes from the dSprites file, and its traversals are pictured.
    from keras_ae.presets import check_preset, preset_card

    card = preset_card(preset)
    best = results["best"]
    variant, seed = best.split(", seed ")
    best_scores = results["per_variant"][variant]["per_seed"][seed]
    assert card["figures"]["beta_vae_score"] == best_scores["beta_vae_score"]["eval_accuracy"]
    # The card's figures are the best model's own, beside its variant's medians.
    assert card["figures"]["factor_vae_score"] == best_scores["factor_vae_score"]["eval_accuracy"]
    assert card["figures"]["mig"] == best_scores["mig"]
    assert card["figures"]["median_over_seeds"] == results["per_variant"][variant]["median"]
    figure = (
        ("elbo", "the ELBO (a log-likelihood bound")
        if variant == "capacity"
        else ("loss", "the KL weighted by beta")
    )
    assert card["check"]["figure"] == figure[0] and figure[1] in card["check"]["description"]
    assert card["model"] == "beta_vae" and card["training"]["steps"] == 20
    # Its wall time is its own training's, not the run's (three models here).
    assert card["training"]["wall_time_minutes"] == round(
        results["timings_s"][f"train {variant} seed {seed}"] / 60, 1
    )
    assert best_scores["steps"] == 20
    npz = datasets_dir / "dsprites" / "dsprites_downsampled.npz"
    measured, expected, tolerance = check_preset(preset, source=npz)
    assert abs(measured - expected) <= tolerance
    with pytest.raises(
        ValueError, match="file 'dsprites_downsampled.npz': pass that file's path as `source`"
    ):
        check_preset(preset)
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert set(results["per_beta"]) == {"1.0", "4.0"}
    # Burgess et al.'s model with its ramp shortened to the budget: C reached C_max = 25
    # nats within the 20 steps (with the default 100,000 steps it would be 0.005).
    capacity = results["per_variant"]["capacity"]
    assert capacity["variant"] == {"beta": 1.0, "capacity_max": 25.0, "capacity_steps": 10, "gamma": 1000.0}
    assert capacity["per_seed"]["0"]["final_train_logs"]["capacity"] == 25.0
    for scores in [results["untrained_encoder"], *results["per_beta"].values()]:
        assert 0 <= scores["beta_vae_score"]["eval_accuracy"] <= 1
        assert 0 <= scores["factor_vae_score"]["eval_accuracy"] <= 1
        assert finite(scores["mig"]) and set(scores["mig_per_factor"]) == {
            "shape",
            "scale",
            "orientation",
            "posX",
            "posY",
        }


def test_k_sparse_mnist_fast(datasets_dir, tmp_path):
    # The authors' optimizer and initialization (the default, Adam, runs in full mode).
    options = (
        "--optimizer",
        "sgd",
        "--learning-rate",
        "0.005",
        "--init-std",
        "0.01",
        "--k-schedule-fraction",
        "1",
        # The dead units' auxiliary loss: fast mode's 20 steps count a unit dead after 2.
        "--aux-k",
        "50",
        "--dead-steps",
        "2",
    )
    results, stdout = run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options)
    assert "0.0135" in stdout and "0.072" in stdout and "sgd 0.005" in stdout
    assert "AuxK 50 (weight 0.03125, dead after 2)" in stdout
    assert 0 <= results["final_dead_units"] <= 1000
    assert 0 <= results["probe_error"] <= 1 and 0 <= results["raw_pixel_probe_error"] <= 1
    # Encoding keeps alpha * k = 75 units (fewer only where a unit's value is exactly 0).
    assert 70 <= results["nonzero_units_per_test_code"] <= 75


def test_k_sparse_mnist_decays_the_learning_rate_after_the_k_schedule(datasets_dir, tmp_path):
    # Fast mode: 20 steps, k falls over the first 10, the cosine takes 0.005 to zero over the
    # last 10; the optimizer's rate after the last step is the schedule's end.
    options = ("--optimizer", "sgd", "--learning-rate", "0.005", "--learning-rate-decay", "cosine")
    results, stdout = run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options, "--skip-raw-pixels")
    assert "sgd 0.005, cosine decay" in stdout
    assert results["final_learning_rate"] == pytest.approx(0.0, abs=1e-9)
    assert 0 <= results["probe_error"] <= 1
    with pytest.raises(AssertionError, match="--k-schedule-fraction 1 leaves none"):
        run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options, "--k-schedule-fraction", "1")


def test_k_sparse_mnist_probes_a_preset_with_the_scaling_chosen_on_validation(datasets_dir, tmp_path):
    # The shipped model is measured, not retrained; the probe fits standardized and raw
    # codes and keeps the scaling and C with the lowest validation error.
    options = ("--k-sparse-preset", "k_sparse_mnist", "--probe-scaling", "choose", "--skip-raw-pixels")
    results, stdout = run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options)
    assert results["k_sparse_preset"] == "k_sparse_mnist" and "the preset k_sparse_mnist" in stdout
    assert "(fast mode; the preset k_sparse_mnist, not trained here, " in stdout
    assert results["final_train_loss"] is None and "standardized or raw codes" in stdout
    by_scaling = results["probe_scaling_validation_errors"]
    assert set(by_scaling) == {"standardized", "raw"}
    best = min(min(errors.values()) for errors in by_scaling.values())
    chosen = "standardized" if results["probe_standardized"] else "raw"
    assert by_scaling[chosen][str(results["probe_inverse_regularization"])] == best
    # The figure is the preset's own: the same probe on its codes, recomputed here.
    import keras_ae
    from keras_ae.data import load_dataset
    from keras_ae.evaluation import linear_probe_error

    mnist = str(datasets_dir / "mnist")
    x_train, y_train = load_dataset(mnist, "train[:2000]", as_numpy=True, with_labels=True, flatten=True)
    x_test, y_test = load_dataset(mnist, "test[:500]", as_numpy=True, with_labels=True, flatten=True)
    model = keras_ae.from_preset("k_sparse_mnist")
    probe = linear_probe_error(
        model.encode(x_train),
        y_train,
        model.encode(x_test),
        y_test,
        inverse_regularization=results["probe_inverse_regularization"],
        standardize=results["probe_standardized"],
    )
    assert probe["error"] == pytest.approx(results["probe_error"], abs=1e-12)
    with pytest.raises(AssertionError, match="must name a k-sparse autoencoder preset.*vae_mnist"):
        run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, "--k-sparse-preset", "vae_mnist")
    with pytest.raises(AssertionError, match="--k-sparse-preset trains none"):
        run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options, "--save-preset", str(tmp_path / "p"))


def load_script_module(name):
    """A module of benchmarks/reproduce/, imported as its scripts import it."""
    import importlib.util

    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


def test_k_sparse_learning_rate_schedule_is_flat_during_the_k_schedule_then_a_cosine():
    script = load_script_module("_k_sparse_training")
    assert script.learning_rate_schedule(0.005, "none", 1000, 500) == 0.005
    schedule = script.learning_rate_schedule(0.005, "cosine", 1000, 400)
    rate = {step: float(schedule(step)) for step in (0, 200, 400, 700, 1000)}
    # Flat for the k schedule's 400 steps, then 0.005 * (1 + cos(pi * t / 600)) / 2.
    assert rate[0] == rate[200] == rate[400] == pytest.approx(0.005)
    assert rate[700] == pytest.approx(0.0025, rel=1e-5)
    assert rate[1000] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(
        ValueError, match="needs steps after the 400 constant ones. Received: total_steps=400"
    ):
        script.learning_rate_schedule(0.005, "cosine", 400, 400)


def test_contractive_mnist_fast(datasets_dir, tmp_path):
    # Two weights: chosen on the validation split (the last 1/6 of the 1,000 fast-mode
    # training images), which every model then trains without. Two fine-tuning learning
    # rates and batch sizes: chosen on the fine-tuning's own validation images.
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
    )
    assert "0.0114" in stdout and "not measured" not in stdout
    selection = results["weight_selection"]
    assert (selection["fit_images"], selection["validation_images"]) == (834, 166)
    errors = selection["validation_probe_errors"]
    assert set(errors) == {"0.1", "1"} and errors[f"{selection['chosen']:g}"] == min(errors.values())
    assert set(results["per_model"]) == {"ae", "dae", "cae"}
    for scores in results["per_model"].values():
        assert finite(scores["jacobian_norm"]) and scores["jacobian_norm"] > 0
        assert 0 <= scores["saturation"] <= 1 and 0 <= scores["probe_error"] <= 1
        tuned = scores["fine_tuned"]
        assert 0 <= tuned["error"] <= 1 and 1 <= tuned["epochs"] <= 2  # fast mode: at most 2 epochs
        assert [(c["learning_rate"], c["batch_size"]) for c in tuned["candidates"]] == [
            (0.05, 100), (0.05, 50), (0.2, 100), (0.2, 50)
        ]  # fmt: skip
        assert tuned["validation_error"] == min(c["validation_error"] for c in tuned["candidates"])
        # The mean squared entry is ||J||_F^2 / (1000 units * 784 pixels) averaged over the
        # images, so it is at least the squared mean norm over the same count (Jensen).
        assert scores["jacobian_mean_squared_entry"] >= scores["jacobian_norm"] ** 2 / 784_000 * (1 - 1e-9)
    assert finite(results["ae_over_cae_jacobian_norm"])
    assert finite(results["ae_over_cae_jacobian_mean_squared_entry"])


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
    assert 0 <= stack["saturation"] <= 1 and 0 <= stack["probe_error"] < 0.5
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
    # the stack below it; each stack is probed and fine-tuned on its own, then refit on all
    # training images for the chosen schedule (one epoch here).
    results, stdout = run_fast(
        "contractive_mnist.py", datasets_dir, tmp_path, *ON_THE_CAE_PRESET, "--layers", "3",
        "--fine-tune-epochs", "1", "--fine-tune-refit",
    )  # fmt: skip
    per_model = results["per_model"]
    assert set(per_model) == {"cae", "cae2", "cae3"}
    assert per_model["cae2"]["second_contractive_weight"] == pytest.approx(0.3)
    assert per_model["cae3"]["third_contractive_weight"] == pytest.approx(0.3)
    for key in ("cae2", "cae3"):
        assert 0 <= per_model[key]["saturation"] <= 1 and 0 <= per_model[key]["probe_error"] <= 1
        tuned = per_model[key]["fine_tuned"]
        assert tuned["epochs"] == 1 and tuned["schedule"] == [[0.05, 1]]
        assert 0 <= tuned["refit_error"] <= 1 and 0 <= tuned["refit_train_error"] <= 1
        assert re.search(
            rf"CAE-{key[-1]}: fine-tuned MLP refit on all training images \(1 epoch at 0.05\) +{tuned['refit_error']:.4g} ",
            stdout,
        )
    assert re.search(r"CAE-3: fine-tuned MLP test error +\d", stdout)
    assert "second_weight_selection" not in results and "third_weight_selection" not in results
    # The preset's layer was not trained here; each layer above it was, with Adam 1e-3 (which
    # keras-ae's compile runs as its FusedAdam: the same update).
    assert per_model["cae"]["pretraining"] is None
    assert per_model["cae3"]["pretraining"] == {
        "optimizer": "FusedAdam", "learning_rate": pytest.approx(1e-3), "momentum": 0.0
    }  # fmt: skip


def test_write_preset_needs_the_lap_of_the_model_it_saves(tmp_path):
    # A card's wall time is its model's training lap; a lap name the run never recorded is
    # an error, not the whole run's time (a nine-model run once put 93.8 min on a card
    # whose model trained for 9.4).
    common = load_script_module("_common")
    clock = common.Stopwatch()
    clock.laps.update({"train beta=1 seed 0": 600.0, "train capacity seed 1": 560.0})
    args = SimpleNamespace(save_preset=str(tmp_path / "preset"))
    with pytest.raises(ValueError, match=r"one of \['train beta=1 seed 0', 'train capacity seed 1'\]. "
                       r"Received: train_lap='train'"):  # fmt: skip
        common.write_preset(
            args, None, clock, summary="", data={}, figures={}, check={}, epochs=1, batch_size=1
        )
    assert not (tmp_path / "preset").exists()


def test_beta_vae_dsprites_seed_trains_the_same_model_alone_or_after_others(datasets_dir, tmp_path):
    # A seed names one model: trained after another seed's model in the same process, it
    # must get the same batch order and initialization as alone (the dataset's shuffle
    # once took the global seed left by the previous model).
    (tmp_path / "alone").mkdir()
    (tmp_path / "after").mkdir()
    alone, _ = run_fast(
        "beta_vae_dsprites.py", datasets_dir, tmp_path / "alone", "--betas", "4", "--seeds", "1"
    )
    after, _ = run_fast(
        "beta_vae_dsprites.py", datasets_dir, tmp_path / "after", "--betas", "4", "--seeds", "0,1"
    )
    logs = [r["per_variant"]["beta=4"]["per_seed"]["1"]["final_train_logs"] for r in (alone, after)]
    assert logs[0] == pytest.approx(logs[1], rel=1e-6)
    other_seed = after["per_variant"]["beta=4"]["per_seed"]["0"]["final_train_logs"]
    assert other_seed["loss"] != pytest.approx(logs[1]["loss"], rel=1e-6)  # the seeds do differ


def test_scripts_reject_bad_arguments(datasets_dir, tmp_path):
    with pytest.raises(AssertionError, match="--models must list"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--models", "rbm")
    with pytest.raises(
        AssertionError,
        match="--fine-tune-learning-rate, --fine-tune-momentum, --fine-tune-weight-decay and",
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
    with pytest.raises(AssertionError, match="--steps must be a positive number.*Received: 0"):
        run_fast("beta_vae_dsprites.py", datasets_dir, tmp_path, "--steps", "0")
    with pytest.raises(AssertionError, match="--capacity-steps must be a positive number.*Received: -5"):
        run_fast("beta_vae_dsprites.py", datasets_dir, tmp_path, "--capacity", "--capacity-steps", "-5")
    with pytest.raises(AssertionError, match="include cae in --models. Received: models='ae'"):
        run_fast("contractive_mnist.py", datasets_dir, tmp_path, "--models", "ae", "--cae-preset", "x")
    with pytest.raises(AssertionError, match="must name a contractive autoencoder preset.*vae_mnist"):
        run_fast(
            "contractive_mnist.py", datasets_dir, tmp_path, "--models", "cae", "--cae-preset", "vae_mnist"
        )
    with pytest.raises(AssertionError, match=r"--momentum must lie in \[0, 1\). Received: 1.5"):
        run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, "--optimizer", "sgd", "--momentum", "1.5")


def test_vq_vae_mnist_fast(datasets_dir, tmp_path):
    results, stdout = run_fast("vq_vae_mnist.py", datasets_dir, tmp_path)
    assert "codes used on test" in stdout
    assert set(results["variants"]) == {"loss", "ema", "ema_restart"}
    for entry in results["variants"].values():
        assert 1 <= entry["test_codes_used"] <= 128
        assert 1.0 <= entry["test_perplexity"] <= entry["test_codes_used"] + 1e-6
        assert finite(entry["test_squared_error_per_image"]) and entry["test_squared_error_per_image"] > 0
    prior = results["variants"]["ema_restart"]
    assert finite(prior["prior_test_bits_per_code"]) and 0 < prior["prior_test_bits_per_code"] <= 7.5


def test_draw_mnist_fast(datasets_dir, tmp_path):
    results, stdout = run_fast("draw_mnist.py", datasets_dir, tmp_path)
    assert "80.97" in stdout and "87.4" in stdout
    assert set(results["models"]) == {"attention", "no_attention", "vae"}
    for entry in results["models"].values():
        assert finite(entry["test_nll"]) and 0 < entry["test_nll"] < 800
        assert entry["seconds_per_epoch"] > 0


def test_vq_vae_cifar10_fast(datasets_dir, tmp_path):
    results, stdout = run_fast("vq_vae_cifar10.py", datasets_dir, tmp_path)
    assert "4.67" in stdout
    # bits/dim = decoder part (with the 8 bits of dequantization) + prior part.
    total = results["reconstruction_bits_per_dim"] + results["prior_bits_per_dim"]
    assert results["bits_per_dim"] == pytest.approx(total, rel=1e-6)
    # A uniform prior over 512 codes at 64 positions costs 9 * 64 / 3072 = 0.19 bits/dim;
    # one epoch on 256 images may do worse, but not by an order of magnitude.
    assert finite(results["bits_per_dim"]) and 0 < results["prior_bits_per_dim"] < 1.0
    assert 1 <= results["codes_used_on_test"] <= 512
