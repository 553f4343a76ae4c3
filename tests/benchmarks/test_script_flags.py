"""The reproduction scripts refuse flags that would not apply, or lists that repeat a value,
before any data is loaded: the JSON's `arguments` are then the record of what ran."""

import pytest

from tests.benchmarks.script_runner import load_script_module

# (script, argv, the error's text). Each is a parser error: exit status 2, nothing trained.
REFUSED = [
    ("k_sparse_mnist", ["--k-sparse-preset", "k_sparse_mnist", "--k", "40", "--epochs", "3"],
     "--k, --epochs describe a training; --k-sparse-preset trains none. Received: k=40, epochs=3"),
    ("k_sparse_mnist", ["--aux-weight", "0.1"],
     "--aux-weight tune the AuxK loss: pass --aux-k with them. Received: aux_weight=0.1"),
    ("k_sparse_mnist", ["--momentum", "0.5"],
     "--momentum is SGD's: pass --optimizer sgd with it. Received: optimizer='adam', momentum=0.5"),
    ("k_sparse_mnist", ["--k-schedule-fraction", "1.5"],
     "--k-schedule-fraction must lie in (0, 1]. Received: 1.5"),
    ("k_sparse_mnist", ["--probe-c", "0.1,1,0.1"], "--probe-c lists a value twice. Received: --probe-c 0.1,1,0.1"),
    ("contractive_mnist", ["--models", "cae", "--cae-preset", "contractive_mnist", "--contractive-weight", "1"],
     "--contractive-weight weighs a CAE trained here; --cae-preset trains none"),
    ("contractive_mnist", ["--models", "cae", "--cae-preset", "contractive_mnist", "--epochs", "5"],
     "--epochs describe a pretraining; --cae-preset alone trains nothing. Received: epochs=5"),
    ("contractive_mnist", ["--models", "ae,cae", "--noise-level", "0.5"],
     "--noise-level sets the DAE's corruption: include dae in --models"),
    ("contractive_mnist", ["--fine-tune-epochs", "0", "--fine-tune-learning-rate", "0.1"],
     "--fine-tune-learning-rate set the fine-tuning: pass --fine-tune-epochs with them"),
    ("contractive_mnist", ["--contractive-weight", "0.1,0.3,0.1"], "--contractive-weight lists a value twice"),
    ("contractive_mnist", ["--models", "ae,ae"], "--models lists a value twice"),
    ("beta_vae_dsprites", ["--steps", "100", "--epochs", "2"],
     "--epochs sets the budget in passes, --steps in steps: pass one of the two"),
    ("beta_vae_dsprites", ["--capacity-steps", "100"],
     "--capacity-steps sets the capacity model's ramp: pass --capacity with it"),
    ("beta_vae_dsprites", ["--betas", "1,4,1.0"], "--betas lists a value twice. Received: --betas 1,4,1.0"),
    ("beta_vae_dsprites", ["--seeds", "0,1,0"], "--seeds lists a value twice"),
    ("beta_vae_dsprites", ["--seeds", "0,x"], "--seeds takes int values separated by commas"),
    ("vq_vae_mnist", ["--variants", "ema,ema"], "--variants lists a value twice"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("script", "argv", "message"), REFUSED, ids=lambda v: v if isinstance(v, str) else None
)
def test_a_flag_that_would_not_apply_is_refused_by_name(script, argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        load_script_module(script).main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_flags_that_did_not_apply_are_recorded_as_none():
    parse_args = load_script_module("_beta_vae_args").parse_args
    args = parse_args(["--steps", "100"], "t", {"epochs": 1}, {"epochs": 7, "batch_size": 64}, 100)
    assert args.epochs is None and args.steps == 100 and args.capacity_steps is None
    args = parse_args(["--capacity"], "t", {"epochs": 1}, {"epochs": 7, "batch_size": 64}, 100)
    assert args.epochs == 7 and args.capacity_steps == 100


def test_a_step_budget_splits_into_equal_epochs_of_at_most_a_pass():
    exact_epochs = load_script_module("beta_vae_dsprites").exact_epochs
    assert exact_epochs(5760, 720) == (8, 720)
    assert exact_epochs(300_000, 720) == (480, 625)  # disentanglement_lib's budget on dSprites
    assert exact_epochs(20, 16) == (2, 10)
    assert exact_epochs(7920, 720) == (11, 720)
    # A prime has no split near one pass per epoch: refused, not 7,919 one-step epochs.
    with pytest.raises(ValueError, match=r"--steps must split .* e.g. --steps 7920. Received: --steps 7919"):
        exact_epochs(7919, 720)
