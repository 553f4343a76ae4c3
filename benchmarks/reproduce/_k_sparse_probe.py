"""`k_sparse_mnist.py`'s read-out: the codes at each candidate alpha, probed, and the choice."""


def parse_alphas(parser, text):
    """The `--alpha` candidates: numbers >= 1, each once."""
    try:
        alphas = [float(a) for a in text.split(",")]
    except ValueError:
        parser.error(f"--alpha takes numbers >= 1, comma-separated. Received: --alpha {text}")
    if min(alphas) < 1 or len(set(alphas)) != len(alphas):
        parser.error(f"--alpha takes numbers >= 1, each once. Received: --alpha {text}")
    return alphas


def with_alpha(model, alpha):
    """`model` encoding `alpha * k` units: a copy with the same weights, or `model` itself."""
    if alpha == model.alpha:
        return model
    copy = type(model).from_config({**model.get_config(), "alpha": alpha})
    copy.set_weights(model.get_weights())
    return copy


def validation_error(probe):
    """A probe's best validation error over its scalings and C values."""
    return min(min(errors.values()) for errors in probe["scaling_validation_errors"].values())


def probe_alphas(model, alphas, train, test, **probe_args):
    """Probes the codes of `model` at each alpha and keeps the best on validation.

    Every candidate is fitted by `linear_probe_error` with `probe_args` (its C and scaling
    candidates), whose validation tenth of `train` also chooses the alpha: the lowest
    validation error over the scalings and C wins, the first on a tie.

    Returns:
        `(encoder, codes_train, codes_test, by_alpha)`: the chosen alpha's model (a copy
        of `model` unless it is `model.alpha`) and codes, and every candidate's probe.
    """
    from keras_ae.evaluation import linear_probe_error

    (x_train, y_train), (x_test, y_test) = train, test
    by_alpha, chosen = {}, None
    for alpha in alphas:
        encoder = with_alpha(model, alpha)
        codes_train, codes_test = encoder.encode(x_train), encoder.encode(x_test)
        probe = linear_probe_error(codes_train, y_train, codes_test, y_test, **probe_args)
        # Keep only the best candidate's codes: each pair is 280 MB at 1000 units.
        if chosen is None or validation_error(probe) < validation_error(by_alpha[chosen[0].alpha]):
            chosen = (encoder, codes_train, codes_test)
        by_alpha[alpha] = probe
    return (*chosen, by_alpha)
