"""
Title: DRAW: a VAE that draws digits stroke by stroke
Author: keras-ae developers
Date created: 2026/11/30
Last modified: 2026/11/30
Description: Train DRAW with and without its Gaussian-filterbank attention on binarized MNIST, watch the canvas fill in over the steps and where the read and write attend.
Accelerator: None
"""

"""
## Introduction

DRAW (Gregor et al., 2015) turns the VAE into a sequence. Instead of decoding one code
into an image, it runs `T` steps of a recurrent encoder and decoder that share their
weights across steps. At step `t` the encoder *reads* the image and the error image
`x_hat = x - sigmoid(c_{t-1})` (what the canvas still gets wrong), emits a latent
`z_t ~ q(z_t | x, z_<t)`, and the decoder *writes* an update onto the canvas:

```
x_hat_t = x - sigmoid(c_{t-1})
r_t     = read(x, x_hat_t, h_dec_{t-1})
h_enc_t = LSTM_enc([r_t, h_dec_{t-1}])
z_t     ~ N(mu(h_enc_t), sigma(h_enc_t)^2)
h_dec_t = LSTM_dec(z_t)
c_t     = c_{t-1} + write(h_dec_t)
```

The loss is the Bernoulli negative log-likelihood of `x` under `sigmoid(c_T)` plus the
KL terms of all `T` latents. With *attention*, `read` and `write` look through an
N x N grid of Gaussian filters whose centre, stride, width and intensity the decoder
chooses at every step, so the model can look at and draw one part of the image at a time.
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
from keras_ae.evaluation import importance_weighted_log_likelihood
from keras_ae.plotting import plot_attention_steps, plot_generation_steps

from _common import FAST, epochs, figure_path, load_mnist, show_grid

keras.utils.set_random_seed(0)
(x_train, _), (x_test, _) = load_mnist()
# Statically binarized MNIST (a fixed Bernoulli draw), as DRAW's MNIST experiments.
rng = np.random.default_rng(0)
x_train = (rng.uniform(size=x_train.shape) < x_train).astype("float32")
x_test = (rng.uniform(size=x_test.shape) < x_test).astype("float32")

"""
## Two DRAWs

Both use 256-unit LSTMs and a 10-dimensional `z_t` at each of `T` steps (the paper uses
T = 64 and a 100-dimensional `z`; fewer steps keep this tutorial quick on a CPU). The
first reads the whole image and writes a dense update; the second reads a 2 x 2 glimpse
(of the image and of the error image) and writes a 5 x 5 patch, the paper's MNIST
setting. Gradients through 16 recurrent steps are clipped, as in the paper's code.
"""

steps = 4 if FAST else 16
variants = {"no attention": {}, "attention (read 2x2, write 5x5)": {"read_size": 2, "write_size": 5}}
models, histories = {}, {}
for label, attention in variants.items():
    model = keras_ae.create_model(
        "draw", input_shape=(28, 28, 1), latent_dim=10, steps=steps, seed=0, **attention
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=10.0))
    history = model.fit(x_train, epochs=epochs(10), batch_size=100, validation_data=(x_test,), verbose=2)
    models[label], histories[label] = model, history.history

fig, ax = plt.subplots(figsize=(6, 3.5))
for label, history in histories.items():
    ax.plot(np.arange(1, len(history["val_loss"]) + 1), history["val_loss"], marker="o", label=label)
ax.set_xlabel("epoch")
ax.set_ylabel("validation -ELBO (nats)")
ax.legend()
fig.tight_layout()
fig.savefig(figure_path("draw_elbo.png"), dpi=90)
plt.close(fig)

"""
## How good a density model?

The ELBO bounds `log p(x)` from below; the importance-weighted bound `L_k` (Burda et al.)
with `k` paths per image is tighter. For DRAW each importance sample is a whole path
`z_1..z_T`, and its weight multiplies the prior over posterior ratios of all steps.
"""

subset = x_test[: 100 if FAST else 1000]
for label, model in models.items():
    bound = importance_weighted_log_likelihood(model, subset, num_samples=10 if FAST else 100, verbose=0)
    print(f"{label}: test NLL <= {-bound.mean():.2f} nats (L_k on {len(subset)} images)")

"""
## Drawing step by step

`generation_steps` runs the decoder alone from prior draws and returns the canvas after
every step: digits appear as blobs that sharpen. With attention, `attention_boxes` tells
where the read (green) and the write (red) look at each step of a reconstruction.
"""

attentive = models["attention (read 2x2, write 5x5)"]
plot_generation_steps(attentive, figure_path("draw_generation.png"), n=8, seed=0, columns=steps)
plot_attention_steps(attentive, x_test[:4], figure_path("draw_attention.png"), n=4, columns=8)
samples = attentive.sample(10, seed=1)
show_grid([x_test[:10], attentive.reconstruct(x_test[:10]), samples], ["data", "reconstruction", "samples"],
          figure_path("draw_samples.png"), "DRAW with attention")  # fmt: skip

"""
## Saving and serving

DRAW saves and exports like every keras-ae model: `encode` returns the `(T, z)` sequence
of posterior means, `decode` draws from a given sequence, `sample` draws from the prior,
and `score` is the negative ELBO of one keyed posterior path.
"""

path = figure_path("draw.keras")
attentive.save(path)
restored = keras.models.load_model(path)
np.testing.assert_allclose(restored.sample(4, seed=2), attentive.sample(4, seed=2), atol=1e-6)
print("restored DRAW draws the same samples")
