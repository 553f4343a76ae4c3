"""Argument checks shared by every module, with Keras' wording.

Each check returns the value in its canonical Python type, or raises a `ValueError` that names
the argument and repeats what was received, e.g.
``Argument `k` must be an int >= 1. Received: k=0``. Booleans are never numbers here
(`True` is not a seed, a count or a weight), and numpy integer and float scalars are.

Example:
    >>> from keras_ae._validation import check_int
    >>> check_int("latent_dim", 16)
    16
"""

import math
import numbers


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _within(value, minimum, maximum, exclusive_minimum=False, exclusive_maximum=False):
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        return False
    return maximum is None or (value < maximum if exclusive_maximum else value <= maximum)


def _bounds_text(minimum, maximum, exclusive_minimum=False, exclusive_maximum=False):
    """The bounds in words for a message: ' in [0, 1)', ' >= 1', ' <= 5' or ''."""
    if minimum is not None and maximum is not None:
        return (
            f" in {'(' if exclusive_minimum else '['}{minimum}, {maximum}{')' if exclusive_maximum else ']'}"
        )
    if minimum is not None:
        return f" {'>' if exclusive_minimum else '>='} {minimum}"
    if maximum is not None:
        return f" {'<' if exclusive_maximum else '<='} {maximum}"
    return ""


def check_int(name, value, minimum=1, maximum=None, what=None):
    """Returns `value` as an int in `[minimum, maximum]`.

    Args:
        name: the argument's name, as the user wrote it.
        value: what was received.
        minimum: the smallest valid value (None: unbounded).
        maximum: the largest valid value (None: unbounded).
        what: optional words after the name, e.g. "(optimizer steps of the whole run)".

    Returns:
        `int(value)`.
    """
    if not (_is_int(value) and _within(value, minimum, maximum)):
        label = f"`{name}` {what}" if what else f"`{name}`"
        raise ValueError(
            f"Argument {label} must be an int{_bounds_text(minimum, maximum)}. Received: {name}={value!r}"
        )
    return int(value)


def check_number(name, value, minimum=None, maximum=None, exclusive_minimum=False, exclusive_maximum=False):
    """Returns `value` as a finite float within the given bounds.

    Args:
        name: the argument's name.
        value: what was received.
        minimum, maximum: bounds (None: unbounded).
        exclusive_minimum, exclusive_maximum: whether the bound itself is excluded.

    Returns:
        `float(value)`.
    """
    bounds = (minimum, maximum, exclusive_minimum, exclusive_maximum)
    if not (_is_number(value) and math.isfinite(value) and _within(value, *bounds)):
        raise ValueError(
            f"Argument `{name}` must be a finite number{_bounds_text(*bounds)}. Received: {name}={value!r}"
        )
    return float(value)


def check_non_negative(name, value):
    """Returns `value` as a float >= 0 (weights, rates, capacities)."""
    return check_number(name, value, minimum=0)


def check_seed(value, name="seed"):
    """Returns `value` as a non-negative int seed, or None ("draw a fresh seed")."""
    if value is None:
        return None
    if not _is_int(value) or value < 0:
        raise ValueError(f"Argument `{name}` must be an int >= 0 or None. Received: {name}={value!r}")
    return int(value)


def check_activation(name, value):
    """Returns `value` when Keras knows it as an activation (a name, a registered callable,
    or None), else a ValueError naming the argument."""
    import keras

    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(
            f"Argument `{name}` must be an activation Keras knows (e.g. 'relu', 'sigmoid', 'linear'). "
            f"Received: {name}={value!r}"
        ) from None
    return value


def activation_config(activation):
    """An activation argument as a config value: a name or None as given, a callable
    serialized the way Keras' own layers serialize theirs (so that the config is JSON-safe;
    the callable itself is kept on the model, which also trains with an unregistered one)."""
    import keras

    if activation is None or isinstance(activation, (str, dict)):
        return activation
    return keras.activations.serialize(activation)


def check_choice(name, value, choices):
    """Returns `value` if it is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"Unknown {name}. Expected one of {list(choices)}. Received: {name}={value!r}")
    return value


def check_bool(name, value):
    """Returns `value` if it is a bool (not merely truthy)."""
    if not isinstance(value, bool):
        raise ValueError(f"Argument `{name}` must be a bool. Received: {name}={value!r}")
    return value


def shape_text(shape):
    """`(batch, 28, 28, 1)` (or `(batch,)`) for a shape whose unknown dimensions are None."""
    return (
        "("
        + ", ".join("batch" if d is None else str(d) for d in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def check_rate(name, value):
    """Returns `value` as a float probability in [0, 1) (masking and salt-and-pepper rates)."""
    return check_number(name, value, minimum=0, maximum=1, exclusive_maximum=True)


def check_unit_interval(name, value):
    """Returns `value` as a float strictly between 0 and 1 (target activations)."""
    return check_number(name, value, minimum=0, maximum=1, exclusive_minimum=True, exclusive_maximum=True)


def check_code_indices(name, values, num_embeddings, integral_floats=False):
    """Returns numpy `values` as int32 codebook indices in `[0, num_embeddings)`.

    Args:
        name: the argument's name, for the message.
        values: a numpy array (its shape is checked by the caller).
        num_embeddings: the number of codes.
        integral_floats: also accept floats holding whole numbers (decoded from JSON).
    """
    import numpy as np

    if integral_floats and np.issubdtype(values.dtype, np.floating):
        if not np.isfinite(values).all() or not np.array_equal(values, np.round(values)):
            raise ValueError(
                f"Argument `{name}` (code indices) must hold integers. Received: non-integral or "
                "non-finite floats"
            )
    elif not np.issubdtype(values.dtype, np.integer):
        raise ValueError(
            f"Argument `{name}` (code indices) must hold integers. Received: {name} with dtype={values.dtype}"
        )
    if values.size and (values.min() < 0 or values.max() >= num_embeddings):
        raise ValueError(
            f"Argument `{name}` (code indices) must lie in [0, {num_embeddings}). "
            f"Received: values in [{values.min()}, {values.max()}]"
        )
    return values.astype("int32")
