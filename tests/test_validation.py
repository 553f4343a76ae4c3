"""The shared argument checks: canonical values back, Keras-worded errors naming the argument."""

import numpy as np
import pytest

from keras_ae._validation import (
    check_bool,
    check_choice,
    check_int,
    check_non_negative,
    check_number,
    check_rate,
    check_seed,
    check_unit_interval,
    shape_text,
)


def test_valid_values_come_back_in_their_canonical_type():
    assert check_int("k", np.int64(3), maximum=3) == 3 and type(check_int("k", np.int64(3))) is int
    assert check_number("x", np.float32(0.5)) == 0.5 and type(check_number("x", 1)) is float
    assert check_non_negative("beta", 0) == 0.0
    assert check_rate("rate", 0.0) == 0.0 and check_unit_interval("rho", 0.05) == 0.05
    assert check_seed(None) is None and check_seed(np.int32(7)) == 7
    assert check_choice("noise", "gaussian", ("masking", "gaussian")) == "gaussian"
    assert check_bool("tied_weights", False) is False
    assert shape_text((None, 28, 28, 1)) == "(batch, 28, 28, 1)"


@pytest.mark.parametrize(
    ("check", "args", "message"),
    [
        (check_int, ("latent_dim", 0), "Argument `latent_dim` must be an int >= 1. Received: latent_dim=0"),
        (check_int, ("latent_dim", True), "Received: latent_dim=True"),  # a bool is no count
        (check_int, ("latent_dim", 2.0), "Received: latent_dim=2.0"),
        (check_int, ("k", 11, 1, 10), "Argument `k` must be an int in [1, 10]. Received: k=11"),
        (
            check_int,
            ("steps", None, 1, None, "(of the run)"),
            "Argument `steps` (of the run) must be an int >= 1",
        ),
        (check_non_negative, ("beta", -1), "Argument `beta` must be a finite number >= 0. Received: beta=-1"),
        (check_non_negative, ("beta", float("nan")), "Received: beta=nan"),
        (check_rate, ("rate", 1.0), "must be a finite number in [0, 1). Received: rate=1.0"),
        (check_unit_interval, ("rho", 0), "must be a finite number in (0, 1). Received: rho=0"),
        (check_seed, (True,), "Argument `seed` must be an int >= 0 or None. Received: seed=True"),
        (check_seed, (-1,), "Received: seed=-1"),
        (
            check_choice,
            ("noise", "gauss", ("masking", "gaussian")),
            "Unknown noise. Expected one of ['masking', 'gaussian']. Received: noise='gauss'",
        ),
        (check_bool, ("tied_weights", 1), "Argument `tied_weights` must be a bool. Received: tied_weights=1"),
    ],
)
def test_bad_values_name_the_argument_and_what_was_received(check, args, message):
    with pytest.raises(ValueError) as info:
        check(*args)
    assert message in str(info.value)
