"""One harness for every layer, likelihood and regularizer that keras-ae exports.

In the spirit of Keras' `run_layer_test`: each entry of `LAYER_CASES` (or
`REGULARIZER_CASES`) names a class, its constructor arguments, the inputs to call it
on and what to expect; the tests below run the same checks on every entry:

* build on symbolic and real inputs, output shape equal to `compute_output_shape`,
  weight, seed-generator and masking expectations;
* `get_config()` holds exactly the constructor's arguments (plus Keras' base keys) and
  survives a JSON round trip through `keras.saving.serialize_keras_object`;
* save/load inside a functional model gives element-wise equal outputs and weights;
* training against inference behaviour, and seeded reproducibility;
* bad arguments raise a `ValueError` that names the argument.

A new layer is covered by adding one `LayerCase` to `LAYER_CASES`. Every constructor
argument must be given in `init_kwargs`, so that a new argument missing from
`get_config()` fails here. Layer-specific maths lives in the per-layer test files.
"""

import dataclasses
import inspect
import json
import re
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
from keras_ae.regularizers import KLSparsity, L1Activity
from keras_ae.version import __version__

# Keyword arguments of `keras.layers.Layer.__init__`: the base keys a config may hold.
BASE_KEYS = {
    name
    for name, p in inspect.signature(keras.layers.Layer.__init__).parameters.items()
    if name != "self" and p.kind is p.KEYWORD_ONLY
}
REQUIRED_BASE_KEYS = {"name", "trainable", "dtype"}


def _np(tensor):
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
    return z @ _np(layer.kernel).T + _np(layer.bias)


def _nearest_code(layer, x):
    """Each vector replaced by its nearest codebook row, by brute force in float64."""
    codebook = _np(layer.codebook).astype("float64")
    flat = x.reshape(-1, codebook.shape[1]).astype("float64")
    distances = ((flat[:, None, :] - codebook[None]) ** 2).sum(-1)
    return codebook[distances.argmin(1)].reshape(x.shape)


def _paper_filterbank(params, height, width, n):
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
    params = h @ _np(layer.params.kernel) + _np(layer.params.bias)
    return _paper_filterbank(params, layer.image_height, layer.image_width, layer.glimpse_size)


def _read_reference(layer, x, x_hat, h):
    fy, fx, gamma = _filterbank_reference(layer.filterbank, h)
    glimpses = [np.einsum("bnh,bhwc,bmw->bnmc", fy, image, fx) for image in (x, x_hat)]
    return gamma * np.concatenate(glimpses, axis=-1).reshape(len(x), -1)


def _write_reference(layer, h):
    fy, fx, gamma = _filterbank_reference(layer.filterbank, h)
    n = layer.glimpse_size
    patch = (h @ _np(layer.patch.kernel) + _np(layer.patch.bias)).reshape(len(h), n, n, layer.channels)
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


def _listed(outputs):
    """A layer's output(s) as a list (layers such as GatedPixelCNNBlock return two)."""
    return list(outputs) if isinstance(outputs, list) else [outputs]


def _output_shape(shape_of, inputs, multi_input):
    return [shape_of(t) for t in inputs] if multi_input else shape_of(inputs)


def _randomize(weights, rng):
    """Gives every weight a random value, so that a restored weight is not a default."""
    for w in weights:
        w.assign(rng.normal(size=tuple(w.shape)).astype(w.dtype))


def test_the_list_covers_every_export():
    import keras_ae.layers
    import keras_ae.losses
    import keras_ae.regularizers

    exported = {
        cls
        for module in (keras_ae.layers, keras_ae.losses, keras_ae.regularizers)
        for cls in vars(module).values()
        if inspect.isclass(cls)
        and issubclass(cls, keras.layers.Layer | keras.regularizers.Regularizer)
        and cls.__module__.startswith("keras_ae")
        and keras.saving.get_registered_name(cls).startswith("keras_ae>")
    }
    covered = {c.cls for c in LAYER_CASES} | {c.cls for c in REGULARIZER_CASES}
    assert exported - covered == set(), "add a harness entry for every exported layer"


