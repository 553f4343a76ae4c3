"""VectorQuantizer maths against numpy: nearest codes, losses, gradients, EMA, restarts, k-means."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_ae.layers import VectorQuantizer


def _np(x):
    return keras.ops.convert_to_numpy(x)


def _nearest(flat, codebook):
    distances = ((flat[:, None, :].astype("float64") - codebook[None].astype("float64")) ** 2).sum(-1)
    return distances.argmin(1)


def test_nearest_codes_match_brute_force_on_a_large_batch():
    rng = np.random.default_rng(0)
    layer = VectorQuantizer(64, 8, seed=0)
    z = rng.normal(size=(16, 10, 10, 8)).astype("float32")
    quantized, indices = layer(z, return_indices=True)
    codebook = _np(layer.codebook)
    expected = _nearest(z.reshape(-1, 8), codebook).reshape(16, 10, 10)
    np.testing.assert_array_equal(_np(indices), expected)
    # z + (e - z) is e up to one rounding of the straight-through sum.
    np.testing.assert_allclose(_np(quantized), codebook[expected], atol=1e-6)
    np.testing.assert_allclose(_np(layer.lookup(indices)), codebook[expected])


@pytest.mark.parametrize("ema", [False, True])
def test_losses_and_gradients_by_hand(ema):
    rng = np.random.default_rng(1)
    beta = 0.4
    layer = VectorQuantizer(5, 3, commitment_cost=beta, ema=ema, seed=1)
    z = tf.Variable(rng.normal(size=(4, 6, 3)).astype("float32"))
    weights = np.array([1.0, 0.5, 2.0, 0.0], "float32")
    probe = rng.normal(size=(4, 6, 3)).astype("float32")
    with tf.GradientTape(persistent=True) as tape:
        out, indices = layer(z, return_indices=True, sample_weight=weights)
        loss = tf.add_n(layer.losses)
        through = tf.reduce_sum(out * probe)
    codebook = _np(layer.codebook)
    e = codebook[_np(indices)]
    squared = ((z.numpy() - e) ** 2).sum(axis=(1, 2))
    factor = beta + (0.0 if ema else 1.0)
    np.testing.assert_allclose(float(loss), np.mean(factor * squared * weights), rtol=1e-5)
    np.testing.assert_allclose(_np(layer.per_example_loss(z, out)), factor * squared, rtol=1e-5)

    # Straight through: the output's gradient reaches the input unchanged.
    np.testing.assert_allclose(_np(tape.gradient(through, z)), probe, rtol=1e-6)
    # Commitment: d/dz of mean_b w_b beta ||z - sg(e)||^2.
    w = weights[:, None, None]
    np.testing.assert_allclose(
        _np(tape.gradient(loss, z)), 2 * beta * w * (z.numpy() - e) / 4, rtol=1e-5, atol=1e-7
    )
    if ema:
        assert layer.trainable_weights == []
    else:
        # Codebook loss: d/de_k of mean_b w_b ||sg(z) - e||^2 sums over the vectors assigned to k.
        grad = _np(tape.gradient(loss, layer.codebook))
        expected = np.zeros_like(codebook)
        flat_i = _np(indices).reshape(-1)
        diffs = (2 * w * (e - z.numpy()) / 4).reshape(-1, 3)
        np.add.at(expected, flat_i, diffs)
        np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


def test_ema_update_matches_the_papers_formulas():
    rng = np.random.default_rng(2)
    decay, eps, k, d = 0.9, 1e-3, 6, 2
    layer = VectorQuantizer(k, d, ema=True, decay=decay, epsilon=eps, seed=2)
    z = rng.normal(size=(10, 4, d)).astype("float32")
    layer(z)  # build
    codebook0 = _np(layer.codebook).astype("float64")
    count0, sum0 = _np(layer.ema_count).astype("float64"), _np(layer.ema_sum).astype("float64")
    np.testing.assert_array_equal(count0, np.ones(k))
    np.testing.assert_allclose(sum0, codebook0)

    quantized = layer(z, training=True)
    flat = z.reshape(-1, d).astype("float64")
    nearest = _nearest(flat, codebook0)
    np.testing.assert_allclose(_np(quantized).reshape(-1, d), codebook0[nearest], rtol=1e-6)  # old codebook
    counts = np.bincount(nearest, minlength=k)
    sums = np.zeros((k, d))
    np.add.at(sums, nearest, flat)
    count = decay * count0 + (1 - decay) * counts
    total = decay * sum0 + (1 - decay) * sums
    n = count.sum()
    smoothed = (count + eps) / (n + k * eps) * n
    np.testing.assert_allclose(_np(layer.ema_count), count, rtol=1e-5)
    np.testing.assert_allclose(_np(layer.ema_sum), total, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(layer.codebook), total / smoothed[:, None], rtol=1e-4, atol=1e-6)
    # Inference changes nothing.
    before = _np(layer.codebook)
    layer(z, training=False)
    np.testing.assert_array_equal(_np(layer.codebook), before)


def test_unused_codes_restart_from_vectors_of_the_batch():
    rng = np.random.default_rng(3)
    layer = VectorQuantizer(8, 2, restart_after=3, seed=3)
    # Every vector sits next to code 0, so the other seven codes are never used.
    layer(np.zeros((1, 1, 2), "float32"))
    codebook = _np(layer.codebook)
    z = (codebook[0] + 1e-3 * rng.normal(size=(5, 4, 2))).astype("float32")
    for step in range(1, 4):
        layer(z, training=True)
        unused = _np(layer.unused_steps)
        if step < 3:
            np.testing.assert_array_equal(_np(layer.codebook), codebook)
            np.testing.assert_array_equal(unused, [0] + [step] * 7)
    restarted = _np(layer.codebook)
    np.testing.assert_array_equal(restarted[0], codebook[0])
    batch = z.reshape(-1, 2)
    for row in restarted[1:]:
        assert np.abs(batch - row).sum(1).min() == 0.0, "a restarted code is a vector of the batch"
    np.testing.assert_array_equal(_np(layer.unused_steps), np.zeros(8))


def test_kmeans_initialization_finds_the_clusters_once():
    rng = np.random.default_rng(4)
    centres = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 4.0], [0.0, -4.0]])
    z = (centres[rng.integers(0, 4, size=(64, 5))] + 0.05 * rng.normal(size=(64, 5, 2))).astype("float32")
    layer = VectorQuantizer(4, 2, kmeans_init=True, seed=4)
    layer(z[:1])
    assert not bool(_np(layer.initialized))
    layer(z, training=True)
    assert bool(_np(layer.initialized))
    learned = _np(layer.codebook)
    for c in centres:
        assert np.linalg.norm(learned - c, axis=1).min() < 0.1
    # Later batches do not re-initialize.
    layer.codebook.assign(learned + 1.0)
    layer(z, training=True)
    np.testing.assert_allclose(_np(layer.codebook), learned + 1.0)


def test_kmeans_initialization_weighs_the_vectors():
    # Two clusters of real examples and a third of weight-0 ones (padding, say): the
    # centres are those of the weighted vectors, and no code starts at a weight-0 vector.
    rng = np.random.default_rng(8)
    centres = np.array([[-4.0, 0.0], [4.0, 0.0], [0.0, 40.0]])
    labels = np.repeat([0, 1, 2], [20, 20, 24])
    z = (centres[labels][:, None, :] + 0.05 * rng.normal(size=(64, 1, 2))).astype("float32")
    weights = np.where(labels == 2, 0.0, 1.0).astype("float32")
    layer = VectorQuantizer(2, 2, kmeans_init=True, seed=8)
    layer(z[:1])
    layer(z, training=True, sample_weight=weights)
    learned = _np(layer.codebook)
    for c in centres[:2]:
        assert np.linalg.norm(learned - c, axis=1).min() < 0.1, learned
    # A batch whose weights are all 0 initializes nothing; the next one does.
    layer = VectorQuantizer(2, 2, kmeans_init=True, seed=8)
    layer(z[:1])
    before = _np(layer.codebook)
    layer(z, training=True, sample_weight=np.zeros(64, "float32"))
    assert not bool(_np(layer.initialized))
    np.testing.assert_array_equal(_np(layer.codebook), before)


def test_embedding_size_mismatch_is_refused():
    with pytest.raises(ValueError, match=r"embedding_dim=4.*shape=\(2, 3, 5\)"):
        VectorQuantizer(8, 4)(np.zeros((2, 3, 5), "float32"))


def test_kmeans_initialization_keeps_the_ema_history_after_the_first_batch():
    rng = np.random.default_rng(5)
    decay = 0.9
    layer = VectorQuantizer(4, 2, ema=True, decay=decay, kmeans_init=True, seed=5)
    batches = [rng.normal(size=(10, 4, 2)).astype("float32") for _ in range(3)]
    layer(batches[0][:1])
    for z in batches:
        layer(z, training=True)
    # After the first batch's reset to counts of 1, each batch adds its 40 vectors:
    # total = decay^3 * 4 + (1 - decay) * 40 * (decay^2 + decay + 1).
    expected = decay**3 * 4 + (1 - decay) * 40 * (decay**2 + decay + 1)
    assert float(np.sum(_np(layer.ema_count))) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("kmeans_init", [False, True], ids=["ema_and_restarts", "kmeans_init"])
def test_a_batch_with_non_finite_vectors_leaves_the_codebook_as_it_was(kmeans_init):
    # The codebook learns in the forward pass, before training checks the step's loss: a
    # NaN/Inf encoding (the step training then refuses) must not reach the codebook, its
    # moving averages, its restart counters or the k-means initialization.
    rng = np.random.default_rng(6)
    layer = VectorQuantizer(4, 2, ema=True, restart_after=1, kmeans_init=kmeans_init, seed=6)
    z = rng.normal(size=(6, 3, 2)).astype("float32")
    layer(z[:1])
    if not kmeans_init:
        layer(z, training=True)
    state = {v.path: _np(v) for v in layer.variables}
    bad = z.copy()
    bad[2, 1, 0] = np.nan
    bad[4, 0, 1] = np.inf
    layer(bad, training=True)
    for variable in layer.variables:
        if "seed_generator" not in variable.path:  # random draws may advance; nothing learned does
            np.testing.assert_array_equal(_np(variable), state[variable.path], err_msg=variable.path)
    # The next finite batch updates (and, with kmeans_init, initializes) as usual.
    layer(z, training=True)
    if kmeans_init:
        assert bool(_np(layer.initialized))
    assert np.all(np.isfinite(_np(layer.codebook)))
    assert not np.array_equal(_np(layer.codebook), state[layer.codebook.path])


def test_sample_weights_weight_the_ema_counts_and_sums():
    # A zero-weight example moves no code (as with the codebook loss of ema=False); other
    # weights scale each vector's share of its code's count and sum.
    rng = np.random.default_rng(7)
    decay, k, d = 0.9, 4, 2
    layer = VectorQuantizer(k, d, ema=True, decay=decay, seed=7)
    z = rng.normal(size=(5, 3, d)).astype("float32")
    weights = np.array([1.0, 0.0, 2.0, 0.5, 0.0], "float32")
    layer(z)
    codebook0 = _np(layer.codebook).astype("float64")
    count0, sum0 = _np(layer.ema_count).astype("float64"), _np(layer.ema_sum).astype("float64")
    layer(z, training=True, sample_weight=weights)
    flat = z.reshape(-1, d).astype("float64")
    per_vector = np.repeat(weights, 3).astype("float64")
    nearest = _nearest(flat, codebook0)
    counts = np.bincount(nearest, weights=per_vector, minlength=k)
    sums = np.zeros((k, d))
    np.add.at(sums, nearest, flat * per_vector[:, None])
    np.testing.assert_allclose(_np(layer.ema_count), decay * count0 + (1 - decay) * counts, rtol=1e-5)
    np.testing.assert_allclose(_np(layer.ema_sum), decay * sum0 + (1 - decay) * sums, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("decay", "restart_after"), [(0.0, None), (0.9, None), (0.0, 1)])
def test_a_batch_whose_weights_are_all_zero_leaves_the_codebook_as_it_was(decay, restart_after):
    # All-zero weights give every code a count of 0: with decay=0 the smoothed counts are
    # 0 too and the EMA codebook would be 0/0 = NaN. Such a batch carries nothing to learn:
    # the codebook, its moving averages and its restart counters stay as they were.
    rng = np.random.default_rng(8)
    layer = VectorQuantizer(4, 2, ema=True, decay=decay, restart_after=restart_after, seed=8)
    z = rng.normal(size=(5, 3, 2)).astype("float32")
    layer(z, training=True)
    state = {v.path: _np(v) for v in layer.variables}
    layer(z, training=True, sample_weight=np.zeros(5, "float32"))
    assert np.all(np.isfinite(_np(layer.codebook)))
    for variable in layer.variables:
        if "seed_generator" not in variable.path:  # random draws may advance; nothing learned does
            np.testing.assert_array_equal(_np(variable), state[variable.path], err_msg=variable.path)
    # With decay=0 the next weighted batch sets the codebook to its weighted code means.
    weights = np.array([1.0, 2.0, 0.0, 1.0, 0.5], "float32")
    codebook0 = _np(layer.codebook).astype("float64")
    layer(z, training=True, sample_weight=weights)
    if decay == 0.0 and restart_after is None:
        flat = z.reshape(-1, 2).astype("float64")
        per_vector = np.repeat(weights, 3).astype("float64")
        nearest = _nearest(flat, codebook0)
        counts = np.bincount(nearest, weights=per_vector, minlength=4)
        sums = np.zeros((4, 2))
        np.add.at(sums, nearest, flat * per_vector[:, None])
        n, eps = counts.sum(), layer.epsilon
        smoothed = (counts + eps) / (n + 4 * eps) * n
        np.testing.assert_allclose(_np(layer.codebook), sums / smoothed[:, None], rtol=1e-4, atol=1e-6)
    assert np.all(np.isfinite(_np(layer.codebook)))
