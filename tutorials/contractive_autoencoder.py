"""
Title: Contractive autoencoder
Author: keras-ae developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Penalize the encoder's Jacobian on MNIST and compare its norm and saturation with a plain autoencoder.
Accelerator: None
"""

"""
## Introduction

A contractive autoencoder (Rifai et al., 2011) adds to the reconstruction loss the
squared Frobenius norm of the encoder's Jacobian:

```
L(x) = reconstruction(x) + lambda * ||J_f(x)||_F^2,   J_f(x) = dh / dx
```

The code becomes locally insensitive to input directions the reconstruction does not
need, while the reconstruction keeps it sensitive along the data manifold. For one
dense sigmoid layer `h = sigmoid(W x + b)` the norm has a closed form,

```
||J_f(x)||_F^2 = sum_j (h_j (1 - h_j))^2 sum_i W_ij^2
```

which costs about as much as the forward pass; keras-ae uses it when the encoder has
that shape and an exact autodiff batch Jacobian otherwise (about `latent_dim` times
the cost of a backward pass).
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

keras.utils.set_random_seed(11)
(x_train, _), (x_test, _) = load_mnist()
x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)

"""
## Two models with the same architecture

One hidden layer of 500 sigmoid units and tied weights for both; only the penalty differs.
"""

common = {"input_shape": (784,), "latent_dim": 500, "hidden_units": (), "tied_weights": True}
plain = keras_ae.create_model("autoencoder", code_activation="sigmoid", **common)
cae = keras_ae.create_model("contractive_autoencoder", contractive_weight=1.0, **common)
print("closed-form Jacobian:", cae.uses_closed_form)
for model in (plain, cae):
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, epochs=epochs(15), batch_size=128, validation_data=(x_test,), verbose=2)

"""
## The Jacobian norm by the formula

We compute `||J_f(x)||_F` for both models straight from the formula above; for the
contractive model it equals the `jacobian_norm` it logs.
"""


def jacobian_norms(model, x):
    h = model.encode(x)
    w = keras.ops.convert_to_numpy(model.encoder.get_layer("code").kernel)
    return np.sqrt(((h * (1 - h)) ** 2 * (w**2).sum(axis=0)).sum(axis=1))


norms = {"autoencoder": jacobian_norms(plain, x_test), "contractive": jacobian_norms(cae, x_test)}
print("logged jacobian_norm:", cae.evaluate(x_test, verbose=0, return_dict=True)["jacobian_norm"])
for name, values in norms.items():
    print(f"{name:12s} mean ||J||_F = {values.mean():.3f}")

"""
Rifai et al. (Table 1) also report how many hidden units are saturated (activation
below 0.05 or above 0.95): contraction pushes units into the flat parts of the
sigmoid, where they ignore small input changes.
"""

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for name, model in (("autoencoder", plain), ("contractive", cae)):
    h = model.encode(x_test[:1000])
    saturated = ((h < 0.05) | (h > 0.95)).mean()
    axes[0].hist(h.ravel(), bins=50, alpha=0.6, label=f"{name} ({saturated:.0%} saturated)")
    axes[1].hist(norms[name], bins=50, alpha=0.6, label=name)
axes[0].set_title("code activations")
axes[0].set_yscale("log")
axes[1].set_title("||J_f(x)||_F on test images")
for ax in axes:
    ax.legend()
fig.tight_layout()
fig.savefig(figure_path("contractive_jacobian.png"), dpi=90)
plt.close(fig)

show_grid(
    [x_test[:10], plain.reconstruct(x_test[:10]), cae.reconstruct(x_test[:10])],
    ["input", "autoencoder", "contractive"],
    figure_path("contractive_reconstructions.png"),
    "Reconstructions",
)

"""
## Any encoder: the autodiff path

A deeper encoder has no closed form; the same model class then takes an exact
batch Jacobian with `tf.GradientTape.batch_jacobian`. It is much slower, and it does
not run under XLA (constant folding hangs on the batch Jacobian), so keras-ae refuses
`jit_compile=True` for it.
"""

deep = keras_ae.create_model("contractive_autoencoder", input_shape=(784,), latent_dim=16, hidden_units=(64,))
print("closed-form Jacobian:", deep.uses_closed_form)
deep.compile(optimizer="adam")
deep.fit(x_train[:512], epochs=1, batch_size=64, verbose=2)
try:
    deep.compile(optimizer="adam", jit_compile=True)
except ValueError as error:
    print("ValueError:", error)

"""
## References

- S. Rifai, P. Vincent, X. Muller, X. Glorot, Y. Bengio, "Contractive Auto-Encoders:
  Explicit Invariance During Feature Extraction", ICML 2011.
"""