# --- (1) build ---------------------------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_builds_with_the_shape_of_compute_output_shape(case):
    layer, _ = case.make()
    symbolic = case.symbolic_inputs()
    outputs = _listed(layer(symbolic))
    assert layer.built
    in_shape = _output_shape(lambda t: tuple(t.shape), symbolic, case.multi_input)
    expected = _listed(layer.compute_output_shape(in_shape))
    assert [tuple(o.shape) for o in outputs] == [tuple(e) for e in expected]
    assert all(o.shape[0] is None for o in outputs)

    x = case.sample_inputs(np.random.default_rng(0))
    real_shape = _output_shape(lambda a: a.shape, x, case.multi_input)
    for training in (False, True):
        ys = _listed(layer(x, training=training))
        assert [tuple(y.shape) for y in ys] == [
            tuple(e) for e in _listed(layer.compute_output_shape(real_shape))
        ]
        assert all(keras.backend.standardize_dtype(y.dtype) == "float32" for y in ys)

    assert len(layer.trainable_weights) == case.num_trainable_weights
    assert len(layer.non_trainable_weights) == case.num_non_trainable_weights
    seed_generators = [v for v in vars(layer).values() if isinstance(v, keras.random.SeedGenerator)]
    assert len(seed_generators) == case.num_seed_generators
    assert layer.supports_masking == case.supports_masking


# --- (2) config ----------------------------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_config_holds_exactly_the_constructor_arguments_and_survives_json(case):
    layer, kwargs = case.make()
    given = set(kwargs) - BASE_KEYS
    assert given == constructor_arguments(case.cls) - BASE_KEYS, (
        "give every constructor argument in the entry"
    )

    config = layer.get_config()
    assert set(config) >= REQUIRED_BASE_KEYS
    assert set(config) - BASE_KEYS == given
    for key in kwargs:
        assert config[key] == case.config_values.get(key, kwargs[key]), key

    assert case.cls.from_config(config).get_config() == config
    payload = json.dumps(keras.saving.serialize_keras_object(layer))
    restored = keras.saving.deserialize_keras_object(json.loads(payload))
    assert type(restored) is case.cls
    assert restored.get_config() == config
    # A config written by another keras-ae version (a key this one does not take) is
    # refused with a message that names the installed version.
    with pytest.raises(
        ValueError, match=rf"\['from_another_version'\] are not arguments .* keras-ae {__version__}"
    ):
        case.cls.from_config({**config, "from_another_version": 1})


# --- (3) save / load -----------------------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_save_and_load_in_a_functional_model(case, tmp_path):
    rng = np.random.default_rng(1)
    layer, kwargs = case.make()
    model = case.functional_model(layer, kwargs)
    _randomize(model.weights, rng)
    x = case.sample_inputs(rng, model=True)
    expected = model.predict(x, verbose=0)
    if case.kept_per_row:
        # Inference in a graph with an unknown batch size keeps the inference count.
        assert (np.count_nonzero(expected, axis=-1) == case.kept_per_row[1]).all()

    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", safe_mode=True)  # no lambdas, no pickles
    restored = loaded.get_layer(layer.name)
    assert type(restored) is case.cls
    assert restored.get_config() == layer.get_config()
    for saved, back in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(back, saved)
    for got, want in zip(_listed(loaded.predict(x, verbose=0)), _listed(expected), strict=True):
        np.testing.assert_array_equal(got, want)


# --- (4) training against inference ---------------------------------------------------


