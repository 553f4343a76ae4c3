"""ELBO, importance-weighted log-likelihood and active units against closed forms.

The reference model is linear-Gaussian: p(z) = N(0, I), p(x|z) = N(W z + b, s2 I), so
log p(x) = log N(x; b, W W^T + s2 I) and the ELBO of a diagonal Gaussian q are known
exactly. With orthogonal columns in W the exact posterior is diagonal, hence a VAE
encoder can represent it.
"""

import warnings

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.evaluation import active_units, elbo, importance_weighted_log_likelihood
from keras_ae.losses import GaussianLikelihood

D, LATENT, NOISE_VAR = 5, 2, 0.3


def linear_gaussian(mean_scale=1.0, var_scale=1.0, seed=0):
    """Returns (vae, W, b, posterior_matrix, posterior_offset, posterior_var) for the reference model.

    The encoder outputs `mean_scale * exact_mean` and `var_scale * exact_var`; scales of 1
    make q the exact posterior.
    """
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(D, D)))
    w = q[:, :LATENT] * np.array([2.0, 0.7])  # orthogonal columns: W^T W is diagonal
    b = rng.normal(size=D)
    post_var = 1.0 / (1.0 + np.diag(w.T @ w) / NOISE_VAR)  # diag of (I + W^T W / s2)^-1
    matrix = (post_var[:, None] * w.T / NOISE_VAR) * mean_scale  # z_mean = matrix @ (x - b)
    offset = -matrix @ b

    x = keras.Input((D,))
    z_mean = keras.layers.Dense(LATENT, name="z_mean")(x)
    z_log_var = keras.layers.Dense(LATENT, name="z_log_var")(x)
    encoder = keras.Model(x, [z_mean, z_log_var], name="linear_encoder")
    encoder.get_layer("z_mean").set_weights([matrix.T, offset])
    encoder.get_layer("z_log_var").set_weights([np.zeros((D, LATENT)), np.log(post_var * var_scale)])
    z = keras.Input((LATENT,))
    decoder = keras.Model(z, keras.layers.Dense(D, name="linear_decoder")(z))
    decoder.layers[-1].set_weights([w.T, b])
    vae = keras_ae.create_model(
        "vae", encoder=encoder, decoder=decoder, likelihood=GaussianLikelihood(variance=NOISE_VAR)
    )
    return vae, w, b, matrix, offset, post_var * var_scale


def exact_log_px(x, w, b):
    cov = w @ w.T + NOISE_VAR * np.eye(D)
    diff = x - b
    _, logdet = np.linalg.slogdet(cov)
    return -0.5 * (D * np.log(2 * np.pi) + logdet + np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff))


def exact_elbo_terms(x, w, b, matrix, offset, q_var):
    """Closed-form E_q[-log p(x|z)] and KL(q || p) for the linear-Gaussian model."""
    mu = x @ matrix.T + offset
    residual = x - mu @ w.T - b
    # E||x - W z - b||^2 = ||x - W mu - b||^2 + tr(W diag(q_var) W^T)
    expected_sq = (residual**2).sum(1) + (w**2 * q_var).sum()
    reconstruction = 0.5 * (D * np.log(2 * np.pi * NOISE_VAR) + expected_sq / NOISE_VAR)
    kl = 0.5 * (q_var.sum() + (mu**2).sum(1) - LATENT - np.log(q_var).sum())
    return reconstruction, kl


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(40, D)).astype("float32") * 1.5


def test_exact_posterior_gives_log_px_for_every_k_even_far_from_the_data():
    # Far-away inputs have log p(x) ~ -1e4 nats; a naive exp() of the weights underflows.
    vae, w, b, *_ = linear_gaussian()
    x = (np.random.default_rng(2).normal(size=(6, D)) * 60).astype("float32")
    expected = exact_log_px(x.astype(np.float64), w, b)
    assert expected.max() < -1000
    for k, max_rows in ((1, 8192), (1000, 64)):
        values = importance_weighted_log_likelihood(vae, x, num_samples=k, max_rows=max_rows, seed=3)
        assert np.all(np.isfinite(values))
        np.testing.assert_allclose(values, expected, rtol=1e-5)


