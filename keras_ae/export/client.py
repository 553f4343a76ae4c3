"""A TF Serving client: request bodies and protos for any signature, responses to numpy.

The client reads an export's SignatureDefs (the same ones the server reads) from its
`saved_model.pb`, or from a server's model metadata, and checks every request against
them (names, dtypes, shapes) before it is sent:

- REST (`POST /v1/models/<name>[/versions/<v>]:predict`): `rest_body` builds the row
  (`"instances"`) or columnar (`"inputs"`) JSON body, `parse_rest_response` turns the
  `"predictions"` / `"outputs"` answer into numpy arrays.
- gRPC (`PredictionService/Predict`): `grpc_request` builds a `PredictRequest` proto and
  `parse_grpc_response` reads a `PredictResponse`. This part needs
  `tensorflow-serving-api`; install it with `pip install --no-deps tensorflow-serving-api`
  (its declared dependencies would pull the full `tensorflow` wheel beside
  `tensorflow-cpu`), and `grpcio`, which TensorFlow already depends on.

Example:
    >>> from keras_ae.export import client
    >>> signatures = client.load_signatures("saved_models/vae_mnist")   # latest version
    >>> body = signatures["score"].rest_body({"x": x_test[:4]})
    >>> answer = client.post_json(client.rest_url("localhost", "vae_mnist"), body)
    >>> signatures["score"].parse_rest_response(answer)["score"]         # shape (4,)
"""

import json
import os
import urllib.error
import urllib.request

from keras_ae.export.serving_signature import FORMATS, PREDICT_METHOD, ServingSignature, serving_apis
from keras_ae.export.versions import servable_versions, version_path

# The signature and its codecs live in their own module; they are part of this one's API.
__all__ = [
    "FORMATS",
    "PREDICT_METHOD",
    "ServingSignature",
    "Signatures",
    "grpc_predict",
    "load_signatures",
    "post_json",
    "resolve_version_dir",
    "rest_url",
    "signatures_from_metadata",
]


# ---------------------------------------------------------------------- signatures
class Signatures(dict):
    """`{signature_name: ServingSignature}`; a name it lacks raises a `KeyError` listing the
    names it has (a typo such as `"scores"` says what to use instead)."""

    def __missing__(self, name):
        raise KeyError(f"The export has no signature {name!r}. Its signatures: {sorted(self)}")


def resolve_version_dir(path):
    """The SavedModel folder of `path`: itself, or its latest numbered version folder."""
    path = os.fspath(path)
    if os.path.isfile(os.path.join(path, "saved_model.pb")):
        return path
    # Only version folders holding a SavedModel, as `list_store` counts them: a stray "3"
    # (a file, an empty or half-copied folder) is not the latest version.
    versions = servable_versions(path)
    if not versions:
        raise FileNotFoundError(f"No SavedModel (saved_model.pb) nor numbered version folder in {path}")
    return version_path(path, versions[-1])


def load_signatures(path):
    """Reads the SignatureDefs of an export (no graph is loaded or run).

    Args:
        path: a SavedModel folder (`saved_models/vae_mnist/1`) or a model's base folder,
            whose latest version is read (the one TF Serving serves by default).

    Returns:
        `Signatures`, `{signature_name: ServingSignature}`, for the `serve` MetaGraph.
    """
    from tensorflow.core.protobuf import saved_model_pb2

    folder = resolve_version_dir(path)
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(folder, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    for meta_graph in saved_model.meta_graphs:
        if "serve" in meta_graph.meta_info_def.tags:
            return Signatures(
                (name, ServingSignature.from_proto(name, sig))
                for name, sig in sorted(meta_graph.signature_def.items())
                if not name.startswith("__")
            )
    raise ValueError(f"The SavedModel in {folder} has no MetaGraph tagged 'serve'.")


def signatures_from_metadata(metadata):
    """Reads the signatures from a server's `GET /v1/models/<name>/metadata` answer.

    Args:
        metadata: the answer as a dict or JSON text; its
            `metadata.signature_def.signature_def` maps names to SignatureDefs.

    Returns:
        `{signature_name: ServingSignature}`.
    """
    from google.protobuf import json_format
    from tensorflow.core.protobuf import meta_graph_pb2

    if isinstance(metadata, (str, bytes, bytearray)):
        metadata = json.loads(metadata)
    try:
        defs = metadata["metadata"]["signature_def"]["signature_def"]
    except (KeyError, TypeError):
        raise ValueError(
            "Expected a model metadata answer with metadata.signature_def.signature_def."
        ) from None
    result = Signatures()
    for name, value in sorted(defs.items()):
        if name.startswith("__"):
            continue
        proto = json_format.ParseDict(value, meta_graph_pb2.SignatureDef(), ignore_unknown_fields=True)
        result[name] = ServingSignature.from_proto(name, proto)
    return result


# ---------------------------------------------------------------------- transport
def rest_url(host, model_name, version=None, port=8501, verb="predict"):
    """`http://host:port/v1/models/<model_name>[/versions/<version>]:<verb>`."""
    path = f"/v1/models/{model_name}" + (f"/versions/{int(version)}" if version is not None else "")
    return f"http://{host}:{port}{path}:{verb}" if verb else f"http://{host}:{port}{path}"


def post_json(url, body, timeout=30.0):
    """POSTs `body` as JSON and returns the decoded answer.

    TF Serving's own error answer (`{"error": ...}`) is returned too, with its HTTP status
    added as `"http_status"`, so that `parse_rest_response` raises it with the server's
    message and status (404: no such model or version; 400: a request it refused). Any other
    HTTP error (a proxy's 502, say) raises `RuntimeError` with the status and the body.
    """
    data = json.dumps(body, allow_nan=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        if isinstance(answer, dict) and "error" in answer:
            return {**answer, "http_status": error.code}
        raise RuntimeError(f"HTTP {error.code} from {url}: {text[:500]!r}") from error


def grpc_predict(target, request, timeout=30.0):
    """Sends a `PredictRequest` to `target` (`"host:8500"`) and returns the `PredictResponse`."""
    import grpc

    _, prediction_service_pb2_grpc = serving_apis()
    with grpc.insecure_channel(target) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        return stub.Predict(request, timeout=timeout)
