"""Shared argument checks of the activity regularizers."""


def check_non_negative(name, value):
    """Returns `value` as a float, or raises a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"Argument `{name}` must be a non-negative number. Received: {name}={value!r}")
    return float(value)


def check_open_unit_interval(name, value):
    """Returns `value` as a float in (0, 1), or raises a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(
            f"Argument `{name}` must be a float strictly between 0 and 1. Received: {name}={value!r}"
        )
    return float(value)
