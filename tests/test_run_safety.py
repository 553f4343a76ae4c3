"""What a run keeps when things go wrong: a half-written final model, a --restart whose new
settings fail, and bad run settings refused by name before anything is touched."""

import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_ae.runs import load_run, resolve_config, train_run
from tests.test_runs import TINY


def test_a_damaged_final_model_is_rebuilt_from_the_checkpoint_on_rerun(tmp_path):
    out = tmp_path / "run"
    model, _ = train_run(out, epochs=1, verbose=0, tensorboard=False, **TINY)
    final = out / "model.keras"
    assert final.is_file() and not (out / "partial_model.keras").exists()  # renamed into place
    expected = [w.copy() for w in model.get_weights()]
    final.write_bytes(final.read_bytes()[:200])  # a save cut short (an older copy, a disk error)
    # The same command sees a finished run with an unusable model.keras: it reloads the
    # last checkpoint (the same weights) and writes model.keras again.
    model, history = train_run(out, epochs=1, verbose=0, tensorboard=False, **TINY)
    assert len(history["loss"]) == 1
    reloaded, _ = load_run(out)
    for a, b in zip(reloaded.get_weights(), expected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_restart_with_bad_settings_keeps_the_old_run(tmp_path):
    out = tmp_path / "run"
    train_run(out, epochs=1, verbose=0, tensorboard=False, **TINY)
    before = sorted(os.listdir(out))
    with pytest.raises(ValueError, match="no_such_dataset"):
        train_run(out, epochs=1, verbose=0, restart=True, **dict(TINY, dataset="no_such_dataset"))
    assert sorted(os.listdir(out)) == before and (out / "model.keras").is_file()
    assert (out / "checkpoints" / "epoch_0001.keras").is_file()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"learning_rate": -1e-3},
            r"`learning_rate` must be a finite number > 0. Received: learning_rate=-0.001",
        ),
        ({"learning_rate": 0}, "learning_rate=0"),
        ({"learning_rate": float("nan")}, "learning_rate=nan"),
        ({"seed": -1}, r"`seed` must be an int in \[0, 4294967295\]. Received: seed=-1"),
    ],
)
def test_bad_learning_rates_and_seeds_are_refused_by_name(override, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(**dict(TINY, **override))


def test_a_dataset_with_float_targets_trains_and_plots_without_labels(tmp_path):
    # A regression target is not a class label: the images train as unlabelled ones, and
    # plot leaves out only the picture that needs classes (the latent scatter).
    from keras_ae.data import load_dataset
    from keras_ae.runs import plot_run

    x = load_dataset("digits", "train[:256]", as_numpy=True)
    np.savez(tmp_path / "regression.npz", x=x, y=np.linspace(0.0, 1.0, len(x)))
    settings = dict(TINY, dataset=str(tmp_path / "regression.npz"), split="train", validation_split="none")
    train_run(tmp_path / "run", epochs=1, verbose=0, tensorboard=False, **settings)
    written = plot_run(tmp_path / "run")
    assert "reconstructions" in written and "latent_scatter" not in written


def test_dataset_paths_are_compared_as_paths_and_names_as_names():
    from keras_ae.runs.tasks import _same_dataset

    assert _same_dataset("data/x.npz", "./data/x.npz") and _same_dataset("data/x.npz", "data//x.npz")
    assert not _same_dataset("mnist", "./mnist")  # tfds' mnist is no IDX folder named mnist
    assert _same_dataset("mnist", "mnist") and not _same_dataset("tfds:mnist", "mnist")


def test_a_likelihood_config_in_params_stands_in_for_the_likelihood_settings():
    # The one route to a learned variance from the command line (--param likelihood=...).
    from keras_ae.runs.config import build_model

    params = {"likelihood": {"name": "gaussian", "variance": 0.2, "learn_variance": True}}
    config = resolve_config(**dict(TINY, params=params))
    assert (config["likelihood"], config["variance"]) == ("gaussian", None)
    model = build_model(config, (64,))
    assert model.likelihood.learn_variance and model.likelihood.variance == pytest.approx(0.2)
    # Beside a likelihood or variance setting it would override one of them: refused.
    for setting in ({"likelihood": "gaussian"}, {"likelihood": "gaussian", "variance": 0.1}):
        with pytest.raises(ValueError, match=r"`params` holds likelihood, which the run sets itself"):
            resolve_config(**dict(TINY, params=params, **setting))


def test_evaluate_defaults_to_test_else_the_runs_validation_split(tmp_path):
    from keras_ae.data import load_dataset
    from keras_ae.runs import evaluate_run

    x = load_dataset("digits", "train[:256]", as_numpy=True)
    np.savez(tmp_path / "only_x.npz", x=x)  # one split: no test images
    out = tmp_path / "run"
    settings = dict(
        TINY, dataset=str(tmp_path / "only_x.npz"), split="train[:192]", validation_split="train[192:]"
    )
    model, _ = train_run(out, epochs=1, verbose=0, tensorboard=False, **settings)
    metrics = evaluate_run(out)
    expected = model.evaluate(x[192:], batch_size=256, verbose=0, return_dict=True)
    assert metrics["loss"] == pytest.approx(float(expected["loss"]), rel=1e-5)
    with open(out / "metrics.json") as f:
        assert json.load(f)["split"] == "train[192:]"
    assert evaluate_run(tmp_path / "run", split="train[:64]")["loss"] != metrics["loss"]


def test_evaluate_scores_the_runs_own_binarized_validation_images(tmp_path, monkeypatch):
    # A run binarized with --seed 3 validates on the sample seed 3 fixes; evaluate must score
    # that sample (it used seed 0), and `./path` names the run's `path` dataset.
    from keras_ae.data import load_dataset
    from keras_ae.runs import evaluate_run

    x = load_dataset("digits", "train[:256]", as_numpy=True)
    np.savez(tmp_path / "only_x.npz", x=x)
    monkeypatch.chdir(tmp_path)
    settings = dict(
        TINY,
        dataset="only_x.npz",
        split="train[:192]",
        validation_split="train[192:]",
        binarize="dynamic",
        likelihood="bernoulli",
        seed=3,
    )
    _, history = train_run("run", epochs=1, verbose=0, tensorboard=False, **settings)
    for dataset in (None, "./only_x.npz"):
        metrics = evaluate_run("run", dataset=dataset)
        assert metrics["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5), dataset
    # Another seed's sample scores differently: the check above can tell the seeds apart.
    other = load_dataset("only_x.npz", "train[192:]", batch_size=256, binarize="static", shuffle=False)
    model, _ = load_run("run")
    assert float(model.evaluate(other, verbose=0, return_dict=True)["loss"]) != pytest.approx(
        history["val_loss"][-1], rel=1e-3
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"likelihood": "bernoulli"}, r"likelihood='bernoulli' needs inputs in \[0, 1\].*max=255.0"),
        (
            {"likelihood": "bernoulli", "binarize": "dynamic"},
            r"binarize='dynamic' needs intensities in \[0, 1\].*Received: source='.*f255.npz' with values in "
            r"\[0, 255\]",
        ),
    ],
)
def test_float_images_in_0_255_are_refused_before_a_restart_clears_the_run(tmp_path, settings, message):
    # Floats are used as they are: 0..255 ones trained a Bernoulli model on targets above 1
    # silently, and with binarize failed inside fit, after --restart had cleared the run.
    from keras_ae.data import load_dataset

    np.savez(tmp_path / "f255.npz", x=load_dataset("digits", "train[:256]", as_numpy=True) * 255.0)
    out = tmp_path / "run"
    train_run(out, epochs=1, verbose=0, tensorboard=False, **TINY)
    before = sorted(os.listdir(out))
    bad = dict(TINY, dataset=str(tmp_path / "f255.npz"), split="train", validation_split="none", **settings)
    with pytest.raises(ValueError, match=message):
        train_run(out, epochs=1, verbose=0, tensorboard=False, restart=True, **bad)
    assert sorted(os.listdir(out)) == before and (out / "model.keras").is_file()


