"""DRAW's recurrence: the T steps of read, encode, sample, decode and write."""

import math

import keras
from keras import ops

from keras_ae.layers import Sampling
from keras_ae.layers.draw_attention import AttentiveRead, AttentiveWrite


def _zeros(like, units):
    """Zeros `(batch, units)` with the batch size of `like` (also on symbolic tensors)."""
    return ops.repeat(ops.zeros_like(like[:, :1]), units, axis=1)


class DrawRecurrence:
    """Mixin of `DRAW` (before `BaseAutoencoder` in its bases): the layers of one step and
    the loops that run them, `unroll` (the whole model) and `draw_canvas` (the decoder).

    It relies on the model's `data_shape`, `latent_dim`, `steps`, `encoder_units`,
    `decoder_units`, `read_size`, `write_size`, `likelihood`, `seed` and `compute_dtype`.
    The layers are the model's own attributes, so its weights (and saved files) are the
    same as if they were defined in `DRAW` itself.
    """

    def build_recurrence(self):
        """Creates the layers of the T steps (read, write, the two LSTM cells, the posterior's
        dense maps and the `Sampling` layer); DRAW's `build_encoder` calls it once."""
        shape = self.data_shape
        self._size = math.prod(shape)
        if self.read_size is not None:
            self.reader = AttentiveRead(shape[0], shape[1], self.read_size, name="read")
        if self.write_size is not None:
            self.writer = AttentiveWrite(shape[0], shape[1], shape[2], self.write_size, name="write")
        else:
            self.writer = keras.layers.Dense(self._size, name="write")
        self.encoder_cell = keras.layers.LSTMCell(self.encoder_units, name="encoder_lstm")
        self.decoder_cell = keras.layers.LSTMCell(self.decoder_units, name="decoder_lstm")
        self.z_mean_layer = keras.layers.Dense(self.latent_dim, name="z_mean")
        self.z_log_var_layer = keras.layers.Dense(self.latent_dim, name="z_log_var")
        self.sampling = Sampling(seed=self.seed, name="sampling")

    def _write(self, h_dec):
        update = self.writer(h_dec)
        return ops.reshape(update, (-1, self._size))

    def _read(self, x, x_hat, h_dec):
        if self.read_size is None:
            return ops.concatenate([x, x_hat], axis=-1)
        shape = (-1, *self.data_shape)
        return self.reader([ops.reshape(x, shape), ops.reshape(x_hat, shape), h_dec])

    def unroll(self, x, noise="sample", training=False):
        """Runs the T steps of DRAW on images `x`; returns the path's tensors.

        Args:
            x: a batch of examples.
            noise: how `z_t` is drawn: `"sample"` (the `Sampling` layer, training),
                `"mean"` (`z_t` = posterior mean) or a `(batch, steps, latent_dim)` tensor
                of standard normal draws.
            training: passed to the layers.

        Returns:
            A dict of `z_mean`, `z_log_var`, `z` (`(batch, steps, latent_dim)`), the
            decoder states `h_dec` (`(batch, steps, decoder_units)`) and `logits`: the
            final canvas `c_T`, shaped like one example.
        """
        flat = ops.reshape(ops.cast(x, self.compute_dtype), (-1, self._size))
        canvas = ops.zeros_like(flat)
        h_dec = _zeros(flat, self.decoder_units)
        enc_state = [_zeros(flat, self.encoder_units)] * 2
        dec_state = [h_dec, h_dec]
        means, log_vars, zs, states = [], [], [], []
        for t in range(self.steps):
            # The error image: what the canvas's current reconstruction (the likelihood's
            # mean: sigmoid(c) for a Bernoulli likelihood) still gets wrong.
            x_hat = flat - self.likelihood.mean(canvas)
            r = self._read(flat, x_hat, h_dec)
            h_enc, enc_state = self.encoder_cell(
                ops.concatenate([r, h_dec], axis=-1), enc_state, training=training
            )
            z_mean, z_log_var = self.z_mean_layer(h_enc), self.z_log_var_layer(h_enc)
            if isinstance(noise, str):
                z = self.sampling([z_mean, z_log_var], training=noise == "sample")
            else:
                z = z_mean + ops.exp(0.5 * z_log_var) * ops.cast(noise[:, t], z_mean.dtype)
            h_dec, dec_state = self.decoder_cell(z, dec_state, training=training)
            canvas = canvas + ops.cast(self._write(h_dec), canvas.dtype)
            means.append(z_mean)
            log_vars.append(z_log_var)
            zs.append(z)
            states.append(h_dec)
        return {
            "z_mean": ops.stack(means, axis=1),
            "z_log_var": ops.stack(log_vars, axis=1),
            "z": ops.stack(zs, axis=1),
            "h_dec": ops.stack(states, axis=1),
            "logits": ops.reshape(canvas, (-1, *self.data_shape)),
        }

    def draw_canvas(self, z, training=False):
        """The decoder alone: canvases (logits, shaped like an example) after each step of `z`."""
        h_dec = _zeros(z[:, 0], self.decoder_units)
        state = [h_dec, h_dec]
        canvas = None
        canvases = []
        for t in range(self.steps):
            h_dec, state = self.decoder_cell(z[:, t], state, training=training)
            update = ops.cast(self._write(h_dec), self.compute_dtype)
            canvas = update if canvas is None else canvas + update
            canvases.append(ops.reshape(canvas, (-1, *self.data_shape)))
        return canvases
