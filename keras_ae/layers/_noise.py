"""Shared argument checks of the corruption layers."""


def check_rate(name, value):
    """Raises a ValueError unless `value` is a probability in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ValueError(f"Argument `{name}` must be a float in [0, 1). Received: {name}={value!r}")
    return float(value)


def check_seed(seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"Argument `seed` must be an int or None. Received: seed={seed!r}")
    return seed
