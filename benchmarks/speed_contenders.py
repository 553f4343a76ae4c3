"""The contenders of `training_speed.py`: one network, built for each way of training it.

`MODELS` names the networks; `contenders(name, batch_size, ...)` returns, for each label
of `CONTENDERS`, a `fit(x, epochs=1)` that trains that network: keras-ae with its
defaults and each lever, a plain Keras functional model, a hand-written TensorFlow
floor, and PyTorch when it is installed. `training_speed.py` times them side by side;
`step_profile.py` profiles them.
"""

import os

import numpy as np

MODELS = {
    "vae": {"input_shape": (784,), "latent_dim": 20, "hidden_units": (512, 256)},
    "conv_vae": {
        "input_shape": (28, 28, 1),
        "latent_dim": 16,
        "architecture": "conv",
        "hidden_units": (256,),
    },
    "cae": {
        "input_shape": (784,),
        "latent_dim": 1000,
        "hidden_units": (),
        "tied_weights": True,
        "contractive_weight": 0.1,
    },
}
REGISTRY = {"vae": "vae", "conv_vae": "vae", "cae": "contractive_autoencoder"}


# ------------------------------------------------------------------------------ Keras
def keras_ae_fit(name, batch_size, fused=True, dtype=None, **compile_args):
    import keras

    import keras_ae

    class UnfusedAdam(keras.optimizers.Adam):
        """Keras' Adam update: `compile` fuses only `keras.optimizers.Adam` itself."""

    keras.utils.set_random_seed(0)
    model = keras_ae.create_model(REGISTRY[name], **MODELS[name], dtype=dtype)
    optimizer = keras.optimizers.Adam(1e-3) if fused else UnfusedAdam(1e-3)
    model.compile(optimizer=optimizer, **compile_args)
    return lambda x, epochs=1: model.fit(x, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=False)


def keras_functional_fit(name, batch_size, **compile_args):
    """The same network as a plain functional model trained by Keras' own train step."""
    import keras
    from keras import ops

    keras.utils.set_random_seed(0)
    spec = MODELS[name]
    inputs = keras.Input(spec["input_shape"])
    if name == "cae":
        code = keras.layers.Dense(spec["latent_dim"], activation="sigmoid")(inputs)
        logits = keras.layers.Dense(784)(code)
        model = keras.Model(inputs, logits)
    else:
        import keras_ae

        # The zoo's own networks, wired into a functional VAE whose KL is an add_loss.
        reference = keras_ae.create_model("vae", **spec)
        z_mean, z_log_var, z = reference.encoder(inputs)

        class KL(keras.layers.Layer):
            def call(self, mean, log_var):
                self.add_loss(
                    ops.mean(-0.5 * ops.sum(1 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1))
                )
                return mean

        KL()(z_mean, z_log_var)
        logits = reference.decoder_network(z)
        model = keras.Model(inputs, logits)

    def summed_bce(x, logits):
        x = ops.reshape(x, (ops.shape(x)[0], -1))
        logits = ops.reshape(logits, (ops.shape(logits)[0], -1))
        return ops.sum(ops.maximum(logits, 0) - logits * x + ops.log1p(ops.exp(-ops.abs(logits))), axis=-1)

    from keras_ae.optimizers import FusedAdam

    model.compile(optimizer=FusedAdam(1e-3), loss=summed_bce, **compile_args)
    return lambda x, epochs=1: model.fit(x, x, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=False)


def _fed_from_one_tensor(execution, batch_size, steps_per_execution):
    """`fit(x, epochs=1)` calling `execution(batches)` on slices of one tensor made from `x`.

    Each slice holds `steps_per_execution` batches, shaped `(steps_per_execution, batch_size,
    *example_shape)`; examples beyond the last whole slice are left out. No `tf.data`, no
    Keras loop: how the TensorFlow floor is fed.
    """
    import tensorflow as tf

    def fit(x, epochs=1):
        per_execution = steps_per_execution * batch_size
        usable = len(x) // per_execution * per_execution
        data = tf.constant(x[:usable].reshape(-1, steps_per_execution, batch_size, *x.shape[1:]))
        for _ in range(epochs):
            for j in range(data.shape[0]):
                execution(data[j])

    return fit


# ------------------------------------------------------------------- TensorFlow floor
def tensorflow_floor_fit(name, batch_size, steps_per_execution=16):
    """The MLP VAE as the fastest TensorFlow loop we could write by hand, or None for others.

    Raw variables and `tf` ops, fused Adam (`ResourceApplyAdam`), and the whole
    `steps_per_execution`-step loop compiled by XLA into one program fed by one tensor:
    no Keras, no `tf.data` iterator, no metrics or checks. What keras-ae's defaults could
    reach on this machine if every overhead above TensorFlow's own kernels were gone.
    """
    if name != "vae":
        return None
    import tensorflow as tf

    rng = np.random.default_rng(0)
    sizes = [(784, 512), (512, 256), (256, 40), (20, 256), (256, 512), (512, 784)]
    params = []
    for m, n in sizes:
        params += [
            tf.Variable(rng.normal(0, (2 / (m + n)) ** 0.5, (m, n)).astype("float32")),
            tf.Variable(tf.zeros(n)),
        ]
    moments = [(tf.Variable(tf.zeros_like(p)), tf.Variable(tf.zeros_like(p))) for p in params]
    step_count = tf.Variable(0.0)

    def loss_fn(x):
        h = x
        for i in (0, 2):
            h = tf.nn.relu(h @ params[i] + params[i + 1])
        mean, log_var = tf.split(h @ params[4] + params[5], 2, axis=-1)
        h = mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))
        for i in (6, 8):
            h = tf.nn.relu(h @ params[i] + params[i + 1])
        logits = h @ params[10] + params[11]
        bce = tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), -1)
        kl = -0.5 * tf.reduce_sum(1 + log_var - mean**2 - tf.exp(log_var), -1)
        return tf.reduce_mean(bce + kl)

    @tf.function(jit_compile=True)
    def execution(batches):
        for i in tf.range(steps_per_execution):
            with tf.GradientTape() as tape:
                loss = loss_fn(batches[i])
            gradients = tape.gradient(loss, params)
            step_count.assign_add(1.0)
            for p, (m, v), g in zip(params, moments, gradients, strict=True):
                tf.raw_ops.ResourceApplyAdam(
                    var=p.handle, m=m.handle, v=v.handle, beta1_power=0.9**step_count,
                    beta2_power=0.999**step_count, lr=1e-3, beta1=0.9, beta2=0.999, epsilon=1e-7, grad=g,
                )  # fmt: skip
        return loss

    return _fed_from_one_tensor(execution, batch_size, steps_per_execution)


