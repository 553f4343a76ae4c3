"""Configs from another keras-ae version: unknown keys are refused with a message naming the version."""

import functools
import inspect

from keras_ae.version import __version__

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


@functools.cache
def accepted_arguments(cls):
    """The keyword arguments `cls(...)` may take: the named parameters of every constructor
    in its class hierarchy (its own and those it passes `**kwargs` on to, such as Keras'
    `Layer`: `name`, `dtype`, `trainable`, ...)."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None and init is not object.__init__:
            names |= {p.name for p in inspect.signature(init).parameters.values() if p.kind in _NAMED}
    return frozenset(names - {"self"})


def check_config(cls, config):
    """Raises a ValueError when `config` has keys that `cls`'s constructor does not take.

    Such a config comes from a `.keras` file (or JSON) written by another keras-ae version,
    whose class took other arguments; loading it anyway would drop or misread them.

    Args:
        cls: the class being rebuilt.
        config: its config dict.

    Returns:
        `config`, unchanged.
    """
    unknown = sorted(set(config) - accepted_arguments(cls))
    if unknown:
        raise ValueError(
            f"Cannot rebuild {cls.__name__} from this config: its keys {unknown} are not arguments of "
            f"{cls.__name__} in keras-ae {__version__} (this installation). The model or layer was "
            f"probably saved by another version of keras-ae: load it with that version, or upgrade "
            f"keras-ae. Received: config keys {sorted(config)}"
        )
    return config


class KnownConfig:
    """Mixin for the package's layers: `from_config` refuses keys of another keras-ae version."""

    @classmethod
    def from_config(cls, config):
        return super().from_config(check_config(cls, config))