def test_a_tfds_dataset_of_float_images_is_checked_by_its_first_batch(monkeypatch):
    # tfds images are uint8, but a float image feature's range is known only batch by
    # batch: the pipeline checks each batch, and a run reads its first batch's check.
    import tensorflow as tf

    from keras_ae.data import load_dataset
    from keras_ae.data.sources import Source
    from keras_ae.losses.likelihoods import get_likelihood
    from keras_ae.runs.training_data import check_first_batch

    images = np.linspace(0.0, 255.0, 4 * 3, dtype="float32").reshape(4, 3)
    labels = np.full(4, -1, "int64")
    floats = Source(tf.data.Dataset.from_tensor_slices((images, labels)), None, 1.0, False, "tfds:floats")
    monkeypatch.setattr("keras_ae.data.pipeline.resolve_source", lambda *args, **kwargs: floats)
    pipeline = load_dataset("tfds:floats", binarize="static", batch_size=2)
    with pytest.raises(
        ValueError,
        match=r"^binarize='static' needs intensities in \[0, 1\]; float images are not rescaled.*min and "
        r"max [\d.]+ [\d.]+ \(dataset='tfds:floats'\)$",
    ):
        check_first_batch(pipeline, {"dataset": "tfds:floats"}, get_likelihood("bernoulli"))
    # In range, the same batch passes.
    floats = Source(
        tf.data.Dataset.from_tensor_slices((images / 255, labels)), None, 1.0, False, "tfds:floats"
    )
    check_first_batch(
        load_dataset("tfds:floats", binarize="static", batch_size=2),
        {"dataset": "x"},
        get_likelihood("bernoulli"),
    )


