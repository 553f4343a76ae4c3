"""
Title: Bring your own encoder and decoder
Author: keras-ae developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Plug the keras-io VAE example's hand-written networks, or any Keras models, into keras-ae models.
Accelerator: None
"""

"""
## Introduction

keras-ae builds MLP and convolutional networks from `input_shape`, but every model
except DRAW also accepts `encoder=` and `decoder=` Keras models. The contract is small:

- the **encoder** of the VAE family (`vae`, `beta_vae`) maps one example to flat
  features (keras-ae adds the `z_mean`/`z_log_var` heads), or directly to
  `[z_mean, z_log_var]` or `[z_mean, z_log_var, z]` as in the keras-io VAE example.
  For the `Autoencoder` family (plain, denoising, sparse, k-sparse, contractive)
  there are no heads: the encoder's output *is* the code, shaped `(batch, latent_dim)`;
  a VQ-VAE encoder outputs a grid of `latent_dim`-sized vectors;
- the **decoder** maps a code to the *parameters* of the likelihood: logits for the
  default Bernoulli likelihood, means for `likelihood="gaussian"` or `"mse"`.
  Logits keep the loss `softplus(l) - x * l` numerically stable; keras-ae applies
  the sigmoid itself in `.decoder`, `predict` and `reconstruct`.

Everything else (training step, losses, saving, export) stays the zoo's.
"""

"""
## Setup
"""

import keras
import numpy as np
from keras import layers

import keras_ae

from _common import epochs, figure_path, load_mnist, show_grid

keras.utils.set_random_seed(3)
(x_train, _), (x_test, _) = load_mnist()
latent_dim = 2

"""
## The keras-io encoder, unchanged

This is the encoder of the keras-io "Variational AutoEncoder" example, with
keras-ae's `Sampling` layer in place of the example's own.
"""

encoder_inputs = keras.Input(shape=(28, 28, 1))
x = layers.Conv2D(32, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Conv2D(64, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Flatten()(x)
x = layers.Dense(16, activation="relu")(x)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = keras_ae.layers.Sampling(seed=0)([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

"""
## The keras-io decoder, with a linear output

The example's decoder ends in a sigmoid. keras-ae refuses that with the Bernoulli
likelihood, since it would apply a second sigmoid:
"""


def keras_io_decoder(output_activation):
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    outputs = layers.Conv2DTranspose(1, 3, activation=output_activation, padding="same")(x)
    return keras.Model(latent_inputs, outputs, name="decoder")


try:
    keras_ae.VAE(encoder=encoder, decoder=keras_io_decoder("sigmoid"))
except ValueError as error:
    print("ValueError:", error)

"""
Dropping the final sigmoid is all it takes. `input_shape` and `latent_dim` are read
from the networks.
"""

vae = keras_ae.VAE(encoder=encoder, decoder=keras_io_decoder(None))
vae.compile(optimizer=keras.optimizers.Adam())
vae.fit(x_train, epochs=epochs(10), batch_size=128, verbose=2)
print(vae.evaluate(x_test, verbose=0, return_dict=True))

"""
Code written for the keras-io example keeps working: `vae.encoder` still returns
`[z_mean, z_log_var, z]` and `vae.decoder` returns images in [0, 1].
"""

z_mean, _, _ = vae.encoder.predict(x_test[:10], verbose=0)
images = vae.decoder.predict(z_mean, verbose=0)
print("decoder output range:", images.min(), images.max())
show_grid([x_test[:10], images], ["input", "custom VAE"], figure_path("custom_vae_reconstructions.png"))

"""
## A feature extractor as encoder

A VAE-family encoder may also stop at features: keras-ae adds the `z_mean` and
`z_log_var` heads. (An `Autoencoder`'s encoder gets no head: its output must already
be the `(batch, latent_dim)` code.) Here a small residual network feeds a beta-VAE; we
pass `latent_dim` because features alone don't say it.
"""

inputs = keras.Input((28, 28, 1))
h = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
shortcut = h
h = layers.Conv2D(32, 3, padding="same", activation="relu")(h)
h = layers.Conv2D(32, 3, padding="same")(h)
h = layers.Activation("relu")(layers.Add()([h, shortcut]))
h = layers.GlobalAveragePooling2D()(h)
features = keras.Model(inputs, h, name="residual_features")

beta_vae = keras_ae.create_model("beta_vae", encoder=features, latent_dim=8, beta=2.0, architecture="mlp")
print([layer.name for layer in beta_vae.encoder.layers])
beta_vae.compile(optimizer="adam")
beta_vae.fit(x_train, epochs=epochs(3), batch_size=128, verbose=2)

"""
## Saving custom networks

Custom networks are serialized inside the model's config, so the `.keras` file
loads without the code that built them (custom *layers* still need registering with
`keras.saving.register_keras_serializable`).
"""

path = figure_path("custom_vae.keras")
vae.save(path)
restored = keras.models.load_model(path)
np.testing.assert_allclose(
    restored.predict(x_test[:5], verbose=0), vae.predict(x_test[:5], verbose=0), rtol=1e-5
)
print("restored encoder:", restored.encoder.name, [output.shape for output in restored.encoder.outputs])

"""
## References

- F. Chollet, "Variational AutoEncoder", keras.io examples, 2020.
- D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
"""
