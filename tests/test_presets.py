"""Presets: the trained models shipped with keras-ae load, carry complete cards, and still
measure what their cards say."""

import os

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.presets import (
    PRESETS_DIR,
    check_preset,
    check_preset_size,
    list_presets,
    preset_card,
    save_preset,
)

# The presets issue #17 asks for.
REQUIRED = {"vae_digits", "vae_mnist", "k_sparse_mnist", "contractive_mnist", "beta_vae_dsprites"}
# dataset name -> what `load_dataset` reads under $KERAS_AE_DATASETS
LOCAL_SOURCES = {"mnist": "mnist", "dsprites_downsampled.npz": "dsprites/dsprites_downsampled.npz"}


def test_the_required_presets_are_shipped():
    assert set(list_presets()) >= REQUIRED


@pytest.mark.parametrize("name", list_presets())
def test_preset_loads_with_a_complete_card_and_measures_its_card_figure(name, datasets_dir):
    card = preset_card(name)
    assert card["name"] == name
    for key in ("summary", "data", "training", "figures", "check"):
        assert card[key], key
    training = card["training"]
    assert training["command"].startswith("python benchmarks/reproduce/")
    assert training["epochs"] >= 1 and training["steps"] >= training["epochs"]
    assert training["wall_time_minutes"] > 0 and training["machine"] and training["date"]
    folder = os.path.join(PRESETS_DIR, name)
    # Exactly what setup.py's package_data ships, within 5 MB.
    assert sorted(os.listdir(folder)) == ["card.json", "config.json", "model.weights.h5"]
    assert sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)) <= 5 * 2**20

    model = keras_ae.from_preset(name)
    assert model.registry_name == card["model"]
    for got, want in zip(type(model).from_preset(name).get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)  # the class's own from_preset: the same weights
    # No weight is left at its initial value: the weights are the trained ones.
    fresh = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    for trained, initial in zip(model.get_weights(), fresh.get_weights(), strict=True):
        if initial.size > 1 and initial.std() > 0:
            assert not np.array_equal(trained, initial)

    dataset = card["check"]["dataset"]
    source = datasets_dir / LOCAL_SOURCES[dataset] if dataset in LOCAL_SOURCES else None
    measured, expected, tolerance = check_preset(name, source=source)
    assert abs(measured - expected) <= tolerance, (measured, expected, tolerance)


def test_unknown_presets_and_wrong_classes_are_refused_by_name():
    with pytest.raises(ValueError, match=r"Expected one of \[.*'vae_digits'.*\].*Received: name='vae_mnsit'"):
        keras_ae.from_preset("vae_mnsit")
    with pytest.raises(ValueError, match="Received: name=3"):
        preset_card(3)
    with pytest.raises(ValueError, match=r"'vae_digits' holds a VAE, not a KSparseAutoencoder"):
        keras_ae.KSparseAutoencoder.from_preset("vae_digits")


def test_save_preset_writes_a_preset_that_loads_and_checks(tmp_path, monkeypatch):
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("autoencoder", input_shape=(8, 8, 1), latent_dim=3, hidden_units=[16])
    model.compile(optimizer="adam")
    x = keras_ae.data.load_dataset("digits", "train[:128]", as_numpy=True)
    model.fit(x, epochs=2, batch_size=32, verbose=0)
    card = {
        "summary": "a test",
        "data": {"dataset": "digits"},
        "training": dict.fromkeys(("command", "epochs", "steps", "batch_size", "wall_time_minutes"), 1)
        | {"machine": "here", "date": "today"},
        "figures": {},
        "check": {"figure": "loss", "dataset": "digits", "split": "test", "examples": 100, "tolerance": 1e-4},
    }
    written = save_preset(model, tmp_path / "tiny", card)
    assert written["name"] == "tiny" and written["model"] == "autoencoder"
    # The card's value is the figure of the written preset: the model's own evaluate.
    x_test = keras_ae.data.load_dataset("digits", "test[:100]", as_numpy=True)
    expected = model.evaluate(x_test, batch_size=250, verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(written["check"]["value"], expected, rtol=1e-5)
    measured, value, tolerance = check_preset(tmp_path / "tiny")
    assert abs(measured - value) <= tolerance
    for got, want in zip(
        keras_ae.from_preset(tmp_path / "tiny").get_weights(), model.get_weights(), strict=True
    ):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"lacks \['figures'"):
        save_preset(model, tmp_path / "bad", {k: v for k, v in card.items() if k != "figures"})
    # A relative folder named like a shipped preset is checked as itself, not as the shipped
    # one (whose figure would land in this card).
    monkeypatch.chdir(tmp_path)
    assert "vae_digits" in keras_ae.list_presets()
    written = save_preset(model, "vae_digits", card)
    np.testing.assert_allclose(written["check"]["value"], expected, rtol=1e-5)


def test_a_model_too_large_for_a_preset_is_refused_before_anything_is_written(tmp_path):
    # A tied 784-2000 autoencoder: 784 * 2000 + 2000 + 784 float32 weights, 5.99 MB.
    model = keras_ae.create_model(
        "contractive_autoencoder", input_shape=(784,), latent_dim=2000, hidden_units=(), tied_weights=True
    )
    with pytest.raises(
        ValueError, match=r"under 5 MB. Received: a ContractiveAutoencoder whose weights alone hold 6.0 MB"
    ):
        check_preset_size(model)
    with pytest.raises(ValueError, match="whose weights alone hold 6.0 MB"):
        save_preset(model, tmp_path / "large", {})
    assert not (tmp_path / "large").exists()
    small = keras_ae.create_model(
        "contractive_autoencoder", input_shape=(784,), latent_dim=1000, hidden_units=(), tied_weights=True
    )
    # The float32 weights and the int64 count of training steps.
    assert check_preset_size(small) == (784 * 1000 + 1000 + 784) * 4 + 8
    assert [v.name for v in small.weights if v.dtype == "int64"] == ["train_step_count"]
