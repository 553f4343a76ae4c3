"""Version of the keras-ae package."""

__version__ = "0.1.0"
