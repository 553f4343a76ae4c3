"""Argument checks shared by the evaluation functions."""

import numpy as np


def check_int(name, value, minimum=1):
    """Returns `value` as an int, or raises a ValueError naming `name` and what was received."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Argument `{name}` must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)
