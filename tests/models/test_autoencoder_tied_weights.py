"""Tied weights (`tied_weights=True`), implemented once in `Autoencoder` for the
single-dense-layer encoders of the k-sparse and contractive autoencoders."""

import json

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import DenseTranspose
from tests.conftest import run_python

TIED = {
    "autoencoder": {"code_activation": "sigmoid"},
    "k_sparse_autoencoder": {"k": 3, "alpha": 2},
    "contractive_autoencoder": {"contractive_weight": 0.5},
}


def build(name, **kwargs):
    keras.utils.set_random_seed(0)
    return keras_ae.create_model(
        name,
        input_shape=(4, 5, 1),
        latent_dim=8,
        hidden_units=(),
        tied_weights=True,
        **{**TIED[name], **kwargs},
    )


def decoder_output(model):
    return model.decoder_network.get_layer("decoder_output")


@pytest.mark.parametrize("name", sorted(TIED))
def test_decoder_uses_the_transpose_of_the_encoder_kernel(name, rng):
    model = build(name)
    code, tied = model.encoder.get_layer("code"), decoder_output(model)
    assert isinstance(tied, DenseTranspose) and tied.kernel is code.kernel
    # One kernel: the model has the encoder's kernel and bias and the decoder's bias only.
    assert sorted(w.path for w in model.trainable_weights) == [
        "code/bias",
        "code/kernel",
        "decoder_output/bias",
    ]
    z = rng.normal(size=(3, 8)).astype("float32")
    logits = z @ code.kernel.numpy().T + tied.bias.numpy()
    np.testing.assert_allclose(
        model.decode(z).reshape(3, -1), 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6
    )
    config = json.loads(json.dumps(model.get_config()))
    assert config["tied_weights"] is True
    clone = model.__class__.from_config(config)
    assert decoder_output(clone).kernel is clone.encoder.get_layer("code").kernel


@pytest.mark.parametrize("name", sorted(TIED))
def test_training_updates_the_shared_kernel_from_both_sides(name, rng):
    model = build(name)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    x = rng.uniform(size=(16, 4, 5, 1)).astype("float32")
    before = model.encoder.get_layer("code").kernel.numpy().copy()
    model.fit(x, epochs=1, batch_size=16, verbose=0)
    after = model.encoder.get_layer("code").kernel.numpy()
    assert not np.allclose(before, after)
    np.testing.assert_array_equal(decoder_output(model).kernel.numpy(), after)


LOAD = """
import json, os, numpy as np, keras, keras_ae
out = {}
for name in json.loads(os.environ["NAMES"]):
    model = keras.models.load_model(os.path.join(os.environ["FOLDER"], name + ".keras"))
    code = model.encoder.get_layer("code")
    tied = model.decoder_network.get_layer("decoder_output")
    x = np.load(os.path.join(os.environ["FOLDER"], "x.npy"))
    pred = model.predict(x, verbose=0)
    code.kernel.assign(code.kernel.numpy() * 0.5)
    out[name] = {
        "shared": tied.kernel is code.kernel,
        "pred": pred.tolist(),
        "halved": model.decode(np.eye(8, dtype="float32")).tolist(),
    }
print("RESULT" + json.dumps(out))
"""


def test_tie_survives_save_and_load_in_a_fresh_process(tmp_path, rng):
    x = rng.uniform(size=(6, 4, 5, 1)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    models = {}
    for name in sorted(TIED):
        models[name] = build(name)
        models[name].compile(optimizer="adam")
        models[name].fit(x, epochs=1, verbose=0)
        models[name].save(tmp_path / f"{name}.keras")
    result = run_python(LOAD, env={"NAMES": json.dumps(sorted(TIED)), "FOLDER": str(tmp_path)})
    loaded = json.loads(result.split("RESULT", 1)[1])
    for name, model in models.items():
        assert loaded[name]["shared"], name
        np.testing.assert_array_equal(np.array(loaded[name]["pred"], "float32"), model.predict(x, verbose=0))
        # Halving the encoder kernel there changed the decoder there: one variable.
        code = model.encoder.get_layer("code")
        code.kernel.assign(code.kernel.numpy() * 0.5)
        np.testing.assert_allclose(
            np.array(loaded[name]["halved"]), model.decode(np.eye(8, dtype="float32")), rtol=1e-6, atol=1e-7
        )


@pytest.mark.parametrize(
    "kwargs",
    [{"hidden_units": (16,)}, {"hidden_units": None}, {"architecture": "conv", "hidden_units": ()}],
)
def test_tied_weights_need_a_single_dense_encoder_layer(kwargs):
    args = {"input_shape": (4, 5, 1), "latent_dim": 8, "hidden_units": (), "tied_weights": True}
    with pytest.raises(ValueError, match=r"tied_weights=True needs a single dense encoder layer"):
        keras_ae.create_model("autoencoder", **{**args, **kwargs})


def test_tied_weights_refuse_user_networks_and_non_bools():
    inputs = keras.Input((6,))
    encoder = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    with pytest.raises(ValueError, match=r"a user encoder"):
        keras_ae.create_model("autoencoder", encoder=encoder, hidden_units=(), tied_weights=True)
    with pytest.raises(ValueError, match=r"Received: tied_weights='yes'"):
        keras_ae.create_model("autoencoder", input_shape=(6,), latent_dim=3, tied_weights="yes")
