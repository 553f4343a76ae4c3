"""The shared training base: input forms, sample weights, likelihoods, distribution."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_ae
from keras_ae.losses import squared_error
from tests.conftest import run_python

KW = {"input_shape": (10,), "latent_dim": 2, "hidden_units": (8,)}


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).uniform(size=(40, 10)).astype("float32")


def test_every_input_form_gives_the_same_loss_and_labels_are_ignored(data):
    model = keras_ae.create_model("autoencoder", **KW)
    model.compile(optimizer="adam")
    reference = model.evaluate(data, batch_size=8, verbose=0)
    labels = np.arange(len(data))
    forms = [
        tf.data.Dataset.from_tensor_slices(data).batch(8),
        tf.data.Dataset.from_tensor_slices((data,)).batch(8),
        tf.data.Dataset.from_tensor_slices((data, labels)).batch(8),
        tf.data.Dataset.from_tensor_slices((data, labels, np.ones(len(data), "float32"))).batch(8),
    ]
    for form in forms:
        assert model.evaluate(form, verbose=0) == pytest.approx(reference, rel=1e-6)
    assert model.evaluate(data, labels, batch_size=8, verbose=0) == pytest.approx(reference, rel=1e-6)


def test_sample_weights_follow_keras_sum_over_batch_size(data):
    model = keras_ae.create_model("autoencoder", likelihood="mse", **KW)
    model.compile(optimizer="adam")
    weights = np.linspace(0, 3, len(data)).astype("float32")
    per_example = keras.ops.convert_to_numpy(squared_error(data, model.predict(data, verbose=0)))
    loss = model.evaluate(data, sample_weight=weights, batch_size=len(data), verbose=0, return_dict=True)[
        "loss"
    ]
    assert loss == pytest.approx((per_example * weights).sum() / len(data), rel=1e-5)
    # Weights also steer training: examples of weight zero contribute no gradient.
    before = [w.numpy() for w in model.trainable_weights]
    model.fit(data, sample_weight=np.zeros(len(data), "float32"), epochs=1, batch_size=8, verbose=0)
    for a, b in zip(before, model.trainable_weights, strict=True):
        np.testing.assert_array_equal(a, b.numpy())
    model.fit(data, sample_weight=weights, epochs=1, batch_size=8, verbose=0)
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(before, model.trainable_weights, strict=True))


def test_gaussian_likelihood_learns_its_variance(data):
    model = keras_ae.create_model(
        "autoencoder", likelihood=keras_ae.losses.GaussianLikelihood(1.0, learn_variance=True), **KW
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05))
    before = float(model.likelihood.log_variance.numpy())
    model.fit(data, epochs=5, batch_size=8, verbose=0)
    assert float(model.likelihood.log_variance.numpy()) < before - 0.1  # residuals are far below 1
    config = json.loads(json.dumps(model.get_config()))
    clone = keras_ae.Autoencoder.from_config(config)
    assert clone.likelihood.learn_variance and len(clone.trainable_weights) == len(model.trainable_weights)


def test_user_encoder_and_decoder_for_the_plain_autoencoder(data, tmp_path):
    encoder = keras.Sequential([keras.Input((10,)), keras.layers.Dense(3, activation="tanh")], name="enc")
    decoder = keras.Sequential([keras.Input((3,)), keras.layers.Dense(10)], name="dec")
    model = keras_ae.Autoencoder(encoder=encoder, decoder=decoder)
    assert (model.data_shape, model.latent_dim) == ((10,), 3)
    model.compile(optimizer="adam")
    model.fit(data, epochs=1, verbose=0)
    model.save(tmp_path / "ae.keras")
    restored = keras.models.load_model(tmp_path / "ae.keras")
    np.testing.assert_array_equal(restored.encode(data), model.encode(data))
    with pytest.raises(ValueError, match="latent_dim=5"):
        keras_ae.Autoencoder(encoder=encoder, latent_dim=5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_shape": (0, 3)}, r"input_shape=\(0, 3\)"),
        ({"input_shape": "784"}, "input_shape='784'"),
        ({"architecture": "conv"}, r"architecture='conv' needs an image input_shape"),
        ({"architecture": "resnet"}, "architecture='resnet'"),
        ({"latent_dim": -1}, "latent_dim=-1"),
        ({"hidden_units": (8, "x")}, "hidden_units"),
        # Sizes no machine can allocate are refused by name, not left to the OOM killer.
        ({"latent_dim": 2**40}, r"does not fit in memory.*latent_dim=1099511627776"),
        ({"hidden_units": (2**40,)}, r"does not fit in memory.*hidden_units=\(1099511627776,\)"),
    ],
)
def test_bad_constructor_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras_ae.create_model("autoencoder", **{**KW, **kwargs})


def test_bad_batches_in_graph_and_eager(data):
    model = keras_ae.create_model("autoencoder", **KW)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match=r"shape=\(None, 9\)"):
        model.fit(tf.data.Dataset.from_tensor_slices(data[:, :9]).batch(4), verbose=0)
    bad = data.copy()
    bad[3, 3] = np.inf
    with pytest.raises(tf.errors.InvalidArgumentError, match="NaN or Inf"):
        model.fit(tf.data.Dataset.from_tensor_slices(bad).batch(4), verbose=0)
    with pytest.raises(ValueError, match=r"Argument `z` must have shape \(batch, 2\)"):
        model.decode(np.zeros((3, 4)))


DISTRIBUTED = """
import json, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, keras_ae

rng = np.random.default_rng(0)
x = rng.uniform(size=(32, 10)).astype("float32")
w = rng.uniform(0.2, 2.0, size=32).astype("float32")
kw = {{"input_shape": (10,), "latent_dim": 2, "hidden_units": (8,), **{extra}}}
init = keras_ae.create_model("{name}", **kw).get_weights()

def run(strategy):
    with strategy.scope():
        model = keras_ae.create_model("{name}", **kw)
        model.set_weights(init)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    history = model.fit(x, sample_weight=w, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return history.history["loss"], [v.tolist() for v in model.get_weights()]

devices = [d.name for d in tf.config.list_logical_devices("CPU")]
assert len(devices) == 2, devices
one = run(tf.distribute.OneDeviceStrategy(devices[0]))
two = run(tf.distribute.MirroredStrategy(devices))
print("RESULT" + json.dumps({{"one": one, "two": two}}))
"""


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("autoencoder", {}),
        # The EMA codebook: counts and sums must be summed over the replicas before the
        # update, or each replica would move the codebook by its half of the batch.
        ("vq_vae", {"num_latents": 3, "num_embeddings": 4, "ema": True, "seed": 1}),
        # The AuxK dead-unit count: a unit kept by an example of either half of the batch
        # is alive, so the replicas agree on the global batch's count (with one unit kept
        # per example, each half keeps at most 8 of the 16).
        ("k_sparse_autoencoder", {"latent_dim": 16, "k": 1, "aux_k": 2, "dead_steps": 1}),
    ],
)
def test_mirrored_strategy_matches_one_device(name, extra):
    result = json.loads(run_python(DISTRIBUTED.format(name=name, extra=extra)).split("RESULT", 1)[1])
    (loss_one, weights_one), (loss_two, weights_two) = result["one"], result["two"]
    np.testing.assert_allclose(loss_two, loss_one, rtol=1e-5)
    for a, b in zip(weights_one, weights_two, strict=True):
        np.testing.assert_allclose(np.array(b), np.array(a), rtol=1e-4, atol=1e-6)
