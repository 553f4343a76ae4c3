"""The error raised when a tensorflow-datasets dataset is neither prepared nor downloadable."""


class DatasetNotPreparedError(RuntimeError):
    """A tfds dataset is not prepared in `data_dir` and cannot be downloaded now.

    Raised within seconds (instead of after tfds' download retries); the message says how to
    point keras-ae at local files instead.
    """
