"""The shared case of the TF Serving client's tests: what a request for each signature holds,
what the model's own API answers, and TF Serving's side of the wire.

`tf_serving_decode` / `tf_serving_encode` restate the JSON rules of TF Serving's
`json_tensor.cc` (FillPredictRequestFromJson, MakeJsonFromTensors), and `fake_predict` its
Predict, independently of the client, which only produces and consumes the messages."""

import json

import keras
import numpy as np
import tensorflow as tf

import keras_ae
from keras_ae.export import export_for_serving
from tests.models.test_harness import LATENT_DIM, harness_kwargs, make_data


def export_harness_models(folder):
    """A harness-sized VAE and autoencoder, exported under `folder`: for each, the model, its
    version folder `path`, its model folder `base` and the SavedModel `loaded` back."""
    result = {}
    for name in ("vae", "autoencoder"):
        keras.utils.set_random_seed(0)
        model = keras_ae.create_model(name, **harness_kwargs(name))
        model.compile(optimizer="adam")
        path = export_for_serving(model, folder / name)
        result[name] = {
            "model": model,
            "path": path,
            "base": folder / name,
            "loaded": tf.saved_model.load(path),
        }
    return result


def example_inputs(signature):
    """Inputs for `signature` of a harness-sized model (numpy, signature dtypes)."""
    if signature in ("decode", "sample_from_noise"):
        key = "z" if signature == "decode" else "noise"
        return {key: np.random.default_rng(1).normal(size=(5, LATENT_DIM)).astype("float32")}
    if signature == "sample":
        return {"num_samples": 4, "seed": 123}
    return {"x": make_data(5, seed=2)}


def model_outputs(model, signature, inputs):
    """What the model's own API answers for `signature` (the expected served outputs)."""
    if signature in ("serving_default", "reconstruct"):
        return {"reconstruction": model.predict(inputs["x"], verbose=0)}
    if signature == "encode":
        if model.variational:
            z_mean, z_log_var, _ = model.encoder.predict(inputs["x"], verbose=0)
            return {"z_mean": z_mean, "z_log_var": z_log_var}
        return {"code": model.encode(inputs["x"])}
    if signature == "decode":
        return {"reconstruction": model.decode(inputs["z"])}
    if signature == "sample_from_noise":
        return {"samples": model.decode(inputs["noise"])}
    if signature == "sample":
        samples = model.sample(inputs["num_samples"], seed=inputs["seed"])
        return {"samples": samples, "z": model.prior_noise(inputs["num_samples"], inputs["seed"]).numpy()}
    if signature == "score":
        x = inputs["x"]
        outputs = model(x, return_outputs=True)
        nll = model.reconstruction_nll(outputs["x"], outputs).numpy()
        if model.variational:
            kl = keras_ae.losses.gaussian_kl(outputs["z_mean"], outputs["z_log_var"]).numpy()
            return {"score": nll + kl, "reconstruction_loss": nll, "kl_loss": kl}
        return {"score": nll, "reconstruction_loss": nll}
    raise KeyError(signature)


def assert_outputs_equal(actual, expected):
    assert set(actual) == set(expected)
    for key in expected:
        np.testing.assert_allclose(actual[key], expected[key], rtol=1e-5, atol=1e-6, err_msg=key)


# TF Serving's side of the wire.
def tf_serving_decode(body, concrete):
    """Request JSON -> named input tensors, as TF Serving does it (dtypes from the signature)."""
    specs = concrete.structured_input_signature[1]
    if "instances" in body:
        rows = body["instances"]
        if isinstance(rows[0], dict):
            assert all(set(row) == set(specs) for row in rows)
            columns = {k: [row[k] for row in rows] for k in specs}
        else:
            assert len(specs) == 1
            columns = {next(iter(specs)): rows}
    else:
        value = body["inputs"]
        columns = value if isinstance(value, dict) else {next(iter(specs)): value}
        assert set(columns) == set(specs)
    return {k: tf.constant(np.array(columns[k], dtype=specs[k].dtype.as_numpy_dtype)) for k in specs}


def tf_serving_encode(outputs, row_format):
    """Named output tensors -> response JSON text, as TF Serving writes it."""
    outputs = {k: np.asarray(v) for k, v in outputs.items()}
    if row_format:
        if len(outputs) == 1:
            body = {"predictions": next(iter(outputs.values())).tolist()}
        else:
            batch = len(next(iter(outputs.values())))
            body = {"predictions": [{k: v[i].tolist() for k, v in outputs.items()} for i in range(batch)]}
    else:
        only = len(outputs) == 1
        body = {
            "outputs": next(iter(outputs.values())).tolist()
            if only
            else {k: v.tolist() for k, v in outputs.items()}
        }
    return json.dumps(body)


def fake_predict(loaded, request):
    """What TF Serving's Predict does with a request: run the named signature."""
    from tensorflow_serving.apis import predict_pb2

    concrete = loaded.signatures[request.model_spec.signature_name or "serving_default"]
    specs = concrete.structured_input_signature[1]
    assert set(request.inputs) == set(specs)
    for key, proto in request.inputs.items():
        assert tf.dtypes.as_dtype(proto.dtype) == specs[key].dtype  # the server refuses other dtypes
    outputs = concrete(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
    response = predict_pb2.PredictResponse()
    response.model_spec.CopyFrom(request.model_spec)
    for key, value in outputs.items():
        response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
    return response
