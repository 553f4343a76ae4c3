"""
Title: Sparse and k-sparse autoencoders
Author: keras-ae developers
Date created: 2026/11/25
Last modified: 2026/11/25
Description: Learn sparse codes on MNIST with a KL sparsity penalty and with top-k selection, and look at the filters they learn.
Accelerator: None
"""

"""
## Introduction

An overcomplete autoencoder can copy its input. Sparsity stops that: only a few code
units may be active for any one image, so each unit must stand for a reusable part.

**Sparse autoencoder** (Ng, CS294A notes). With sigmoid code units `h_j(x)`, let
`rho_hat_j` be the mean activation of unit `j` over a batch. The penalty pulls every
`rho_hat_j` towards a small target `rho`:

```
penalty = beta * sum_j KL(rho || rho_hat_j)
KL(rho || rho_hat) = rho log(rho / rho_hat) + (1 - rho) log((1 - rho) / (1 - rho_hat))
```

In keras-ae it is a `keras.regularizers.Regularizer` (`KLSparsity`) attached as the
code layer's `activity_regularizer`, so it shows up in `model.losses`.

**k-sparse autoencoder** (Makhzani & Frey, 2014). The code is linear, `z = W x + b`,
and only its `k` largest entries are kept (`supp_k(z)`); the decoder reconstructs
from that sparse code with tied weights `W^T`. At test time `alpha * k` units are
kept. No penalty is needed: sparsity is enforced exactly.
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

keras.utils.set_random_seed(7)
(x_train, y_train), (x_test, y_test) = load_mnist()
x_train_flat, x_test_flat = x_train.reshape(-1, 784), x_test.reshape(-1, 784)


def plot_filters(kernel, path, title, n=100):
    # Each column of the encoder kernel is one unit's filter over the 28x28 image.
    filters = kernel[:, :n].T.reshape(-1, 28, 28)
    side = int(np.ceil(np.sqrt(len(filters))))
    fig, axes = plt.subplots(side, side, figsize=(side * 0.7, side * 0.7))
    for ax in axes.ravel():
        ax.axis("off")
    for ax, f in zip(axes.ravel(), filters, strict=False):
        ax.imshow(f, cmap="gray")
    fig.suptitle(title)
    fig.savefig(path, dpi=90)
    plt.close(fig)


"""
## A sparse autoencoder with the KL penalty

One hidden layer of 196 sigmoid units, target activation `rho = 0.05`, weight `beta = 3`.
"""

sparse = keras_ae.create_model(
    "sparse_autoencoder",
    input_shape=(784,),
    latent_dim=196,
    hidden_units=(),
    sparsity_target=0.05,
    sparsity_weight=3.0,
)
sparse.compile(optimizer=keras.optimizers.Adam(1e-3))
sparse.fit(x_train_flat, epochs=epochs(20), batch_size=128, validation_data=(x_test_flat,), verbose=2)

"""
The penalty is a batch statistic. keras-ae's regularizer accounts for Keras dividing
activity-regularizer values by the batch size, so the number in `model.losses`
equals the formula computed by hand:
"""

codes = sparse.encode(x_test_flat[:256])
rho_hat = np.clip(codes.mean(axis=0), 1e-7, 1 - 1e-7)
by_hand = 3.0 * np.sum(0.05 * np.log(0.05 / rho_hat) + 0.95 * np.log(0.95 / (1 - rho_hat)))
sparse(x_test_flat[:256])
print("penalty by hand:", by_hand, " in model.losses:", float(sum(sparse.losses)))
print("mean activation:", codes.mean(), " fraction of units above 0.5 per image:", (codes > 0.5).mean())
plot_filters(
    keras.ops.convert_to_numpy(sparse.encoder.get_layer("code").kernel),
    figure_path("sparse_filters.png"),
    "Sparse autoencoder: first-layer filters",
)

"""
## A k-sparse autoencoder

1000 linear units, `k = 25` kept per image in training and `alpha * k = 75` at test
time, tied decoder weights, as in the paper's MNIST setting. The optional schedule
starts with more units (`k_start`) and lowers `k` over the first half of training,
which keeps units from dying early. A unit that no example keeps gets no gradient and
stays dead; `aux_k=50` (not used here) adds the AuxK loss of Gao et al. (2024), which
asks the dead units to reconstruct what the kept ones miss and so brings them back.
"""

batch_size = 128
steps = epochs(20) * int(np.ceil(len(x_train_flat) / batch_size))
k_sparse = keras_ae.create_model(
    "k_sparse_autoencoder",
    input_shape=(784,),
    latent_dim=1000,
    hidden_units=(),
    k=25,
    alpha=3,
    k_start=100,
    total_steps=steps,
    tied_weights=True,
)
k_sparse.compile(optimizer=keras.optimizers.Adam(1e-3))
k_sparse.fit(
    x_train_flat, epochs=epochs(20), batch_size=batch_size, validation_data=(x_test_flat,), verbose=2
)
codes = k_sparse.encode(x_test_flat[:256])
print("non-zero units per test image:", np.count_nonzero(codes, axis=1).mean())

plot_filters(
    keras.ops.convert_to_numpy(k_sparse.encoder.get_layer("code").kernel),
    figure_path("k_sparse_filters.png"),
    "k-sparse autoencoder (k=25): first-layer filters",
)
show_grid(
    [x_test[:10], sparse.reconstruct(x_test_flat[:10]), k_sparse.reconstruct(x_test_flat[:10])],
    ["input", "sparse", "k-sparse"],
    figure_path("sparse_reconstructions.png"),
    "Reconstructions from sparse codes",
)

"""
## Sparse codes as features

A linear classifier on the codes is the paper's measure of feature quality
(Makhzani & Frey report 1.35% test error with k = 25 after full training; this short
run lands higher).
"""

from sklearn.linear_model import LogisticRegression  # noqa: E402

probe = LogisticRegression(max_iter=200)
probe.fit(k_sparse.encode(x_train_flat[:5000]), y_train[:5000])
print("linear probe error on k-sparse codes:", 1 - probe.score(k_sparse.encode(x_test_flat), y_test))

"""
## References

- A. Ng, "Sparse autoencoder", CS294A lecture notes, Stanford, 2011.
- A. Makhzani, B. Frey, "k-Sparse Autoencoders", ICLR 2014.
- L. Gao et al., "Scaling and evaluating sparse autoencoders", arXiv:2406.04093, 2024.
"""
