"""A callback that logs pictures of the model to TensorBoard after every epoch."""

import os

import keras
import numpy as np


class ImageSummaries(keras.callbacks.Callback):
    """Writes reconstructions (and samples of generative models) as TensorBoard images.

    After every epoch, the first `num_images` examples of `data` and their reconstructions
    are written side by side (input left, reconstruction right) under the tag
    `reconstructions`, and, when `model.generative`, `num_images` samples of a fixed seed
    under `samples`, so training can be watched as pictures in TensorBoard's Images tab
    next to Keras' scalar curves. Only image-shaped data (HxW or HxWxC, or a flat vector
    of a square size) is drawn.

    Args:
        log_dir: the log folder (its `images` subfolder gets the summaries).
        data: the examples to reconstruct: an array or a batched `tf.data.Dataset`.
        num_images: how many examples and samples per epoch.
        seed: the seed of the samples (the same every epoch, so changes are the model's).

    Example:
        >>> model.fit(x, epochs=10, callbacks=[ImageSummaries("runs/vae/logs", x_val)])
    """

    def __init__(self, log_dir, data, num_images=8, seed=0):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.data = data
        self.num_images = num_images
        self.seed = seed
        self._examples = None
        self._writer = None

    def _first_examples(self):
        if self._examples is None:
            data = self.data
            if not isinstance(data, np.ndarray):
                batches, seen = [], 0
                for batch in data.as_numpy_iterator():
                    x = batch[0] if isinstance(batch, tuple) else batch
                    batches.append(x)
                    seen += len(x)
                    if seen >= self.num_images:
                        break
                data = np.concatenate(batches)
            self._examples = np.asarray(data[: self.num_images], dtype="float32")
        return self._examples

    @staticmethod
    def _as_images(x):
        """`(n, H, W, C)` in [0, 1] with C in {1, 3}, or None for data that is no picture."""
        x = np.asarray(x, dtype="float32")
        if x.ndim == 2:
            side = int(round(np.sqrt(x.shape[1])))
            if side * side != x.shape[1]:
                return None
            x = x.reshape(len(x), side, side, 1)
        elif x.ndim == 3:
            x = x[..., None]
        if x.ndim != 4 or x.shape[-1] not in (1, 3):
            return None
        low, high = float(x.min()), float(x.max())
        return (x - low) / (high - low) if high > low else np.zeros_like(x)

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        x = self._first_examples()
        pictures = {"reconstructions": None, "samples": None}
        inputs, outputs = self._as_images(x), self._as_images(self.model.reconstruct(x))
        if inputs is not None and outputs is not None:
            pictures["reconstructions"] = np.concatenate([inputs, outputs], axis=2)
        if self.model.generative:
            pictures["samples"] = self._as_images(self.model.sample(self.num_images, seed=self.seed))
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "images"))
        with self._writer.as_default():
            for tag, images in pictures.items():
                if images is not None:
                    tf.summary.image(tag, images, step=epoch, max_outputs=self.num_images)
        self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
