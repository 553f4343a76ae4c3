"""The keras-ae command line: end to end in subprocesses, quiet output, and clear errors."""

import json
import os
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae import cli
from tests.cli_case import NOISE, TINY, run_commands
from tests.conftest import REPO


def test_train_evaluate_export_plot_end_to_end(tmp_path):
    commands = [
        ["train", "vae", "--dataset", "digits", *TINY, "--out", "runs/tiny"],
        ["evaluate", "runs/tiny"],
        ["export", "runs/tiny", "--version", "1"],
        ["plot", "runs/tiny"],
    ]
    (train, evaluate, export, plot), stderr = run_commands(commands, cwd=tmp_path)
    for output in (train, evaluate, export, plot):
        assert output.rstrip().endswith("exit 0"), output + stderr
    # Quiet: no TensorFlow/absl log lines, warnings or tracebacks anywhere.
    for noise in NOISE:
        assert noise not in "".join((train, evaluate, export, plot)) + stderr, noise

    run = tmp_path / "runs" / "tiny"
    for name in ("config.json", "history.json", "model.keras", "checkpoints/state.json"):
        assert (run / name).is_file(), name
    assert list((run / "logs" / "train").iterdir())
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "vae" and config["epochs"] == 2 and config["latent_dim"] == 2
    assert "Epoch 2/2" in train and "━━" in train  # Keras' progress bar
    assert "Trained vae to epoch 2" in train

    assert evaluate.strip().splitlines()[-2] == "Wrote runs/tiny/metrics.json"
    metrics = json.loads(evaluate.strip().splitlines()[-3])
    assert set(metrics) == {"loss", "reconstruction_loss", "kl_loss", "elbo"}
    assert metrics["loss"] == pytest.approx(-metrics["elbo"], rel=1e-3)

    assert (run / "saved_model" / "1" / "saved_model.pb").is_file()

    expected = {"reconstructions", "samples", "traversals", "manifold", "latent_scatter", "loss_curves"}
    assert {p.stem for p in (run / "plots").glob("*.png")} == expected


def test_no_arguments_prints_help(capsys):
    assert cli.main([]) == 0
    text = capsys.readouterr().out
    for command in ("list", "train", "evaluate", "plot", "export", "prepare", "demo"):
        assert command in text


def test_list_names_models_datasets_and_presets(capsys):
    assert cli.main(["list"]) == 0
    text = capsys.readouterr().out
    for name in ("vae", "beta_vae", "autoencoder", "digits", "shapes", "mnist", "cifar10"):
        assert f"  {name} " in text
    presets = text.split("\nPresets")[1]
    for name in keras_ae.list_presets():
        card = keras_ae.preset_card(name)
        assert re.search(
            rf"\n  {name} +{card['model']} on .*, {card['training']['steps']:,} steps of batch", presets
        )


def test_export_writes_a_preset_for_serving_with_its_card(tmp_path, capsys):
    store = tmp_path / "store" / "vae_digits"
    argv = ["export", "--preset", "vae_digits", "--export-dir", str(store), "--version", "3"]
    assert cli.main(argv) == 0
    assert f"Exported {store / '3'}" in capsys.readouterr().out
    metadata = json.loads((store / "3" / "metadata.json").read_text())
    assert metadata["preset"] == keras_ae.preset_card("vae_digits") and metadata["model"] == "vae"
    # The served encoder is the preset's, element-wise.
    import tensorflow as tf

    model = keras_ae.from_preset("vae_digits")
    x = np.random.default_rng(0).uniform(size=(5, *model.data_shape)).astype("float32")
    served = tf.saved_model.load(str(store / "3")).signatures["encode"](x=tf.constant(x))
    np.testing.assert_allclose(
        served["z_mean"].numpy(), keras.ops.convert_to_numpy(model.encode(x)), atol=1e-6
    )
    assert cli.main(argv) == 2  # the version exists: nothing is replaced without --overwrite
    assert "Pass --overwrite" in capsys.readouterr().err
    for argv, message in (
        (["export"], "pass a RUN or --preset NAME, one of the two. Received: run=None, preset=None"),
        (["export", str(tmp_path), "--preset", "vae_digits"], "one of the two. Received: run="),
        (["export", "--preset", "vae_digits"], "--preset needs --export-dir"),
        (
            ["export", "--preset", "vae_mnsit"],
            "unknown preset 'vae_mnsit'; expected one of beta_vae_dsprites",
        ),
    ):
        with pytest.raises(SystemExit) as info:
            cli.main(argv)
        assert info.value.code == 2 and message in capsys.readouterr().err, argv


def test_train_defaults_are_the_vae_on_digits():
    args = cli.build_parser().parse_args(["train"])
    settings = {k: v for k, v in cli._train_settings(args).items() if v is not None}
    assert settings == {}  # every setting comes from the run defaults ...
    assert cli._run_name(args) == os.path.join("runs", "vae_digits")
    from keras_ae.runs import resolve_config

    config = resolve_config(**cli._train_settings(args))  # ... which are a VAE on digits
    assert (config["model"], config["dataset"], config["epochs"]) == ("vae", "digits", 60)


