"""The denoising autoencoder corrupts in train_step and scores against the clean input."""

import json

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import get_noise_layer
from keras_ae.losses import bernoulli_nll

KW = {"input_shape": (30,), "latent_dim": 4, "hidden_units": (16,)}


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).uniform(size=(32, 30)).astype("float32")


@pytest.mark.parametrize(("noise", "level"), [("masking", 0.5), ("gaussian", 0.3), ("salt_and_pepper", 0.4)])
def test_training_loss_is_the_corrupted_reconstruction_of_the_clean_input(data, noise, level):
    # Seeded weights: with some random inits the untrained network's output hardly depends
    # on its input, and the clean and corrupted losses below would agree to 1e-4.
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("denoising_autoencoder", noise=noise, noise_level=level, seed=11, **KW)
    model.compile(optimizer=keras.optimizers.SGD(0.0))  # measure the step without moving
    logs = model.train_on_batch(data, return_dict=True)
    # The same seeded layer reproduces the step's corruption exactly.
    clip = {"clip": (0.0, 1.0)} if noise == "gaussian" else {}
    corrupted = get_noise_layer(noise, level, seed=11, **clip)(data, training=True)
    assert not np.allclose(corrupted, data)
    expected = keras.ops.convert_to_numpy(
        bernoulli_nll(data, model.decoder_network(model.encoder(corrupted)))
    )
    assert logs["reconstruction_loss"] == pytest.approx(expected.mean(), rel=1e-5)
    clean = keras.ops.convert_to_numpy(bernoulli_nll(data, model.decoder_network(model.encoder(data))))
    assert logs["reconstruction_loss"] != pytest.approx(clean.mean(), rel=1e-4)
    # Evaluation sees clean inputs.
    assert model.evaluate(data, verbose=0, return_dict=True)["loss"] == pytest.approx(clean.mean(), rel=1e-5)


def test_denoising_learns_to_fill_in_masked_pixels():
    rng = np.random.default_rng(1)
    # Two prototype patterns: a masked copy is only recoverable through the learned structure.
    prototypes = (rng.uniform(size=(2, 30)) > 0.5).astype("float32")
    x = prototypes[rng.integers(0, 2, 512)]
    keras.utils.set_random_seed(0)
    model = keras_ae.create_model("denoising_autoencoder", noise="masking", noise_level=0.3, seed=0, **KW)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(x, epochs=15, batch_size=64, verbose=0)
    masked = get_noise_layer("masking", 0.3, seed=5)(x[:64], training=True)
    error = np.abs(model.reconstruct(keras.ops.convert_to_numpy(masked)) - x[:64]).mean()
    assert error < 0.1


def test_config_and_bad_noise():
    model = keras_ae.create_model("denoising_autoencoder", noise="gaussian", noise_level=0.2, seed=4, **KW)
    config = model.get_config()
    assert (config["noise"], config["noise_level"], config["seed"]) == ("gaussian", 0.2, 4)
    with pytest.raises(ValueError, match="noise='blur'"):
        keras_ae.create_model("denoising_autoencoder", noise="blur", **KW)
    with pytest.raises(
        ValueError, match=r"`noise_level` must be a finite number in \[0, 1\).*noise_level=1.0"
    ):
        keras_ae.create_model("denoising_autoencoder", noise="masking", noise_level=1.0, **KW)
    with pytest.raises(ValueError, match=r"`noise_level` must be a finite number >= 0.*noise_level=-0.5"):
        keras_ae.create_model("denoising_autoencoder", noise="gaussian", noise_level=-0.5, **KW)
    # A numpy level is stored as a float: the config stays JSON-safe (export records it).
    model = keras_ae.create_model(
        "denoising_autoencoder", noise="gaussian", noise_level=np.float32(0.5), **KW
    )
    assert type(model.get_config()["noise_level"]) is float


@pytest.mark.parametrize("noise", ["salt_and_pepper", "gaussian"])
def test_noise_range_corrupts_data_outside_zero_one_within_its_range(noise):
    # Standardized data with a Gaussian likelihood: salt and pepper are the range's ends,
    # and Gaussian noise is clipped to it (without noise_range: 0/1, and no clipping).
    x = np.random.default_rng(1).normal(size=(64, 30)).astype("float32")
    level = 0.5 if noise == "salt_and_pepper" else 1.0
    model = keras_ae.create_model(
        "denoising_autoencoder",
        noise=noise,
        noise_level=level,
        noise_range=(-2.0, 3.0),
        likelihood="gaussian",
        seed=5,
        **KW,
    )
    corrupted = keras.ops.convert_to_numpy(model.corrupt(x))
    changed = corrupted != x
    if noise == "salt_and_pepper":
        assert set(np.unique(corrupted[changed])) == {-2.0, 3.0}
        assert abs(changed.mean() - level) < 4 * np.sqrt(level * (1 - level) / x.size)
    else:
        assert corrupted.min() == -2.0 and corrupted.max() == 3.0 and changed.all()
    config = json.loads(json.dumps(model.get_config()))
    assert config["noise_range"] == [-2.0, 3.0]
    assert type(model).from_config(config).noise_range == (-2.0, 3.0)


@pytest.mark.parametrize(
    ("noise", "noise_range", "pattern"),
    [
        ("masking", (0.0, 1.0), r"noise_range=\(0.0, 1.0\) with noise='masking'"),
        ("gaussian", (1.0, 0.0), r"low < high. Received: noise_range=\(1.0, 0.0\)"),
        ("salt_and_pepper", (0.0, float("inf")), r"finite numbers.*noise_range=\(0.0, inf\)"),
        ("salt_and_pepper", 1.0, "noise_range=1.0"),
    ],
)
def test_bad_noise_range_is_refused_by_name(noise, noise_range, pattern):
    with pytest.raises(ValueError, match=pattern):
        keras_ae.create_model("denoising_autoencoder", noise=noise, noise_range=noise_range, **KW)
