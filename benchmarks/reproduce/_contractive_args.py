"""The command line of `contractive_mnist.py`: its flags, and their checks before any training."""

from types import SimpleNamespace

from _common import (
    add_mnist_dir,
    add_mnist_training_args,
    add_optimizer_args,
    base_parser,
    check_optimizer_args,
    parse_list,
    refuse_flags,
    resolve,
)


def parse_args(argv, title, fast, full, labels):
    """Parses and checks `contractive_mnist.py`'s flags.

    Args:
        argv: the arguments (None: `sys.argv[1:]`).
        title: the parser's description.
        fast, full: the defaults of `--fast` and of the full mode (see `_common.resolve`).
        labels: `{model name: label}` of the models `--models` may list.

    Returns:
        `(parser, args, lists)`: the parser (for errors found later), the parsed arguments
        (as given: the results' record of the command), and the comma-separated lists
        parsed, as `lists.model_names`, `weights`, `second_weights` (None when not
        given), `tune_rates`, `tune_momenta`, `tune_decays`, `tune_batches` and `probe_c`.
    """
    parser = base_parser(title)
    add_mnist_dir(parser)
    parser.add_argument("--models", default="ae,dae,cae", help="comma-separated subset of ae, dae, cae")
    parser.add_argument(
        "--contractive-weight",
        default="0.1",
        help="the CAE's weight, or a comma-separated list to choose from on the validation split",
    )
    parser.add_argument("--noise-level", type=float, default=0.25, help="DAE masking fraction")
    parser.add_argument(
        "--hidden-units",
        type=int,
        default=1000,
        help="sigmoid code units of every model and of each stacked layer (the paper's table: 1000)",
    )
    add_mnist_training_args(parser, "training epochs per model (full: 40)")
    add_optimizer_args(
        parser,
        "the pretraining's optimizer: adam, or sgd with --momentum (Dauphin and Rifai's cae.py: plain SGD, "
        "learning rate 0.001, batch 10)",
    )
    parser.add_argument(
        "--init-gain",
        type=float,
        default=1.0,
        help="multiplies the Glorot-uniform weights of each trained model's code layer (4: the "
        "sigmoid units' initialization of Rifai's code and of the Theano tutorials)",
    )
    parser.add_argument(
        "--jacobian-examples", type=int, help="test images for the Jacobian norm (full: 1000)"
    )
    parser.add_argument(
        "--fine-tune-epochs",
        type=int,
        help="also fine-tune each encoder with a softmax layer for at most this many epochs, with "
        "early stopping on held-out training images (the paper's protocol; 0 skips it)",
    )
    parser.add_argument(
        "--fine-tune-learning-rate",
        default="0.05",
        help="SGD learning rate of the fine-tuning, or a comma-separated list to choose from (with "
        "every --fine-tune-weight-decay) on the fine-tuning's validation images",
    )
    parser.add_argument(
        "--fine-tune-momentum", default="0.9", help="SGD momentum of the fine-tuning, or a list"
    )
    parser.add_argument(
        "--fine-tune-weight-decay", default="0", help="SGD weight decay of the fine-tuning, or a list"
    )
    parser.add_argument(
        "--fine-tune-batch-size", default="100", help="batch size of the fine-tuning, or a list"
    )
    parser.add_argument(
        "--fine-tune-rate-drops",
        type=int,
        default=0,
        help="when the fine-tuning's validation error stalls, resume from its best epoch at a tenth of "
        "the learning rate, this many times (0: stop at the first stall)",
    )
    parser.add_argument(
        "--fine-tune-patience",
        type=int,
        default=5,
        help="epochs without a better validation error before the fine-tuning stops (or its rate drops)",
    )
    parser.add_argument(
        "--fine-tune-refit",
        action="store_true",
        help="with --fine-tune-epochs: also train each fine-tuning's chosen schedule (its epochs at each "
        "rate) again on all training images, the validation ones included, and report that network's "
        "test error",
    )
    parser.add_argument(
        "--hold-out",
        action="store_true",
        help="train every model without the last 10,000 training images (the validation split), also "
        "with one weight: as a weight choice does and as the shipped CAE preset was trained",
    )
    parser.add_argument(
        "--cae-preset",
        metavar="NAME",
        help="measure this preset (a contractive autoencoder) as the CAE instead of training one",
    )
    parser.add_argument(
        "--layers",
        type=int,
        choices=(1, 2, 3),
        default=1,
        help="2: also train a second CAE on the first one's codes and measure the stack (the paper's "
        "CAE-2); 3: a third CAE on the second one's codes as well",
    )
    parser.add_argument(
        "--fine-tune-top-only",
        action="store_true",
        help="with --layers 2 or 3: fine-tune the whole stack only, not the CAEs below its top (their "
        "probes are still measured); saves their fine-tunings when only the stack's figure is wanted",
    )
    parser.add_argument(
        "--second-contractive-weight",
        help="with --layers 2 or 3: the weight of each layer above the first, or a list to choose "
        "each one's from on validation (default: the first's)",
    )
    args = parser.parse_args(argv)
    model_names = [name.strip() for name in parse_list(parser, "--models", args.models, str)]
    if not model_names or any(name not in labels for name in model_names):
        parser.error(f"--models must list some of {sorted(labels)}; got {args.models!r}")
    # Flags that would not apply are refused when given, and recorded as None otherwise
    # (the JSON's `arguments` are the command's record, not the parser's defaults).
    unused = []
    if "dae" not in model_names:
        refuse_flags(parser, args, ["noise_level"], "sets the DAE's corruption: include dae in --models")
        unused.append("noise_level")
    if args.cae_preset:
        refuse_flags(
            parser, args, ["contractive_weight"], "weighs a CAE trained here; --cae-preset trains none"
        )
        unused.append("contractive_weight")
        if model_names == ["cae"] and args.layers == 1:
            pretraining = ["epochs", "batch_size", "learning_rate", "optimizer", "momentum", "init_gain"]
            refuse_flags(
                parser, args, pretraining, "describe a pretraining; --cae-preset alone trains nothing"
            )
            unused += pretraining
    args = resolve(args, fast, full)  # fast mode fine-tunes by default
    if not args.fine_tune_epochs:
        fine_tuning = [
            "fine_tune_learning_rate",
            "fine_tune_momentum",
            "fine_tune_weight_decay",
            "fine_tune_batch_size",
            "fine_tune_rate_drops",
            "fine_tune_patience",
        ]
        refuse_flags(parser, args, fine_tuning, "set the fine-tuning: pass --fine-tune-epochs with them")
        unused += fine_tuning
    probe_c = parse_list(parser, "--probe-c", args.probe_c)
    weights = parse_list(parser, "--contractive-weight", args.contractive_weight)
    second_weights = (
        None
        if args.second_contractive_weight is None
        else parse_list(parser, "--second-contractive-weight", args.second_contractive_weight)
    )
    tune_rates = parse_list(parser, "--fine-tune-learning-rate", args.fine_tune_learning_rate)
    tune_momenta = parse_list(parser, "--fine-tune-momentum", args.fine_tune_momentum)
    tune_decays = parse_list(parser, "--fine-tune-weight-decay", args.fine_tune_weight_decay)
    tune_batches = parse_list(parser, "--fine-tune-batch-size", args.fine_tune_batch_size, int)
    if any(not 0 <= m < 1 for m in tune_momenta):
        parser.error(f"--fine-tune-momentum must lie in [0, 1). Received: {args.fine_tune_momentum!r}")
    check_optimizer_args(parser, args)
    if not args.init_gain > 0:
        parser.error(f"--init-gain must be positive. Received: {args.init_gain}")
    if args.hidden_units < 1:
        parser.error(f"--hidden-units must be 1 or more. Received: {args.hidden_units}")
    if args.fine_tune_refit and not args.fine_tune_epochs:
        parser.error("--fine-tune-refit refits a fine-tuning: pass --fine-tune-epochs with it")
    if args.fine_tune_patience < 1:
        parser.error(f"--fine-tune-patience must be 1 or more. Received: {args.fine_tune_patience}")
    if args.fine_tune_rate_drops < 0:
        parser.error(f"--fine-tune-rate-drops must be 0 or more. Received: {args.fine_tune_rate_drops}")
    if args.cae_preset and "cae" not in model_names:
        parser.error(
            f"--cae-preset replaces the CAE: include cae in --models. Received: models={args.models!r}"
        )
    if args.layers > 1 and "cae" not in model_names:
        parser.error(
            f"--layers {args.layers} stacks CAEs on the CAE: include cae in --models. "
            f"Received: models={args.models!r}"
        )
    if second_weights is not None and args.layers == 1:
        parser.error(
            "--second-contractive-weight weighs the layers above the first: pass --layers 2 or 3 with it. "
            f"Received: second_contractive_weight={args.second_contractive_weight!r}, layers={args.layers}"
        )
    if args.fine_tune_top_only and (args.layers == 1 or not args.fine_tune_epochs):
        parser.error(
            "--fine-tune-top-only fine-tunes the top of a stack: pass --layers 2 or 3 and "
            f"--fine-tune-epochs with it. Received: layers={args.layers}, "
            f"fine_tune_epochs={args.fine_tune_epochs}"
        )
    if args.cae_preset and args.save_preset:
        parser.error("--save-preset saves a CAE trained here; --cae-preset trains none: pass one of the two")
    if args.layers > 1 and args.save_preset:
        parser.error(f"--save-preset saves one CAE, not a stack: run --layers {args.layers} without it")
    for name in unused:
        setattr(args, name, None)
    lists = SimpleNamespace(
        model_names=model_names,
        weights=weights,
        second_weights=second_weights,
        tune_rates=tune_rates,
        tune_momenta=tune_momenta,
        tune_decays=tune_decays,
        tune_batches=tune_batches,
        probe_c=probe_c,
    )
    return parser, args, lists
