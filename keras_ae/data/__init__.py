"""Data: one loader (`load_dataset`) over embedded sets, tensorflow-datasets, IDX folders,
.npz files and arrays; the generated dSprites-style shapes; the dSprites subsets as
ground-truth data; offline tfds preparation."""

from keras_ae.data.dataset_not_prepared_error import DatasetNotPreparedError
from keras_ae.data.dsprites import load_dsprites
from keras_ae.data.embedded import load_digits
from keras_ae.data.idx import load_idx, load_idx_dataset
from keras_ae.data.pipeline import check_fits, element_shape, load_dataset
from keras_ae.data.shapes import make_shapes, render_shapes
from keras_ae.data.sources import list_datasets
from keras_ae.data.tfds_datasets import is_prepared, prepare_tfds

__all__ = [
    "DatasetNotPreparedError",
    "check_fits",
    "element_shape",
    "is_prepared",
    "list_datasets",
    "load_dataset",
    "load_digits",
    "load_dsprites",
    "load_idx",
    "load_idx_dataset",
    "make_shapes",
    "prepare_tfds",
    "render_shapes",
]
