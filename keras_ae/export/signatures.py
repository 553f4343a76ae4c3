"""The serving signatures of an autoencoder: names, input specs and the functions behind them.

Every signature takes one argument (a tensor, or a dict of tensors for `sample`), so each
endpoint also loads back as a `keras.layers.TFSMLayer`, and returns a dict, so every
output of the SavedModel has a meaningful name. They are written generically against
`BaseAutoencoder` (any autoencoder, including subclasses added later), using only the
public pieces every model has: `call`, `.encoder`, `.decoder`, `reconstruction_nll`,
`code_spec` (the shape, dtype and names of the codes: float vectors, DRAW's sequences or
VQ-VAE's int32 index grids), `score_terms` (the per-example terms added to the score: KL,
VQ) and the class's declared capabilities: `generative` models (a prior: `sample_graph`)
add the sampling signatures, `variational` ones (a Gaussian posterior) export its
parameters and `sample_from_noise`.
"""

import tensorflow as tf

from keras_ae._validation import shape_text

#: Signature names, in the order they are registered.
SIGNATURE_NAMES = (
    "serving_default",
    "reconstruct",
    "encode",
    "decode",
    "score",
    "sample",
    "sample_from_noise",
)

#: Signatures only generative (VAE-family) models have.
GENERATIVE_SIGNATURES = ("sample", "sample_from_noise")


def signature_names(model):
    """The signature names an export of `model` has, in order."""
    names = (
        SIGNATURE_NAMES
        if model.generative
        else tuple(n for n in SIGNATURE_NAMES if n not in GENERATIVE_SIGNATURES)
    )
    if not model.variational:
        # Decoding standard-normal noise only means "sampling" with a N(0, I) prior.
        names = tuple(n for n in names if n != "sample_from_noise")
    return names


def _checked(tensor, spec, signature):
    """Returns `tensor` behind a run-time check of its shape against `spec`.

    TF Serving does not check request shapes against the SignatureDef; without this a
    wrong shape fails deep inside the network ("Matrix size-incompatible"), or not at
    all. The check runs in the graph, so the server answers with a message naming the
    signature, the input and both shapes. It compares the shape *as text*: Grappler
    folds any numeric rank test to a constant from the static signature shape, which
    would silently remove the check for inputs of the wrong rank.
    """
    shape = tf.shape(tensor, out_type=tf.int64)
    text = tf.strings.reduce_join(tf.strings.as_string(shape), separator=",")
    pattern = ",".join(r"\d+" if d is None else str(d) for d in spec.shape)
    ok = tf.strings.regex_full_match(text, pattern)
    message = (
        f"keras_ae: input `{spec.name}` of signature `{signature}` must have shape "
        f"{shape_text(spec.shape)}; received shape"
    )
    with tf.control_dependencies([tf.debugging.Assert(ok, [message, shape])]):
        return tf.identity(tensor)


def _first(outputs):
    return outputs[0] if isinstance(outputs, (list, tuple)) else outputs


def _float32_outputs(fn):
    """`fn` with every float output cast to float32. Under a mixed-precision policy codes
    come out in the compute dtype (bfloat16), which TF Serving's JSON, the gRPC protos'
    float fields and `keras_ae.export.client` do not speak; a bfloat16 value is exact in
    float32, so the cast loses nothing."""

    def served(inputs):
        return {
            name: tf.cast(value, tf.float32) if value.dtype.is_floating else value
            for name, value in fn(inputs).items()
        }

    return served


