"""The reproduction scripts without a file of their own (VQ-VAE, DRAW) in --fast mode, and the
preset writer they share.

Fast mode trains for a few seconds, so only the pipeline is checked here: the script
exits cleanly, prints our figure beside the paper's, and writes finite results. The VAE,
k-sparse, contractive and beta-VAE scripts have their own `test_*_script.py` files.
"""

from types import SimpleNamespace

import pytest

from tests.benchmarks.script_runner import finite, load_script_module, run_fast


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
