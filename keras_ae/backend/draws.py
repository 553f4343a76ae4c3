"""Counter-based and stateless random draws, and draws independent across replicas."""

import tensorflow as tf

from keras_ae.backend.distribute import replica_id


def _replica_key(seed_generator, replica):
    # The generator's next seed (the same on every replica: its state is mirrored) with
    # the replica's index folded into the second word: independent Philox streams.
    seed = tf.cast(seed_generator.next(), tf.int64)
    offset = tf.cast(replica, tf.int64) * 0x9E3779B97F4A7C + 1
    return tf.stack([seed[0], seed[1] + offset])


def stateless_normal(shape, seed, dtype="float32"):
    """Standard normal draws as a pure function of `seed` (counter-based Philox).

    The same seed gives the same numbers in any call, process or exported SavedModel, and
    the seed may be a tensor (a serving input); `keras.random` takes only Python ints.

    Args:
        shape: the output shape (ints or int tensors).
        seed: an int or int64 scalar tensor.
        dtype: the float dtype of the draws.
    """
    seed = tf.stack([tf.cast(seed, "int64"), tf.constant(0, "int64")])
    shape = tf.stack([tf.cast(d, "int32") for d in shape])
    return tf.random.stateless_normal(shape, seed=seed, dtype=dtype)


def mix32(x):
    """lowbias32 (C. Wellons' integer hash): a bijection of uint32 with good avalanche."""
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))
    x = x * tf.constant(0x7FEB352D, tf.uint32)
    x = tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 15))
    x = x * tf.constant(0x846CA68B, tf.uint32)
    return tf.bitwise.bitwise_xor(x, tf.bitwise.right_shift(x, 16))


def example_keys(x, seed):
    """One uint32 key per example, a hash of its exact bits and of `seed`.

    Integer arithmetic (wrapping sums of hashed bit patterns) makes the key of an example
    independent of the batch it comes in and of the summation order, so draws keyed by
    it give an example the same noise alone, in any batch, in any process or export.
    """
    flat = tf.reshape(tf.cast(x, tf.float32), (tf.shape(x)[0], -1))
    bits = tf.bitcast(flat, tf.uint32)
    positions = tf.range(tf.shape(flat)[1], dtype=tf.int32)
    weights = mix32(tf.bitcast(positions, tf.uint32) + tf.constant(0x9E3779B9, tf.uint32))
    # uint32 sums wrap: exact and order-free. (tf.reduce_sum has no uint32 kernel: int64 mod 2^32.)
    hashed = tf.cast(mix32(bits ^ weights), tf.int64)
    total = tf.cast(tf.math.floormod(tf.reduce_sum(hashed, axis=1), 2**32), tf.uint32)
    return mix32(total ^ mix32(tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), 2**32), tf.uint32)))


def keyed_normal(keys, shape, dtype="float32"):
    """Standard normal draws `(len(keys), *shape)`, row `i` a pure function of `keys[i]`.

    Counter-based: each value hashes (key, counter) into two uniforms turned normal by the
    Box-Muller transform, with integer ops only (XLA compiles it).
    """
    size = 1
    for d in shape:
        size *= d
    counters = tf.range(2 * size, dtype=tf.int32)
    bits = mix32(mix32(tf.bitcast(counters, tf.uint32)[None, :] ^ keys[:, None]) + keys[:, None])
    # 24 high bits -> a uniform in (0, 1), never 0 (the logarithm below).
    uniform = (tf.cast(tf.bitwise.right_shift(bits, 8), tf.float32) + 0.5) / float(2**24)
    u1, u2 = uniform[:, :size], uniform[:, size:]
    normal = tf.sqrt(-2.0 * tf.math.log(u1)) * tf.cos(2.0 * 3.141592653589793 * u2)
    return tf.cast(tf.reshape(normal, (tf.shape(keys)[0], *shape)), dtype)


def replica_normal(shape, seed_generator, stddev=1.0, dtype="float32"):
    """Normal draws from `seed_generator`, independent across the replicas of a strategy.

    Without distribution this is `keras.random.normal(shape, stddev=stddev, seed=...)`.
    Under a strategy the generator's state is mirrored, so every replica would draw the
    same numbers for its own examples (noise correlated across the global batch); the
    replica's index is folded into the seed instead.
    """
    import keras

    replica = replica_id()
    if replica is None:
        return keras.random.normal(shape, stddev=stddev, dtype=dtype, seed=seed_generator)
    key = _replica_key(seed_generator, replica)
    return tf.random.stateless_normal(shape, seed=key, stddev=stddev, dtype=dtype)


def replica_uniform(shape, seed_generator, dtype="float32"):
    """Uniform draws in [0, 1) from `seed_generator`, independent across replicas (see
    `replica_normal`)."""
    import keras

    replica = replica_id()
    if replica is None:
        return keras.random.uniform(shape, dtype=dtype, seed=seed_generator)
    return tf.random.stateless_uniform(shape, seed=_replica_key(seed_generator, replica), dtype=dtype)


def stateless_categorical(logits, seed, counter):
    """One draw per row of `logits` (`(batch, classes)`), a pure function of `seed` and `counter`.

    Autoregressive samplers draw position after position; `counter` (the position) keeps
    the draws of different positions independent while the whole sample stays a function
    of one seed, here and in an exported SavedModel.

    Returns:
        An int32 tensor shaped `(batch,)`.
    """
    seed = tf.stack([tf.cast(seed, tf.int64), tf.cast(counter, tf.int64)])
    draws = tf.random.stateless_categorical(logits, 1, seed=seed, dtype=tf.int32)
    return draws[:, 0]
