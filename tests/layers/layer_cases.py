"""The entries of the layer harness (`test_layer_harness.py`): one `LayerCase`
(`layer_case.py`) per layer.

A new layer is covered by adding one `LayerCase` to `LAYER_CASES`. Every constructor
argument must be given in `init_kwargs`, so that a new argument missing from
`get_config()` fails the harness.
"""

import keras
import pytest

from keras_ae.layers import (
    AdditiveGaussianNoise,
    AttentiveRead,
    AttentiveWrite,
    CodebookLookup,
    DenseTranspose,
    DynamicBinarization,
    GatedPixelCNNBlock,
    GaussianFilterbank,
    KSparse,
    MaskingNoise,
    SaltAndPepperNoise,
    Sampling,
    VectorQuantizer,
)
from keras_ae.losses import BernoulliLikelihood, GaussianLikelihood, MeanSquaredErrorLikelihood
from tests.layers.layer_case import LayerCase
from tests.layers.layer_references import (
    codebook_rows,
    dense_transpose_reference,
    filterbank_reference,
    gated_pixelcnn_reference,
    nearest_code,
    read_reference,
    sigmoid,
    write_reference,
)


def _identity(layer, x):
    return x


def _tied_code():
    """The encoder a `DenseTranspose` is tied to: 6 features -> 3 units, built."""
    dense = keras.layers.Dense(3, activation="sigmoid", name="code")
    dense.build((None, 6))
    return {"tied_to": dense}


DRAW_BAD_KWARGS = (
    ({"glimpse_size": 7}, "glimpse_size"),
    ({"glimpse_size": 0}, "glimpse_size"),
    ({"image_height": 0}, "image_height"),
    ({"image_width": 2.5}, "image_width"),
)


VQ_BAD_KWARGS = (
    ({"num_embeddings": 0}, "num_embeddings"),
    ({"embedding_dim": True}, "embedding_dim"),
    ({"commitment_cost": -1.0}, "commitment_cost"),
    ({"ema": 1}, "ema"),
    ({"decay": 1.0}, "decay"),
    ({"epsilon": 0.0}, "epsilon"),
    ({"restart_after": 0}, "restart_after"),
    ({"kmeans_init": "yes"}, "kmeans_init"),
    ({"seed": True}, "seed"),
)


