"""The dSprites loader on the real files in KERAS_AE_DATASETS/dsprites."""

import numpy as np
import pytest

from keras_ae.data import load_dsprites
from keras_ae.evaluation import mutual_information_gap


@pytest.fixture(scope="module")
def raw(datasets_dir):
    with np.load(
        datasets_dir / "dsprites" / "dsprites_downsampled.npz", allow_pickle=True, encoding="latin1"
    ) as f:
        return {key: f[key] for key in ("imgs", "latents_classes")}


@pytest.fixture(scope="module")
def downsampled(datasets_dir):
    return load_dsprites(datasets_dir / "dsprites")


def test_downsampled_file_is_a_complete_factorial_grid(downsampled):
    assert downsampled.factor_names == ("shape", "scale", "orientation", "posX", "posY")
    assert downsampled.factor_sizes == (3, 6, 10, 16, 16)
    assert len(downsampled) == 3 * 6 * 10 * 16 * 16 and downsampled.is_complete
    assert downsampled.observations.shape == (46080, 64, 64, 1)


def test_observations_are_the_images_of_the_requested_factors(downsampled, raw):
    rows = np.random.default_rng(0).integers(0, len(raw["imgs"]), 50)
    images = downsampled.sample_observations_from_factors(raw["latents_classes"][rows])
    assert images.dtype == np.float32 and images.shape == (50, 64, 64, 1)
    np.testing.assert_array_equal(images[..., 0], raw["imgs"][rows])


def test_held_position_moves_the_centre_of_mass_only_along_the_other_axis(downsampled):
    # posX fixed, everything else varies: the images' x centre of mass hardly moves.
    factors = downsampled.sample_factors_given(3, np.full(200, 12), random_state=0)
    images = downsampled.sample_observations_from_factors(factors)[..., 0]
    columns = np.arange(64)
    x_centre = (images.sum(1) * columns).sum(1) / images.sum((1, 2))
    y_centre = (images.sum(2) * columns).sum(1) / images.sum((1, 2))
    assert x_centre.std() < 1.5 < 5 < y_centre.std()


def test_position_features_have_high_mig_for_position_factors(downsampled):
    # A hand-made code (centre of mass) is a disentangled code of posX and posY.
    def centre_of_mass(images):
        images = images[..., 0]
        columns = np.arange(64)
        mass = images.sum((1, 2))
        return np.stack([(images.sum(1) * columns).sum(1) / mass, (images.sum(2) * columns).sum(1) / mass], 1)

    result = mutual_information_gap(downsampled, centre_of_mass, num_train=4000)
    gaps = dict(zip(downsampled.factor_names, result["gap_per_factor"], strict=True))
    assert gaps["posX"] > 0.5 and gaps["posY"] > 0.5
    assert gaps["shape"] < 0.1 and gaps["orientation"] < 0.1


def test_subset_file_is_incomplete_and_metrics_sample_its_conditionals(datasets_dir):
    subset = load_dsprites(datasets_dir / "dsprites", subset="subset")
    assert len(subset) == 20000 and subset.factor_sizes == (3, 6, 40, 32, 32) and not subset.is_complete
    factors = subset.sample_factors_given(0, np.full(64, 2), random_state=0)
    assert (factors[:, 0] == 2).all()
    assert subset.sample_observations_from_factors(factors).shape == (64, 64, 64, 1)


def test_missing_file_and_bad_subset_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="dsprites_downsampled.npz"):
        load_dsprites(tmp_path)
    with pytest.raises(ValueError, match="subset='tiny'"):
        load_dsprites(tmp_path, subset="tiny")
