"""The generated dSprites-style shapes: factors, geometry, and agreement with real dSprites."""

import numpy as np
import pytest

from keras_ae.data import make_shapes, render_shapes
from keras_ae.data.shapes import FACTOR_SIZES, FACTOR_VALUES, draw_factor_classes


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


def test_excluded_factor_classes_are_drawn_again_from_the_same_generator():
    drawn = draw_factor_classes(500, seed=2)
    np.testing.assert_array_equal(drawn, make_shapes(500, 32, seed=2)["latents_classes"])
    # Excluding every other row of the first 500 draws: the rest keep their order, and
    # 250 further draws of the same generator fill the gaps, the same on every call.
    kept = draw_factor_classes(500, seed=2, exclude=drawn[::2])
    np.testing.assert_array_equal(kept[:250], drawn[1::2])
    np.testing.assert_array_equal(kept, draw_factor_classes(500, seed=2, exclude=drawn[::2]))
    assert not {tuple(r) for r in kept.tolist()} & {tuple(r) for r in drawn[::2].tolist()}
    assert kept.dtype == np.int64 and np.all((kept >= 0) & (kept < np.array(FACTOR_SIZES)))
    assert len({tuple(r) for r in kept[250:].tolist()}) > 240  # fresh draws, not repeats


def test_the_embedded_shapes_test_split_holds_no_training_factor_combination():
    from keras_ae.data import load_dataset
    from keras_ae.data.sources import resolve_source

    train = {tuple(r) for r in draw_factor_classes(10000, seed=0).tolist()}
    test = draw_factor_classes(2000, seed=1, exclude=np.array(sorted(train)))
    assert not train & {tuple(r) for r in test.tolist()}
    # Independent draws of a second seed overlapped the train split by about 10,000 / 737,280.
    overlap = sum(tuple(r) in train for r in draw_factor_classes(2000, seed=1).tolist())
    assert 10 <= overlap <= 50
    # The split served is that one: its images are the rendered draws, its labels their shapes.
    x, y = load_dataset("shapes32", "test", as_numpy=True, with_labels=True)
    np.testing.assert_array_equal(x, render_shapes(test, 32))
    np.testing.assert_array_equal(y, test[:, 0])
    # Symmetric sprites (an ellipse at orientations 0 and 2 pi) still render a few test
    # images as training images: 11 of 2,000 here, where 26 combinations repeated before.
    images, _ = resolve_source("shapes32", "train").arrays
    assert len({a.tobytes() for a in images} & {b.tobytes() for b in x}) <= 15


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
    with pytest.raises(ValueError, match=r"Factor 'shape' has 3 classes.*exclude\[1, 0\]=3"):
        make_shapes(5, exclude=[[0, 0, 0, 0, 0], [3, 0, 0, 0, 0]])
    everything = np.stack(np.meshgrid(*map(np.arange, FACTOR_SIZES), indexing="ij"), -1).reshape(-1, 5)
    with pytest.raises(
        ValueError, match="`exclude` leaves no factor combination to draw: it holds all 737280"
    ):
        draw_factor_classes(1, exclude=everything)