def test_k5000_approaches_the_closed_form_log_px(data):
    vae, w, b, *_ = linear_gaussian(mean_scale=0.8, var_scale=2.0)
    expected = exact_log_px(data.astype(np.float64), w, b)
    l1 = importance_weighted_log_likelihood(vae, data, num_samples=1, seed=0)
    l5000 = importance_weighted_log_likelihood(vae, data, num_samples=5000, seed=0)
    gap_1 = np.mean(expected - l1)
    gap_5000 = np.mean(expected - l5000)
    assert gap_1 > 0.3  # the imperfect q leaves a clear ELBO gap...
    assert abs(gap_5000) < 0.01  # ...that 5000 importance samples close
    np.testing.assert_allclose(l5000, expected, atol=0.05)


def test_lk_increases_with_k():
    # q ignores x (mean 0): gaps of about 5.8, 2.8, 1.6, 1.0 nats at k = 1, 10, 100, 1000,
    # far above the seed-to-seed noise (~0.15) of the mean over 200 examples.
    vae, w, b, *_ = linear_gaussian(mean_scale=0.0, var_scale=1.0)
    x = np.random.default_rng(1).normal(size=(200, D)).astype("float32") * 1.5
    means = [
        importance_weighted_log_likelihood(vae, x, num_samples=k, seed=5).mean() for k in (1, 10, 100, 1000)
    ]
    assert np.all(np.diff(means) > 0.3), means
    assert means[-1] < exact_log_px(x.astype(np.float64), w, b).mean()


def test_elbo_split_matches_closed_form(data):
    vae, w, b, matrix, offset, q_var = linear_gaussian(mean_scale=0.8, var_scale=2.0)
    reconstruction, kl = exact_elbo_terms(data.astype(np.float64), w, b, matrix, offset, q_var)
    terms = elbo(vae, data, num_samples=2000, seed=0)
    assert terms["kl"] == pytest.approx(kl.mean(), rel=1e-5)  # closed form in the model too
    assert terms["reconstruction"] == pytest.approx(reconstruction.mean(), abs=0.03)
    assert terms["elbo"] == pytest.approx(-(terms["reconstruction"] + terms["kl"]))


def test_expected_l1_equals_the_elbo(data):
    vae, w, b, matrix, offset, q_var = linear_gaussian(mean_scale=0.8, var_scale=2.0)
    reconstruction, kl = exact_elbo_terms(data.astype(np.float64), w, b, matrix, offset, q_var)
    repeats = 500
    l1 = importance_weighted_log_likelihood(vae, np.repeat(data, repeats, axis=0), num_samples=1, seed=7)
    l1 = l1.reshape(len(data), repeats)
    standard_error = l1.std() / np.sqrt(l1.size)
    assert l1.mean() == pytest.approx(-(reconstruction + kl).mean(), abs=4 * standard_error)


def test_active_units_count_posterior_mean_variance_above_threshold():
    x_in = keras.Input((3,))
    z_mean = keras.layers.Dense(4, name="z_mean")(x_in)
    z_log_var = keras.layers.Dense(4, name="z_log_var")(x_in)
    encoder = keras.Model(x_in, [z_mean, z_log_var])
    # Unit 0 copies x0 (variance 1), unit 1 is 0.05 * x1 (variance 0.0025 < 1e-2),
    # unit 2 is 0.2 * x2 (variance 0.04), unit 3 ignores the input.
    kernel = np.zeros((3, 4))
    kernel[0, 0], kernel[1, 1], kernel[2, 2] = 1.0, 0.05, 0.2
    encoder.get_layer("z_mean").set_weights([kernel, np.zeros(4)])
    vae = keras_ae.create_model("vae", encoder=encoder, hidden_units=(8,), likelihood="gaussian")
    x = np.random.default_rng(0).normal(size=(4000, 3)).astype("float32")
    result = active_units(vae, x)
    expected = np.array([x[:, 0].var(), (0.05 * x[:, 1]).var(), (0.2 * x[:, 2]).var(), 0.0])
    np.testing.assert_allclose(result["activity"], expected, rtol=1e-4, atol=1e-10)
    assert result["num_active"] == 2
    assert active_units(vae, x, threshold=1e-3)["num_active"] == 3


