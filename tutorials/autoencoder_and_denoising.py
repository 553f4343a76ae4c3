"""
Title: Autoencoders and denoising autoencoders
Author: keras-ae developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Train a plain autoencoder on MNIST, then denoising autoencoders with masking, Gaussian and salt-and-pepper corruption.
Accelerator: None
"""

"""
## Introduction

An autoencoder learns an encoder `h = f(x)` and a decoder `x_hat = g(h)` so that
`g(f(x))` reconstructs `x`. With pixel intensities in [0, 1] we read the decoder's
output as Bernoulli means and minimise the negative log-likelihood, summed over the
784 pixels of an image:

```
L(x) = - sum_i [ x_i log x_hat_i + (1 - x_i) log(1 - x_hat_i) ]
```

A **denoising autoencoder** (Vincent et al., 2008) keeps that loss but feeds the
encoder a corrupted copy `x~ ~ q(x~ | x)`: it must reconstruct the *clean* `x` from
`x~`, so it has to learn the structure of the data rather than the identity map.
Vincent et al. (2010) use three corruptions, all available in keras-ae:

- **masking noise**: each pixel is set to 0 with probability `nu`;
- **additive Gaussian noise**: `x~ = x + N(0, sigma^2)`;
- **salt-and-pepper noise**: a fraction `nu` of pixels is set to 0 or 1 at random.
"""

"""
## Setup
"""

import keras
import numpy as np

import keras_ae

from _common import epochs, figure_path, load_mnist, show_grid

keras.utils.set_random_seed(42)
(x_train, y_train), (x_test, y_test) = load_mnist()
print(x_train.shape, x_test.shape)

"""
## A plain autoencoder

`create_model` builds an MLP encoder 784-512-256-32 and the mirrored decoder. The
model overrides `train_step`, so `compile` needs only an optimizer and `fit` takes
the images alone.
"""

autoencoder = keras_ae.create_model("autoencoder", input_shape=(28, 28, 1), latent_dim=32)
autoencoder.compile(optimizer=keras.optimizers.Adam(1e-3))
autoencoder.fit(x_train, epochs=epochs(10), batch_size=128, validation_data=(x_test,), verbose=2)

"""
The loss is in nats per image. The reconstructions below are deterministic: the
model's `reconstruct` is `predict`.
"""

show_grid(
    [x_test[:10], autoencoder.reconstruct(x_test[:10])],
    ["input", "autoencoder"],
    figure_path("autoencoder_reconstructions.png"),
    "Plain autoencoder: test digits and their reconstructions",
)

"""
## Denoising autoencoders, three corruptions side by side

The corruption is a Keras layer applied in `train_step` only; evaluation and
`predict` see clean inputs. We train one model per noise type, then ask each to
clean up test digits corrupted by its own noise.
"""

noises = {"masking": 0.3, "gaussian": 0.5, "salt_and_pepper": 0.3}
denoisers = {}
for noise, level in noises.items():
    model = keras_ae.create_model(
        "denoising_autoencoder",
        input_shape=(28, 28, 1),
        latent_dim=32,
        noise=noise,
        noise_level=level,
        seed=1,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, epochs=epochs(10), batch_size=128, validation_data=(x_test,), verbose=2)
    denoisers[noise] = model

"""
Each model's `corruption` layer produces the noisy inputs when called with
`training=True`.
"""

rows, titles = [x_test[:10]], ["clean"]
for noise, model in denoisers.items():
    noisy = keras.ops.convert_to_numpy(model.corruption(x_test[:10], training=True))
    rows += [noisy, model.reconstruct(noisy)]
    titles += [f"{noise}\ninput", f"{noise}\ndenoised"]
show_grid(
    rows,
    titles,
    figure_path("denoising_side_by_side.png"),
    "Denoising autoencoders: corrupted inputs and outputs",
)

"""
## How much does denoising help on noisy inputs?

We compare the reconstruction error against the *clean* digits when the plain
autoencoder and the denoising autoencoders receive corrupted test images.
"""

for noise, model in denoisers.items():
    noisy = keras.ops.convert_to_numpy(model.corruption(x_test, training=True))
    error_plain = np.mean((autoencoder.reconstruct(noisy) - x_test) ** 2)
    error_denoising = np.mean((model.reconstruct(noisy) - x_test) ** 2)
    print(f"{noise:16s} plain AE MSE {error_plain:.4f}   denoising AE MSE {error_denoising:.4f}")

"""
## Saving

Every keras-ae model saves to the `.keras` format and loads back after
`import keras_ae`.
"""

path = figure_path("denoising_autoencoder.keras")
denoisers["masking"].save(path)
restored = keras.models.load_model(path)
np.testing.assert_allclose(restored.reconstruct(x_test[:5]), denoisers["masking"].reconstruct(x_test[:5]))

"""
## References

- P. Vincent, H. Larochelle, Y. Bengio, P.-A. Manzagol, "Extracting and Composing
  Robust Features with Denoising Autoencoders", ICML 2008.
- P. Vincent et al., "Stacked Denoising Autoencoders", JMLR 11, 2010.
"""
