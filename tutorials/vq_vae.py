"""
Title: VQ-VAE: discrete codes, a living codebook and a learned prior
Author: keras-ae developers
Date created: 2026/11/30
Last modified: 2026/11/30
Description: Train a vector-quantized VAE on MNIST with a loss-updated and an EMA codebook, watch how many codes stay alive, and sample new digits from a PixelCNN prior over the codes.
Accelerator: None
"""

"""
## Introduction

A VQ-VAE (van den Oord et al., 2017) replaces the VAE's Gaussian code with a grid of
*discrete* codes. The encoder maps a 28x28 digit to a 7x7 grid of vectors `z_e`; each
vector is replaced by its nearest neighbour among `K` codebook vectors `e_1..e_K`, and
the decoder reconstructs from those. The loss is

```
L = -log p(x | z_q) + ||sg[z_e] - e||^2 + beta * ||z_e - sg[e]||^2
```

where `sg` stops gradients: the middle term pulls the codebook towards the encoder's
outputs, the last one (the *commitment* loss, beta = 0.25) keeps the encoder close to
its codes, and the reconstruction's gradient skips the non-differentiable nearest-code
step (the straight-through estimator).

Two practical questions decide whether a VQ-VAE works: do the codes stay in use (a
codebook where most vectors are never picked wastes capacity), and can we generate?
This tutorial compares the paper's two codebook updates, the loss above and the
exponential moving averages of its appendix (`ema=True`), plus restarts of unused
codes (`restart_after`), and then fits a gated PixelCNN prior to the 7x7 index grids
and samples new digits from it.
"""

"""
## Setup
"""

import keras
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import keras_ae
from keras_ae.plotting import plot_codebook_usage

from _common import FAST, epochs, figure_path, load_mnist, show_grid

keras.utils.set_random_seed(0)
(x_train, _), (x_test, _) = load_mnist()
print(x_train.shape, x_test.shape)

"""
## Two codebooks

The keras-io example's configuration: 16-dimensional codes, 128 of them, strided
convolutions with 32 and 64 filters (here with the paper's 4x4 kernels and residual
blocks). The only difference between the models is how the codebook learns. A
Gaussian likelihood with unit variance makes the reconstruction term half the squared
error summed over pixels plus a constant `0.5 * log(2 pi)` per pixel (about 720.4 nats
for 784 pixels): the same gradients as the keras-io example's MSE.

`codebook_usage` (the fraction of codes used in a batch) and `perplexity` (`exp` of
the entropy of the batch's code histogram: K if all codes were used equally, 1 if
one code took everything) are logged every epoch.
"""

common = dict(
    input_shape=(28, 28, 1),
    latent_dim=16,
    num_embeddings=128,
    filters=(32, 64),
    likelihood="gaussian",
    seed=0,
)
variants = {
    "loss-updated codebook": dict(ema=False),
    "EMA codebook + restarts": dict(ema=True, restart_after=100),
}
num_epochs = epochs(10)
models, histories = {}, {}
for label, options in variants.items():
    model = keras_ae.create_model("vq_vae", **common, **options)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(x_train, epochs=num_epochs, batch_size=128, validation_data=(x_test,), verbose=2)
    models[label], histories[label] = model, history.history

"""
Usage and perplexity over training: the loss-updated codebook settles on a fraction
of its codes, while the moving averages (and the restarts of codes unused for 100
batches) keep nearly all of them busy.
"""

fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
for label, history in histories.items():
    for ax, key in zip(
        axes, ("val_codebook_usage", "val_perplexity", "val_reconstruction_loss"), strict=True
    ):
        ax.plot(np.arange(1, len(history[key]) + 1), history[key], marker="o", label=label)
        ax.set_title(key.replace("val_", "validation "))
        ax.set_xlabel("epoch")
axes[0].legend()
fig.tight_layout()
fig.savefig(figure_path("vq_vae_codebook_over_training.png"), dpi=90)
plt.close(fig)

for label, model in models.items():
    logs = model.evaluate(x_test, batch_size=512, verbose=0, return_dict=True)
    used = np.unique(model.encode(x_test)).size
    print(f"{label}: test {logs}, codes used on the test set: {used} / 128")

"""
## What the codes are

`encode` returns the 7x7 grid of code indices of each image and `decode` turns any such
grid back into an image. The picture below ranks the codes of the EMA model by how
often they are used on the test set and shows a few digits beside their index grids:
background areas share a handful of codes, strokes use the rest.
"""

ema_model = models["EMA codebook + restarts"]
plot_codebook_usage(ema_model, x_test[:2000], figure_path("vq_vae_codebook.png"))
indices = ema_model.encode(x_test[:8])
print(indices.shape, indices.dtype, indices[0])
show_grid(
    [x_test[:8], ema_model.decode(indices)],
    ["input", "decode(encode(x))"],
    figure_path("vq_vae_reconstructions.png"),
    "Reconstructions through 49 discrete codes",
)

"""
## A prior over the codes

The VQ-VAE's prior is learned after the autoencoder: a gated PixelCNN
(`keras_ae.PixelCNNPrior`) models `p(c) = prod_i p(c_i | c_<i)` over the 49 positions of
the grid in raster order. `fit_prior` encodes the training set and fits it with
maximum likelihood; the model is then generative, and `sample(n, seed)` draws grids
position by position and decodes them, here and in an exported SavedModel's `sample`
signature.
"""

prior_history = ema_model.fit_prior(
    x_train, epochs=epochs(15), batch_size=128, validation_data=x_test, verbose=2
)
print("prior: bits per code", prior_history.history["val_bits_per_code"][-1])
samples = ema_model.sample(16 if FAST else 32, seed=0)
rows = [samples[: len(samples) // 2], samples[len(samples) // 2 :]]
show_grid(rows, ["samples", ""], figure_path("vq_vae_samples.png"), "Digits sampled from the PixelCNN prior")

"""
## Saving and serving

The whole model, prior included, saves to one `.keras` file; the export has the zoo's
signatures with the codes as integer grids: `encode` (image -> `indices`), `decode`
(`indices` -> image), `score` (reconstruction NLL + VQ terms) and `sample`.
"""

path = figure_path("vq_vae.keras")
ema_model.save(path)
restored = keras.models.load_model(path)
np.testing.assert_array_equal(restored.sample(4, seed=1), ema_model.sample(4, seed=1))
print("restored model samples the same digits")
