"""A prior over discrete codes, trained after the autoencoder (VQ-VAE's PixelCNN)."""

import keras
import numpy as np

from keras_ae.models.pixelcnn_prior import PixelCNNPrior


class LearnedPrior:
    """Mixin (before `BaseAutoencoder` in the bases) for models with integer code grids
    (`code_spec`, `num_embeddings`, `latent_grid`) whose prior is a `PixelCNNPrior` fitted
    to the codes of the trained model. The model is generative once a prior is attached.
    """

    @property
    def generative(self):
        """True once a prior is attached (`fit_prior` or `attach_prior`)."""
        return self.prior is not None

    @property
    def optimized_variables(self):
        if self.prior is None:
            return self.trainable_variables
        # The prior is trained by its own `fit`, on the codes of the trained model.
        prior_ids = {id(v) for v in self.prior.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in prior_ids]

    def attach_prior(self, prior):
        """Attaches a `PixelCNNPrior` (or its config dict) over this model's index grids."""
        if isinstance(prior, dict):
            prior = keras.saving.deserialize_keras_object(prior)
        if not isinstance(prior, PixelCNNPrior):
            raise ValueError(f"Argument `prior` must be a PixelCNNPrior or None. Received: prior={prior!r}")
        if prior.grid_shape != self.latent_grid or prior.num_embeddings != self.num_embeddings:
            raise ValueError(
                f"The prior models grids {prior.grid_shape} of {prior.num_embeddings} codes; this "
                f"model's codes are grids {self.latent_grid} of {self.num_embeddings} codes. Received: "
                f"prior={type(prior).__name__}(grid_shape={prior.grid_shape}, num_embeddings="
                f"{prior.num_embeddings}) for input_shape={self.data_shape}, num_embeddings={self.num_embeddings}"
            )
        self.prior = prior
        return prior

    def fit_prior(self, x, epochs=10, batch_size=128, validation_data=None, verbose="auto", **prior_kwargs):
        """Trains the PixelCNN prior on the codes of `x` (creating it on first use).

        Args:
            x: training images (the prior learns the distribution of their index grids):
                an array, or a `tf.data.Dataset` of image batches.
            epochs, batch_size, verbose: as in Keras' `fit`.
            validation_data: optional images whose codes are the validation set.
            **prior_kwargs: `PixelCNNPrior` arguments (`filters`, `num_blocks`,
                `kernel_size`) when the prior is created here.

        Returns:
            The prior's `History` (`loss` in nats per grid, `bits_per_code`).
        """
        if self.prior is None:
            self.attach_prior(
                # In the model's dtype policy unless told otherwise, like its other layers.
                PixelCNNPrior(
                    self.latent_grid,
                    self.num_embeddings,
                    name="prior",
                    **{"dtype": self.dtype_policy, **prior_kwargs},
                )
            )
        elif prior_kwargs:
            raise ValueError(
                f"The prior exists already; it takes no new arguments. Received: {sorted(prior_kwargs)}"
            )
        if getattr(self.prior, "optimizer", None) is None:
            self.prior.compile(optimizer=keras.optimizers.Adam(1e-3))
        codes = self._codes_of(x)
        validation = None if validation_data is None else (self._codes_of(validation_data),)
        return self.prior.fit(
            codes, epochs=epochs, batch_size=batch_size, validation_data=validation, verbose=verbose
        )

    def _codes_of(self, x):
        if isinstance(x, np.ndarray):
            return self.encode(x)
        # A dataset of batches (`x` or `(x, ...)` elements): encode it batch by batch.
        return self.encoder.predict(x, verbose=0)

    def sample_graph(self, num_samples, seed):
        if self.prior is None:
            raise ValueError("This VQ-VAE has no prior to sample from: train one with `model.fit_prior(x)`.")
        indices = self.prior.sample_graph(num_samples, seed)
        return {"samples": self.decoder(indices, training=False), "z": indices}