def serving_signatures(model):
    """Builds the serving functions of `model`.

    Args:
        model: a built `BaseAutoencoder`.

    Returns:
        A dict `{name: (fn, input_signature)}` in `signature_names(model)` order, ready
        for `keras.export.ExportArchive.add_endpoint(name, fn, input_signature)`.
        Inputs have a free batch dimension; they are float32, except the scalars of `sample`
        and the codes of `decode`, whose dtype is `model.code_spec.dtype` (int32 indices for
        VQ-VAE). Float outputs are float32 under any dtype policy:

        - `serving_default`, `reconstruct`: `x` -> `reconstruction` (deterministic:
          the VAE family decodes the posterior mean), equal to `model.predict(x)`.
        - `encode`: `x` -> `code` (`z_mean`, `z_log_var` for the VAE family), as
          `model.encode` / `model.encoder`.
        - `decode`: codes (`z`, or VQ-VAE's `indices`) -> `reconstruction`, equal to
          `model.decode(z)`.
        - `score`: `x` -> per-example anomaly `score` (higher is more anomalous) and its
          parts: the reconstruction negative log-likelihood `reconstruction_loss` (the
          model's own likelihood, summed over features), plus the model's `score_terms`:
          `kl_loss` for the VAE family and DRAW, whose score is the negative ELBO (its
          reconstruction term a seeded Monte Carlo estimate, the same draws as
          `evaluate`'s), and `vq_loss` for VQ-VAE, whose score is its training loss. Their
          batch means equal `evaluate`'s `reconstruction_loss` and `-elbo` (or `loss`).
        - `sample` (generative models): `{num_samples: int32 scalar, seed: int64 scalar}`
          -> `samples` and their codes `z`, equal to `model.sample(num_samples, seed)`.
        - `sample_from_noise` (variational models): `noise` (standard normal codes) ->
          `samples`.
    """
    x_spec = tf.TensorSpec((None, *model.data_shape), tf.float32, name="x")
    code = model.code_spec
    z_spec = tf.TensorSpec((None, *code.shape), code.dtype, name=code.input_name)
    variational = model.variational

    def reconstruct_fn(name):
        def reconstruct(x):
            x = _checked(x, x_spec, name)
            return {"reconstruction": model(x, training=False)}

        return reconstruct

    def encode(x):
        x = _checked(x, x_spec, "encode")
        codes = model.encoder(x, training=False)
        if variational:
            return {"z_mean": codes[0], "z_log_var": codes[1]}
        return {code.output_name: _first(codes)}

    def decode(z):
        z = _checked(z, z_spec, "decode")
        return {"reconstruction": model.decoder(z, training=False)}

    def score(x):
        x = _checked(x, x_spec, "score")
        outputs = model(x, training=False, return_outputs=True)
        nll = model.reconstruction_nll(outputs["x"], outputs, training=False)
        result = {"score": nll, "reconstruction_loss": nll}
        for name, term in model.score_terms(outputs).items():
            result[name] = term
            result["score"] = result["score"] + term
        return result

    signatures = {
        "serving_default": (reconstruct_fn("serving_default"), [x_spec]),
        "reconstruct": (reconstruct_fn("reconstruct"), [x_spec]),
        "encode": (encode, [x_spec]),
        "decode": (decode, [z_spec]),
        "score": (score, [x_spec]),
    }
    if model.generative:
        sample_spec = {
            "num_samples": tf.TensorSpec((), tf.int32, name="num_samples"),
            "seed": tf.TensorSpec((), tf.int64, name="seed"),
        }

        def sample(inputs):
            num_samples = inputs["num_samples"]
            with tf.control_dependencies(
                [
                    tf.debugging.Assert(
                        num_samples > 0,
                        [
                            "keras_ae: input `num_samples` of signature `sample` must be >= 1; received",
                            num_samples,
                        ],
                    )
                ]
            ):
                return model.sample_graph(num_samples, inputs["seed"])

        signatures["sample"] = (sample, [sample_spec])
    if variational:
        noise_spec = tf.TensorSpec((None, model.latent_dim), tf.float32, name="noise")

        def sample_from_noise(noise):
            noise = _checked(noise, noise_spec, "sample_from_noise")
            return {"samples": model.decoder(noise, training=False)}

        signatures["sample_from_noise"] = (sample_from_noise, [noise_spec])
    return {
        name: (_float32_outputs(signatures[name][0]), signatures[name][1]) for name in signature_names(model)
    }
