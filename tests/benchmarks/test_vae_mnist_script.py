"""benchmarks/reproduce/vae_mnist_nll.py: its fast mode end to end, its preset, and its schedule."""

import pytest

from tests.benchmarks.script_runner import SCRIPTS, finite, load_script_module, run_fast


def test_vae_mnist_nll_fast(datasets_dir, tmp_path):
    preset = tmp_path / "vae_mnist_fast"
    results, stdout = run_fast("vae_mnist_nll.py", datasets_dir, tmp_path, "--save-preset", str(preset))
    assert "86.76" in stdout
    # The preset it saved: the card records this command and this run's figures, and its
    # check figure recomputes.
    import numpy as np

    import keras_ae
    from keras_ae.data import load_dataset
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
    # Active units recomputed from the saved model (Burda et al.: the variance over the test
    # images of a unit's posterior mean above 1e-2), on the 500 fast-mode test images binarized
    # once with the script's seed 123. After 20 steps none has collapsed yet: all 50.
    x_test = load_dataset(str(datasets_dir / "mnist"), "test[:500]", as_numpy=True, flatten=True)
    x_test = (np.random.default_rng(123).uniform(size=x_test.shape) < x_test).astype("float32")
    means = keras_ae.from_preset(preset).encoder.predict(x_test, verbose=0)[0].astype("float64")
    assert results["active_units"] == int((means.var(axis=0) > 1e-2).sum())

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
    import tensorflow as tf

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

        @tf.function  # thousands of updates: eager ones took 80 s, traced ones take 2
        def update():
            rate = optimizer.learning_rate  # ordered before the update by tf.function
            optimizer.apply([tf.ones(1)], [variable])
            return rate

        return np.array([float(update()) for _ in range(num_steps)])

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


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--k", "0"], "--k must be 1 or more importance samples. Received: 0"),
        # The standard error (ddof=1) of one image's L_k would be NaN.
        (["--fast", "--nll-examples", "1"], "--nll-examples must be 2 or more test images. Received: 1"),
    ],
)
def test_bad_estimate_sizes_are_refused_before_training(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        load_script_module("vae_mnist_nll").main(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err
