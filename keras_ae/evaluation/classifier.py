"""The classifier of the fine-tuning protocol: encoders (one model or a stack) under a softmax layer."""

import keras
import numpy as np


def as_stack(model):
    """`model` (one model, or a list or tuple of them) as a list of models whose encoders chain.

    Raises:
        ValueError: an empty list or tuple, a model with discrete codes, or a model that does
            not read the codes of the one before it.
    """
    stack = list(model) if isinstance(model, (list, tuple)) else [model]
    if not stack:
        raise ValueError(
            f"Argument `model` must be a model or a non-empty list or tuple of them. Received: model={model!r}"
        )
    for i, m in enumerate(stack):
        if getattr(m, "discrete", False):
            which = f"model {i} ({type(m).__name__})" if len(stack) > 1 else type(m).__name__
            raise ValueError(
                f"Argument `model` must have continuous codes; {which} encodes to codebook indices."
            )
    for i, (lower, upper) in enumerate(zip(stack[:-1], stack[1:], strict=True)):
        if tuple(upper.data_shape) != tuple(lower.code_spec.shape):
            raise ValueError(
                "Argument `model`: each model of a stack must read the codes of the one before it. "
                f"Received: model {i} encodes to shape {tuple(lower.code_spec.shape)} and model {i + 1} "
                f"reads shape {tuple(upper.data_shape)}"
            )
    return stack


def encode_through(stack, images, batch_size=1000):
    """The codes of `images` at the top of `stack` (a list from `as_stack`), as numpy."""
    codes = images
    for m in stack:
        codes = m.encode(codes, batch_size=batch_size)
    return codes


def softmax_classifier(model, fitted_images, num_classes):
    """A copy of `model`'s encoder under a softmax layer that reads standardized codes.

    Args:
        model: a keras-ae model with continuous codes (for a VAE, the posterior mean), or
            a stack of them (a list or tuple, each reading the codes of the one before): their
            encoders are copied and chained in order.
        fitted_images: the images the classifier will be fitted on; the mean and variance
            of their codes standardize the softmax layer's input.
        num_classes: the softmax layer's width.

    Returns:
        An uncompiled `keras.Model` from images to class probabilities; its encoder is a
        copy of `model.encoder` (of each encoder of a stack) with the same weights, so
        `model` is never trained.

    Example:
        >>> classifier = softmax_classifier(model, x_train, num_classes=10)
        >>> classifier.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
        >>> classifier.fit(x_train, y_train, epochs=5)

    References:
        Rifai et al., "Contractive Auto-Encoders: Explicit Invariance During Feature
        Extraction", ICML 2011, Table 1 (an MLP initialized with the encoder).
    """
    stack = as_stack(model)
    inputs = keras.Input(stack[0].data_shape)
    codes = inputs
    for i, m in enumerate(stack):
        encoder = keras.models.clone_model(m.encoder)
        encoder.set_weights(m.encoder.get_weights())
        if i:  # the layers of a functional model need distinct names: "encoder", "encoder_1", ...
            encoder = keras.Model(encoder.inputs, encoder.outputs, name=f"{encoder.name}_{i}")
        codes = encoder(codes)
        if isinstance(codes, (list, tuple)):  # a VAE's (mean, log-variance): the mean
            codes = codes[0]
    codes = keras.layers.Flatten()(codes)
    # The softmax layer reads standardized codes, as the linear probe does: the same function
    # class as a softmax on the raw codes, but SGD on 1000 sigmoid codes near 0.5 is so badly
    # conditioned that the first epochs are spent undoing the initial head (validation error
    # 8% after one epoch of a CAE whose probe is at 2%; 3% with standardized codes). The
    # variance floor keeps a unit that is constant here (dead) from blowing up if revived.
    fitted_codes = np.reshape(encode_through(stack, fitted_images), (len(fitted_images), -1))
    standardize = keras.layers.Normalization(
        mean=fitted_codes.mean(axis=0),
        variance=np.maximum(fitted_codes.var(axis=0), 1e-4),
        name="standardized_codes",
    )
    outputs = keras.layers.Dense(num_classes, activation="softmax")(standardize(codes))
    return keras.Model(inputs, outputs)
