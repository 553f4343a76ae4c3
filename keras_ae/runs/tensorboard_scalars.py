"""A TensorBoard logger that needs only TensorFlow (not the `tensorboard` package)."""

import os

import keras


class TensorBoardScalars(keras.callbacks.Callback):
    """Writes every epoch's metrics as TensorBoard scalar summaries.

    Keras' `TensorBoard` callback calls `tf.summary.scalar`, which lives in the
    `tensorboard` package; tensorflow-cpu does not install it, and training should not need
    it. This writes the same layout with TensorFlow's core summary ops: `log_dir/train` and
    `log_dir/validation`, tags `epoch_<metric>`, step = epoch index, so `tensorboard
    --logdir log_dir` shows the usual curves.

    Args:
        log_dir: the log folder, e.g. `"runs/vae/logs"`.

    Example:
        >>> model.fit(data, epochs=10, callbacks=[TensorBoardScalars("runs/vae/logs")])
    """

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self._writers = {}

    def _writer(self, name):
        import tensorflow as tf

        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf
        from tensorflow.core.framework import summary_pb2

        metadata = summary_pb2.SummaryMetadata(data_class=summary_pb2.DATA_CLASS_SCALAR)
        metadata.plugin_data.plugin_name = "scalars"
        for name, value in (logs or {}).items():
            split, tag = ("validation", name[len("val_") :]) if name.startswith("val_") else ("train", name)
            with self._writer(split).as_default():
                tf.summary.write(
                    f"epoch_{tag}", tf.constant(float(value), tf.float32), step=epoch, metadata=metadata
                )
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}
