"""In-memory arrays held once by `load_dataset`: aligned copies, tensors sharing them, no rewrites."""

import numpy as np
import pytest

from keras_ae.data import in_memory, load_dataset
from keras_ae.data.in_memory import ALIGNMENT, aligned_copy, shared_tensor
from tests.conftest import load_script


def misaligned(array, offset):
    """`array`'s values in a buffer that starts `offset` bytes past a 64-byte boundary."""
    buffer = np.zeros(array.nbytes + 2 * ALIGNMENT, np.uint8)
    start = (-buffer.ctypes.data % ALIGNMENT) + offset
    view = buffer[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
    view[...] = array
    return view


@pytest.mark.parametrize(
    "array",
    [
        misaligned(np.arange(3 * 5 * 7, dtype=np.uint8).reshape(3, 5, 7), 16),  # numpy's own offset
        misaligned(np.linspace(0, 1, 12, dtype=np.float32).reshape(4, 3), 4),
        np.arange(10, dtype=np.int64)[::2],  # not contiguous
        np.array([True, False, True]),
        np.ones((2, 3), np.float16),
        np.zeros((0, 28, 28, 1), np.uint8),
    ],
    ids=["uint8", "float32", "strided", "bool", "float16", "empty"],
)
def test_aligned_copies_and_tensors_equal_the_array(array):
    copy = aligned_copy(array)
    assert copy.flags.c_contiguous and (copy.ctypes.data % ALIGNMENT == 0 or copy.size == 0)
    assert copy.dtype == array.dtype and not np.shares_memory(copy, array)
    np.testing.assert_array_equal(copy, array)
    tensor = shared_tensor(array)
    assert tensor.dtype.as_numpy_dtype == array.dtype
    np.testing.assert_array_equal(tensor.numpy(), array)


def test_the_tensor_shares_its_copy_and_not_the_callers_array(monkeypatch):
    array = np.arange(6, dtype=np.float32)
    copies = []

    def recorded(values):
        copies.append(aligned_copy(values))
        return copies[-1]

    monkeypatch.setattr(in_memory, "aligned_copy", recorded)
    tensor = shared_tensor(array)
    array[0] = -1.0  # the caller's array: not the tensor's memory
    copies[0][1] = 42.0  # the copy: the tensor's memory (no second copy was made)
    np.testing.assert_array_equal(tensor.numpy(), [0, 42, 2, 3, 4, 5])


@pytest.mark.parametrize("gathered", [False, True], ids=["sliced", "gathered"])
def test_arrays_are_read_once_and_changing_them_later_changes_nothing(gathered, monkeypatch):
    import tensorflow as tf

    if gathered:  # the path of arrays over 100,000 examples
        monkeypatch.setattr("keras_ae.data.pipeline._WHOLE_SHUFFLE", 10)
    x = np.arange(40 * 4, dtype=np.uint8).reshape(40, 2, 2)
    y = np.arange(40, dtype=np.int64) % 10
    # One epoch's pass, the same each time it is read (epoch=None reshuffles every pass).
    dataset = load_dataset((x, y), "train", batch_size=8, with_labels=True, seed=3, epoch=0)
    expected = [(bx.copy(), by.copy()) for bx, by in dataset.as_numpy_iterator()]
    x[...], y[...] = 255, 0
    for (bx, by), (ex, ey) in zip(dataset.as_numpy_iterator(), expected, strict=True):
        np.testing.assert_array_equal(bx, ex)
        np.testing.assert_array_equal(by, ey)
    # Each image keeps its label, and every image comes once per pass.
    images = np.concatenate([b[0] for b in expected])[..., 0]
    labels = np.concatenate([b[1] for b in expected])
    np.testing.assert_array_equal(np.sort((images[:, 0, 0] * 255).round() / 4), np.arange(40))
    np.testing.assert_array_equal(labels, ((images[:, 0, 0] * 255).round() / 4) % 10)
    # tf.data's default rewrites would copy the arrays' tensors again: they are off.
    assert dataset.options().experimental_optimization.apply_default_optimizations is False
    assert isinstance(dataset, tf.data.Dataset)


def test_a_pipeline_over_an_array_holds_one_copy_of_it():
    # Resident memory added by a pipeline and 200 of its batches, in copies of a 164 MB
    # array, each measured in a fresh process (TensorFlow's allocator keeps and reuses what
    # earlier tests freed): one, the aligned copy its tensor shares. With `tf.constant` and
    # tf.data's default rewrites it was two, three while the constant was made. In order,
    # examples are sliced from the tensor; shuffled, batches are gathered from it.
    benchmark = load_script("benchmarks/in_memory_pipeline.py")
    for pipeline in ("keras-ae, in order", "keras-ae, shuffled"):
        assert 0.9 < benchmark.memory_copies(40_000, pipeline) < 1.3, pipeline
