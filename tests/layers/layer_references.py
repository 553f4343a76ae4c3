"""The layer harness's references: each layer's inference output computed independently,
in numpy (float64 where it matters), from the paper's equations or by brute force."""

import keras
import numpy as np


def to_numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x.astype("float64")))


def dense_transpose_reference(layer, z):
    return z @ to_numpy(layer.kernel).T + to_numpy(layer.bias)


def nearest_code(layer, x):
    """Each vector replaced by its nearest codebook row, by brute force in float64."""
    codebook = to_numpy(layer.codebook).astype("float64")
    flat = x.reshape(-1, codebook.shape[1]).astype("float64")
    distances = ((flat[:, None, :] - codebook[None]) ** 2).sum(-1)
    return codebook[distances.argmin(1)].reshape(x.shape)


def paper_filterbank(params, height, width, n):
    """Gregor et al. (2015) eq. 21-26 evaluated directly, one example at a time, in float64."""
    out_y, out_x, out_gamma = [], [], []
    for gx_, gy_, log_sigma2, log_delta, log_gamma in params.astype("float64"):
        gx, gy = (width + 1) / 2 * (gx_ + 1), (height + 1) / 2 * (gy_ + 1)
        delta = (max(height, width) - 1) / (n - 1) * np.exp(log_delta)
        sigma2 = np.exp(log_sigma2)
        fx = np.array(
            [[np.exp(-((a - (gx + (i - n / 2 - 0.5) * delta)) ** 2) / (2 * sigma2)) for a in range(1, width + 1)]
             for i in range(1, n + 1)]
        )  # fmt: skip
        fy = np.array(
            [[np.exp(-((b - (gy + (j - n / 2 - 0.5) * delta)) ** 2) / (2 * sigma2)) for b in range(1, height + 1)]
             for j in range(1, n + 1)]
        )  # fmt: skip
        out_x.append(fx / fx.sum(1, keepdims=True))
        out_y.append(fy / fy.sum(1, keepdims=True))
        out_gamma.append([np.exp(log_gamma)])
    return np.array(out_y), np.array(out_x), np.array(out_gamma)


def filterbank_reference(layer, h):
    params = h @ to_numpy(layer.params.kernel) + to_numpy(layer.params.bias)
    return paper_filterbank(params, layer.image_height, layer.image_width, layer.glimpse_size)


def read_reference(layer, x, x_hat, h):
    fy, fx, gamma = filterbank_reference(layer.filterbank, h)
    glimpses = [np.einsum("bnh,bhwc,bmw->bnmc", fy, image, fx) for image in (x, x_hat)]
    return gamma * np.concatenate(glimpses, axis=-1).reshape(len(x), -1)


def write_reference(layer, h):
    fy, fx, gamma = filterbank_reference(layer.filterbank, h)
    n = layer.glimpse_size
    patch = (h @ to_numpy(layer.patch.kernel) + to_numpy(layer.patch.bias)).reshape(
        len(h), n, n, layer.channels
    )
    return np.einsum("bnh,bnmc,bmw->bhwc", fy, patch, fx) / gamma[:, :, None, None]