def test_bad_arguments_raise_clear_errors(data):
    vae = linear_gaussian()[0]
    with pytest.raises(ValueError, match="num_samples=0"):
        importance_weighted_log_likelihood(vae, data, num_samples=0)
    with pytest.raises(ValueError, match="dtype=int64"):
        elbo(vae, np.zeros((2, D), dtype="int64"))
    with pytest.raises(ValueError, match=r"shape=\(2, 3\)"):
        elbo(vae, np.zeros((2, 3), dtype="float32"))
    autoencoder = keras_ae.create_model("autoencoder", input_shape=(D,), latent_dim=2, hidden_units=(4,))
    with pytest.raises(ValueError, match="VAE"):
        importance_weighted_log_likelihood(autoencoder, data)


def test_bounds_on_log_px_need_a_normalized_density_and_targets_in_its_support():
    # The squared error leaves out (D/2) log(pi): a "log-likelihood" from it would be
    # 0.57 nats per feature too high (448 nats on MNIST), so it is refused by name.
    mse = keras_ae.create_model(
        "vae", input_shape=(D,), latent_dim=LATENT, hidden_units=(4,), likelihood="mse"
    )
    x = np.random.default_rng(0).uniform(size=(3, D)).astype("float32")
    for estimate in (elbo, importance_weighted_log_likelihood):
        with pytest.raises(ValueError, match="squared errors without the Gaussian's normalizing constant"):
            estimate(mse, x)
    # A Bernoulli model given 0..255 pixels (a forgotten / 255) is refused as fit refuses it,
    # instead of answering -1e6 nats.
    bernoulli = keras_ae.create_model("vae", input_shape=(D,), latent_dim=LATENT, hidden_units=(4,))
    for estimate in (elbo, importance_weighted_log_likelihood, active_units):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            estimate(bernoulli, x * 255)
    # Grey levels in [0, 1]: the Bernoulli terms are computed (the training objective) with
    # a warning that they are not bounds on log p(x); binary pixels give no warning.
    for estimate in (elbo, importance_weighted_log_likelihood):
        with pytest.warns(UserWarning, match=r"holds 15 values strictly between 0 and 1.*not bounds"):
            estimate(bernoulli, x)
    binary = (x > 0.5).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(elbo(bernoulli, binary)["elbo"])
        assert np.all(
            np.isfinite(importance_weighted_log_likelihood(bernoulli, binary, num_samples=4, verbose=0))
        )


def test_xla_and_plain_graphs_agree_and_chunking_is_invisible(data):
    vae, w, b, *_ = linear_gaussian(mean_scale=0.8, var_scale=2.0)
    compiled = importance_weighted_log_likelihood(vae, data[:8], num_samples=300, seed=4)
    plain = importance_weighted_log_likelihood(vae, data[:8], num_samples=300, seed=4, jit_compile=False)
    np.testing.assert_allclose(compiled, plain, rtol=1e-5)
    # Chunks of 7 samples: the same estimator on new draws, as close to log p(x).
    chunked = importance_weighted_log_likelihood(vae, data[:8], num_samples=300, max_rows=7, seed=4)
    exact = exact_log_px(data[:8].astype(np.float64), w, b)
    assert np.abs(chunked - exact).mean() < 0.1 and np.abs(compiled - exact).mean() < 0.1
