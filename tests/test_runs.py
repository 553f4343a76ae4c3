"""Training runs: resolved config, resumable checkpoints, TensorBoard scalars, evaluate/plot/export."""

import glob
import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.runs import (
    RunCheckpoint,
    TrainingDivergedError,
    evaluate_run,
    export_run,
    load_run,
    plot_run,
    resolve_config,
    train_run,
)

TINY = {
    "dataset": "digits",
    "split": "train[:256]",
    "batch_size": 64,
    "latent_dim": 2,
    "hidden_units": [32],
    "learning_rate": 3e-3,
}
STEPS_PER_EPOCH = 256 // 64


class _InterruptAfter(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (as Ctrl-C would) at the end of an epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


class _RecordStart(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = [w.copy() for w in self.model.get_weights()]


def test_resolve_config_fills_defaults_presets_and_overrides():
    config = resolve_config(model="autoencoder", dataset="digits", epochs=3)
    assert config["model"] == "autoencoder" and config["epochs"] == 3
    assert config["likelihood"] == "gaussian" and config["latent_dim"] == 8  # the digits preset
    assert config["validation_split"] == "test"
    assert resolve_config(likelihood="bernoulli")["variance"] is None
    other = resolve_config(dataset="shapes32")
    assert other["likelihood"] == "bernoulli" and other["epochs"] == 10
    with pytest.raises(ValueError, match=r"Unknown model name. Expected one of \[.*'vae'.*\]"):
        resolve_config(model="vea")
    with pytest.raises(ValueError, match="epochs=0"):
        resolve_config(epochs=0)
    with pytest.raises(ValueError, match=r"Unknown run settings \['lr'\]"):
        resolve_config(lr=0.1)


@pytest.mark.parametrize(
    "split, message",
    [("valid", r"splits \['train', 'test'\]. Received: validation_split='valid'"),
     ("test[::2]", r"Argument `validation_split` must be .*Received: validation_split='test\[::2\]'")],
)  # fmt: skip
def test_a_bad_validation_split_is_named_before_training(tmp_path, split, message):
    with pytest.raises(ValueError, match=message):
        train_run(tmp_path / "run", epochs=1, verbose=0, **dict(TINY, validation_split=split))
    assert not (tmp_path / "run").exists()  # nothing written


def test_interrupted_training_resumes_from_its_checkpoint(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        train_run(out, epochs=4, verbose=0, callbacks=[_InterruptAfter(1)], **TINY)
    state = RunCheckpoint.load_state(out / "checkpoints")
    assert state["epoch"] == 2 and len(state["history"]["loss"]) == 2
    # The last two epochs' checkpoints (the default keep_checkpoints=2).
    assert sorted(os.listdir(out / "checkpoints")) == ["epoch_0001.keras", "epoch_0002.keras", "state.json"]
    saved = keras.models.load_model(state["path"])
    assert int(saved.train_step_count.numpy()) == 2 * STEPS_PER_EPOCH
    assert not (out / "model.keras").exists()

    start = _RecordStart()
    model, history = train_run(out, epochs=4, verbose=0, callbacks=[start], **TINY)
    # It continued from the checkpoint (same weights, same optimizer step count) ...
    for resumed, stored in zip(start.weights, saved.get_weights(), strict=True):
        np.testing.assert_array_equal(resumed, stored)
    # ... to the requested final epoch count, not 2 + 4.
    assert int(model.train_step_count.numpy()) == 4 * STEPS_PER_EPOCH
    assert int(model.optimizer.iterations.numpy()) == 4 * STEPS_PER_EPOCH
    assert len(history["loss"]) == 4 and history["loss"][:2] == state["history"]["loss"]
    assert json.loads((out / "history.json").read_text()) == history
    assert RunCheckpoint.load_state(out / "checkpoints")["epoch"] == 4

    # TensorBoard scalars of both sessions, one event file each, cover epochs 0..3.
    for split, prefix in (("train", ""), ("validation", "val_")):
        logged = {}
        for path in glob.glob(str(out / "logs" / split / "events.out.tfevents.*")):
            for event in tf.compat.v1.train.summary_iterator(path):
                for value in event.summary.value:
                    assert value.metadata.plugin_data.plugin_name == "scalars"
                    logged.setdefault(value.tag, {})[event.step] = float(tf.make_ndarray(value.tensor))
        for name in ("loss", "kl_loss", "reconstruction_loss", "elbo"):
            steps = logged[f"epoch_{name}"]
            assert sorted(steps) == [0, 1, 2, 3]
            np.testing.assert_allclose([steps[e] for e in range(4)], history[prefix + name], rtol=1e-6)

    # Running the finished command again trains nothing; a larger --epochs extends it.
    model, history = train_run(out, epochs=4, verbose=0, **TINY)
    assert int(model.train_step_count.numpy()) == 4 * STEPS_PER_EPOCH
    model, history = train_run(out, epochs=5, verbose=0, **TINY)
    assert int(model.train_step_count.numpy()) == 5 * STEPS_PER_EPOCH and len(history["loss"]) == 5
    config = json.loads((out / "config.json").read_text())
    assert config["epochs"] == 5 and config["hidden_units"] == [32] and config["split"] == "train[:256]"
    with pytest.raises(ValueError, match=r"other settings \(latent_dim: 2 -> 3\).*--restart"):
        train_run(out, epochs=5, verbose=0, **dict(TINY, latent_dim=3))


class _InterruptAtStep(keras.callbacks.Callback):
    """Raises KeyboardInterrupt after the step `step` (1-based) of epoch `epoch` (0-based)."""

    def __init__(self, epoch, step):
        super().__init__()
        self.epoch, self.step = epoch, step

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch + 1 == self.step:
            raise KeyboardInterrupt


def test_a_run_interrupted_mid_epoch_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    # 64 steps per epoch; callbacks run after every execution of 16 steps (keras-ae's
    # default steps_per_execution), so a checkpoint every 30 steps is taken at step 32 (the
    # first execution end at or past 30), none at step 48 (before 60).
    settings = dict(TINY, batch_size=4, likelihood="bernoulli", binarize="dynamic", epochs=3)
    settings.update(verbose=0, tensorboard=False)
    reference, reference_history = train_run(tmp_path / "whole", **settings)

    out = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train_run(out, save_every=30, callbacks=[_InterruptAtStep(epoch=1, step=48)], **settings)
    state = RunCheckpoint.load_state(out / "checkpoints")
    # Steps 33 to 48 of epoch 2 were trained but not saved: the run resumes after step 32.
    assert (state["epoch"], state["step"]) == (1, 32)
    assert sorted(os.listdir(out / "checkpoints")) == [
        "epoch_0001.keras",
        "epoch_0001_step_000032.keras",
        "state.json",
    ]
    # A copy whose mid-epoch checkpoint is then damaged resumes from epoch 1's end instead.
    damaged = tmp_path / "damaged"
    shutil.copytree(out, damaged)
    step_file = damaged / "checkpoints" / "epoch_0001_step_000032.keras"
    step_file.write_bytes(step_file.read_bytes()[:1000])

    model, history = train_run(out, save_every=30, **settings)
    assert int(model.optimizer.iterations.numpy()) == 3 * 64
    # Same batches, same noise (binarization and sampling), same optimizer state: the same
    # floating-point operations in the same order, so equal bit for bit.
    for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    # The resumed epoch's means include its steps before the interruption.
    assert history == reference_history
    # The mid-epoch checkpoint is gone once a later one is written; two epochs' are kept.
    assert sorted(os.listdir(out / "checkpoints")) == ["epoch_0002.keras", "epoch_0003.keras", "state.json"]

    with pytest.warns(RuntimeWarning, match=r"step_000032.keras is damaged.*epoch_0001.keras \(epoch 1\)"):
        model, history = train_run(damaged, save_every=30, **settings)
    for got, want in zip(model.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)
    # Resumed at the end of epoch 1, epoch 2 was trained again whole: the same history too.
    assert history == reference_history


def test_evaluate_plot_export_and_shape_errors(tmp_path, saved_figures):
    out = tmp_path / "run"
    train_run(out, epochs=1, verbose=0, **TINY)
    # --restart discards the VAE run (checkpoints, logs, results) and trains anew.
    model, history = train_run(
        out, epochs=1, verbose=0, restart=True, tensorboard=False, **dict(TINY, model="autoencoder")
    )
    assert model.registry_name == "autoencoder" and len(history["loss"]) == 1
    assert not (out / "logs").exists()
    metrics = evaluate_run(out)
    x_test = keras_ae_digits_test()
    expected = model.evaluate(x_test, batch_size=256, verbose=0, return_dict=True)
    assert metrics["loss"] == pytest.approx(float(expected["loss"]), rel=1e-5)
    assert json.loads((out / "metrics.json").read_text())["metrics"] == metrics

    saved_figures.clear()  # only the pictures of plot_run below
    paths = plot_run(out)
    # A plain autoencoder: no samples/manifold/traversals, but filters by default.
    assert list(paths) == ["reconstructions", "latent_scatter", "filters", "loss_curves"]
    assert all(os.path.getsize(p) > 1000 for p in paths.values())
    # What the pictures show, read back from their figures (saved in that order): the first
    # 10 examples above the run's model's reconstructions of them, and the logged loss.
    recons, _, _, curves = saved_figures
    shown = np.stack([np.asarray(ax.get_images()[0].get_array()) for ax in recons.axes])  # (20, 8, 8)
    expected = np.clip(model.reconstruct(shown[:10, ..., None])[..., 0], 0, 1)
    np.testing.assert_allclose(shown[10:], expected, rtol=1e-5, atol=1e-6)
    assert list(curves.axes[0].get_lines()[0].get_ydata()) == pytest.approx(history["loss"], rel=1e-6)
    with pytest.raises(ValueError, match="'samples' does not apply"):
        plot_run(out, kinds=["samples"])

    path = export_run(out, version=3)
    assert path == os.path.join(out, "saved_model", "3")
    reloaded = tf.saved_model.load(path)
    served = reloaded.signatures["serving_default"](x=tf.constant(x_test[:5]))
    np.testing.assert_allclose(next(iter(served.values())).numpy(), model.reconstruct(x_test[:5]), atol=1e-5)
    with pytest.raises(FileExistsError, match="overwrite"):
        export_run(out, version=3)

    with pytest.raises(
        ValueError, match=r"'shapes32' has examples of shape \(32, 32, 1\).*input_shape=\(8, 8, 1\)"
    ):
        evaluate_run(out, dataset="shapes32")
    with pytest.raises(FileNotFoundError, match="Not a run folder"):
        load_run(tmp_path)


def test_plot_run_leaves_out_the_manifold_of_a_one_latent_vae(tmp_path):
    # The manifold spans two latent dimensions: with one, keras-ae plot (and demo) drew the
    # others and then aborted on it.
    out = tmp_path / "run"
    train_run(out, epochs=1, verbose=0, tensorboard=False, **dict(TINY, latent_dim=1))
    paths = plot_run(out)
    assert "manifold" not in paths and {"samples", "traversals"} <= set(paths)
    with pytest.raises(ValueError, match="'manifold' does not apply"):
        plot_run(out, kinds=["manifold"])


def keras_ae_digits_test():
    from keras_ae.data import load_dataset

    return load_dataset("digits", "test", as_numpy=True)


def test_export_run_writes_the_serving_layout(tmp_path):
    out = tmp_path / "run"
    model, _ = train_run(out, epochs=1, verbose=0, tensorboard=False, **dict(TINY, validation_split="none"))
    path = export_run(out, version=1)
    assert path == os.path.join(out, "saved_model", "1")
    reloaded = tf.saved_model.load(path)
    assert "encode" in reloaded.signatures  # the serving layout's named signatures
    x = keras_ae_digits_test()[:4]
    served = reloaded.signatures["serving_default"](x=tf.constant(x))
    np.testing.assert_allclose(served["reconstruction"].numpy(), model.reconstruct(x), atol=1e-5)


class _Diverge(keras.callbacks.Callback):
    """Sets a learning rate far too high after the first epoch, as a bad schedule would."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            self.model.optimizer.learning_rate.assign(1e12)


def test_a_diverging_run_stops_with_a_message_and_keeps_its_last_good_checkpoint(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(TrainingDivergedError, match=r"diverged .*last good checkpoint, epoch 1") as caught:
        train_run(out, epochs=3, verbose=0, tensorboard=False, callbacks=[_Diverge()], **TINY)
    assert caught.value.state["epoch"] == 1
    # The checkpoint of epoch 1 loads with finite weights: the failing step was not applied.
    model = keras.models.load_model(caught.value.state["path"])
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert not (out / "model.keras").exists()


def test_a_damaged_checkpoint_is_detected_and_the_previous_one_used(tmp_path):
    # With the default keep_checkpoints (2) the epoch before the latest is still there.
    out = tmp_path / "run"
    train_run(out, epochs=2, verbose=0, tensorboard=False, **TINY)
    latest = out / "checkpoints" / "epoch_0002.keras"
    data = latest.read_bytes()
    latest.write_bytes(data[: len(data) // 2])  # a write cut short (disk full, kill, copy)
    with pytest.warns(RuntimeWarning, match=r"epoch_0002.keras is damaged.*epoch_0001.keras \(epoch 1\)"):
        model, history = train_run(out, epochs=3, verbose=0, tensorboard=False, **TINY)
    assert len(history["loss"]) == 3  # epochs 2 and 3 trained again after epoch 1
    assert int(model.optimizer.iterations.numpy()) == 3 * STEPS_PER_EPOCH
    assert RunCheckpoint.load_state(out / "checkpoints")["epoch"] == 3

    # With no intact checkpoint left, a clear error instead of a silent restart.
    for name in ("epoch_0002.keras", "epoch_0003.keras"):
        path = out / "checkpoints" / name
        if path.exists():
            path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ValueError, match="no older checkpoint is usable.*--restart"):
        RunCheckpoint.load_state(out / "checkpoints")
