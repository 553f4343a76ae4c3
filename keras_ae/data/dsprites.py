"""Loader of the dSprites files as ground-truth data for disentanglement metrics."""

import os

import numpy as np

DSPRITES_FILES = {"downsampled": "dsprites_downsampled.npz", "subset": "dsprites_subset.npz", "full": None}
_FULL_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"


def load_dsprites(folder, subset="downsampled"):
    """Loads a dSprites file as an `ArrayGroundTruthData` of 64x64x1 images and 5 factors.

    Factors are class indices in the order (shape, scale, orientation, posX, posY); the
    constant color factor is dropped, as in disentanglement_lib.

    - `"downsampled"` (`dsprites_downsampled.npz`, 46,080 images): the complete factorial
      grid 3 shapes x 6 scales x 10 orientations (every 4th) x 16 posX x 16 posY (every
      2nd). Every factor combination exists, so "fix one factor, vary the others" is exact.
    - `"subset"` (`dsprites_subset.npz`, 20,000 random images of the full set): an
      incomplete grid; metrics then draw from the empirical conditional distributions.
    - `"full"` (the official `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`, 737,280
      images) when it is present in `folder`.

    Images stay uint8 in memory (46,080 float32 images would take 755 MB) and are cast
    to float32 {0, 1} values when sampled.

    Args:
        folder: the folder holding the file (e.g. `$KERAS_AE_DATASETS/dsprites`), or the
            path of the `.npz` file itself.
        subset: `"downsampled"`, `"subset"` or `"full"`.

    Returns:
        An `ArrayGroundTruthData` with `observations` of shape `(n, 64, 64, 1)` uint8 and
        `observation_dtype="float32"`; `data.factors`, `data.factor_sizes`, `data.factor_names`.

    Example:
        >>> data = keras_ae.data.load_dsprites(os.path.join(os.environ["KERAS_AE_DATASETS"], "dsprites"))
        >>> data.factor_sizes
        (3, 6, 10, 16, 16)

    References:
        Matthey et al., "dSprites: Disentanglement testing Sprites dataset", 2017,
        https://github.com/deepmind/dsprites-dataset (Apache 2.0).
    """
    from keras_ae.evaluation.array_ground_truth_data import ArrayGroundTruthData

    if subset not in DSPRITES_FILES:
        raise ValueError(
            f"Unknown subset. Expected one of {sorted(DSPRITES_FILES)}. Received: subset={subset!r}"
        )
    folder = os.fspath(folder)
    path = folder if folder.endswith(".npz") else os.path.join(folder, DSPRITES_FILES[subset] or _FULL_FILE)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"dSprites file not found: {path}")
    with np.load(path, allow_pickle=True, encoding="latin1") as archive:
        images = archive["imgs"]
        factors = archive["latents_classes"]
        metadata = archive["metadata"].item() if "metadata" in archive.files else {}
    names = tuple(metadata.get("latents_names", ()))
    sizes = metadata.get("latents_sizes")
    if factors.shape[1] == 6:
        # The official file keeps the constant color factor first; metrics ignore it.
        factors, names = factors[:, 1:], names[1:]
        sizes = None if sizes is None else np.asarray(sizes)[1:]
    if images.ndim != 3 or factors.shape != (len(images), 5):
        raise ValueError(
            f"Unexpected dSprites arrays in {path}: imgs {images.shape}, latents_classes {factors.shape}"
        )
    return ArrayGroundTruthData(
        factors.astype(np.int64),
        images[..., None],
        factor_sizes=sizes,
        factor_names=names if len(names) == 5 else None,
        observation_dtype="float32",
    )
