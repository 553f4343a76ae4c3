"""Explicit step counts run exactly: a `steps_per_execution` that divides them.

Keras runs whole executions of `steps_per_execution` steps, `ceil(steps /
steps_per_execution)` of them, wherever a step count is given (`fit(steps_per_epoch=...)`,
`validation_steps`, `evaluate(steps=...)`) and the data does not run out first. At
keras-ae's default of 16 steps per execution, `fit(dataset.repeat(), steps_per_epoch=10)`
would train 16 steps per epoch. `whole_executions` runs such a call with the largest
`steps_per_execution` (at most the compiled one) that divides every count given.
"""

import contextlib
import math

from keras_ae._validation import check_int


def dividing_steps_per_execution(steps_per_execution, counts):
    """The largest `n <= steps_per_execution` that divides every count (None: not given).

    Args:
        steps_per_execution: the compiled count, an int >= 1.
        counts: step counts, each an int >= 1 or None.

    Returns:
        An int in `[1, steps_per_execution]`.

    Example:
        >>> dividing_steps_per_execution(16, [40, None])
        10
    """
    common = 0
    for count in counts:
        if count is not None:
            common = math.gcd(common, count)
    if common == 0:
        return steps_per_execution
    return max(n for n in range(1, steps_per_execution + 1) if common % n == 0)


@contextlib.contextmanager
def whole_executions(model, **counts):
    """Runs the block with a `steps_per_execution` that divides every given step count.

    The traced train and test functions hold the count they were traced with, so they are
    dropped on the way in and out when the count changes (a retrace for that call only).

    Args:
        model: a compiled Keras model.
        **counts: the call's step counts by argument name (`steps_per_epoch=10`, ...); None
            where not given.

    Raises:
        ValueError: a count that is not an int >= 1, named by its argument.
    """
    counts = {name: None if c is None else check_int(name, c) for name, c in counts.items()}
    compiled = model.steps_per_execution
    dividing = dividing_steps_per_execution(compiled, counts.values())
    if dividing == compiled:
        yield
        return
    model.steps_per_execution = dividing
    model.train_function = model.test_function = None
    try:
        yield
    finally:
        model.steps_per_execution = compiled
        model.train_function = model.test_function = None
