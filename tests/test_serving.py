"""(c) The TF Serving client: requests are checked against the SignatureDefs and, decoded
the way TF Serving decodes them and fed through the loaded signature, give the model's
outputs; responses parse back to the same numbers.

`tf_serving_decode` / `tf_serving_encode` below restate the JSON rules of TF Serving's
`json_tensor.cc` (FillPredictRequestFromJson, MakeJsonFromTensors) independently of the
client, which only produces and consumes the JSON."""

import http.server
import json
import sys
import threading
from concurrent import futures

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import json_format

import keras_ae
from keras_ae.export import client as serving
from keras_ae.export import export_for_serving
from tests.models.test_harness import LATENT_DIM, harness_kwargs, make_data


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("serving")
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


# ------------------------------------------------------------------ TF Serving's JSON rules
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


# ------------------------------------------------------------------ signatures
def test_signatures_are_read_from_the_savedmodel(exported):
    for entry in exported.values():
        signatures = serving.load_signatures(entry["path"])
        assert set(signatures) == set(entry["loaded"].signatures)
        for name, sig in signatures.items():
            concrete = entry["loaded"].signatures[name]
            assert sig.method_name == serving.PREDICT_METHOD
            specs = concrete.structured_input_signature[1]
            assert sig.inputs == {k: (s.dtype.as_numpy_dtype, tuple(s.shape)) for k, s in specs.items()}
            outputs = concrete.structured_outputs
            assert sig.outputs == {k: (s.dtype.as_numpy_dtype, tuple(s.shape)) for k, s in outputs.items()}
    # A model's base folder resolves to its latest version, as TF Serving's default policy.
    entry = exported["autoencoder"]
    newer = export_for_serving(entry["model"], entry["base"], version=5)
    assert serving.resolve_version_dir(entry["base"]) == newer
    assert set(serving.load_signatures(entry["base"])) == set(serving.load_signatures(entry["path"]))
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        serving.load_signatures(entry["base"].parent / "nothing_here")


def test_signatures_from_a_servers_model_metadata(exported):
    """`GET /v1/models/<name>/metadata` answers the SignatureDefs as proto JSON."""
    from tensorflow.core.protobuf import saved_model_pb2

    path = exported["vae"]["path"]
    saved = saved_model_pb2.SavedModel()
    with open(f"{path}/saved_model.pb", "rb") as f:
        saved.ParseFromString(f.read())
    defs = saved.meta_graphs[0].signature_def
    answer = {
        "model_spec": {"name": "vae", "signature_name": "", "version": "1"},
        "metadata": {
            "signature_def": {
                "signature_def": {
                    k: json_format.MessageToDict(v, preserving_proto_field_name=True) for k, v in defs.items()
                }
            }
        },
    }
    from_metadata = serving.signatures_from_metadata(json.dumps(answer))
    from_files = serving.load_signatures(path)
    assert {k: repr(v) for k, v in from_metadata.items()} == {k: repr(v) for k, v in from_files.items()}
    with pytest.raises(ValueError, match="metadata.signature_def"):
        serving.signatures_from_metadata({"metadata": {}})


# ------------------------------------------------------------------ REST
REST_CASES = [
    (model, sig, fmt)
    for model, sigs in {
        "vae": ["serving_default", "reconstruct", "encode", "decode", "score", "sample", "sample_from_noise"],
        "autoencoder": ["serving_default", "encode", "score"],
    }.items()
    for sig in sigs
    for fmt in ("instances", "inputs")
    if not (sig == "sample" and fmt == "instances")
]


@pytest.mark.parametrize(("model_name", "signature", "fmt"), REST_CASES)
def test_rest_bodies_give_the_models_outputs(exported, model_name, signature, fmt):
    entry = exported[model_name]
    sig = serving.load_signatures(entry["path"])[signature]
    inputs = example_inputs(signature)
    body = sig.rest_body(inputs, format=fmt)
    wire = json.dumps(body)
    assert json.loads(wire) == body
    assert body["signature_name"] == signature
    if fmt == "instances":
        assert len(body["instances"]) == 5 and set(body["instances"][0]) == set(inputs)
    concrete = entry["loaded"].signatures[signature]
    tensors = tf_serving_decode(json.loads(wire), concrete)
    for key, value in inputs.items():
        # Float32 values survive the JSON text exactly.
        np.testing.assert_array_equal(
            tensors[key].numpy(), np.asarray(value, dtype=tensors[key].dtype.as_numpy_dtype)
        )
    served = concrete(**tensors)
    parsed = sig.parse_rest_response(tf_serving_encode(served, fmt == "instances"))
    for key, value in served.items():
        np.testing.assert_array_equal(parsed[key], value.numpy())
        assert parsed[key].dtype == value.dtype.as_numpy_dtype
    assert_outputs_equal(parsed, model_outputs(entry["model"], signature, inputs))


