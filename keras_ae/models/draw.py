"""DRAW: the recurrent, attentive variational autoencoder (Gregor et al. 2015)."""

import math

import keras
import numpy as np
from keras import ops

from keras_ae import backend
from keras_ae._validation import check_int, check_seed
from keras_ae.architectures import check_input_shape
from keras_ae.losses import gaussian_kl
from keras_ae.losses.functional import in_loss_dtype
from keras_ae.models.base_autoencoder import ELBO_METRIC_NAMES, BaseAutoencoder, weighted_mean
from keras_ae.models.draw_recurrence import DrawRecurrence
from keras_ae.models.networks import CodeSpec
from keras_ae.registry import register_model


@register_model("draw")
class DRAW(DrawRecurrence, BaseAutoencoder):
    """Deep Recurrent Attentive Writer: a VAE that draws its reconstruction in `steps` strokes.

    At each step t = 1..T (weights shared across steps), with the canvas `c` holding the
    likelihood's parameters (logits for the Bernoulli likelihood, whose mean is sigmoid(c)):

        x_hat_t = x - mean(c_{t-1})
        r_t = read(x, x_hat_t, h_dec_{t-1})
        h_enc_t = LSTM_enc([r_t, h_dec_{t-1}]);  z_t ~ N(mu(h_enc_t), sigma(h_enc_t)^2)
        h_dec_t = LSTM_dec(z_t);  c_t = c_{t-1} + write(h_dec_t)

    and the reconstruction is the likelihood of `x` given `c_T` (logits for the Bernoulli
    likelihood). The KL term is summed over steps and latent units, added with
    `add_loss`; `reconstruction_loss`, `kl_loss` and `elbo` are logged as for the VAE.
    Without attention (`read_size=None`, `write_size=None`) the read is `[x, x_hat]` and
    the write a dense map of `h_dec`; with them, N x N glimpses through a grid of
    Gaussian filters (`AttentiveRead`, `AttentiveWrite`).

    Codes are the sequences of posterior means, `(batch, steps, latent_dim)`: `encode`
    returns them, `decode` draws from them; `sample` decodes prior draws, and
    `generation_steps` returns the canvas after every step. In training `z_t` comes from
    the `Sampling` layer; `evaluate` (and the exported `score`) use one posterior sample
    per example keyed by its values, so they report a real ELBO; `predict` decodes the
    means (deterministic).

    Args:
        input_shape: an image shape `(height, width, channels)` (or a vector shape
            without attention).
        latent_dim: size of each `z_t`.
        steps: T, the number of steps, >= 1.
        encoder_units, decoder_units: LSTM sizes.
        read_size: glimpse size N of the attentive read, or None to read the whole image.
        write_size: patch size N of the attentive write, or None for a dense write.
        **kwargs: `likelihood`, `seed`, `name` (see `BaseAutoencoder`).

    Returns:
        Called on a batch, the reconstruction from the posterior means.

    Example:
        >>> draw = keras_ae.create_model("draw", input_shape=(28, 28, 1), latent_dim=100,
        ...                              steps=64, read_size=2, write_size=5)
        >>> draw.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=10.0))
        >>> draw.fit(x_train_binary, epochs=20, batch_size=64)
        >>> canvases = draw.generation_steps(16, seed=0)  # (16, 64, 28, 28, 1)

    References:
        Gregor, Danihelka, Graves, Rezende & Wierstra, "DRAW: A Recurrent Neural Network
        For Image Generation", ICML 2015.
    """

    generative = True
    sequential = True
    dense_architectures = ()

    def __init__(
        self,
        input_shape=None,
        latent_dim=10,
        steps=10,
        encoder_units=256,
        decoder_units=256,
        read_size=None,
        write_size=None,
        **kwargs,
    ):
        for name in ("encoder", "decoder"):
            if kwargs.get(name) is not None:
                raise ValueError(f"DRAW builds its own recurrent networks. Received: {name}={kwargs[name]!r}")
        # Options of the zoo's dense and conv networks: DRAW has none, so a value other
        # than the default would be silently ignored.
        not_applicable = (
            ("architecture", ("mlp",)),
            ("hidden_units", ((),)),
            ("filters", ()),
            ("activation", ("relu",)),
        )
        for name, allowed in not_applicable:
            value = kwargs.pop(name, None)
            if value is not None and (tuple(value) if isinstance(value, list) else value) not in allowed:
                raise ValueError(
                    f"DRAW's networks are LSTMs: `{name}` does not apply. Received: {name}={value!r}"
                )
        self.steps = check_int("steps", steps)
        self.encoder_units = check_int("encoder_units", encoder_units)
        self.decoder_units = check_int("decoder_units", decoder_units)
        self.read_size = None if read_size is None else check_int("read_size", read_size)
        self.write_size = None if write_size is None else check_int("write_size", write_size)
        if input_shape is not None:
            input_shape = check_input_shape(input_shape)
        if (self.read_size or self.write_size) and (input_shape is None or len(input_shape) != 3):
            raise ValueError(
                "Attention (read_size, write_size) needs an image input_shape (height, width, channels). "
                f"Received: input_shape={input_shape!r}"
            )
        for name, size in (("read_size", self.read_size), ("write_size", self.write_size)):
            if size is not None and size > max(input_shape[0], input_shape[1]):
                raise ValueError(
                    f"Argument `{name}` (a glimpse size) must be at most the image size "
                    f"({input_shape[0]}x{input_shape[1]}). Received: {name}={size}, input_shape={input_shape}"
                )
        super().__init__(input_shape=input_shape, latent_dim=latent_dim, hidden_units=(), **kwargs)

    # ----------------------------------------------------------------- networks
    @property
    def code_spec(self):
        return CodeSpec((self.steps, self.latent_dim), "float32", "z", "code")

    def build_features(self, inputs):
        return inputs

    def build_encoder(self, inputs, features):
        check_int("latent_dim", self.latent_dim)
        self.build_recurrence()
        path = self.unroll(inputs, noise="mean")
        return keras.Model(inputs, [path["z_mean"], path["z_log_var"], path["z"]], name="encoder")

    def build_decoder_network(self):
        z = keras.Input(self.code_spec.shape, name="z")
        return keras.Model(z, self.draw_canvas(z)[-1], name="decoder_network")

    # ----------------------------------------------------------------- forward and losses
    @property
    def metric_names(self):
        return ELBO_METRIC_NAMES

    def kl_penalty(self, kl):
        return kl

    def forward(self, x, training=False, sample_weight=None, compute_losses=True):
        path = self.unroll(x, noise="sample" if training else "mean", training=training)
        outputs = {
            "code": path["z_mean"],
            "z_mean": path["z_mean"],
            "z_log_var": path["z_log_var"],
            "z": path["z"],
            **self._decoded(path["logits"]),
        }
        if compute_losses:
            if not training:
                # A real ELBO outside training: one posterior path per example, its draws keyed
                # by the example's values (the same score alone or in any batch).
                keys = backend.example_keys(ops.reshape(x, (ops.shape(x)[0], -1)), self.seed or 0)
                eps = backend.keyed_normal(keys, self.code_spec.shape, dtype=self.compute_dtype)
                path = self.unroll(x, noise=eps, training=False)
            # KL summed over latent units (gaussian_kl) and over the T steps.
            kl = ops.sum(
                ops.reshape(
                    gaussian_kl(
                        ops.reshape(path["z_mean"], (-1, self.latent_dim)),
                        ops.reshape(path["z_log_var"], (-1, self.latent_dim)),
                    ),
                    (-1, self.steps),
                ),
                axis=1,
            )
            outputs["kl"] = kl
            outputs["kl_loss"] = weighted_mean(kl, sample_weight)
            outputs["loss_params"] = path["logits"]
            self.add_loss(self.kl_penalty(outputs["kl_loss"]))
        return outputs

    def _decoded(self, logits):
        return {"params": logits, "reconstruction": ops.cast(self.likelihood.mean(logits), self.dtype)}

    def reconstruction_nll(self, x, outputs, training=False):
        """`-log p(x | c_T)` per example, for the path whose KL is in the loss."""
        return self.likelihood.nll(x, outputs["loss_params"])

    def compute_loss_terms(self, x, outputs, sample_weight=None, training=False):
        logs = super().compute_loss_terms(x, outputs, sample_weight, training=training)
        logs["kl_loss"] = outputs["kl_loss"]
        logs["elbo"] = -(logs["reconstruction_loss"] + outputs["kl_loss"])
        return logs

    def score_terms(self, outputs):
        return {"kl_loss": outputs["kl"]}

    def log_importance_weights(self, x, eps):
        """`log p(x, z) - log q(z | x)` per example for the path drawn with `eps`.

        The importance weight of one DRAW path: with `z_t = mu_t + sigma_t * eps_t`,
        `log q = sum_t sum_j (-eps^2/2 - log sigma - log(2 pi)/2)` and
        `log p(z) = sum_t sum_j (-z^2/2 - log(2 pi)/2)`, plus `log p(x | c_T)`
        (`keras_ae.evaluation.importance_weighted_log_likelihood` averages their exponents).

        Args:
            x: examples `(batch, *input_shape)`.
            eps: standard normal draws `(batch, steps, latent_dim)`.

        Returns:
            A `(batch,)` tensor of nats.
        """
        path = self.unroll(x, noise=eps)
        half_log_2pi = 0.5 * math.log(2.0 * math.pi)
        # In float32 under a mixed-precision policy too (the paths run in bfloat16).
        half_precision = keras.backend.standardize_dtype(path["z"].dtype) != "float32"
        eps, z_mean, z_log_var, z = in_loss_dtype(
            ops.convert_to_tensor(eps), path["z_mean"], path["z_log_var"], path["z"]
        )
        if half_precision:
            # The path's z is mu + sigma * eps rounded to bfloat16: q is scored at that z,
            # the point the prior and the decoder saw, not at the unrounded one.
            eps = (z - z_mean) * ops.exp(-0.5 * z_log_var)
        log_q = ops.sum(-0.5 * ops.square(eps) - 0.5 * z_log_var - half_log_2pi, axis=(1, 2))
        log_prior = ops.sum(-0.5 * ops.square(z) - half_log_2pi, axis=(1, 2))
        return -self.likelihood.nll(x, path["logits"]) + log_prior - log_q

    # ----------------------------------------------------------------- generation
    def sample_graph(self, num_samples, seed):
        z = backend.stateless_normal(
            (num_samples, self.steps * self.latent_dim), seed, dtype=self.compute_dtype
        )
        z = ops.reshape(z, (-1, self.steps, self.latent_dim))
        return {"samples": self.decoder(z, training=False), "z": z}

    def generation_steps(self, num_samples=16, seed=None, x=None):
        """The canvas after each of the T steps, as images (the paper's figures).

        Args:
            num_samples: prior samples to draw (ignored when `x` is given).
            seed: seed of the prior draws (as `sample`).
            x: optional examples: the canvases of their reconstructions (posterior means).

        Returns:
            A numpy array `(n, steps, *input_shape)` of likelihood means.
        """
        if x is not None:
            self._check_array(np.asarray(x))
            z = self.encode(np.asarray(x))
        else:
            seed = check_seed(seed)
            seed = int(np.random.default_rng().integers(2**62)) if seed is None else seed
            z = self.sample_graph(check_int("num_samples", num_samples), seed)["z"]
        canvases = self.draw_canvas(ops.convert_to_tensor(z, "float32"))
        return ops.convert_to_numpy(ops.stack([self.likelihood.mean(c) for c in canvases], axis=1))

    def attention_boxes(self, x):
        """Where the read and the write attend at each step of the reconstruction of `x`.

        Returns:
            A dict with `"read"` and `"write"` (those with attention), each a numpy array
            `(n, steps, 3)` of the grid centre `(g_X, g_Y)` and the side `N * delta` of
            the attended square, in 1-based pixel coordinates.
        """
        x = np.asarray(x)
        self._check_array(x)
        path = self.unroll(ops.convert_to_tensor(x), noise="mean")
        h_dec = ops.convert_to_numpy(path["h_dec"])
        previous = np.concatenate([np.zeros_like(h_dec[:, :1]), h_dec[:, :-1]], axis=1)
        boxes = {}
        for name, layer, states in (
            ("read", getattr(self, "reader", None), previous),
            ("write", self.writer if self.write_size is not None else None, h_dec),
        ):
            if layer is not None:
                squares = layer.filterbank.attended_squares(states.reshape(-1, states.shape[-1]))
                boxes[name] = ops.convert_to_numpy(squares).reshape(len(x), self.steps, 3)
        return boxes

    # ----------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        for key in ("architecture", "hidden_units", "filters", "activation", "encoder", "decoder"):
            config.pop(key, None)
        config.update(
            {
                "steps": self.steps,
                "encoder_units": self.encoder_units,
                "decoder_units": self.decoder_units,
                "read_size": self.read_size,
                "write_size": self.write_size,
            }
        )
        return config
