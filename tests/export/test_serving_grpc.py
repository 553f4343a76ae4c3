"""The TF Serving client over gRPC: `PredictRequest` protos (tensorflow-serving-api) that
match the SignatureDefs, through serialized bytes and an in-process PredictionService, give
the model's outputs."""

import sys
from concurrent import futures

import numpy as np
import pytest
import tensorflow as tf

from keras_ae.export import client as serving
from tests.export.serving_case import assert_outputs_equal, example_inputs, fake_predict, model_outputs
from tests.models.test_harness import make_data


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


def test_missing_tensorflow_serving_api_says_how_to_install_it(exported, monkeypatch):
    for module in ("tensorflow_serving", "tensorflow_serving.apis", "tensorflow_serving.apis.predict_pb2"):
        monkeypatch.setitem(sys.modules, module, None)
    sig = serving.load_signatures(exported["vae"]["path"])["score"]
    with pytest.raises(ImportError, match="pip install --no-deps tensorflow-serving-api"):
        sig.grpc_request(make_data(2), "vae")
    # REST needs nothing optional.
    assert len(sig.rest_body(make_data(2))["instances"]) == 2
