"""benchmarks/reproduce/k_sparse_mnist.py: fast mode end to end, a measured preset, the schedule, errors."""

import pytest

from tests.benchmarks.script_runner import load_script_module, mnist_chance_error, run_fast


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
        # The encoding's alpha chosen on validation; the preset saved encodes with it.
        "--alpha",
        "3,1",
        "--save-preset",
        str(tmp_path / "preset"),
    )
    results, stdout = run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options)
    assert "0.0135" in stdout and "0.072" in stdout and "sgd 0.005" in stdout
    assert "AuxK 50 (weight 0.03125, dead after 2)" in stdout
    # The dead units the AuxK term saw, averaged over the epoch's 20 batches: the counters
    # start at 0, so the first 2 batches (dead after 2) have none, and the mean is at most
    # 18/20 of the 1,000 units; there were some (k falls from 100 to 25 over the epoch).
    assert 0 < results["final_dead_units"] <= 900
    # Encoding keeps alpha * k units (fewer only where a unit's value is exactly 0).
    kept = 25 * results["alpha"]
    assert kept - 5 <= results["nonzero_units_per_test_code"] <= kept
    import keras_ae
    from keras_ae.data import load_dataset
    from keras_ae.evaluation import linear_probe_error

    preset = keras_ae.from_preset(str(tmp_path / "preset"))
    assert preset.alpha == results["alpha"]
    # The JSON records the command's candidates, not the first of them.
    assert results["arguments"]["alpha"] == "3,1" and results["arguments"]["k"] == 25
    # The figures recomputed from the saved model and the same images: the probe of its codes
    # (at the C and scaling chosen), the raw pixels' probe, and the units never kept.
    mnist = str(datasets_dir / "mnist")
    x_train, y_train = load_dataset(mnist, "train[:2000]", as_numpy=True, with_labels=True, flatten=True)
    x_test, y_test = load_dataset(mnist, "test[:500]", as_numpy=True, with_labels=True, flatten=True)
    codes_train, codes_test = preset.encode(x_train), preset.encode(x_test)
    assert int(((codes_train != 0).sum(axis=0) == 0).sum()) == results["units_never_active_on_train"]
    probe = linear_probe_error(
        codes_train,
        y_train,
        codes_test,
        y_test,
        inverse_regularization=results["probe_inverse_regularization"],
        standardize=results["probe_standardized"],
    )
    assert probe["error"] == pytest.approx(results["probe_error"], abs=1e-12)
    raw = linear_probe_error(
        x_train,
        y_train,
        x_test,
        y_test,
        inverse_regularization=results["raw_pixel_probe_inverse_regularization"],
    )
    assert raw["error"] == pytest.approx(results["raw_pixel_probe_error"], abs=1e-12)
    # Both classify: far below the error of answering the most frequent label (0.866 on these
    # 500 images; fast mode's probes reach about 0.12).
    chance = mnist_chance_error(datasets_dir, "test[:500]")
    assert results["probe_error"] < chance - 0.5 and results["raw_pixel_probe_error"] < chance - 0.5
    card = keras_ae.presets.preset_card(str(tmp_path / "preset"))
    # Fast mode: one epoch of 2,000 images in batches of 100.
    assert card["training"]["steps"] == 20 and f"alpha*k={int(kept)} when encoding" in card["summary"]


def test_k_sparse_mnist_decays_the_learning_rate_after_the_k_schedule(datasets_dir, tmp_path):
    # Fast mode: 20 steps, k falls over the first 10, the cosine takes 0.005 to zero over the
    # last 10; the optimizer's rate after the last step is the schedule's end.
    options = ("--optimizer", "sgd", "--learning-rate", "0.005", "--learning-rate-decay", "cosine")
    results, stdout = run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options, "--skip-raw-pixels")
    assert "sgd 0.005, cosine decay" in stdout
    assert results["final_learning_rate"] == pytest.approx(0.0, abs=1e-9)
    # The codes classify: far below the most frequent label's error (0.866; fast mode: ~0.14).
    assert results["probe_error"] < mnist_chance_error(datasets_dir, "test[:500]") - 0.5
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
    # Nothing was trained: the training flags are recorded as None, not as their defaults.
    arguments = results["arguments"]
    assert arguments["k"] is arguments["optimizer"] is arguments["epochs"] is arguments["aux_k"] is None
    assert arguments["k_sparse_preset"] == "k_sparse_mnist" and arguments["probe_scaling"] == "choose"
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


def test_k_sparse_mnist_rejects_bad_arguments(datasets_dir, tmp_path):
    with pytest.raises(AssertionError, match=r"--momentum must lie in \[0, 1\). Received: 1.5"):
        run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, "--optimizer", "sgd", "--momentum", "1.5")


def test_k_sparse_mnist_chooses_the_encodings_alpha_on_validation(datasets_dir, tmp_path):
    # Each alpha re-encodes the preset's codes (alpha * 25 units kept) and is probed; the
    # alpha with the lowest validation error, over scalings and C, is the one reported.
    options = ("--k-sparse-preset", "k_sparse_mnist", "--probe-scaling", "choose", "--skip-raw-pixels")
    results, stdout = run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options, "--alpha", "1,3")
    by_alpha = results["alpha_validation_errors"]
    assert set(by_alpha) == {"1.0", "3.0"} and set(results["alpha_test_errors"]) == set(by_alpha)
    chosen = min(by_alpha, key=lambda a: (by_alpha[a], a != "1.0"))  # a tie keeps the first
    assert results["alpha"] == float(chosen) and f"alpha={float(chosen):g}" in stdout
    assert "alpha chosen with them from 1 (" in stdout
    assert results["probe_error"] == results["alpha_test_errors"][chosen]
    best = min(min(errors.values()) for errors in results["probe_scaling_validation_errors"].values())
    assert best == by_alpha[chosen]
    assert results["nonzero_units_per_test_code"] <= 25 * float(chosen)
    # alpha = 1 is the preset with 25 units kept: its test error is that model's own probe.
    import keras_ae
    from keras_ae.data import load_dataset
    from keras_ae.evaluation import linear_probe_error

    mnist = str(datasets_dir / "mnist")
    x_train, y_train = load_dataset(mnist, "train[:2000]", as_numpy=True, with_labels=True, flatten=True)
    x_test, y_test = load_dataset(mnist, "test[:500]", as_numpy=True, with_labels=True, flatten=True)
    preset = keras_ae.from_preset("k_sparse_mnist")
    narrow = type(preset).from_config({**preset.get_config(), "alpha": 1.0})
    narrow.set_weights(preset.get_weights())
    codes_train, codes_test = narrow.encode(x_train), narrow.encode(x_test)
    assert ((codes_test != 0).sum(axis=1) <= 25).all()
    probe = linear_probe_error(
        codes_train,
        y_train,
        codes_test,
        y_test,
        inverse_regularization=[0.001, 0.01, 0.1, 1],
        standardize=(True, False),
    )
    assert probe["error"] == pytest.approx(results["alpha_test_errors"]["1.0"], abs=1e-12)
    for bad in ("0.5", "3,3", "two"):
        with pytest.raises(AssertionError, match=f"--alpha takes numbers >= 1.*Received: --alpha {bad}"):
            run_fast("k_sparse_mnist.py", datasets_dir, tmp_path, *options, "--alpha", bad)