@pytest.mark.parametrize(
    "config",
    [
        '{"lr": 0.1}',
        '{"model": "resnet50", "dataset": "imagenet"}',  # a project's, with the same keys
        '{"model": ',  # cut short
    ],
)
def test_a_restart_in_a_folder_that_is_not_a_run_deletes_nothing(tmp_path, capsys, config):
    # `--out .` with --restart in a project folder must not delete its logs/ or checkpoints/.
    out = tmp_path / "project"
    (out / "logs").mkdir(parents=True)
    (out / "logs" / "notes.txt").write_text("mine")
    (out / "model.keras").write_bytes(b"a user's model")
    (out / "config.json").write_text(config)  # a config, but not a run's
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    with pytest.raises(
        ValueError, match=r"is not a keras-ae run folder.*holds config.json, logs, model.keras"
    ):
        train_run(out, epochs=1, verbose=0, tensorboard=False, restart=True, **TINY)
    from keras_ae import cli

    assert cli.main(["train", "--out", str(out), "--restart", "--epochs", "1"]) == 2
    assert "nothing was deleted" in capsys.readouterr().err
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before


def test_a_restart_fills_a_folder_that_holds_none_of_a_runs_names(tmp_path):
    # An empty folder, or one that holds none of a run's names, is a new run's to fill.
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("kept")
    train_run(tmp_path / "empty", epochs=1, verbose=0, tensorboard=False, restart=True, **TINY)
    assert (tmp_path / "empty" / "model.keras").is_file()
    assert (tmp_path / "empty" / "notes.txt").read_text() == "kept"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"keep_checkpoints": 0}, r"`keep_checkpoints` must be an int >= 1. Received: keep_checkpoints=0"),
        ({"restart": "false"}, r"`restart` must be a bool. Received: restart='false'"),
        ({"prior_epochs": 3}, r"prior_epochs trains the learned prior.*Received: prior_epochs=3"),
    ],
)
def test_a_restart_refused_for_its_own_arguments_keeps_the_old_run(tmp_path, arguments, message):
    out = tmp_path / "run"
    train_run(out, epochs=1, verbose=0, tensorboard=False, **TINY)
    before = {name: (out / name).read_bytes() for name in ("model.keras", "config.json", "history.json")}
    arguments = {"restart": True, **arguments}
    with pytest.raises(ValueError, match=message):
        train_run(out, epochs=1, verbose=0, tensorboard=False, **arguments, **TINY)
    assert {name: (out / name).read_bytes() for name in before} == before
    assert (out / "checkpoints" / "epoch_0001.keras").is_file()


