"""A dense layer tied to the transpose of another dense layer's kernel."""

import keras
from keras import ops

from keras_ae._config import KnownConfig
from keras_ae._validation import check_activation, check_bool


def _find_layer(layer, name):
    """Returns the layer called `name` among `layer` and its nested layers, or None."""
    if layer.name == name:
        return layer
    for sub in getattr(layer, "layers", ()):
        found = _find_layer(sub, name)
        if found is not None:
            return found
    return None


def _find_upstream_layer(tensors, name):
    """Returns the layer called `name` that produced `tensors`, directly or upstream.

    Walks the Keras graph history of symbolic tensors; used to restore the tie when a
    functional model holding both layers is deserialized.
    """
    stack, seen = list(keras.tree.flatten(tensors)), set()
    while stack:
        history = getattr(stack.pop(), "_keras_history", None)
        if history is None or id(history.operation) in seen:
            continue
        seen.add(id(history.operation))
        found = _find_layer(history.operation, name)
        if found is not None:
            return found
        node = history.operation._inbound_nodes[history.node_index]
        stack.extend(node.input_tensors)
    return None


@keras.saving.register_keras_serializable(package="keras_ae")
class DenseTranspose(KnownConfig, keras.layers.Layer):
    """`activation(inputs @ W.T + b)` with `W` the kernel of a tied `Dense` layer.

    The decoder of a tied-weights autoencoder: it owns only its bias `b` (one per
    output, i.e. per input feature of the tied layer) and reads the tied layer's
    kernel at every call, so both layers train one shared matrix.

    Serialization: the config stores the tied layer's *name*. A keras-ae model
    rebuilds the tie from its own constructor arguments; in a functional model that
    holds both layers, a `DenseTranspose` created from its config finds the layer of
    that name upstream of its inputs the first time it is called, so the tie
    survives `save`/`load_model`. The tied layer must be built before this one.

    Args:
        tied_to: the `keras.layers.Dense` layer whose kernel is transposed, or its name
            (resolved upstream of the inputs at the first call).
        activation: activation of the outputs (None: linear).
        use_bias: whether to add a bias of its own.
        **kwargs: base `Layer` arguments.

    Returns:
        A tensor shaped `(..., tied_to.kernel.shape[0])`.

    Example:
        >>> dense = keras.layers.Dense(64, activation="sigmoid", name="code")
        >>> x = keras.Input((784,))
        >>> y = DenseTranspose(dense)(dense(x))   # (None, 784), kernel shared

    References:
        Makhzani & Frey, "k-Sparse Autoencoders", ICLR 2014; Rifai et al., "Contractive
        Auto-Encoders", ICML 2011 (both tie the decoder to the encoder's transpose).
    """

    def __init__(self, tied_to, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(tied_to, keras.layers.Dense):
            self.tied_to_name = tied_to.name
            self.tied_to = tied_to
        elif isinstance(tied_to, str) and tied_to:
            self.tied_to_name = tied_to
            self.tied_to = None
        else:
            raise ValueError(
                "Argument `tied_to` must be a keras.layers.Dense layer or its name. "
                f"Received: tied_to={tied_to!r}"
            )
        self.activation = keras.activations.get(check_activation("activation", activation))
        self.use_bias = check_bool("use_bias", use_bias)

    def __call__(self, inputs, *args, **kwargs):
        if self.tied_to is None:
            tied = _find_upstream_layer(inputs, self.tied_to_name)
            if not isinstance(tied, keras.layers.Dense):
                raise ValueError(
                    f"DenseTranspose {self.name!r} could not find the Dense layer "
                    f"tied_to={self.tied_to_name!r} upstream of its inputs. Call it on the symbolic "
                    "outputs of a graph that contains that layer, or pass the layer itself."
                )
            self.tied_to = tied
        return super().__call__(inputs, *args, **kwargs)

    @property
    def kernel(self):
        """The tied kernel, shaped `(units, tied inputs)`: the transpose is taken in `call`."""
        return self.tied_to.kernel

    def _output_units(self):
        if not self.tied_to.built:
            raise ValueError(
                f"DenseTranspose {self.name!r}: the tied layer {self.tied_to_name!r} must be built "
                "(called once) before the transposed layer."
            )
        return self.tied_to.kernel.shape[0]

    def build(self, input_shape):
        units = self._output_units()
        if input_shape[-1] != self.tied_to.kernel.shape[1]:
            raise ValueError(
                f"DenseTranspose {self.name!r} expects inputs with {self.tied_to.kernel.shape[1]} "
                f"features (the units of {self.tied_to_name!r}). Received: input_shape={input_shape}"
            )
        self.bias = (
            self.add_weight(name="bias", shape=(units,), initializer="zeros") if self.use_bias else None
        )
        self.built = True

    def call(self, inputs):
        kernel = ops.cast(self.tied_to.kernel, inputs.dtype)
        outputs = ops.matmul(inputs, ops.transpose(kernel))
        if self.bias is not None:
            outputs = outputs + ops.cast(self.bias, outputs.dtype)
        return self.activation(outputs)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self._output_units())

    def get_build_config(self):
        # The tie, not a shape, decides the bias size: build on the first call, once
        # the tied layer has been found, never from a stored shape.
        return None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "tied_to": self.tied_to_name,
                "activation": keras.activations.serialize(self.activation),
                "use_bias": self.use_bias,
            }
        )
        return config