def test_bad_inputs_give_clear_errors(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:  # refused while parsing, before TensorFlow
        cli.main(["train", "vea", "--out", str(tmp_path / "a")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "unknown model 'vea'; expected one of" in err and "vae" in err
    assert cli.main(["train", "--dataset", "minst", "--out", str(tmp_path / "b")]) == 2
    err = capsys.readouterr().err
    assert "Unknown dataset. Expected one of [" in err and "'digits'" in err and "'minst'" in err
    assert cli.main(["evaluate", str(tmp_path)]) == 2
    assert "Not a run folder" in capsys.readouterr().err
    for argv, message in (
        (["evaluate", str(tmp_path / "missing")], "does not exist"),
        (["plot", str(tmp_path), "--kinds", "recons"], "unknown plot kinds ['recons']"),
        (["prepare", "mnist", "--from", str(tmp_path / "nowhere")], "does not exist"),
    ):
        with pytest.raises(SystemExit):
            cli.main(argv)
        assert message in capsys.readouterr().err, argv
    assert cli.main(["train", "beta_vae", "--param", "bta=2", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert "Unknown --param bta for model 'beta_vae'" in err and "'beta'" in err
    assert not (tmp_path / "c").exists()  # refused before any data or model
    assert cli.main(["prepare", "mnist", "--from", str(tmp_path), "--data-dir", str(tmp_path / "tfds")]) == 2
    assert "lacks" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["train", "--param", "beta"])  # argparse: KEY=VALUE expected
    assert "expected KEY=VALUE" in capsys.readouterr().err


def test_each_command_in_its_own_process_like_make_demo(tmp_path):
    # Every command a fresh console-script process: evaluate, plot and export load models the
    # process has not imported yet.
    commands = [
        [
            "train",
            "vae",
            "--dataset",
            "digits",
            *TINY,
            "--epochs",
            "1",
            "--out",
            "runs/tiny",
            "--verbose",
            "0",
        ],
        ["evaluate", "runs/tiny"],
        ["plot", "runs/tiny", "--kinds", "samples"],
        ["export", "runs/tiny", "--version", "1"],
    ]
    for argv in commands:
        (output,), stderr = run_commands([argv], cwd=tmp_path)
        assert output.rstrip().endswith("exit 0"), output + stderr
    assert (tmp_path / "runs" / "tiny" / "saved_model" / "1" / "saved_model.pb").is_file()


def test_help_list_and_bad_names_answer_without_importing_tensorflow():
    # As the console script starts (argv[0] is `keras-ae`): nothing heavy is imported.
    script = (
        "import sys\n"
        "sys.argv = ['keras-ae']\n"
        "from keras_ae.cli import main\n"
        "assert main(['list']) == 0\n"
        "for argv in (['train', 'vea'], ['export', '--preset', 'nope']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit as e:\n"
        "        assert e.code == 2\n"
        "print('tensorflow imported:', 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    assert "tensorflow imported: False False" in result.stdout


def test_describe_lists_parameters_with_defaults_and_help(capsys):
    assert cli.main(["describe", "beta_vae"]) == 0
    text = capsys.readouterr().out
    assert "beta (default 4.0)" in text and "KL weight" in text
    assert "elbo_samples (default 1)" in text  # inherited from the VAE
    assert "latent_dim [--latent-dim]" in text  # from the base, with its flag
    # Flag parameters show what `train` passes (run defaults, digits preset), not the constructor's.
    assert "latent_dim [--latent-dim] (set by train: default 16, 8 on digits)" in text
    assert "likelihood [--likelihood] (set by train: default 'bernoulli', 'gaussian' with --variance" in text
    assert "seed [--seed] (set by train: default 0)" in text
    assert "input_shape (set by train: the dataset's example shape)" in text  # not a --param
    assert cli.main(["list", "vae"]) == 0
    assert "elbo_samples (default 1)" in capsys.readouterr().out


def test_interrupt_tells_how_to_resume(monkeypatch, capsys, tmp_path):
    import keras_ae.runs

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(keras_ae.runs, "train_run", interrupted)
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--out", str(tmp_path / "run")])
    assert info.value.code == 130
    assert "Run the same command to resume" in capsys.readouterr().err


def test_params_reach_the_model(tmp_path, capsys):
    out = tmp_path / "bvae"
    argv = ["train", "beta_vae", "--dataset", "digits", *TINY, "--epochs", "1", "--param", "beta=2.5"]
    assert cli.main([*argv, "--out", str(out), "--verbose", "0", "--no-tensorboard"]) == 0
    from keras_ae.runs import load_run

    model, config = load_run(out)
    assert model.beta == 2.5 and config["params"] == {"beta": 2.5}
    assert not (out / "logs").exists()


def test_demo_command_trains_evaluates_plots_and_exports(tmp_path, capsys):
    out = tmp_path / "demo"
    argv = ["demo", *TINY, "--epochs", "1", "--out", str(out), "--verbose", "0", "--no-tensorboard"]
    assert cli.main(argv) == 0
    text = capsys.readouterr().out
    assert "Metrics on test:" in text and "Exported" in text
    assert (out / "model.keras").is_file() and (out / "metrics.json").is_file()
    assert (out / "plots" / "samples.png").is_file() and (out / "plots" / "manifold.png").is_file()
    assert (out / "saved_model" / "1" / "saved_model.pb").is_file()
