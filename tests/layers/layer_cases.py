"""The entries of the layer harness (`test_layer_harness.py`): one `LayerCase` per layer.

A new layer is covered by adding one `LayerCase` to `LAYER_CASES`. Every constructor
argument must be given in `init_kwargs`, so that a new argument missing from
`get_config()` fails the harness.
"""

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import pytest

from keras_ae.layers import (
    AdditiveGaussianNoise,
    AttentiveRead,
    AttentiveWrite,
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

# Keyword arguments of `keras.layers.Layer.__init__`: the base keys a config may hold.
BASE_KEYS = {
    name
    for name, p in inspect.signature(keras.layers.Layer.__init__).parameters.items()
    if name != "self" and p.kind is p.KEYWORD_ONLY
}
REQUIRED_BASE_KEYS = {"name", "trainable", "dtype"}


def to_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype("float64")))


def constructor_arguments(cls):
    """Names of the arguments `cls.__init__` takes itself (not `self`, not `**kwargs`)."""
    params = inspect.signature(cls.__init__).parameters
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {name for name, p in params.items() if name != "self" and p.kind not in variadic}


@dataclasses.dataclass(frozen=True)
class LayerCase:
    """What the harness needs to know about one layer.

    Attributes:
        cls: the layer class.
        init_kwargs: every constructor argument (base ones such as `name` optional).
        input_shape: shape of the input, batch included, or a list of shapes for a
            layer called on a list of tensors.
        input_range: inputs are drawn uniformly from `[low, high)`.
        fresh_kwargs: returns constructor arguments that must be new objects for each
            instance (e.g. the built `Dense` layer a `DenseTranspose` is tied to).
        upstream: `(kwargs, model_inputs) -> layer_inputs`, the graph between the model
            inputs and the layer in the functional model (default: none).
        model_input_shape: the functional model's input shape(s) when `upstream` is given.
        config_values: expected `get_config()` values that differ from the argument
            given (a layer stored by name, `None` serialized as `"linear"`, ...).
        num_trainable_weights, num_non_trainable_weights: `len(layer.*_weights)` once built.
        num_seed_generators: `keras.random.SeedGenerator`s the layer owns.
        supports_masking: the layer's `supports_masking`.
        inference_output: `(layer, *inputs) -> expected` numpy reference of the
            inference output (None: not checked).
        training_differs: whether `training=True` changes the output; False means the
            training output equals the inference output exactly.
        kept_per_row: `(training, inference)` non-zero count of every output row.
        bad_kwargs: `(overrides, argument name)` pairs that must raise a `ValueError`
            naming the argument; an unknown keyword argument is always checked too.
        id: test id (default: the class name).
    """

    cls: type
    init_kwargs: dict
    input_shape: Any
    input_range: tuple = (0.1, 0.9)
    fresh_kwargs: Callable[[], dict] | None = None
    upstream: Callable[[dict, Any], Any] | None = None
    model_input_shape: Any = None
    config_values: dict = dataclasses.field(default_factory=dict)
    num_trainable_weights: int = 0
    num_non_trainable_weights: int = 0
    num_seed_generators: int = 0
    supports_masking: bool = False
    inference_output: Callable | None = None
    training_differs: bool = False
    kept_per_row: tuple | None = None
    bad_kwargs: tuple = ()
    id: str | None = None

    @property
    def label(self):
        return self.id or self.cls.__name__

    @property
    def multi_input(self):
        return isinstance(self.input_shape, list)

    def kwargs(self, **overrides):
        fresh = self.fresh_kwargs() if self.fresh_kwargs else {}
        return {**self.init_kwargs, **fresh, **overrides}

    def make(self, **overrides):
        """Returns `(layer, kwargs)`, a new instance and the arguments it was built from."""
        kwargs = self.kwargs(**overrides)
        return self.cls(**kwargs), kwargs

    def shapes(self, model=False):
        shape = self.model_input_shape if model and self.model_input_shape else self.input_shape
        return shape if isinstance(shape, list) else [shape]

    def pack(self, items):
        return list(items) if self.multi_input else items[0]

    def sample_inputs(self, rng, model=False):
        low, high = self.input_range
        return self.pack([rng.uniform(low, high, size=s).astype("float32") for s in self.shapes(model)])

    def symbolic_inputs(self, model=False):
        return self.pack([keras.Input(s[1:]) for s in self.shapes(model)])

    def functional_model(self, layer, kwargs):
        inputs = self.symbolic_inputs(model=True)
        layer_inputs = self.upstream(kwargs, inputs) if self.upstream else inputs
        return keras.Model(inputs, layer(layer_inputs))


def _identity(layer, x):
    return x


def _tied_code():
    """The encoder a `DenseTranspose` is tied to: 6 features -> 3 units, built."""
    dense = keras.layers.Dense(3, activation="sigmoid", name="code")
    dense.build((None, 6))
    return {"tied_to": dense}


def _dense_transpose_reference(layer, z):
    return z @ to_numpy(layer.kernel).T + to_numpy(layer.bias)