LAYER_CASES = [
    LayerCase(
        DynamicBinarization,
        {"seed": 10},
        (8, 10),
        num_seed_generators=1,
        inference_output=_identity,
        training_differs=True,
        bad_kwargs=(({"seed": True}, "seed"), ({"seed": -1}, "seed")),
    ),
    LayerCase(
        MaskingNoise,
        {"rate": 0.3, "seed": 11},
        (8, 10),
        num_seed_generators=1,
        supports_masking=True,
        inference_output=_identity,
        training_differs=True,
        bad_kwargs=(
            ({"rate": -0.1}, "rate"),
            ({"rate": 1.0}, "rate"),
            ({"rate": True}, "rate"),
            ({"seed": True}, "seed"),
            ({"seed": -1}, "seed"),
        ),
    ),
    LayerCase(
        AdditiveGaussianNoise,
        {"stddev": 0.2, "clip": (0.0, 1.0), "seed": 12},
        (8, 10),
        num_seed_generators=1,
        supports_masking=True,
        inference_output=_identity,
        training_differs=True,
        bad_kwargs=(
            ({"stddev": -1.0}, "stddev"),
            ({"stddev": True}, "stddev"),
            ({"clip": (1.0, 0.0)}, "clip"),
            ({"clip": (0.0,)}, "clip"),
            ({"clip": 0.5}, "clip"),
            ({"clip": (0.0, "1")}, "clip"),
            ({"clip": (0.0, float("inf"))}, "clip"),
            ({"seed": True}, "seed"),
        ),
    ),
    LayerCase(
        SaltAndPepperNoise,
        {"rate": 0.3, "low": -1.0, "high": 1.0, "seed": 13},
        (8, 10),
        num_seed_generators=1,
        supports_masking=True,
        inference_output=_identity,
        training_differs=True,
        bad_kwargs=(
            ({"rate": 1.5}, "rate"),
            ({"low": 1.0, "high": 0.0}, "low"),
            ({"low": None}, "low"),
            ({"high": float("inf")}, "high"),
            ({"seed": True}, "seed"),
        ),
    ),
    LayerCase(
        Sampling,
        {"seed": 14, "sample_at_inference": False},
        [(8, 4), (8, 4)],
        input_range=(-1.0, 1.0),
        num_seed_generators=1,
        inference_output=lambda layer, mean, log_var: mean,
        training_differs=True,
        bad_kwargs=(
            ({"seed": True}, "seed"),
            ({"seed": "a"}, "seed"),
            ({"sample_at_inference": "yes"}, "sample_at_inference"),
        ),
    ),
    LayerCase(
        KSparse,
        {"k": 3, "alpha": 2.5, "name": "ks"},
        (8, 10),
        input_range=(-1.0, 1.0),
        supports_masking=True,
        training_differs=True,
        kept_per_row=(3, 7),  # min(floor(2.5 * 3), 10)
        bad_kwargs=(({"k": 0}, "k"), ({"k": True}, "k"), ({"alpha": 0.5}, "alpha")),
    ),
    LayerCase(
        KSparse,
        {"k": 4, "alpha": 3.0},
        (8, 10),
        input_range=(-1.0, 1.0),
        supports_masking=True,
        training_differs=True,
        kept_per_row=(4, 10),  # floor(3 * 4) = 12, capped at the 10 units
        inference_output=_identity,
        id="KSparse-capped",
    ),
    LayerCase(
        DenseTranspose,
        {"activation": None, "use_bias": True, "name": "tied"},
        (8, 3),
        input_range=(-1.0, 1.0),
        fresh_kwargs=_tied_code,
        upstream=lambda kwargs, x: kwargs["tied_to"](x),
        model_input_shape=(8, 6),
        config_values={"tied_to": "code", "activation": "linear"},
        # Its own bias, plus the tied Dense's kernel and bias: the tied layer is an
        # attribute, hence a tracked sublayer.
        num_trainable_weights=3,
        inference_output=dense_transpose_reference,
        bad_kwargs=(
            ({"tied_to": 3}, "tied_to"),
            ({"tied_to": ""}, "tied_to"),
            ({"activation": "nope"}, "activation"),
        ),
    ),
    LayerCase(
        BernoulliLikelihood,
        {},
        (8, 5),
        input_range=(-3.0, 3.0),
        inference_output=lambda layer, x: sigmoid(x),
    ),
    LayerCase(
        GaussianLikelihood,
        {"variance": 0.3, "learn_variance": True},
        (8, 5),
        num_trainable_weights=1,
        inference_output=_identity,
        bad_kwargs=(
            ({"variance": 0}, "variance"),
            ({"variance": -1.0}, "variance"),
            ({"variance": True}, "variance"),
        ),
    ),
    LayerCase(
        GaussianLikelihood,
        {"variance": 2.0, "learn_variance": False},
        (8, 5),
        num_non_trainable_weights=1,
        inference_output=_identity,
        id="GaussianLikelihood-fixed-variance",
    ),
    LayerCase(MeanSquaredErrorLikelihood, {}, (8, 5), inference_output=_identity),
    LayerCase(
        VectorQuantizer,
        {
            "num_embeddings": 5,
            "embedding_dim": 4,
            "commitment_cost": 0.25,
            "ema": False,
            "decay": 0.99,
            "epsilon": 1e-5,
            "restart_after": None,
            "kmeans_init": False,
            "seed": 15,
        },
        (8, 3, 4),
        input_range=(-1.0, 1.0),
        num_trainable_weights=1,
        num_seed_generators=1,
        # The forward value is the nearest code in training too (straight through).
        inference_output=nearest_code,
        bad_kwargs=VQ_BAD_KWARGS,
    ),
    LayerCase(
        VectorQuantizer,
        {
            "num_embeddings": 6,
            "embedding_dim": 2,
            "commitment_cost": 0.5,
            "ema": True,
            "decay": 0.9,
            "epsilon": 1e-3,
            "restart_after": 3,
            "kmeans_init": True,
            "seed": 16,
        },
        (8, 2, 3, 2),
        input_range=(-1.0, 1.0),
        # codebook, EMA counts and sums, unused-step counts, the k-means flag.
        num_non_trainable_weights=5,
        num_seed_generators=1,
        inference_output=nearest_code,
        id="VectorQuantizer-ema",
    ),
    LayerCase(
        CodebookLookup,
        # The quantizer as a config (a VQ-VAE's decoder passes the model's own instance).
        {"quantizer": keras.saving.serialize_keras_object(VectorQuantizer(5, 4, seed=17, name="codebook"))},
        (8, 3),
        input_range=(0.0, 5.0),  # cast to int32: the indices 0-4
        num_trainable_weights=1,  # the quantizer's codebook; its seed generator is the quantizer's
        inference_output=codebook_rows,
        bad_kwargs=(({"quantizer": 3}, "quantizer"),),
    ),
    LayerCase(
        GaussianFilterbank,
        {"image_height": 5, "image_width": 6, "glimpse_size": 3, "initial_intensity": 0.5},
        (8, 7),
        input_range=(-0.5, 0.5),
        num_trainable_weights=2,
        inference_output=filterbank_reference,
        bad_kwargs=(*DRAW_BAD_KWARGS, ({"initial_intensity": 0.0}, "initial_intensity")),
    ),
    LayerCase(
        AttentiveRead,
        {"image_height": 5, "image_width": 6, "glimpse_size": 2},
        [(8, 5, 6, 2), (8, 5, 6, 2), (8, 7)],
        input_range=(-0.5, 0.5),
        num_trainable_weights=2,
        inference_output=read_reference,
        bad_kwargs=DRAW_BAD_KWARGS,
    ),
    LayerCase(
        AttentiveWrite,
        {"image_height": 5, "image_width": 6, "channels": 2, "glimpse_size": 3},
        (8, 7),
        input_range=(-0.5, 0.5),
        num_trainable_weights=4,
        inference_output=write_reference,
        bad_kwargs=(*DRAW_BAD_KWARGS, ({"channels": 0}, "channels")),
    ),
    LayerCase(
        GatedPixelCNNBlock,
        {"filters": 6, "kernel_size": 3, "first": False},
        [(8, 4, 5, 6), (8, 4, 5, 6)],
        input_range=(-1.0, 1.0),
        num_trainable_weights=8,  # 4 convolutions, kernel and bias
        inference_output=gated_pixelcnn_reference,
        bad_kwargs=(
            ({"filters": 0}, "filters"),
            ({"kernel_size": 2}, "kernel_size"),
            ({"first": 1}, "first"),
        ),
    ),
]

# Seeds matter where training draws noise (the quantizer's seed only drives restarts).
SEEDED_CASES = [c for c in LAYER_CASES if "seed" in c.init_kwargs and c.training_differs]
BAD_ARGUMENT_CASES = [
    pytest.param(case, overrides, name, id=f"{case.label}-{name}={overrides.get(name, '...')!r}")
    for case in LAYER_CASES
    for overrides, name in (*case.bad_kwargs, ({"bogus_argument": 1}, "bogus_argument"))
]


def layer_cases(cases=LAYER_CASES):
    return [pytest.param(case, id=case.label) for case in cases]