def test_fewer_epochs_than_a_mid_epoch_checkpoint_give_the_last_whole_epochs_model(tmp_path):
    from tests.test_runs import _InterruptAtStep

    settings = dict(TINY, batch_size=4, verbose=0, tensorboard=False)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_run(out, epochs=3, save_every=30, callbacks=[_InterruptAtStep(epoch=1, step=48)], **settings)
    # The run stands 32 steps into epoch 2; asking for 1 epoch trains nothing and keeps the
    # model of epoch 1, not the part-trained one of the mid-epoch checkpoint.
    model, history = train_run(out, epochs=1, **settings)
    assert int(model.optimizer.iterations.numpy()) == 64 and len(history["loss"]) == 1
    epoch_one = keras.models.load_model(out / "checkpoints" / "epoch_0001.keras")
    for got, want in zip(load_run(out)[0].get_weights(), epoch_one.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    assert json.loads((out / "config.json").read_text())["epochs"] == 1
    # The mid-epoch checkpoint is still there: asking for 3 epochs resumes from it.
    model, history = train_run(out, epochs=3, save_every=30, **settings)
    assert int(model.optimizer.iterations.numpy()) == 3 * 64 and len(history["loss"]) == 3
    # A lower count afterwards leaves the recorded epochs at what the model has.
    train_run(out, epochs=2, **settings)
    assert json.loads((out / "config.json").read_text())["epochs"] == 3


def test_a_finished_run_whose_checkpoints_were_deleted_is_not_trained_again(tmp_path):
    out = tmp_path / "run"
    model, history = train_run(out, epochs=2, verbose=0, tensorboard=False, **TINY)
    weights = [w.copy() for w in model.get_weights()]
    shutil.rmtree(out / "checkpoints")  # to save disk space, say
    model, again = train_run(out, epochs=2, verbose=0, tensorboard=False, **TINY)
    assert again == history
    for got, want in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"trained for 2 epochs but no checkpoints/.*--restart.*epochs=3"):
        train_run(out, epochs=3, verbose=0, tensorboard=False, **TINY)
    assert (out / "model.keras").is_file()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"likelihood": "bernoulli", "variance": 0.1}, r"Received: variance=0.1 with likelihood='bernoulli'"),
        (
            {"hidden_units": [256.7]},
            r"`hidden_units\[0\]` must be an int >= 1. Received: hidden_units\[0\]=256.7",
        ),
        ({"hidden_units": [True]}, r"hidden_units\[0\]=True"),
        ({"hidden_units": 32}, r"`hidden_units` must be a list of layer widths.*Received: hidden_units=32"),
        # A model argument in `params` that a run setting sets would win silently over it.
        (
            {"latent_dim": 8, "params": {"latent_dim": 4, "beta": 2}},
            r"`params` holds latent_dim, which the run sets itself.*Received: params=\{'latent_dim': 4",
        ),
        ({"params": {"seed": 5, "likelihood": "mse"}}, r"`params` holds likelihood, seed, which the run"),
        ({"params": {"input_shape": [8, 8, 1]}}, r"`params` holds input_shape, which the run sets itself"),
        # numpy's seed takes 32 bits: a larger one failed later without naming `seed`.
        ({"seed": 2**32}, r"`seed` must be an int in \[0, 4294967295\]. Received: seed=4294967296"),
        (
            {"validation_split": ""},
            r"`validation_split` must name a split, or be 'none'.*Received: validation_split=''",
        ),
    ],
)
def test_settings_that_would_be_ignored_or_rounded_are_refused_by_name(override, message):
    with pytest.raises(ValueError, match=message):
        resolve_config(**dict(TINY, **override))


def test_a_truncated_state_file_is_named_in_the_error(tmp_path):
    out = tmp_path / "run"
    train_run(out, epochs=1, verbose=0, tensorboard=False, **TINY)
    (out / "checkpoints" / "state.json").write_text("")  # cut short by a lost machine
    with pytest.raises(ValueError, match=r"checkpoints/state.json is not valid JSON"):
        train_run(out, epochs=2, verbose=0, tensorboard=False, **TINY)