def _nearest_code(layer, x):
    """Each vector replaced by its nearest codebook row, by brute force in float64."""
    codebook = to_numpy(layer.codebook).astype("float64")
    flat = x.reshape(-1, codebook.shape[1]).astype("float64")
    distances = ((flat[:, None, :] - codebook[None]) ** 2).sum(-1)
    return codebook[distances.argmin(1)].reshape(x.shape)


def paper_filterbank(params, height, width, n):
    """Gregor et al. (2015) eq. 21-26 evaluated directly, one example at a time, in float64."""
    out_y, out_x, out_gamma = [], [], []
    for gx_, gy_, log_sigma2, log_delta, log_gamma in params.astype("float64"):
        gx, gy = (width + 1) / 2 * (gx_ + 1), (height + 1) / 2 * (gy_ + 1)
        delta = (max(height, width) - 1) / (n - 1) * np.exp(log_delta)
        sigma2 = np.exp(log_sigma2)
        fx = np.array(
            [[np.exp(-((a - (gx + (i - n / 2 - 0.5) * delta)) ** 2) / (2 * sigma2)) for a in range(1, width + 1)]
             for i in range(1, n + 1)]
        )  # fmt: skip
        fy = np.array(
            [[np.exp(-((b - (gy + (j - n / 2 - 0.5) * delta)) ** 2) / (2 * sigma2)) for b in range(1, height + 1)]
             for j in range(1, n + 1)]
        )  # fmt: skip
        out_x.append(fx / fx.sum(1, keepdims=True))
        out_y.append(fy / fy.sum(1, keepdims=True))
        out_gamma.append([np.exp(log_gamma)])
    return np.array(out_y), np.array(out_x), np.array(out_gamma)


def _filterbank_reference(layer, h):
    params = h @ to_numpy(layer.params.kernel) + to_numpy(layer.params.bias)
    return paper_filterbank(params, layer.image_height, layer.image_width, layer.glimpse_size)


def _read_reference(layer, x, x_hat, h):
    fy, fx, gamma = _filterbank_reference(layer.filterbank, h)
    glimpses = [np.einsum("bnh,bhwc,bmw->bnmc", fy, image, fx) for image in (x, x_hat)]
    return gamma * np.concatenate(glimpses, axis=-1).reshape(len(x), -1)


def _write_reference(layer, h):
    fy, fx, gamma = _filterbank_reference(layer.filterbank, h)
    n = layer.glimpse_size
    patch = (h @ to_numpy(layer.patch.kernel) + to_numpy(layer.patch.bias)).reshape(
        len(h), n, n, layer.channels
    )
    return np.einsum("bnh,bnmc,bmw->bhwc", fy, patch, fx) / gamma[:, :, None, None]


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
        inference_output=_dense_transpose_reference,
        bad_kwargs=(({"tied_to": 3}, "tied_to"), ({"tied_to": ""}, "tied_to")),
    ),
    LayerCase(
        BernoulliLikelihood,
        {},
        (8, 5),
        input_range=(-3.0, 3.0),
        inference_output=lambda layer, x: _sigmoid(x),
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
        inference_output=_nearest_code,
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
        inference_output=_nearest_code,
        id="VectorQuantizer-ema",
    ),
    LayerCase(
        GaussianFilterbank,
        {"image_height": 5, "image_width": 6, "glimpse_size": 3, "initial_intensity": 0.5},
        (8, 7),
        input_range=(-0.5, 0.5),
        num_trainable_weights=2,
        inference_output=_filterbank_reference,
        bad_kwargs=(*DRAW_BAD_KWARGS, ({"initial_intensity": 0.0}, "initial_intensity")),
    ),
    LayerCase(
        AttentiveRead,
        {"image_height": 5, "image_width": 6, "glimpse_size": 2},
        [(8, 5, 6, 2), (8, 5, 6, 2), (8, 7)],
        input_range=(-0.5, 0.5),
        num_trainable_weights=2,
        inference_output=_read_reference,
        bad_kwargs=DRAW_BAD_KWARGS,
    ),
    LayerCase(
        AttentiveWrite,
        {"image_height": 5, "image_width": 6, "channels": 2, "glimpse_size": 3},
        (8, 7),
        input_range=(-0.5, 0.5),
        num_trainable_weights=4,
        inference_output=_write_reference,
        bad_kwargs=(*DRAW_BAD_KWARGS, ({"channels": 0}, "channels")),
    ),
    LayerCase(
        GatedPixelCNNBlock,
        {"filters": 6, "kernel_size": 3, "first": False},
        [(8, 4, 5, 6), (8, 4, 5, 6)],
        input_range=(-1.0, 1.0),
        num_trainable_weights=8,  # 4 convolutions, kernel and bias
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


def as_list(outputs):
    """A layer's output(s) as a list (layers such as GatedPixelCNNBlock return two)."""
    return list(outputs) if isinstance(outputs, list) else [outputs]


def expected_output_shape(shape_of, inputs, multi_input):
    return [shape_of(t) for t in inputs] if multi_input else shape_of(inputs)


def randomize_weights(weights, rng):
    """Gives every weight a random value, so that a restored weight is not a default."""
    for w in weights:
        w.assign(rng.normal(size=tuple(w.shape)).astype(w.dtype))
