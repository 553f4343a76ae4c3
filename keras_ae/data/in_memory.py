"""In-memory arrays as tensors, held once by a pipeline instead of three times.

`tf.data.Dataset.from_tensor_slices(array)` keeps two copies of a numpy array besides the
array itself: `tf.constant` copies it into a tensor, and tf.data's default graph rewrites
(run when an iterator starts) serialize the pipeline with its tensors and keep that copy
for the iterator's life. A 3 GB image array then costs 9 GB. Here the pipeline's tensor
shares one aligned copy's memory, and the rewrites are switched off for pipelines over
arrays; `load_dataset` sets its own parallelism and prefetching, which is what those
rewrites would have added.
"""

import numpy as np

# TensorFlow's kernels require a tensor's buffer to start at a multiple of this (Eigen's
# largest alignment): a gather from a tensor over unaligned memory aborts the process.
# numpy's own large buffers start 16 bytes into a page.
ALIGNMENT = 64


def aligned_copy(array):
    """A C-contiguous copy of `array` whose buffer starts at a multiple of 64 bytes.

    Args:
        array: a numpy array (or anything `np.asarray` takes).

    Returns:
        A numpy array equal to `array`, of its dtype and shape, owning fresh memory.
    """
    array = np.asarray(array)
    buffer = np.empty(array.nbytes + ALIGNMENT, np.uint8)
    start = -buffer.ctypes.data % ALIGNMENT
    copy = buffer[start : start + array.nbytes].view(array.dtype).reshape(array.shape)
    np.copyto(copy, array)
    return copy


def shared_tensor(array):
    """A tensor over an aligned copy of `array`, sharing that copy's memory (DLPack).

    The copy keeps the pipeline's data apart from the caller's array, so changing the
    array afterwards does not change what the pipeline yields; `tf.constant` would make
    that copy too, and briefly a second one. Numeric dtypes DLPack cannot carry (a byte
    order other than the machine's) fall back to `tf.constant`.

    Args:
        array: a numpy array of numbers or booleans.

    Returns:
        An eager `tf.Tensor` equal to `array`.
    """
    import tensorflow as tf

    copy = aligned_copy(array)
    try:
        capsule = copy.__dlpack__()
    except (BufferError, TypeError):  # a dtype outside DLPack's types
        return tf.constant(copy)
    return tf.experimental.dlpack.from_dlpack(capsule)


def without_graph_rewrites(dataset):
    """`dataset` with tf.data's default graph rewrites off: the rewrites would serialize
    (copy) the tensors that the pipeline holds, for as long as an iterator lives."""
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_optimization.apply_default_optimizations = False
    return dataset.with_options(options)
