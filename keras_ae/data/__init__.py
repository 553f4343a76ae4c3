"""Data loaders: embedded datasets that need no download, local IDX files, and dSprites."""

from keras_ae.data.dsprites import load_dsprites
from keras_ae.data.embedded import load_digits
from keras_ae.data.idx import load_idx, load_idx_dataset

__all__ = ["load_digits", "load_dsprites", "load_idx", "load_idx_dataset"]
