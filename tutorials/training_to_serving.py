"""
Title: From training to serving
Author: keras-ae developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Export a trained VAE for TF Serving, lay out a model store, and build REST and gRPC requests for every signature.
Accelerator: None
"""

"""
## Introduction

An autoencoder in production usually does one of three jobs: compress (`encode`),
generate (`decode`, `sample`) or flag anomalies (`score`: the per-example
reconstruction error, or for a VAE the negative ELBO, `-log p(x) <= score(x)`).
keras-ae exports each job as a named signature of one SavedModel:

| signature | inputs | outputs |
|---|---|---|
| `serving_default`, `reconstruct` | `x` | `reconstruction` (deterministic: the posterior mean) |
| `encode` | `x` | `z_mean`, `z_log_var` (VAE family) or `code` |
| `decode` | `z` | `reconstruction` |
| `score` | `x` | `score`, `reconstruction_loss`, `kl_loss` |
| `sample` | `num_samples`, `seed` | `samples`, `z` (reproducible per seed) |
| `sample_from_noise` | `noise` (standard normal, one row per sample) | `samples` (VAE family) |

TF Serving loads `<store>/<model name>/<version>/` folders listed in a
`models.config` file. No server runs in this tutorial, so where a server would answer we
feed the very same request through the exported graph with `tf.saved_model.load`.
"""

"""
## Setup and a model to serve
"""

import json
import pathlib
import shutil

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import keras_ae
from keras_ae.export import client, export_for_serving, write_models_config

from _common import epochs, figure_path, load_mnist, show_grid

keras.utils.set_random_seed(5)
(x_train, _), (x_test, _) = load_mnist()
x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)

vae = keras_ae.create_model("vae", input_shape=(784,), latent_dim=16, hidden_units=(256,), seed=0)
vae.compile(optimizer=keras.optimizers.Adam(1e-3))
vae.fit(x_train, epochs=epochs(10), batch_size=128, validation_data=(x_test,), verbose=2)

"""
## Export into a model store

`export_for_serving` writes the SavedModel into a temporary folder and renames it into
place, so a server watching the store never sees half a model. Versions count up.
"""

store = figure_path("model_store")
shutil.rmtree(store, ignore_errors=True)
path_v1 = export_for_serving(vae, store / "vae_mnist")
path_v2 = vae.export_for_serving(store / "vae_mnist")  # the same, as a method
write_models_config(store)  # base paths under /models: the store as docker mounts it
print(path_v1, path_v2)
print((store / "models.config").read_text())
for path in sorted(pathlib.Path(store).rglob("*"))[:12]:
    print(path.relative_to(store))

"""
A server reads `models.config`'s base paths as paths on its own file system. The
store's own config is for the `tensorflow/serving` docker image, with the store mounted
at `/models`. A `tensorflow_model_server` binary on this machine needs a second config
whose base paths are the store's absolute path; it goes beside the store, not in it.
The commands to start either server, with this run's paths:
"""

local_config = write_models_config(
    store, base_path=str(store.resolve()), path=figure_path("models.local.config")
)
print(f"tensorflow_model_server --port=8500 --rest_api_port=8501 --model_config_file={local_config}")
print(
    f"docker run --rm -p 8500:8500 -p 8501:8501 -v {store.resolve()}:/models "
    "tensorflow/serving --model_config_file=/models/models.config"
)

"""
## The signatures, as the server sees them

`client.load_signatures` reads the SignatureDefs: names, dtypes and shapes, with the
batch dimension free.
"""

signatures = client.load_signatures(store / "vae_mnist")
for signature in signatures.values():
    print(signature)

"""
## A stand-in for the server

TF Serving decodes a REST body into tensors, runs the signature and encodes the
outputs: `instances` (row format) answers with `predictions`, `inputs` (columnar)
with `outputs`. Here is that loop over the exported graph.
"""

exported = tf.saved_model.load(str(path_v2))


def answer_rest(body):
    function = exported.signatures[body["signature_name"]]
    if "instances" in body:
        rows = body["instances"]
        tensors = {k: tf.constant([row[k] for row in rows]) for k in rows[0]}
    else:
        tensors = {k: tf.constant(v) for k, v in body["inputs"].items()}
    specs = function.structured_input_signature[1]
    outputs = function(**{k: tf.cast(v, specs[k].dtype) for k, v in tensors.items()})
    outputs = {k: v.numpy().tolist() for k, v in outputs.items()}
    if len(outputs) == 1:  # a single output is answered bare, not as {name: value}
        (outputs,) = outputs.values()
        return {"predictions" if "instances" in body else "outputs": outputs}
    if "instances" in body:
        n = len(body["instances"])
        return {"predictions": [{k: outputs[k][i] for k in outputs} for i in range(n)]}
    return {"outputs": outputs}


