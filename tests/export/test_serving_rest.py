"""The TF Serving client over REST: signatures read from the SavedModel or a server's
metadata, request bodies checked against them and, decoded the way TF Serving decodes them
and fed through the loaded signature, giving the model's outputs; responses parse back to
the same numbers."""

import http.server
import json
import shutil
import threading

import numpy as np
import pytest
from google.protobuf import json_format

from keras_ae.export import client as serving
from keras_ae.export import export_for_serving
from tests.export.serving_case import (
    assert_outputs_equal,
    example_inputs,
    model_outputs,
    tf_serving_decode,
    tf_serving_encode,
)
from tests.models.test_harness import make_data


def test_signatures_are_read_from_the_savedmodel(exported, tmp_path):
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
    # A newer version goes into a copy of the base folder: the package's shared store keeps
    # its one version for the other tests, whatever their order.
    entry = exported["autoencoder"]
    base = tmp_path / "autoencoder"
    shutil.copytree(entry["base"], base)
    assert serving.resolve_version_dir(base) == str(base / "1")
    newer = export_for_serving(entry["model"], base, version=5)
    assert newer == str(base / "5") and serving.resolve_version_dir(base) == newer
    # Stray numbered entries without a SavedModel (a file, an empty or half-copied folder)
    # are not versions: the latest is still 5, as `list_store` counts them.
    (base / "9").mkdir()
    (base / "7").write_text("notes")
    assert serving.resolve_version_dir(base) == newer
    assert set(serving.load_signatures(base)) == set(serving.load_signatures(entry["path"]))
    with pytest.raises(FileNotFoundError, match="saved_model.pb"):
        serving.load_signatures(base.parent / "nothing_here")


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
    # Finite as float64, Inf as the signature's float32: refused before JSON could carry "Infinity".
    with pytest.raises(ValueError, match="holds NaN or Inf values \\(as float32\\)"):
        sigs["score"].rest_body(np.full((1, 12, 12, 1), 1e39))
    with pytest.raises(KeyError, match=r"no signature 'scores'. Its signatures: \[.*'score'"):
        sigs["scores"]
    with pytest.raises(ValueError, match=r"has outputs \['kl_loss', 'reconstruction_loss', 'score'\]"):
        sigs["score"].parse_rest_response({"outputs": {"score": [1.0]}})


def test_rest_transport_against_a_local_endpoint(exported):
    """`post_json` + `rest_url` against a minimal HTTP endpoint speaking TF Serving's JSON."""
    loaded = exported["vae"]["loaded"]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server method name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path.startswith("/v1/models/proxied"):  # a proxy in front of the server
                status, answer = 502, json.dumps({"message": "upstream unavailable"})
            elif self.path != "/v1/models/vae/versions/1:predict":
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
        with pytest.raises(RuntimeError, match=r"error \(HTTP 404\): Servable not found"):
            sig.parse_rest_response(missing)
        with pytest.raises(RuntimeError, match="HTTP 502 from .*upstream unavailable"):
            serving.post_json(serving.rest_url("localhost", "proxied", port=port), sig.rest_body(x))
    finally:
        server.shutdown()
        server.server_close()
