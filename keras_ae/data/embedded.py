"""Datasets that ship inside a dependency or are generated, so they need no download."""

import numpy as np


def load_digits(test_fraction=0.2, seed=0):
    """Loads scikit-learn's 8x8 handwritten digits, scaled to [0, 1].

    The 1,797 images ship inside scikit-learn (a copy of the UCI optical digits test
    set), so this works offline. The split is a seeded shuffle.

    Args:
        test_fraction: fraction of the images held out, in (0, 1).
        seed: seed of the shuffle.

    Returns:
        `((x_train, y_train), (x_test, y_test))` with `x` float32 of shape
        `(n, 8, 8, 1)` in [0, 1] and `y` int64 labels 0-9.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = keras_ae.data.load_digits()
    """
    if not 0 < test_fraction < 1:
        raise ValueError(
            f"Argument `test_fraction` must be in (0, 1). Received: test_fraction={test_fraction!r}"
        )
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    # Pixel values are counts 0..16 of a 4x4 block; dividing by 16 maps them to [0, 1].
    x = (bunch.images.astype("float32") / 16.0)[..., None]
    y = bunch.target.astype("int64")
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])
