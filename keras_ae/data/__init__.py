"""Data loaders: embedded datasets that need no download, and local IDX files."""

from keras_ae.data.embedded import load_digits
from keras_ae.data.idx import load_idx, load_idx_dataset

__all__ = ["load_digits", "load_idx", "load_idx_dataset"]