@pytest.mark.parametrize("case", layer_cases())
def test_training_and_inference_behaviour(case):
    rng = np.random.default_rng(2)
    layer, _ = case.make()
    x = case.sample_inputs(rng)
    layer(x)  # builds
    _randomize(layer.weights, rng)

    inference = [_np(y) for y in _listed(layer(x))]
    for got, want in zip(_listed(layer(x, training=False)), inference, strict=True):
        np.testing.assert_array_equal(_np(got), want)
    if case.inference_output is not None:
        arrays = x if case.multi_input else [x]
        reference = case.inference_output(layer, *arrays)
        reference = list(reference) if isinstance(reference, (list, tuple)) else [reference]
        for got, want in zip(inference, reference, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)

    training = [_np(y) for y in _listed(layer(x, training=True))]
    assert [t.shape for t in training] == [i.shape for i in inference]
    if case.training_differs:
        assert not all(np.array_equal(t, i) for t, i in zip(training, inference, strict=True))
    else:
        for t, i in zip(training, inference, strict=True):
            np.testing.assert_array_equal(t, i)
    training, inference = training[0], inference[0]

    if case.kept_per_row:
        train_k, inference_k = case.kept_per_row
        assert (np.count_nonzero(training, axis=-1) == train_k).all()
        assert (np.count_nonzero(inference, axis=-1) == inference_k).all()


@pytest.mark.parametrize("case", layer_cases(SEEDED_CASES))
def test_seeded_training_output_reproduces_and_advances(case):
    x = case.sample_inputs(np.random.default_rng(3))
    first, _ = case.make()
    second, _ = case.make()
    a = _np(first(x, training=True))
    np.testing.assert_array_equal(_np(second(x, training=True)), a)
    # The seed generator advances: a second call draws fresh noise ...
    assert not np.array_equal(_np(first(x, training=True)), a)
    # ... and another seed draws other noise.
    other, _ = case.make(seed=case.init_kwargs["seed"] + 1)
    assert not np.array_equal(_np(other(x, training=True)), a)


@pytest.mark.parametrize("case", layer_cases(SEEDED_CASES))
@pytest.mark.parametrize("seeded", [True, False], ids=["seed", "no_seed"])
def test_noise_stream_continues_after_save_and_load(case, seeded, tmp_path):
    # A resumed training run must draw the noise the uninterrupted run would have drawn,
    # also for a layer without a seed (whose stream starts from a random seed).
    x = case.sample_inputs(np.random.default_rng(4))
    layer, kwargs = case.make(**({} if seeded else {"seed": None}))
    model = case.functional_model(layer, kwargs)
    layer(x, training=True)  # advances the stream before saving
    model.save(tmp_path / "model.keras")
    expected = _np(layer(x, training=True))
    restored = keras.models.load_model(tmp_path / "model.keras").get_layer(layer.name)
    np.testing.assert_array_equal(_np(restored(x, training=True)), expected)


# --- bad arguments -------------------------------------------------------------------


@pytest.mark.parametrize(("case", "overrides", "name"), BAD_ARGUMENT_CASES)
def test_bad_argument_is_refused_by_name(case, overrides, name):
    # Keras' wording: "Received: rate=1.5", or "{'bogus_argument': 1}" for an unknown one.
    with pytest.raises(ValueError, match=rf"\b{re.escape(name)}=|'{re.escape(name)}'"):
        case.make(**overrides)


# --- regularizers ----------------------------------------------------------------------


def _kl_sparsity(h, rho, beta):
    """Ng's penalty by hand: beta * sum_j KL(rho || rho_hat_j), rho_hat the batch mean."""
    rho_hat = h.astype("float64").mean(axis=0)
    return beta * np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))


def _l1_activity(h, weight):
    """weight * mean over the batch of sum_j |h_bj|."""
    return weight * np.abs(h.astype("float64")).sum(axis=1).mean()


@dataclasses.dataclass(frozen=True)
class RegularizerCase:
    """One activity regularizer.

    Attributes:
        cls: the regularizer class.
        init_kwargs: every constructor argument.
        penalty: `(h, **init_kwargs) -> float`, the penalty by hand on a `(batch, units)`
            activation batch: the term that must reach the loss (`layer.losses`).
        activation: activation of the `Dense` layer it regularizes in the layer checks.
        activation_range: activations are drawn uniformly from `[low, high)`.
        bad_kwargs: `(overrides, argument name)` pairs that must raise a `ValueError`.
    """

    cls: type
    init_kwargs: dict
    penalty: Callable
    activation: str | None = None
    activation_range: tuple = (-1.0, 1.0)
    bad_kwargs: tuple = ()

    def make(self, **overrides):
        return self.cls(**{**self.init_kwargs, **overrides})


