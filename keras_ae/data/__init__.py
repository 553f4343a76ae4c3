"""Data loaders: embedded datasets that need no download."""

from keras_ae.data.embedded import load_digits

__all__ = ["load_digits"]