def test_client_refuses_requests_that_do_not_fit_the_signature(exported):
    sigs = serving.load_signatures(exported["vae"]["path"])
    x = make_data(3)
    with pytest.raises(ValueError, match=r"takes inputs \['x'\]. Received: \['image'\]"):
        sigs["score"].rest_body({"image": x})
    with pytest.raises(ValueError, match=r"expects float32 values.*Received: x with dtype=uint8"):
        sigs["score"].rest_body((x * 255).astype("uint8"))
    with pytest.raises(
        ValueError, match=r"must have shape \(batch, 12, 12, 1\). Received: x with shape=\(3, 12, 12\)"
    ):
        sigs["score"].grpc_request(x[..., 0], "vae")
    with pytest.raises(ValueError, match="expects int64 values. Received: seed with dtype=float64"):
        sigs["sample"].rest_body({"num_samples": 2, "seed": 0.5}, format="inputs")
    with pytest.raises(ValueError, match="expects int32 values"):
        sigs["sample"].rest_body({"num_samples": 2**40, "seed": 1}, format="inputs")
    with pytest.raises(ValueError, match=r"scalar inputs \['num_samples', 'seed'\].*format='inputs'"):
        sigs["sample"].rest_body({"num_samples": 2, "seed": 1})
    with pytest.raises(ValueError, match="several inputs"):
        sigs["sample"].rest_body(np.zeros(2))
    with pytest.raises(ValueError, match="format='rows'"):
        sigs["score"].rest_body(x, format="rows")
    with pytest.raises(RuntimeError, match="Expects arg"):
        sigs["score"].parse_rest_response('{"error": "Expects arg[0] to be float but double is provided"}')
    with pytest.raises(ValueError, match=r"has outputs \['kl_loss', 'reconstruction_loss', 'score'\]"):
        sigs["score"].parse_rest_response({"outputs": {"score": [1.0]}})


# ------------------------------------------------------------------ gRPC
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


@pytest.mark.parametrize(
    "signature", ["serving_default", "encode", "decode", "score", "sample", "sample_from_noise"]
)
def test_grpc_requests_match_the_signature_defs_and_give_the_models_outputs(exported, signature):
    from tensorflow_serving.apis import predict_pb2

    entry = exported["vae"]
    sig = serving.load_signatures(entry["path"])[signature]
    inputs = example_inputs(signature)
    request = sig.grpc_request(inputs, "vae_mnist", version=3)
    assert (request.model_spec.name, request.model_spec.signature_name) == ("vae_mnist", signature)
    assert request.model_spec.version.value == 3
    specs = entry["loaded"].signatures[signature].structured_input_signature[1]
    assert set(request.inputs) == set(specs)
    for key, proto in request.inputs.items():
        assert proto.dtype == specs[key].dtype.as_datatype_enum
        dims = [d.size for d in proto.tensor_shape.dim]
        assert specs[key].shape.is_compatible_with(dims)
        np.testing.assert_array_equal(tf.make_ndarray(proto), np.asarray(inputs[key]))
    # Over the wire: serialized bytes, as a channel would carry them.
    wire = predict_pb2.PredictRequest.FromString(request.SerializeToString())
    response = fake_predict(entry["loaded"], wire)
    response = predict_pb2.PredictResponse.FromString(response.SerializeToString())
    assert_outputs_equal(sig.parse_grpc_response(response), model_outputs(entry["model"], signature, inputs))


def test_grpc_predict_against_an_in_process_prediction_service(exported):
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    loaded = exported["vae"]["loaded"]

    class Service(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 (gRPC method name)
            return fake_predict(loaded, request)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("localhost:0")
    server.start()
    try:
        sig = serving.load_signatures(exported["vae"]["path"])["score"]
        x = make_data(4, seed=9)
        response = serving.grpc_predict(f"localhost:{port}", sig.grpc_request(x, "vae"), timeout=30)
        assert_outputs_equal(
            sig.parse_grpc_response(response), model_outputs(exported["vae"]["model"], "score", {"x": x})
        )
    finally:
        server.stop(None)


def test_rest_transport_against_a_local_endpoint(exported):
    """`post_json` + `rest_url` against a minimal HTTP endpoint speaking TF Serving's JSON."""
    loaded = exported["vae"]["loaded"]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server method name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/models/vae/versions/1:predict":
                status, answer = 404, json.dumps({"error": f"Servable not found for request: {self.path}"})
            else:
                concrete = loaded.signatures[body["signature_name"]]
                outputs = concrete(**tf_serving_decode(body, concrete))
                status, answer = 200, tf_serving_encode(outputs, "instances" in body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer.encode())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("localhost", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        url = serving.rest_url("localhost", "vae", version=1, port=port)
        assert url == f"http://localhost:{port}/v1/models/vae/versions/1:predict"
        sig = serving.load_signatures(exported["vae"]["path"])["encode"]
        x = make_data(3, seed=4)
        answer = serving.post_json(url, sig.rest_body(x))
        assert_outputs_equal(
            sig.parse_rest_response(answer), model_outputs(exported["vae"]["model"], "encode", {"x": x})
        )
        missing = serving.post_json(serving.rest_url("localhost", "nope", port=port), sig.rest_body(x))
        with pytest.raises(RuntimeError, match="Servable not found"):
            sig.parse_rest_response(missing)
    finally:
        server.shutdown()
        server.server_close()


def test_missing_tensorflow_serving_api_says_how_to_install_it(exported, monkeypatch):
    for module in ("tensorflow_serving", "tensorflow_serving.apis", "tensorflow_serving.apis.predict_pb2"):
        monkeypatch.setitem(sys.modules, module, None)
    sig = serving.load_signatures(exported["vae"]["path"])["score"]
    with pytest.raises(ImportError, match="pip install --no-deps tensorflow-serving-api"):
        sig.grpc_request(make_data(2), "vae")
    # REST needs nothing optional.
    assert len(sig.rest_body(make_data(2))["instances"]) == 2
