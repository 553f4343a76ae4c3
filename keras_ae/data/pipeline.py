"""`load_dataset`: one loader from any source to a batched, normalized `tf.data` pipeline."""

import numpy as np

from keras_ae._validation import check_int
from keras_ae.data.in_memory import shared_tensor, without_graph_rewrites
from keras_ae.data.ordering import dynamic_binarization, example_uniform, permuted_positions, shuffled
from keras_ae.data.sources import resolve_source

BINARIZE = (None, "static", "dynamic", "threshold")
_CACHE_BYTES = 1 << 30
_WHOLE_SHUFFLE = 100_000  # examples: a split this large or smaller is shuffled in one buffer
_WINDOW = 10_000  # the shuffle buffer of a larger tfds split


def load_dataset(
    source,
    split="train",
    batch_size=128,
    binarize=None,
    shuffle=None,
    seed=0,
    as_numpy=False,
    with_labels=False,
    flatten=False,
    data_dir=None,
    download=True,
    epoch=None,
    epochs=None,
):
    """Loads a dataset as a batched `tf.data.Dataset` of float32 images in [0, 1] (or numpy).

    Sources:
        - an embedded name: `"digits"` (scikit-learn 8x8), `"shapes"` / `"shapes32"`
          (generated dSprites-style shapes) — no download;
        - a tensorflow-datasets name (`"mnist"`, `"fashion_mnist"`, `"cifar10"`, `"dsprites"`,
          ..., see `list_datasets()`) or `"tfds:<name>"`, read from `data_dir`. A dataset
          that is not prepared is downloaded, or, offline, fails within seconds with a
          `DatasetNotPreparedError` saying how to use local files instead;
        - a folder of IDX files (`train-images-idx3-ubyte.gz` and friends, the MNIST layout);
        - an `.npz` file with `x_train`/`y_train`/`x_test`/`y_test` (Keras' `mnist.npz`
          layout), `x`/`y`, or dSprites' `imgs`/`latents_classes` (label = shape);
        - in-memory arrays: `x` or `(x, y)`.

    Normalization: uint8 images are divided by 255 (binary 0/1 integer images by 1); float
    images are used as they are. Grayscale `(n, h, w)` images get a channel axis.

    Memory: the pipeline of an in-memory source (arrays, files, embedded sets) holds one
    copy of its arrays, made when it is loaded: changing your arrays afterwards changes
    nothing in it. A shuffled split of 100,000 examples or fewer also fills a shuffle
    buffer of its size, and a multi-worker run's sharding (a graph rewrite) copies the
    arrays once more.

    Args:
        source: one of the sources above.
        split: `"train"` or `"test"`, optionally sliced: `"train[:1000]"`, `"test[:10%]"`.
            For in-memory arrays only the slice matters.
        batch_size: examples per batch.
        binarize: `None`; `"static"`: one Bernoulli sample per image with `p` = pixel
            intensity, fixed for good (seeded by `seed` and the image's position in the
            split); `"dynamic"`: a fresh Bernoulli sample every epoch (Salakhutdinov & Murray
            2008), reproducible from `seed`; `"threshold"`: `x > 0.5`.
        shuffle: shuffle every epoch (seeded); defaults to True for splits named "train".
        seed: seed of the shuffle and of the binarization.
        as_numpy: return numpy arrays (all examples, in order) instead of a pipeline.
        with_labels: yield `(x, y)` with int64 class labels instead of `x` alone. The labels
            of a file or of arrays must then be integers (or integer-valued floats);
            without `with_labels` they are not read.
        flatten: flatten each example to a vector (for models with `input_shape=(784,)`).
        data_dir: the tensorflow-datasets data folder (tfds sources only).
        download: allow tfds to download a dataset that is not prepared.
        epoch: None, for a pipeline that reshuffles (and redraws a dynamic binarization) on
            every pass, as `fit` wants; or an epoch number for that epoch's pass: its order
            and binarization are a function of `(seed, epoch)` alone, the same in every
            process and every pass, which resumable training needs. An int64 `tf.Variable`
            (with `epochs`) makes each pass that of the epoch it holds when the pass
            starts: a callback sets it in `on_epoch_begin`.
        epochs: with a variable `epoch`, the number of epochs it may select (0 to
            `epochs - 1`).

    Returns:
        A `tf.data.Dataset` of batches of `x` (or `(x, y)`), or, with `as_numpy=True`, the
        array `x` (or the tuple `(x, y)`).

    Example:
        >>> train = keras_ae.data.load_dataset("mnist", batch_size=128, binarize="dynamic")
        >>> x_test, y_test = keras_ae.data.load_dataset("digits", "test", as_numpy=True,
        ...                                             with_labels=True)
    """
    import tensorflow as tf

    if binarize not in BINARIZE:
        raise ValueError(
            f"Unknown binarization. Expected one of {list(BINARIZE)}. Received: binarize={binarize!r}"
        )
    check_int("batch_size", batch_size)
    if isinstance(epoch, tf.Variable):
        check_int("epochs", epochs)
    elif epoch is not None:
        check_int("epoch", epoch, minimum=0)
    if as_numpy and binarize == "dynamic":
        raise ValueError(
            "binarize='dynamic' draws a new sample every epoch, which needs the tf.data pipeline: use "
            "as_numpy=False, or load the grey levels as numpy and train a model created with "
            "dynamic_binarization=True, or binarize='static' for one fixed sample. "
            "Received: binarize='dynamic', as_numpy=True"
        )
    source = resolve_source(source, split, data_dir=data_dir, download=download, labels=with_labels)
    name, scale = source.name, source.scale
    if with_labels and not source.has_labels:
        raise ValueError(f"Dataset {name!r} has no labels. Received: with_labels=True")

    if source.arrays is not None:
        images = source.arrays[0]
        cardinality = len(images)
        example_shape = images.shape[1:]
        float_images = np.issubdtype(images.dtype, np.floating)
        if binarize is not None and float_images:
            # Float images are used as they are: intensities above 1 (0..255 floats) would
            # binarize to all ones without a word. (Integer images are scaled into [0, 1].)
            # As the pipeline sees them: in float32 (float64 1 + 1e-12 is 1).
            low, high = (float(np.float32(v)) for v in (images.min(), images.max()))
            if low < 0 or high > 1:
                raise ValueError(
                    f"binarize={binarize!r} needs intensities in [0, 1]; float images are not rescaled: "
                    f"divide 0..255 floats by 255 first. Received: source={name!r} with values in "
                    f"[{low:.8g}, {high:.8g}]"
                )
        dataset = None  # built below, unless batches are gathered from the arrays
    else:
        dataset = source.dataset
        cardinality = int(dataset.cardinality())
        image_spec = dataset.element_spec[0]
        size = cardinality * int(np.prod(image_spec.shape)) * image_spec.dtype.size
        if 0 < size <= _CACHE_BYTES:
            dataset = dataset.cache()  # raw uint8 in memory: tfds decodes PNGs only once
        example_shape = tuple(image_spec.shape)
        float_images = image_spec.dtype.is_floating
    if None in example_shape:
        raise ValueError(
            f"Dataset {name!r} holds images of varying size (shape {example_shape}); resize them to one "
            "shape first (e.g. tf.image.resize in a tf.data map)."
        )
    if flatten:
        example_shape = (int(np.prod(example_shape)),)
    # tfds stores images as uint8; a float image feature's range is known only batch by batch.
    check_range = binarize is not None and float_images and source.arrays is None

    def transform(index, xy):
        # Runs on whole batches: per-example tf.data maps cost far more than the maths.
        x, y = xy
        x = tf.cast(x, tf.float32)
        if scale != 1.0:
            x = x / scale
        if flatten:
            x = tf.reshape(x, [-1, example_shape[0]])
        if check_range:
            low, high = tf.reduce_min(x), tf.reduce_max(x)
            check = tf.debugging.Assert(
                tf.logical_and(low >= 0.0, high <= 1.0),
                [
                    f"binarize={binarize!r} needs intensities in [0, 1]; float images are not rescaled: divide "
                    "0..255 floats by 255 first. Received: a batch with min and max",
                    low,
                    high,
                ],
            )
            with tf.control_dependencies([check]):  # a tf.data map keeps only what x needs
                x = tf.identity(x)
        if binarize == "static":
            # One sample per example, fixed by (seed, position in the split): the same in every
            # epoch, pipeline and process, whatever the batching and shuffling.
            x = tf.cast(example_uniform(seed, index, example_shape) < x, tf.float32)
        elif binarize == "threshold":
            x = tf.cast(x > 0.5, tf.float32)
        return x, y

    if shuffle is None:
        shuffle = str(split).strip().startswith("train")
    # A window of a larger array would keep its order (the official dSprites file is sorted by
    # factor: its batches would hold one shape), so its batches are gathered instead.
    gather = shuffle and not as_numpy and source.arrays is not None and cardinality > _WHOLE_SHUFFLE
    if source.arrays is not None and not gather:
        dataset = without_graph_rewrites(
            tf.data.Dataset.from_tensor_slices(tuple(shared_tensor(a) for a in source.arrays))
        )
    if as_numpy:
        xs, ys = [], []
        for x, y in dataset.enumerate().batch(4096).map(transform).as_numpy_iterator():
            xs.append(x)
            ys.append(y)
        x, y = np.concatenate(xs), np.concatenate(ys)
        return (x, y) if with_labels else x

    if gather:
        # Batches of one permutation of the whole array.
        images, labels = (shared_tensor(a) for a in source.arrays)
        batches = without_graph_rewrites(
            permuted_positions(cardinality, seed, epoch)
            .batch(batch_size)
            .map(lambda index: (index, (tf.gather(images, index), tf.gather(labels, index))))
        )
    else:
        # Shuffling raw examples (uint8 images) keeps the buffer small. A larger split is a
        # tfds one, whose records tfds wrote shuffled: a window of it is a fair sample.
        examples = dataset.enumerate()
        if shuffle:
            buffer = cardinality if 0 < cardinality <= _WHOLE_SHUFFLE else _WINDOW
            examples = shuffled(examples, buffer, seed, epoch, epochs)
        batches = examples.batch(batch_size)
    dataset = batches.map(transform, num_parallel_calls=tf.data.AUTOTUNE)
    if cardinality > 0:  # lost in a choice or a flat_map: Keras counts an epoch's steps with it
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(-(-cardinality // batch_size)))
    if binarize == "dynamic" and epoch is None:
        # One seed per batch from a stream that restarts differently, but reproducibly,
        # each pass: a fresh Bernoulli sample of every example every epoch (Salakhutdinov
        # & Murray).
        noise_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip((noise_seeds, dataset)).map(
            lambda r, xy: dynamic_binarization(xy, tf.stack([r, tf.constant(1, tf.int64)])),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    elif binarize == "dynamic":
        # Batch b of epoch e: noise keyed by (seed, e, b).
        dataset = dataset.enumerate().map(
            lambda b, xy: dynamic_binarization(
                xy,
                tf.stack([tf.constant(seed, tf.int64), tf.convert_to_tensor(epoch, tf.int64) * 2**32 + b]),
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    if not with_labels:
        dataset = dataset.map(lambda x, y: x)
    return dataset.prefetch(tf.data.AUTOTUNE)


def check_fits(dataset_shape, input_shape, dataset="the dataset"):
    """Raises a ValueError naming both shapes when examples of `dataset_shape` do not fit a model.

    Args:
        dataset_shape: shape of one example of the data, e.g. `(28, 28, 1)`.
        input_shape: the model's `input_shape` (`model.data_shape`).
        dataset: the dataset's name, for the message.
    """
    dataset_shape, input_shape = tuple(dataset_shape), tuple(input_shape)
    if dataset_shape != input_shape:
        raise ValueError(
            f"Dataset {dataset!r} has examples of shape {dataset_shape}, but the model expects "
            f"input_shape={input_shape}. Train a model on this dataset, or pick a dataset of that shape."
        )


def element_shape(dataset):
    """The shape of one example of a batched pipeline from `load_dataset`."""
    spec = dataset.element_spec
    spec = spec[0] if isinstance(spec, tuple) else spec
    return tuple(spec.shape[1:])
