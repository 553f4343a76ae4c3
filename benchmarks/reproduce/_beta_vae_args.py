"""The command line of `beta_vae_dsprites.py`: its flags, and their checks before any training."""

from _common import base_parser, parse_list, refuse_flags, resolve


def parse_args(argv, title, fast, full, capacity_steps):
    """Parses and checks `beta_vae_dsprites.py`'s flags.

    Args:
        argv: the arguments (None: `sys.argv[1:]`).
        title: the parser's description.
        fast, full: the defaults of `--fast` and of the full mode (see `_common.resolve`).
        capacity_steps: the default of `--capacity-steps` (Burgess et al.'s ramp).

    Returns:
        The parsed arguments, the budget's defaults filled in.
    """
    parser = base_parser(title)
    parser.add_argument(
        "--dsprites-dir", help="folder with dsprites_downsampled.npz (default: $KERAS_AE_DATASETS/dsprites)"
    )
    parser.add_argument("--betas", default="1,4", help="comma-separated beta values (paper: 1 and 4)")
    parser.add_argument(
        "--capacity", action="store_true", help="also train the capacity-controlled model (Burgess et al.)"
    )
    parser.add_argument(
        "--capacity-steps",
        type=int,
        default=capacity_steps,
        help="steps over which C rises to 25 nats (Burgess et al.: 100,000); a shorter budget "
        "needs a shorter ramp, or C stays near 0 and gamma 1000 pins the KL there",
    )
    parser.add_argument(
        "--seeds", help="comma-separated seeds, each variant trained once per seed (default: --seed)"
    )
    parser.add_argument("--latent-dim", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--epochs", type=int, help="passes over the 46,080 images (full: 7)")
    parser.add_argument("--steps", type=int, help="training steps per model instead of --epochs")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--architecture", choices=["mlp", "conv"], default="mlp")
    parser.add_argument(
        "--hidden-units", help="comma-separated dense widths (mlp: paper 1200,1200; conv default 256)"
    )
    parser.add_argument("--num-images", type=int, help="train on a random subset of this size (default: all)")
    parser.add_argument("--metric-train", type=int, help="BetaVAE/FactorVAE training points and MIG samples")
    parser.add_argument("--metric-eval", type=int, help="BetaVAE/FactorVAE evaluation points")
    parser.add_argument("--metric-batch", type=int, help="observations per BetaVAE/FactorVAE point")
    parser.add_argument("--traversals", help="write the best model's latent traversals to this PNG")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"--steps must be a positive number of training steps. Received: {args.steps}")
    if args.steps is not None:
        refuse_flags(
            parser, args, ["epochs"], "sets the budget in passes, --steps in steps: pass one of the two"
        )
    if args.capacity_steps < 1:
        parser.error(f"--capacity-steps must be a positive number of steps. Received: {args.capacity_steps}")
    if not args.capacity:
        refuse_flags(
            parser, args, ["capacity_steps"], "sets the capacity model's ramp: pass --capacity with it"
        )
    parse_list(parser, "--betas", args.betas)  # each once: per-beta results are keyed by it
    if args.seeds is not None:
        parse_list(parser, "--seeds", args.seeds, int)  # each once: per-seed results too
    if args.architecture == "conv" and args.hidden_units is None:
        args.hidden_units = "256"
    args = resolve(args, fast, full)
    # The JSON's `arguments` record what applied: under --steps the epochs are Keras' unit
    # of logging (`exact_epochs`), not a budget, and without --capacity there is no ramp.
    if args.steps is not None:
        args.epochs = None
    if not args.capacity:
        args.capacity_steps = None
    return args
