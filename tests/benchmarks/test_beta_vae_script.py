"""benchmarks/reproduce/beta_vae_dsprites.py: fast mode end to end, its preset, its seeds, its errors."""

import pytest

from tests.benchmarks.script_runner import run_fast


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
    # Both scores classify which of the 5 factors a batch held fixed: chance is 1/5. The
    # untrained encoder's codes land near it (0.15 on these 100 eval points; no dimension
    # varies enough for the FactorVAE score's majority vote, which then scores 0); 20 steps
    # of training lift both scores to 0.3-0.45, above chance and the untrained encoder.
    untrained = results["untrained_encoder"]
    assert untrained["beta_vae_score"]["eval_accuracy"] < 0.2 + 0.1
    for beta, scores in results["per_beta"].items():
        assert scores["beta_vae_score"]["eval_accuracy"] > 0.2 + 0.05, beta
        assert scores["beta_vae_score"]["eval_accuracy"] > untrained["beta_vae_score"]["eval_accuracy"] + 0.1
        assert scores["factor_vae_score"]["eval_accuracy"] > 0.2 + 0.05, beta
        # MIG is the mean over the factors of each factor's gap.
        gaps = scores["mig_per_factor"]
        assert set(gaps) == {"shape", "scale", "orientation", "posX", "posY"}
        assert scores["mig"] == pytest.approx(sum(gaps.values()) / 5, rel=1e-9), beta
    # The best model's scores recomputed from its saved preset: the posterior means of every
    # dSprites image, scored with the run's metric sizes and the model's seed.
    recomputed = _scores_of_the_preset(preset, npz, results["arguments"], int(seed))
    assert recomputed["beta_vae_score"]["eval_accuracy"] == best_scores["beta_vae_score"]["eval_accuracy"]
    assert recomputed["factor_vae_score"]["eval_accuracy"] == best_scores["factor_vae_score"]["eval_accuracy"]
    assert recomputed["mig"] == pytest.approx(best_scores["mig"], rel=1e-6)


def _scores_of_the_preset(preset, npz, arguments, seed):
    import tensorflow as tf

    import keras_ae
    from keras_ae.data import load_dsprites
    from keras_ae.evaluation import (
        ArrayGroundTruthData,
        beta_vae_score,
        factor_vae_score,
        mutual_information_gap,
    )

    data = load_dsprites(npz.parent, subset="downsampled")
    # Batches of 1,024 cast to float32 one at a time, as the script feeds its encoder.
    grid = (
        tf.data.Dataset.from_tensor_slices(data.observations)
        .batch(1024)
        .map(lambda b: tf.cast(b, tf.float32))
    )
    codes = keras_ae.from_preset(preset).encoder.predict(grid, verbose=0)[0]
    coded = ArrayGroundTruthData(data.factors, codes, data.factor_sizes, data.factor_names)
    n_train, n_eval, batch = arguments["metric_train"], arguments["metric_eval"], arguments["metric_batch"]
    sizes = {"num_train": n_train, "num_eval": n_eval, "batch_size": batch}
    return {
        "beta_vae_score": beta_vae_score(coded, None, random_state=seed, **sizes),
        "factor_vae_score": factor_vae_score(
            coded, None, num_variance_estimate=n_train, random_state=seed, **sizes
        ),
        "mig": mutual_information_gap(coded, None, num_train=n_train, random_state=seed)["mig"],
    }


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


def test_beta_vae_dsprites_rejects_bad_arguments(datasets_dir, tmp_path):
    with pytest.raises(AssertionError, match="--steps must be a positive number.*Received: 0"):
        run_fast("beta_vae_dsprites.py", datasets_dir, tmp_path, "--steps", "0")
    with pytest.raises(AssertionError, match="--capacity-steps must be a positive number.*Received: -5"):
        run_fast("beta_vae_dsprites.py", datasets_dir, tmp_path, "--capacity", "--capacity-steps", "-5")
