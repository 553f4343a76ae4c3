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


def codebook_rows(layer, x):
    """The codebook rows of the indices `x` (floats truncated to ints, as the layer casts)."""
    return to_numpy(layer.quantizer.codebook)[x.astype("int32")]


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


def _causal_conv(grid, conv, rows, columns):
    """A convolution of `grid` (batch, H, W, C) whose output at (i, j) reads the input at
    (i + di, j + dj) for di in `rows`, dj in `columns` (zeros outside), by brute force."""
    kernel, bias = to_numpy(conv.kernel).astype("float64"), to_numpy(conv.bias).astype("float64")
    _, height, width, _ = grid.shape
    out = np.zeros((*grid.shape[:3], kernel.shape[-1])) + bias
    for a, di in enumerate(rows):
        for b, dj in enumerate(columns):
            for i in range(max(0, -di), min(height, height - di)):
                for j in range(max(0, -dj), min(width, width - dj)):
                    out[:, i, j] += grid[:, i + di, j + dj] @ kernel[a, b]
    return out


def _gate(x):
    a, b = np.split(x, 2, axis=-1)
    return np.tanh(a) * sigmoid(b)


def gated_pixelcnn_reference(layer, vertical, horizontal):
    """van den Oord et al. (2016), figure 2: the vertical stack reads the k // 2 rows above and
    its own row (all k columns around j); the horizontal stack reads its row up to column j
    (up to j - 1 in the first block) plus the vertical features of the row above."""
    vertical, horizontal = vertical.astype("float64"), horizontal.astype("float64")
    half = layer.kernel_size // 2
    v = _causal_conv(vertical, layer.vertical_conv, range(-half, 1), range(-half, half + 1))
    end = 0 if layer.first else 1
    h = _causal_conv(horizontal, layer.horizontal_conv, [0], range(-half - (1 - end), end))
    above = np.concatenate([np.zeros_like(v[:, :1]), v[:, :-1]], axis=1)  # row i - 1 at row i
    h = h + _causal_conv(above, layer.vertical_to_horizontal, [0], [0])
    h = _causal_conv(_gate(h), layer.horizontal_out, [0], [0])
    return [_gate(v), h if layer.first else h + horizontal]
