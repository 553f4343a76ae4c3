"""The order and the randomness of a pipeline's passes, as functions of a seed and an epoch.

`load_dataset` shuffles, binarizes and numbers examples with these, so that a pass is the
same in every process and every resumed run.
"""

import numpy as np


def example_uniform(seed, index, example_shape):
    """Uniform [0, 1) noise that depends only on `(seed, example index, pixel)`.

    A counter-based generator: hashing the example's index gives the same noise for an
    example however the data is batched or shuffled, computed for a whole batch at once
    (per-example `stateless_uniform` calls would cost a tf.data step per example).

    Args:
        seed: int seed.
        index: int64 tensor `(batch,)` of example positions in the split.
        example_shape: shape of one example.

    Returns:
        float32 tensor `(batch, *example_shape)`.
    """
    import tensorflow as tf

    from keras_ae.backend import mix32

    size = int(np.prod(example_shape))
    key = mix32(tf.cast(index, tf.uint32) + mix32(tf.constant(seed % 2**32, tf.uint32)))
    pixel = mix32(tf.cast(tf.range(size, dtype=tf.int64), tf.uint32) + tf.constant(0x9E3779B9, tf.uint32))
    bits = mix32(tf.bitwise.bitwise_xor(key[:, None], pixel[None, :]))
    uniform = tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) / float(1 << 24)  # 24 exact bits
    return tf.reshape(uniform, [-1, *example_shape])


def epoch_key(seed, epoch):
    """A 31-bit seed for epoch `epoch` of a pipeline seeded with `seed`."""
    return int(np.random.SeedSequence([seed % 2**32, epoch]).generate_state(1)[0] >> 1)


def shuffled(examples, buffer, seed, epoch, epochs):
    """`examples` shuffled through a window of `buffer`: afresh on every pass (`epoch` None),
    or in epoch `epoch`'s order (an int, or a `tf.Variable` read when a pass starts)."""
    import tensorflow as tf

    if epoch is None:
        return examples.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)

    # tf.data's shuffle takes a Python-int seed, not one computed in a graph, so a variable
    # epoch chooses among per-epoch shuffles.
    def one_epoch(number):
        return examples.shuffle(buffer, seed=epoch_key(seed, number), reshuffle_each_iteration=False)

    if not isinstance(epoch, tf.Variable):
        return one_epoch(epoch)
    choice = tf.data.Dataset.from_tensors(tf.constant(0, tf.int64)).flat_map(
        lambda _: tf.data.Dataset.from_tensors(tf.convert_to_tensor(epoch)).repeat()
    )
    return tf.data.Dataset.choose_from_datasets(
        [one_epoch(number) for number in range(epochs)], choice, stop_on_empty_dataset=True
    )


def permuted_positions(n, seed, epoch):
    """The positions 0..n-1 in a random order: afresh on every pass (`epoch` None), or in
    epoch `epoch`'s order (an int, or a `tf.Variable` read when a pass starts).

    One stateless permutation per pass, computed when the pass starts: 8 bytes an example,
    where a shuffle buffer per epoch would hold every epoch's.
    """
    import tensorflow as tf

    salt = int(np.random.SeedSequence([seed % 2**32, 0x5EED]).generate_state(1)[0])

    def permutation(key):
        # Random int64 sort keys, sorted stably: the order is a pure function of `key`.
        keys = tf.random.stateless_uniform([n], key, minval=None, maxval=None, dtype=tf.int64)
        return tf.data.Dataset.from_tensor_slices(tf.cast(tf.argsort(keys, stable=True), tf.int64))

    if epoch is None:
        starts = tf.data.Dataset.random(seed=salt, rerandomize_each_iteration=True).take(1)
        return starts.flat_map(lambda r: permutation(tf.stack([r, tf.constant(2, tf.int64)])))
    return tf.data.Dataset.from_tensors(tf.constant(salt, tf.int64)).flat_map(
        lambda s: permutation(tf.stack([s, tf.convert_to_tensor(epoch, tf.int64)]))
    )


def dynamic_binarization(xy, seed):
    """`(x, y)` with `x` replaced by a Bernoulli sample of its pixel intensities."""
    import tensorflow as tf

    x, y = xy
    return tf.cast(tf.random.stateless_uniform(tf.shape(x), seed=seed) < x, tf.float32), y
