"""What a training run trains on: its data pipeline, epoch by epoch."""

import keras

from keras_ae.data import load_dataset
from keras_ae.runs.distribution import shard_by_data


def load_train_data(config, epoch=None, epochs=None):
    """The run's training pipeline (see `load_dataset` for `epoch` and `epochs`)."""
    return load_dataset(
        config["dataset"],
        config["split"],
        batch_size=config["batch_size"],
        binarize=config["binarize"],
        seed=config["seed"],
        data_dir=config["data_dir"],
        epoch=epoch,
        epochs=epochs,
    )


def check_first_batch(train_data, config, likelihood):
    """Reads the run's first training batch through `likelihood`'s target check.

    Float images are used as they are: 0..255 floats under a Bernoulli likelihood would
    train on targets above 1 without a word. With `binarize`, `load_dataset` refuses
    such arrays and files when the pipeline is built; a tfds dataset of float images is
    checked batch by batch, and its first batch's check is read here. `train_data` is
    the run's own pipeline: reading it changes nothing, since its batches and their
    binarization are a function of the seed and the epoch alone.

    Raises:
        ValueError: the batch is outside what the likelihood or the binarization takes.
    """
    import numpy as np
    import tensorflow as tf

    try:
        batch = next(iter(train_data.take(1)))
    except tf.errors.InvalidArgumentError as error:
        if "needs intensities in [0, 1]" not in error.message:
            raise
        # The pipeline's own check, "[message] [min] [max]" after TensorFlow's account of
        # where it failed.
        text = error.message.split("assertion failed: [", 1)[-1].splitlines()[0]
        text = text.rstrip("]").replace("] [", " ").replace("\\'", "'")  # TensorFlow escapes quotes
        raise ValueError(f"{text} (dataset={config['dataset']!r})") from None
    likelihood.check_targets(np.asarray(batch[0] if isinstance(batch, tuple) else batch))


def steps_per_epoch(dataset):
    """The number of batches in one pass over `dataset`."""
    steps = int(dataset.cardinality())
    if steps < 0:  # not known ahead: count the batches once
        steps = int(dataset.reduce(0, lambda count, _: count + 1))
    return steps


class EpochData(keras.callbacks.Callback):
    """The training data of a run, epoch by epoch, the same in every process.

    Epoch e's batches (order and dynamic binarization) are a function of the seed and e
    alone (`load_dataset(..., epoch=...)`): this callback sets the epoch number that the
    pipeline reads when Keras starts the epoch's pass. A run resumed `step` steps into an
    epoch skips the batches already trained.

    Each epoch stays a finite pass of its own: with `steps_per_execution` > 1, Keras runs
    whole executions, which on one endless stream would run past the end of an epoch.
    """

    def __init__(self, config, distribute):
        import tensorflow as tf

        super().__init__()
        self.config = config
        self.distribute = distribute
        # A plain (not distributed) variable, created outside any strategy scope: tf.data
        # reads it on the host.
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.data = load_train_data(config, epoch=self.epoch, epochs=config["epochs"])

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch.assign(epoch)

    def passes(self, step=0):
        """The data for `fit`, from `step` steps into its first epoch."""
        data = self.data.skip(step) if step else self.data
        return data if self.distribute is None else shard_by_data(data)

    def reshuffling(self):
        """The run's training data as a pipeline that reshuffles on every pass, for a `fit`
        outside the run's epochs (a VQ-VAE's prior), which no callback numbers."""
        data = load_train_data(self.config)
        return data if self.distribute is None else shard_by_data(data)
