"""One signature of a served model and its codecs: request bodies and protos built and
checked against it, responses read back into numpy (used by `keras_ae.export.client`)."""

import json

import numpy as np

from keras_ae._validation import shape_text

PREDICT_METHOD = "tensorflow/serving/predict"

#: TensorFlow DataType enum values of the dtypes the zoo's signatures use.
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64, 10: np.bool_}

FORMATS = ("instances", "inputs")


def serving_apis():
    """Imports the gRPC protos of tensorflow-serving-api, or says how to install them."""
    try:
        from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc
    except ImportError as error:
        raise ImportError(
            "The gRPC client of keras_ae.export.client needs the optional package tensorflow-serving-api. "
            "Install it without its dependencies, which would pull the full tensorflow wheel: "
            "`pip install --no-deps tensorflow-serving-api` (grpcio and protobuf come with TensorFlow)."
        ) from error
    return predict_pb2, prediction_service_pb2_grpc


class ServingSignature:
    """One SignatureDef of a served model: its inputs and outputs, and request/response codecs.

    Args:
        name: the signature key (`"serving_default"`, `"score"`, ...).
        inputs: `{input_name: (dtype, shape)}`, `dtype` a numpy dtype and `shape` a tuple
            with `None` for free dimensions (the batch).
        outputs: `{output_name: (dtype, shape)}`.
        method_name: the SignatureDef's method (`"tensorflow/serving/predict"`).

    Example:
        >>> sig = load_signatures("saved_models/vae_mnist/1")["sample"]
        >>> sig.rest_body({"num_samples": 4, "seed": 0}, format="inputs")
        {'signature_name': 'sample', 'inputs': {'num_samples': 4, 'seed': 0}}
    """

    def __init__(self, name, inputs, outputs, method_name=PREDICT_METHOD):
        self.name = name
        self.inputs = {k: (np.dtype(d), tuple(s)) for k, (d, s) in inputs.items()}
        self.outputs = {k: (np.dtype(d), tuple(s)) for k, (d, s) in outputs.items()}
        self.method_name = method_name

    @classmethod
    def from_proto(cls, name, signature_def):
        """Builds it from a `tensorflow.core.protobuf.meta_graph_pb2.SignatureDef`."""

        def specs(infos):
            result = {}
            for key, info in sorted(infos.items()):  # proto maps have no fixed order
                if info.dtype not in _DTYPES:
                    raise ValueError(
                        f"Signature {name!r} has tensor {key!r} of unsupported dtype enum {info.dtype}."
                    )
                shape = tuple(None if d.size < 0 else int(d.size) for d in info.tensor_shape.dim)
                result[key] = (_DTYPES[info.dtype], shape)
            return result

        return cls(name, specs(signature_def.inputs), specs(signature_def.outputs), signature_def.method_name)

    def __repr__(self):
        def text(specs):
            return ", ".join(f"{k}: {np.dtype(d).name}{list(s)}" for k, (d, s) in specs.items())

        return (
            f"ServingSignature({self.name!r}, inputs=({text(self.inputs)}), outputs=({text(self.outputs)}))"
        )

    # ------------------------------------------------------------------ checks
    def check_inputs(self, inputs):
        """Validates `inputs` against the signature and returns them as typed numpy arrays.

        Args:
            inputs: `{input_name: array-like}`, or one array-like for a one-input signature.

        Returns:
            `{input_name: np.ndarray}` in the signature's dtypes.

        Raises:
            ValueError: a missing or unknown name, a value of the wrong kind (e.g. integers
                for a float input), of the wrong shape, or NaN/Inf; the message names the input.
        """
        if not isinstance(inputs, dict):
            if len(self.inputs) != 1:
                raise ValueError(
                    f"Signature {self.name!r} has several inputs {sorted(self.inputs)}: pass a dict. "
                    f"Received: inputs of type {type(inputs).__name__}"
                )
            inputs = {next(iter(self.inputs)): inputs}
        if set(inputs) != set(self.inputs):
            raise ValueError(
                f"Signature {self.name!r} takes inputs {sorted(self.inputs)}. Received: {sorted(inputs)}"
            )
        checked = {}
        for key, (dtype, shape) in self.inputs.items():
            value = np.asarray(inputs[key])
            if np.issubdtype(dtype, np.floating):
                ok = np.issubdtype(value.dtype, np.floating)
                hint = " (scale images to floats first, e.g. x.astype('float32') / 255)"
            elif np.issubdtype(dtype, np.integer):
                info = np.iinfo(dtype)
                ok = np.issubdtype(value.dtype, np.integer) and (
                    value.size == 0 or (int(value.min()) >= info.min and int(value.max()) <= info.max)
                )
                hint = ""
            else:
                ok = value.dtype == dtype
                hint = ""
            if not ok:
                raise ValueError(
                    f"Input {key!r} of signature {self.name!r} expects {np.dtype(dtype).name} values{hint}. "
                    f"Received: {key} with dtype={value.dtype.name}"
                )
            if value.ndim != len(shape) or any(
                e is not None and e != d for e, d in zip(shape, value.shape, strict=False)
            ):
                raise ValueError(
                    f"Input {key!r} of signature {self.name!r} must have shape {shape_text(shape)}. "
                    f"Received: {key} with shape={value.shape}"
                )
            value = value.astype(dtype, copy=False)
            # Checked after the cast: a float64 1e39 becomes Inf in float32. JSON has no NaN or
            # Inf, and the model's own checks would refuse them.
            if value.dtype.kind == "f" and not np.isfinite(value).all():
                raise ValueError(
                    f"Input {key!r} of signature {self.name!r} holds NaN or Inf values "
                    f"(as {np.dtype(dtype).name}). Received: {key} with shape={value.shape}"
                )
            checked[key] = value
        return checked

    # ------------------------------------------------------------------ REST
    def rest_body(self, inputs, format="instances"):
        """The JSON body of a REST predict request (a dict; `json.dumps` it to send).

        Args:
            inputs: see `check_inputs`.
            format: `"instances"` (row format: one JSON object per example, every input
                batched along its first axis) or `"inputs"` (columnar: one value per input;
                needed for signatures with scalar inputs such as `sample`).

        Returns:
            `{"signature_name": ..., "instances": [{name: row, ...}, ...]}` or
            `{"signature_name": ..., "inputs": {name: value, ...}}`. Float32 values are
            written as the nearest double, which the server converts back exactly.
        """
        if format not in FORMATS:
            raise ValueError(f"Argument `format` must be one of {list(FORMATS)}. Received: format={format!r}")
        checked = self.check_inputs(inputs)
        if format == "inputs":
            return {"signature_name": self.name, "inputs": {k: v.tolist() for k, v in checked.items()}}
        scalars = [k for k, (_, shape) in self.inputs.items() if not shape]
        if scalars:
            raise ValueError(
                f"Signature {self.name!r} has scalar inputs {scalars}, which the row format cannot "
                "batch. Use format='inputs'."
            )
        sizes = {k: v.shape[0] for k, v in checked.items()}
        if len(set(sizes.values())) != 1:
            raise ValueError(
                f"The row format needs the same batch size for every input. Received: sizes {sizes}"
            )
        batch = next(iter(sizes.values()))
        if batch == 0:
            raise ValueError("The row format needs at least one example. Received: an empty batch")
        rows = {k: v.tolist() for k, v in checked.items()}
        instances = [{k: rows[k][i] for k in rows} for i in range(batch)]
        return {"signature_name": self.name, "instances": instances}

    def parse_rest_response(self, response):
        """Converts a REST predict answer to `{output_name: np.ndarray}`.

        Args:
            response: the answer as a dict, or its JSON text / bytes. Row-format answers
                hold `"predictions"` (a list of values for one output, of objects for
                several), columnar ones `"outputs"` (a value, or an object).

        Raises:
            RuntimeError: the server answered `{"error": ...}`.
            ValueError: the answer does not match the signature's outputs.
        """
        if isinstance(response, (str, bytes, bytearray)):
            response = json.loads(response)
        if not isinstance(response, dict):
            raise ValueError(f"Expected a JSON object. Received: {type(response).__name__}")
        if "error" in response:
            status = f" (HTTP {response['http_status']})" if "http_status" in response else ""
            raise RuntimeError(
                f"TF Serving answered signature {self.name!r} with an error{status}: {response['error']}"
            )
        names = list(self.outputs)
        if "predictions" in response:
            rows = response["predictions"]
            if len(names) == 1:
                values = {names[0]: rows}
            else:
                if not all(isinstance(row, dict) for row in rows):
                    raise ValueError(f"Expected one object per example with outputs {sorted(names)}.")
                values = {k: [row[k] for row in rows] for k in rows[0]} if rows else {k: [] for k in names}
        elif "outputs" in response:
            outputs = response["outputs"]
            values = {names[0]: outputs} if len(names) == 1 else outputs
        else:
            raise ValueError(
                f"Expected 'predictions' or 'outputs' in the answer. Received keys: {sorted(response)}"
            )
        if not isinstance(values, dict) or set(values) != set(names):
            found = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise ValueError(f"Signature {self.name!r} has outputs {sorted(names)}. Received: {found}")
        return {k: np.asarray(values[k], dtype=self.outputs[k][0]) for k in names}

    # ------------------------------------------------------------------ gRPC
    def grpc_request(self, inputs, model_name, version=None):
        """A `tensorflow_serving.apis.predict_pb2.PredictRequest` for this signature.

        Args:
            inputs: see `check_inputs`.
            model_name: the served model's name (as in `models.config`).
            version: optional version number; the server's latest when omitted.
        """
        import tensorflow as tf

        predict_pb2, _ = serving_apis()
        request = predict_pb2.PredictRequest()
        request.model_spec.name = model_name
        request.model_spec.signature_name = self.name
        if version is not None:
            request.model_spec.version.value = int(version)
        for key, value in self.check_inputs(inputs).items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value, dtype=self.inputs[key][0]))
        return request

    def parse_grpc_response(self, response):
        """Converts a `PredictResponse` proto to `{output_name: np.ndarray}`."""
        import tensorflow as tf

        missing = set(self.outputs) - set(response.outputs)
        if missing:
            raise ValueError(
                f"Signature {self.name!r} has outputs {sorted(self.outputs)}. "
                f"Received: {sorted(response.outputs)}"
            )
        return {k: tf.make_ndarray(response.outputs[k]) for k in self.outputs}
