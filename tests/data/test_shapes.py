"""The generated dSprites-style shapes: factors, geometry, and agreement with real dSprites."""

import numpy as np
import pytest

from keras_ae.data import make_shapes, render_shapes
from keras_ae.data.shapes import FACTOR_SIZES, FACTOR_VALUES


def test_make_shapes_shapes_dtypes_and_factors():
    data = make_shapes(300, image_size=32, seed=0)
    images, classes, values = data["images"], data["latents_classes"], data["latents_values"]
    assert images.shape == (300, 32, 32, 1) and images.dtype == np.float32
    assert set(np.unique(images)) == {0.0, 1.0}
    assert classes.shape == (300, 5) and classes.dtype == np.int64
    assert np.all(classes >= 0) and np.all(classes < np.array(FACTOR_SIZES))
    for k in range(5):
        np.testing.assert_allclose(values[:, k], FACTOR_VALUES[k][classes[:, k]], rtol=1e-6)
    assert data["factor_names"] == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert set(classes[:, 0]) == {0, 1, 2}
    assert images.reshape(300, -1).sum(1).min() > 0  # every sprite is visible


def test_make_shapes_is_seeded():
    a, b, c = make_shapes(50, 32, seed=3), make_shapes(50, 32, seed=3), make_shapes(50, 32, seed=4)
    np.testing.assert_array_equal(a["images"], b["images"])
    np.testing.assert_array_equal(a["latents_classes"], b["latents_classes"])
    assert not np.array_equal(a["latents_classes"], c["latents_classes"])


def _grid(shape=0, scale=5, orientation=0, pos_x=16, pos_y=16):
    return np.array([[shape, scale, orientation, pos_x, pos_y]])


def test_each_factor_moves_the_sprite_as_named():
    size = 64
    area = {s: render_shapes(_grid(0, s), size).sum() for s in (0, 5)}
    # Scale 1 vs 0.5: the area of the square grows by (1 / 0.5)^2.
    assert area[5] / area[0] == pytest.approx(4.0, rel=0.15)
    rows, cols = np.arange(size)[:, None], np.arange(size)[None, :]

    def centroid(classes):
        image = render_shapes(classes, size)[0, ..., 0]
        return (image * cols).sum() / image.sum(), (image * rows).sum() / image.sum()

    x0, y0 = centroid(_grid(pos_x=0))
    x1, y1 = centroid(_grid(pos_x=31))
    assert x1 - x0 == pytest.approx(31.0 * size / 64, abs=1.0)  # pos_x moves columns ...
    assert y1 == pytest.approx(y0, abs=0.5)  # ... and not rows
    _, ya = centroid(_grid(pos_y=0))
    _, yb = centroid(_grid(pos_y=31))
    assert yb - ya == pytest.approx(31.0 * size / 64, abs=1.0)

    def extent(image):
        ys, xs = np.nonzero(image[0, ..., 0])
        return xs.max() - xs.min() + 1, ys.max() - ys.min() + 1

    width, height = extent(render_shapes(_grid(shape=1), size))
    assert width > 1.5 * height  # the ellipse lies along x at orientation 0
    width, height = extent(render_shapes(_grid(shape=1, orientation=10), size))  # ~92 degrees
    assert height > 1.5 * width


def test_render_shapes_matches_real_dsprites(datasets_dir):
    """At the factors of real dSprites images the rendered sprites overlap them closely."""
    with np.load(datasets_dir / "dsprites" / "dsprites_subset.npz", allow_pickle=False) as data:
        pick = np.random.default_rng(0).choice(len(data["imgs"]), 600, replace=False)
        real = data["imgs"][np.sort(pick)].astype(bool)
        classes = data["latents_classes"][np.sort(pick)]
    rendered = render_shapes(classes, 64)[..., 0].astype(bool)
    iou = (real & rendered).sum((1, 2)) / (real | rendered).sum((1, 2))
    for shape, floor in ((0, 0.88), (1, 0.86), (2, 0.78)):
        assert iou[classes[:, 0] == shape].mean() > floor, (shape, iou[classes[:, 0] == shape].mean())


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"Factor 'scale' has 6 classes.*latents_classes\[0, 1\]=6"):
        render_shapes([[0, 6, 0, 0, 0]])
    with pytest.raises(ValueError, match="shape=\\(1, 3\\)"):
        render_shapes([[0, 1, 2]])
    with pytest.raises(ValueError, match="image_size=8"):
        render_shapes([[0, 0, 0, 0, 0]], image_size=8)
    with pytest.raises(ValueError, match="num_samples=0"):
        make_shapes(0)
