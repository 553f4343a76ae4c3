"""Fails early, with a clear message, when Keras runs on a backend other than TensorFlow."""

import keras


def check_backend():
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ImportError(
            "keras_ae trains with tf.GradientTape and exports TensorFlow SavedModels, so it needs "
            f"the TensorFlow backend. Set KERAS_BACKEND=tensorflow. Received: backend={backend!r}"
        )