"""
## One request per signature

Each request is built by the client from the signature (wrong names, dtypes or shapes
are refused before anything is sent) and its answer parsed back into numpy.
"""

x = x_test[:8]
noise = np.random.default_rng(0).standard_normal((4, 16)).astype("float32")
requests = {
    "serving_default": signatures["serving_default"].rest_body(x),
    "reconstruct": signatures["reconstruct"].rest_body(x, format="inputs"),
    "encode": signatures["encode"].rest_body(x),
    "decode": signatures["decode"].rest_body({"z": np.zeros((2, 16), "float32")}),
    "score": signatures["score"].rest_body(x, format="inputs"),
    "sample": signatures["sample"].rest_body({"num_samples": 10, "seed": 0}, format="inputs"),
    "sample_from_noise": signatures["sample_from_noise"].rest_body({"noise": noise}),
}
assert set(requests) == set(signatures)  # every exported signature, once
answers = {}
for name, body in requests.items():
    text = json.dumps(body)  # what travels over HTTP
    answers[name] = signatures[name].parse_rest_response(json.dumps(answer_rest(json.loads(text))))
    print(f"{name:16s} {len(text):7d} bytes ->", {k: v.shape for k, v in answers[name].items()})

np.testing.assert_allclose(
    answers["serving_default"]["reconstruction"], vae.reconstruct(x), rtol=1e-4, atol=1e-5
)
np.testing.assert_allclose(
    answers["reconstruct"]["reconstruction"], answers["serving_default"]["reconstruction"], rtol=1e-6
)
np.testing.assert_allclose(answers["encode"]["z_mean"], vae.encode(x), rtol=1e-4, atol=1e-5)
np.testing.assert_allclose(answers["sample_from_noise"]["samples"], vae.decode(noise), rtol=1e-4, atol=1e-5)
np.testing.assert_allclose(
    answers["sample"]["samples"], vae.sample(10, seed=0).reshape(10, 784), rtol=1e-4, atol=1e-5
)
show_grid(
    [x, answers["serving_default"]["reconstruction"][:8], answers["sample"]["samples"][:8]],
    ["input", "reconstruct", "sample"],
    figure_path("serving_answers.png"),
    "Answers of the exported signatures",
)

"""
The gRPC client builds real `tensorflow_serving.apis.predict_pb2.PredictRequest`
protos. It needs the optional package `tensorflow-serving-api` (install it with
`pip install --no-deps tensorflow-serving-api`); without it this part is skipped. With
a running server, `client.grpc_predict("localhost:8500", request)` sends one.
"""

try:
    request = signatures["score"].grpc_request(x, model_name="vae_mnist")
except ImportError:
    print("Skipping the gRPC request: it needs `pip install --no-deps tensorflow-serving-api`.")
else:
    print(
        request.model_spec.name,
        request.model_spec.signature_name,
        {k: [d.size for d in v.tensor_shape.dim] for k, v in request.inputs.items()},
    )

"""
## Anomaly scores

`score` is the negative ELBO per image, an upper bound on `-log p(x)`. Digits score
low; images unlike the training data (noise, inverted digits) score high.
"""

score = exported.signatures["score"]
digits = score(x=tf.constant(x_test[:500]))["score"].numpy()
noise = score(x=tf.constant(np.random.default_rng(0).uniform(size=(500, 784)).astype("float32")))[
    "score"
].numpy()
inverted = score(x=tf.constant(1.0 - x_test[:500]))["score"].numpy()
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(0, max(noise.max(), inverted.max()), 80)
for values, label in ((digits, "test digits"), (inverted, "inverted digits"), (noise, "uniform noise")):
    ax.hist(values, bins=bins, alpha=0.6, label=label)
ax.set_xlabel("score (negative ELBO, nats)")
ax.legend()
ax.set_title("The score signature as an anomaly detector")
fig.tight_layout()
fig.savefig(figure_path("serving_scores.png"), dpi=90)
plt.close(fig)
print("mean scores:", digits.mean(), inverted.mean(), noise.mean())

"""
## The export inside Keras

`keras.layers.TFSMLayer` turns any endpoint back into a Keras layer, e.g. to put the
anomaly score in a larger model.
"""

score_layer = keras.layers.TFSMLayer(str(path_v2), call_endpoint="score")
inputs = keras.Input((784,))
detector = keras.Model(inputs, score_layer(inputs)["score"])
np.testing.assert_allclose(detector.predict(x, verbose=0), answers["score"]["score"], rtol=1e-4)

"""
## References

- TensorFlow Serving, "Serving a TensorFlow Model" and the REST API guide.
- D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
"""