REGULARIZER_CASES = [
    RegularizerCase(
        KLSparsity,
        {"rho": 0.1, "beta": 2.5},
        _kl_sparsity,
        activation="sigmoid",
        activation_range=(0.02, 0.98),
        bad_kwargs=(({"rho": 0.0}, "rho"), ({"rho": True}, "rho"), ({"beta": -1.0}, "beta")),
    ),
    RegularizerCase(
        L1Activity,
        {"weight": 0.03},
        _l1_activity,
        bad_kwargs=(({"weight": -0.1}, "weight"), ({"weight": True}, "weight")),
    ),
]


def regularizer_cases():
    return [pytest.param(case, id=case.cls.__name__) for case in REGULARIZER_CASES]


@pytest.mark.parametrize("case", regularizer_cases())
def test_regularizer_config_round_trip(case):
    reg = case.make()
    assert set(case.init_kwargs) == constructor_arguments(case.cls)
    config = reg.get_config()
    assert config == case.init_kwargs
    assert case.cls.from_config(config).get_config() == config
    payload = json.dumps(keras.saving.serialize_keras_object(reg))
    restored = keras.saving.deserialize_keras_object(json.loads(payload))
    assert type(restored) is case.cls and restored.get_config() == config
    with pytest.raises(
        ValueError, match=rf"\['from_another_version'\] are not arguments .* keras-ae {__version__}"
    ):
        case.cls.from_config({**config, "from_another_version": 1})
    h = np.random.default_rng(5).uniform(*case.activation_range, size=(8, 3)).astype("float32")
    assert float(restored.penalty(h)) == float(reg.penalty(h))

    # Attached to a layer, it is serialized with the layer's config.
    layer = keras.layers.Dense(3, activity_regularizer=reg)
    clone = keras.layers.Dense.from_config(json.loads(json.dumps(layer.get_config())))
    assert type(clone.activity_regularizer) is case.cls
    assert clone.activity_regularizer.get_config() == config


@pytest.mark.parametrize("case", regularizer_cases())
def test_regularizer_value_matches_the_hand_computation(case):
    rng = np.random.default_rng(4)
    batch = 16
    h = rng.uniform(*case.activation_range, size=(batch, 5)).astype("float32")
    reg = case.make()
    expected = case.penalty(h, **case.init_kwargs)
    np.testing.assert_allclose(float(reg.penalty(h)), expected, rtol=1e-5)
    # Called as Keras calls it, it returns batch * penalty: Keras divides activity
    # regularizer values by the batch size, and the term reaching the loss is the penalty.
    np.testing.assert_allclose(float(reg(h)), batch * expected, rtol=1e-5)

    layer = keras.layers.Dense(5, activation=case.activation, activity_regularizer=reg)
    code = _np(layer(rng.normal(size=(batch, 4)).astype("float32")))
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), case.penalty(code, **case.init_kwargs), rtol=1e-5)


@pytest.mark.parametrize("case", regularizer_cases())
def test_regularizer_survives_save_and_load_in_a_model(case, tmp_path):
    inputs = keras.Input((4,))
    code = keras.layers.Dense(5, activation=case.activation, activity_regularizer=case.make(), name="code")
    model = keras.Model(inputs, code(inputs))
    model.save(tmp_path / "model.keras")
    restored = (
        keras.models.load_model(tmp_path / "model.keras", safe_mode=True)
        .get_layer("code")
        .activity_regularizer
    )
    assert type(restored) is case.cls and restored.get_config() == case.init_kwargs


@pytest.mark.parametrize(
    ("case", "overrides", "name"),
    [
        pytest.param(case, overrides, name, id=f"{case.cls.__name__}-{name}={overrides[name]!r}")
        for case in REGULARIZER_CASES
        for overrides, name in case.bad_kwargs
    ],
)
def test_regularizer_bad_argument_is_refused_by_name(case, overrides, name):
    with pytest.raises(ValueError, match=rf"\b{re.escape(name)}="):
        case.make(**overrides)
