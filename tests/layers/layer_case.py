"""The layer harness's case type, `LayerCase`: what the harness needs to know about one
layer, and the helpers its tests share."""

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

import keras

# Keyword arguments of `keras.layers.Layer.__init__`: the base keys a config may hold.
BASE_KEYS = {
    name
    for name, p in inspect.signature(keras.layers.Layer.__init__).parameters.items()
    if name != "self" and p.kind is p.KEYWORD_ONLY
}
REQUIRED_BASE_KEYS = {"name", "trainable", "dtype"}


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


def as_list(outputs):
    """A layer's output(s) as a list (layers such as GatedPixelCNNBlock return two)."""
    return list(outputs) if isinstance(outputs, list) else [outputs]


def expected_output_shape(shape_of, inputs, multi_input):
    return [shape_of(t) for t in inputs] if multi_input else shape_of(inputs)


def randomize_weights(weights, rng):
    """Gives every weight a random value, so that a restored weight is not a default."""
    for w in weights:
        w.assign(rng.normal(size=tuple(w.shape)).astype(w.dtype))
