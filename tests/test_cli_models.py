"""The keras-ae command line on the models with extra stages: VQ-VAE's learned prior and
codebook picture, DRAW's step pictures."""

import json

from tests.cli_case import TINY, run_commands


def test_vq_vae_trains_its_prior_and_plots_its_codebook(tmp_path):
    commands = [
        ["train", "vq_vae", *TINY, "--prior-epochs", "1", "--out", "runs/vq"],
        ["plot", "runs/vq"],
        ["export", "runs/vq", "--version", "1"],
        ["train", "vae", *TINY, "--prior-epochs", "1", "--out", "runs/bad"],
        ["train", "vq_vae", *TINY, "--prior-epochs", "1", "--out", "runs/vq"],
    ]
    (train, plot, export, bad, again), stderr = run_commands(commands, cwd=tmp_path)
    for output in (train, plot, export, again):
        assert output.rstrip().endswith("exit 0"), output + stderr
    assert "Training the prior over the codes for 1 epochs." in train
    # The same command on the finished run keeps its model and prior.
    assert "already trained to epoch 2" in again and "Training the prior" not in again
    run = tmp_path / "runs" / "vq"
    history = json.loads((run / "history.json").read_text())
    assert len(history["prior_loss"]) == 1 and len(history["val_prior_loss"]) == 1
    assert {p.stem for p in (run / "plots").glob("*.png")} == {
        "reconstructions",
        "samples",
        "codebook",
        "loss_curves",
    }
    import tensorflow as tf

    loaded = tf.saved_model.load(str(run / "saved_model" / "1"))
    assert "sample" in loaded.signatures and "sample_from_noise" not in loaded.signatures
    assert bad.rstrip().endswith("exit 2")
    assert "prior_epochs trains the learned prior of a discrete model (vq_vae); 'vae' has none" in stderr
    assert not (tmp_path / "runs" / "bad" / "model.keras").exists()


def test_draw_trains_and_plots_its_steps(tmp_path):
    params = ["--param", "steps=3", "--param", "read_size=2", "--param", "write_size=3"]
    commands = [
        [
            "train",
            "draw",
            "--split",
            "train[:128]",
            "--epochs",
            "1",
            "--latent-dim",
            "2",
            *params,
            "--out",
            "runs/d",
        ],
        ["plot", "runs/d"],
    ]
    (train, plot), stderr = run_commands(commands, cwd=tmp_path)
    for output in (train, plot):
        assert output.rstrip().endswith("exit 0"), output + stderr
    # The digits preset's dense widths do not reach DRAW, whose networks are LSTMs.
    config = json.loads((tmp_path / "runs" / "d" / "config.json").read_text())
    assert config["model_config"]["steps"] == 3 and "hidden_units" not in config["model_config"]
    expected = {"reconstructions", "samples", "generation_steps", "attention_steps", "loss_curves"}
    assert {p.stem for p in (tmp_path / "runs" / "d" / "plots").glob("*.png")} == expected
