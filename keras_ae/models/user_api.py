"""What users call on every autoencoder besides Keras' own API: `from_preset`,
`encode`/`decode`/`reconstruct`/`sample` and the export."""

import keras
import numpy as np

from keras_ae._validation import check_int, check_seed
from keras_ae.losses.functional import HALF_DTYPES


class UserAPI:
    """Mixin of `BaseAutoencoder` (before `keras.Model` in its bases): the numpy conveniences.

    It relies on the model's `data_shape`, `code_spec`, `encoder`, `decoder`, `generative`
    and `sample_graph`, and on `Fitting`'s eager array checks (`_check_array`).
    """

    @classmethod
    def from_preset(cls, name):
        """Loads the trained model of preset `name` (see `keras_ae.list_presets()`), which
        must be of this class (or a subclass).

        Example:
            >>> vae = keras_ae.VAE.from_preset("vae_mnist")

        Raises:
            ValueError: an unknown preset, or one of another model class.
        """
        from keras_ae.presets import from_preset

        model = from_preset(name)
        if not isinstance(model, cls):
            raise ValueError(
                f"Preset {name!r} holds a {type(model).__name__}, not a {cls.__name__}: load it with "
                f"keras_ae.from_preset or {type(model).__name__}.from_preset. Received: name={name!r}"
            )
        return model

    def encode(self, x, batch_size=256):
        """Returns the codes of `x` as a numpy array (the posterior mean for a VAE)."""
        self._check_array(x)
        codes = self.encoder.predict(x, batch_size=batch_size, verbose=0)
        codes = codes[0] if isinstance(codes, (list, tuple)) else codes
        # Half-precision codes (a mixed-precision policy) are returned as float32.
        return codes.astype("float32") if codes.dtype.name in HALF_DTYPES else codes

    def decode(self, z, batch_size=256):
        """Returns the reconstructions (likelihood means) of codes `z` as a numpy array.

        `z` is shaped `(batch, *model.code_spec.shape)`: latent vectors, or for VQ-VAE
        grids of codebook indices.
        """
        return self.decoder.predict(self._check_codes(z), batch_size=batch_size, verbose=0)

    def _check_codes(self, z):
        """`z` as an array the decoder takes, or a ValueError naming what is wrong."""
        shape = self.code_spec.shape
        z = np.asarray(z)
        if z.ndim >= 1 and len(z) == 0:
            raise ValueError(f"Argument `z` holds no codes. Received: z with shape={z.shape}")
        if z.ndim != len(shape) + 1 or tuple(z.shape[1:]) != tuple(shape):
            raise ValueError(
                f"Argument `z` must have shape (batch, {', '.join(map(str, shape))}). "
                f"Received: z with shape={z.shape}"
            )
        if not np.issubdtype(z.dtype, np.number) or np.issubdtype(z.dtype, np.complexfloating):
            raise ValueError(f"Argument `z` must hold real numbers. Received: z with dtype={z.dtype}")
        z = z.astype("float32")
        if not np.isfinite(z).all():
            raise ValueError(f"Argument `z` contains NaN or Inf values. Received: z with shape={z.shape}")
        return z

    def reconstruct(self, x, batch_size=256):
        """Returns the deterministic reconstructions of `x` as a numpy array."""
        return self.predict(x, batch_size=batch_size, verbose=0)

    # ----------------------------------------------------------------- generation
    def sample_graph(self, num_samples, seed):
        """Draws `num_samples` examples from the model's prior as a pure function of `seed`.

        Generative models implement it with TensorFlow-traceable code (it is the body of
        the exported `sample` signature, where both arguments are tensors).

        Args:
            num_samples: an int or int32 scalar tensor.
            seed: an int or int64 scalar tensor.

        Returns:
            A dict with `"samples"` (data-space means, `(num_samples, *input_shape)`) and
            `"z"` (the codes they decode).
        """
        raise NotImplementedError(f"{type(self).__name__} has no prior to sample from (generative=False).")

    def sample(self, num_samples, seed=None):
        """Decodes `num_samples` draws from the prior; returns data-space means.

        Args:
            num_samples: how many samples, >= 1.
            seed: int seed of the draws; the same seed gives the same samples, here and in
                the exported `sample` signature. None draws a fresh seed.

        Returns:
            A numpy array shaped `(num_samples, *input_shape)`.
        """
        if not self.generative:
            raise ValueError(
                f"{type(self).__name__} is not generative: it has no prior to sample from. "
                f"Received: model {self.name!r}"
            )
        num_samples = check_int("num_samples", num_samples)
        seed = check_seed(seed)
        if seed is None:
            seed = int(np.random.default_rng().integers(2**62))
        samples = self.sample_graph(num_samples, seed)["samples"]
        return keras.ops.convert_to_numpy(samples)

    def export_for_serving(self, export_dir, version=None, overwrite=False):
        """Exports a TF Serving SavedModel to `export_dir/<version>/`; returns that path.

        See `keras_ae.export.export_for_serving` for the signatures and arguments.
        """
        # Imported here: the export package imports the model classes.
        from keras_ae.export import export_for_serving

        return export_for_serving(self, export_dir, version=version, overwrite=overwrite)
