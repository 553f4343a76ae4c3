"""
Title: Variational autoencoder: reparameterization, ELBO and the latent manifold
Author: keras-ae developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Train a convolutional VAE on MNIST, read its ELBO terms, draw samples and the 2-D latent manifold.
Accelerator: None
"""

"""
## Introduction

A variational autoencoder (Kingma & Welling, 2014) is a latent-variable model
`p(x, z) = p(x | z) p(z)` with prior `p(z) = N(0, I)`, trained with an encoder
`q(z | x) = N(mu(x), diag(sigma^2(x)))` that approximates the posterior. It
maximises the evidence lower bound (ELBO):

```
log p(x) >= ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))
KL = -1/2 sum_j (1 + log sigma_j^2 - mu_j^2 - sigma_j^2)
```

The expectation is estimated with one sample drawn by the **reparameterization
trick**, `z = mu + sigma * eps` with `eps ~ N(0, I)`, which makes the sample a
differentiable function of the encoder's outputs. In keras-ae that is the
`Sampling` layer; the KL term is added with `add_loss`, and the model logs
`reconstruction_loss` (`-E_q[log p(x | z)]`), `kl_loss` and `elbo`, in nats per image.
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

from _common import epochs, figure_path, load_mnist, show_grid

keras.utils.set_random_seed(1)
(x_train, y_train), (x_test, y_test) = load_mnist()

"""
## The reparameterization trick in isolation

In training mode `Sampling` draws `mu + sigma * eps`; at inference it returns the mean.
"""

sampling = keras_ae.layers.Sampling(seed=0)
mu, log_var = np.zeros((10000, 1), "float32"), np.full((10000, 1), np.log(4.0), "float32")
draws = keras.ops.convert_to_numpy(sampling([mu, log_var], training=True))
print(
    "sample std (expect 2):",
    draws.std(),
    " inference output:",
    sampling([mu[:2], log_var[:2]]).numpy().ravel(),
)

"""
## A VAE with a 2-D latent space

Two latent dimensions are few for MNIST, but they let us draw the whole latent
space. The convolutional encoder and decoder are built from `input_shape`.
"""

vae = keras_ae.create_model(
    "vae", input_shape=(28, 28, 1), latent_dim=2, architecture="conv", hidden_units=(64,), seed=0
)
vae.compile(optimizer=keras.optimizers.Adam(1e-3))
history = vae.fit(x_train, epochs=epochs(15), batch_size=128, validation_data=(x_test,), verbose=2)

"""
## The ELBO terms

`loss = reconstruction_loss + kl_loss = -elbo` for the VAE.
"""

logs = vae.evaluate(x_test, verbose=0, return_dict=True)
print({k: round(v, 2) for k, v in logs.items()})

fig, ax = plt.subplots(figsize=(6, 3.5))
for key in ("reconstruction_loss", "kl_loss", "val_reconstruction_loss", "val_kl_loss"):
    ax.plot(np.arange(1, len(history.history[key]) + 1), history.history[key], label=key, marker="o")
ax.set_xlabel("epoch")
ax.set_ylabel("nats per image")
ax.set_yscale("log")
ax.legend()
ax.set_title("ELBO terms during training")
fig.tight_layout()
fig.savefig(figure_path("vae_elbo_terms.png"), dpi=90)
plt.close(fig)

"""
## The latent space, coloured by digit

`vae.encoder` returns `[z_mean, z_log_var, z]`, as in the keras-io VAE example.
"""

z_mean, _, _ = vae.encoder.predict(x_test, verbose=0)
fig, ax = plt.subplots(figsize=(6, 5))
points = ax.scatter(z_mean[:, 0], z_mean[:, 1], c=y_test, cmap="tab10", s=4)
fig.colorbar(points, ax=ax, label="digit")
ax.set_xlabel("z[0]")
ax.set_ylabel("z[1]")
ax.set_title("Posterior means of the test digits")
fig.tight_layout()
fig.savefig(figure_path("vae_latent_scatter.png"), dpi=90)
plt.close(fig)

"""
## The 2-D latent manifold

As in Kingma & Welling (figure 4), we decode a grid of latent points taken at the
quantiles of the prior, so equal steps carry equal prior mass.
"""

from scipy.stats import norm  # noqa: E402  (scipy ships with scikit-learn)

n = 15
grid = norm.ppf(np.linspace(0.05, 0.95, n)).astype("float32")
codes = np.array([[x, y] for y in grid[::-1] for x in grid], "float32")
digits = vae.decode(codes).reshape(n, n, 28, 28)
canvas = digits.transpose(0, 2, 1, 3).reshape(n * 28, n * 28)
fig, ax = plt.subplots(figsize=(7, 7))
ax.imshow(canvas, cmap="gray")
ax.set_xticks(np.arange(n) * 28 + 14, [f"{v:.1f}" for v in grid], rotation=90, fontsize=7)
ax.set_yticks(np.arange(n) * 28 + 14, [f"{v:.1f}" for v in grid[::-1]], fontsize=7)
ax.set_xlabel("z[0]")
ax.set_ylabel("z[1]")
ax.set_title("Decoded latent manifold")
fig.tight_layout()
fig.savefig(figure_path("vae_manifold.png"), dpi=90)
plt.close(fig)

"""
## Samples from the prior

`sample(n, seed)` decodes `z ~ N(0, I)`; the same seed gives the same images. A
larger latent space gives sharper samples, so we also train a 16-D model.
"""

vae16 = keras_ae.create_model("vae", input_shape=(28, 28, 1), latent_dim=16, architecture="conv", seed=0)
vae16.compile(optimizer=keras.optimizers.Adam(1e-3))
vae16.fit(x_train, epochs=epochs(15), batch_size=128, verbose=2)
show_grid(
    [vae.sample(10, seed=0), vae16.sample(10, seed=0), vae16.sample(10, seed=1)],
    ["2-D", "16-D", "16-D"],
    figure_path("vae_samples.png"),
    "Samples from the prior N(0, I)",
)
np.testing.assert_array_equal(vae16.sample(3, seed=5), vae16.sample(3, seed=5))

"""
## References

- D. P. Kingma, M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.
- F. Chollet, "Variational AutoEncoder", keras.io examples, 2020.
"""