# ---------------------------------------------------------------------------- PyTorch
def pytorch_fit(name, batch_size, bfloat16=False):
    import torch
    from torch import nn

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    if name in ("vae", "conv_vae"):
        if name == "vae":
            encoder = nn.Sequential(
                nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 40)
            )
            decoder = nn.Sequential(
                nn.Linear(20, 256), nn.ReLU(), nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 784)
            )
        else:
            # The zoo's "conv" networks: two stride-2 3x3 convolutions (32, 64), a dense 256
            # layer, heads of 16; the decoder mirrors them with transposed convolutions.
            encoder = nn.Sequential(
                nn.Unflatten(1, (1, 28, 28)),
                nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
                nn.Flatten(), nn.Linear(7 * 7 * 64, 256), nn.ReLU(), nn.Linear(256, 32),
            )  # fmt: skip
            decoder = nn.Sequential(
                nn.Linear(16, 256), nn.ReLU(), nn.Linear(256, 7 * 7 * 64), nn.ReLU(),
                nn.Unflatten(1, (64, 7, 7)),
                nn.ConvTranspose2d(64, 64, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
                nn.Conv2d(32, 1, 3, padding=1), nn.Flatten(),
            )  # fmt: skip

        def loss_fn(x):
            mean, log_var = encoder(x).chunk(2, dim=-1)
            z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
            logits = decoder(z)
            bce = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
            kl = -0.5 * (1 + log_var - mean**2 - log_var.exp()).sum(-1)
            return (bce + kl).mean()

        parameters = [*encoder.parameters(), *decoder.parameters()]
    else:
        weight = nn.Parameter(torch.randn(1000, 784) * 0.01)
        b_enc, b_dec = nn.Parameter(torch.zeros(1000)), nn.Parameter(torch.zeros(784))

        def loss_fn(x):
            h = torch.sigmoid(x @ weight.T + b_enc)
            logits = h @ weight + b_dec
            bce = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)
            jac = ((h * (1 - h)) ** 2 * (weight**2).sum(1)).sum(-1)
            return (bce + 0.1 * jac).mean()

        parameters = [weight, b_enc, b_dec]
    optimizer = torch.optim.Adam(parameters, lr=1e-3, fused=True)

    @torch.compile
    def step(x):
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
            loss = loss_fn(x)
        loss.backward()
        return loss

    def fit(x, epochs=1):
        data = torch.from_numpy(x.reshape(len(x), -1))
        for _ in range(epochs):
            for start in range(0, len(data) - batch_size + 1, batch_size):
                step(data[start : start + batch_size])
                optimizer.step()

    return fit


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError as error:
        # The PyPI wheel without its CUDA libraries raises ImportError (libcudnn) too.
        if error.name != "torch":
            print(f"pytorch: installed but cannot be imported ({error}); its column is skipped")
        return False
    return True


# ----------------------------------------------------------------- every contender, by label
# Each contender's label and how to build its `fit(x)` for a model name and batch size
# (None where it does not apply: the floor exists for the MLP VAE only).
CONTENDERS = {
    "keras-ae": lambda name, b: keras_ae_fit(name, b),
    "keras-ae xla": lambda name, b: keras_ae_fit(name, b, jit_compile=True),
    "keras-ae spe=1": lambda name, b: keras_ae_fit(name, b, steps_per_execution=1),
    "keras-ae unfused": lambda name, b: keras_ae_fit(name, b, fused=False),
    "keras-ae bf16": lambda name, b: keras_ae_fit(name, b, dtype="mixed_bfloat16"),
    "keras fit": lambda name, b: keras_functional_fit(name, b),
    "keras fit spe=16": lambda name, b: keras_functional_fit(name, b, steps_per_execution=16),
    "tensorflow floor": tensorflow_floor_fit,
    "pytorch": pytorch_fit,
    "pytorch bf16": lambda name, b: pytorch_fit(name, b, bfloat16=True),
}


def contenders(name, batch_size, with_torch, only=None):
    """The `fit` of every contender that applies, or of those in `only`: built only for
    the contenders that will run."""
    found = {}
    for label, build in CONTENDERS.items():
        if (only is not None and label not in only) or (label.startswith("pytorch") and not with_torch):
            continue
        fit = build(name, batch_size)
        if fit is not None:
            found[label] = fit
    return found
