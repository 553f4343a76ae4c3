"""Burda et al. (2015), Table 1, VAE k=1 row: test NLL of a VAE on dynamically binarized MNIST.

Architecture as in the paper: 784-200-200-50 with tanh hidden units in the encoder and
the mirrored decoder, a diagonal Gaussian posterior and a Bernoulli decoder. Training
binarizes every training image afresh each time it is seen (dynamic binarization);
the test images are binarized once with a fixed seed. The test NLL is -L_5000, the
importance-weighted bound with 5000 samples; active units use Cov_x(E_q[u]) > 1e-2.

Learning rate: the paper's schedule, stage i lasting 3^i epochs at 1e-3 * 10^(-i/7),
with Adam (beta1=0.9, beta2=0.999, epsilon=1e-4). The paper runs 8 stages (3280 epochs)
with batches of 20; a budgeted run is a prefix of that schedule with batches of 100, or,
with `--schedule-epochs N`, all eight stages compressed into N epochs (every stage
scaled by N/3280, boundaries placed at the nearest step), so that a short run still
ends at the paper's final learning rate of 1e-4. `--anneal-epochs N` adds N epochs at
`--anneal-learning-rate` (1e-5) after the schedule's epochs: Adam's noise at 1e-4 costs
half a nat of test ELBO that ten epochs at 1e-5 recover (benchmarks/vae_learning_rate_floor.py).
`--initial-preset NAME` starts from a preset's weights (and a fresh Adam) instead of a new
model; its card records the earlier run it continues. `--feed array` trains on the grey
images as one in-memory array, binarized afresh in every step by the model itself
(`dynamic_binarization=True`), instead of through a `tf.data` pipeline that binarizes them.

    python benchmarks/reproduce/vae_mnist_nll.py            # full mode (see RESULTS.md)
    python benchmarks/reproduce/vae_mnist_nll.py --fast     # pipeline check, seconds
    python benchmarks/reproduce/vae_mnist_nll.py --batch-size 20 --epochs 480 --schedule-epochs 480
    python benchmarks/reproduce/vae_mnist_nll.py --initial-preset vae_mnist --epochs 0 --anneal-epochs 20
"""

import json

from _common import (
    Stopwatch,
    add_mnist_dir,
    base_parser,
    load_mnist,
    mnist_check,
    mnist_source,
    report,
    resolve,
    write_preset,
)

PAPER = {"nll": 86.76, "active_units": 19}
FULL = {
    "epochs": 121,
    "batch_size": 100,
    "num_train": None,
    "num_test": None,
    "k": 5000,
    "nll_examples": 10000,
}
FAST = {"epochs": 1, "batch_size": 100, "num_train": 2000, "num_test": 500, "k": 50, "nll_examples": 100}
PAPER_SCHEDULE_EPOCHS = 3280  # sum of 3^i for the stages i = 0..7


TEST_BINARIZATION_SEED = 123  # one fixed draw of the test images, shared by every run and probe


def binarized_once(x_test):
    """The test images binarized once with `TEST_BINARIZATION_SEED`: the same draw in every run."""
    import numpy as np

    draw = np.random.default_rng(TEST_BINARIZATION_SEED).uniform(size=x_test.shape)
    return (draw < x_test).astype("float32")


def dynamically_binarized(x, batch_size, seed):
    """A shuffled `tf.data` pipeline that binarizes every batch afresh each time it is drawn."""
    import tensorflow as tf

    batches = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=seed).batch(batch_size)
    sample = lambda b: tf.cast(tf.random.uniform(tf.shape(b)) < b, tf.float32)  # noqa: E731
    return batches.map(sample, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def burda_schedule(steps_per_epoch, schedule_epochs=PAPER_SCHEDULE_EPOCHS):
    """The paper's learning rates as a step schedule, compressed into `schedule_epochs` epochs.

    Stage i (i = 0..7) runs at 1e-3 * 10^(-i/7) for 3^i * schedule_epochs / 3280 epochs; the
    learning rate stays at the last stage's 1e-4 after that. With the paper's 3280 epochs
    every boundary falls on an epoch boundary. A stage shorter than one step is skipped.

    Returns:
        (boundaries, values) as `keras.optimizers.schedules.PiecewiseConstantDecay` takes
        them: the 8 learning rates, and for each stage but the last, the optimizer
        iteration of its last step (the schedule reads the iteration count before the
        update, and keeps a value up to and including its boundary).
    """
    scale = schedule_epochs / PAPER_SCHEDULE_EPOCHS
    first_steps = [round(scale * (3 ** (i + 1) - 1) / 2 * steps_per_epoch) for i in range(7)]
    return [step - 1 for step in first_steps], [1e-3 * 10 ** (-i / 7) for i in range(8)]


def annealed(schedule, schedule_steps, learning_rate):
    """`schedule` (boundaries, values) cut after `schedule_steps` steps, then `learning_rate` on."""
    boundaries, values = schedule
    kept = [boundary for boundary in boundaries if boundary < schedule_steps - 1]
    return [*kept, schedule_steps - 1], [*values[: len(kept) + 1], learning_rate]


def training_summary(args, earlier):
    """How the preset was trained, in words, for its card."""
    parts = []
    if earlier:
        parts.append(f"the preset {args.initial_preset} ({earlier['epochs']} epochs; see training.continues)")
    if args.epochs and args.schedule_epochs == PAPER_SCHEDULE_EPOCHS:
        parts.append(f"{args.epochs} epochs of a prefix of the paper's learning-rate schedule")
    elif args.epochs:
        parts.append(
            f"{args.epochs} epochs of the paper's learning-rate schedule compressed into {args.schedule_epochs}"
        )
    if args.anneal_epochs:
        parts.append(f"{args.anneal_epochs} epochs at {args.anneal_learning_rate:g}")
    return "trained with " + ", then ".join(parts) + "."


def burda_vae(seed, dynamic_binarization=False):
    """The paper's VAE 784-200-200-50 (tanh), uncompiled; with `dynamic_binarization` it binarizes
    its grey-level training batches itself (`--feed array`)."""
    import keras_ae

    return keras_ae.create_model(
        "vae",
        input_shape=(784,),
        latent_dim=50,
        hidden_units=(200, 200),
        activation="tanh",
        seed=seed,
        dynamic_binarization=dynamic_binarization,
    )


def architecture(model):
    """The parts of a VAE's config that fix its weights' shapes and meaning (not name or seed)."""
    keys = ("input_shape", "latent_dim", "architecture", "hidden_units", "activation", "likelihood")
    return json.loads(json.dumps({key: model.get_config()[key] for key in keys}))


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    add_mnist_dir(parser)
    parser.add_argument(
        "--epochs", type=int, help="training epochs on the schedule (full: 121 = schedule stages 0-4)"
    )
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--num-train", type=int, help="training images (default: all 60000)")
    parser.add_argument("--num-test", type=int, help="test images for ELBO and active units (default: all)")
    parser.add_argument("--k", type=int, help="importance samples of L_k (paper: 5000)")
    parser.add_argument(
        "--schedule-epochs",
        type=int,
        default=PAPER_SCHEDULE_EPOCHS,
        help="the paper's eight learning-rate stages compressed into this many epochs (default: 3280, the paper's)",
    )
    parser.add_argument(
        "--anneal-epochs", type=int, default=0, help="epochs at --anneal-learning-rate after the schedule's"
    )
    parser.add_argument("--anneal-learning-rate", type=float, default=1e-5)
    parser.add_argument(
        "--initial-preset",
        metavar="NAME",
        help="start from this preset's weights (a VAE 784-200-200-50) instead of a new model",
    )
    parser.add_argument(
        "--feed",
        choices=("dataset", "array"),
        default="dataset",
        help="dataset: a tf.data pipeline binarizes each batch; array: the grey images in memory, "
        "binarized in the training step (the model's dynamic_binarization)",
    )
    parser.add_argument(
        "--nll-examples", type=int, help="test images (a seeded random subset) the L_k estimate averages over"
    )
    args = resolve(parser.parse_args(argv), FAST, FULL)
    if args.schedule_epochs < 1:
        parser.error(
            f"--schedule-epochs must be a positive number of epochs. Received: {args.schedule_epochs}"
        )
    if args.epochs < 0 or args.anneal_epochs < 0 or args.epochs + args.anneal_epochs < 1:
        parser.error(
            "--epochs and --anneal-epochs must be >= 0 and train at least one epoch together. "
            f"Received: epochs={args.epochs}, anneal_epochs={args.anneal_epochs}"
        )
    if not args.anneal_learning_rate > 0:
        parser.error(f"--anneal-learning-rate must be positive. Received: {args.anneal_learning_rate}")
    if args.k < 1:
        parser.error(f"--k must be 1 or more importance samples. Received: {args.k}")
    if args.nll_examples < 2:
        # The standard error of the L_k mean (ddof=1) needs two images at least.
        parser.error(f"--nll-examples must be 2 or more test images. Received: {args.nll_examples}")

    import keras
    import numpy as np

    import keras_ae
    from keras_ae.evaluation import active_units, elbo, importance_weighted_log_likelihood

    clock = Stopwatch()
    keras.utils.set_random_seed(args.seed)
    (x_train, _), (x_test, _) = load_mnist(args.mnist_dir, args.num_train, args.num_test)
    x_test = binarized_once(x_test)

    array_feed = args.feed == "array"
    model = burda_vae(args.seed, dynamic_binarization=array_feed)
    earlier = None
    if args.initial_preset:
        initial = keras_ae.VAE.from_preset(args.initial_preset)
        if architecture(initial) != architecture(model):
            parser.error(
                "--initial-preset must hold this script's VAE 784-200-200-50 (tanh). "
                f"Received: initial_preset={args.initial_preset!r} with {architecture(initial)}"
            )
        if array_feed and not initial.dynamic_binarization:
            model.set_weights(initial.get_weights())  # the preset's weights in a binarizing model
        else:
            model = initial
        earlier = keras_ae.preset_card(args.initial_preset)["training"]
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    schedule = burda_schedule(steps_per_epoch, args.schedule_epochs)
    if args.anneal_epochs:
        schedule = annealed(schedule, args.epochs * steps_per_epoch, args.anneal_learning_rate)
    learning_rate = keras.optimizers.schedules.PiecewiseConstantDecay(*schedule)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-4))
    if array_feed:
        data, feed = x_train, {"batch_size": args.batch_size, "shuffle": True}
    else:
        # The dataset shuffles itself.
        data, feed = dynamically_binarized(x_train, args.batch_size, args.seed), {"shuffle": False}
    history = model.fit(data, epochs=args.epochs + args.anneal_epochs, verbose=0 if args.fast else 2, **feed)
    clock.lap("train")

    terms = elbo(model, x_test, num_samples=1, seed=args.seed)
    units = active_units(model, x_test)
    # L_k on a seeded random subset: the first test images (cleaner NIST writers) are not typical.
    subset = np.sort(np.random.default_rng(args.seed).permutation(len(x_test))[: args.nll_examples])
    log_px = importance_weighted_log_likelihood(model, x_test[subset], num_samples=args.k, seed=args.seed)
    subset_terms = elbo(model, x_test[subset], num_samples=1, seed=args.seed)
    clock.lap("evaluate")
    nll, standard_error = float(-log_px.mean()), float(log_px.std(ddof=1) / np.sqrt(len(log_px)))

    results = {
        "test_nll": nll,
        "test_nll_standard_error": standard_error,
        "test_negative_elbo": -terms["elbo"],
        "subset_negative_elbo": -subset_terms["elbo"],
        "test_reconstruction": terms["reconstruction"],
        "test_kl": terms["kl"],
        "active_units": units["num_active"],
        "final_train_loss": float(history.history["loss"][-1]),
        "continues": earlier,
        "paper": PAPER,
    }
    report(
        "Burda et al. 2015, Table 1 (MNIST, VAE, 1 stochastic layer, k=1)",
        [
            (f"test NLL = -L_{args.k} (nats, {len(log_px)} images)", nll, PAPER["nll"]),
            ("  standard error of that mean", standard_error, None),
            (f"test -ELBO (nats), same {len(log_px)} images", -subset_terms["elbo"], None),
            (f"test -ELBO (nats), all {len(x_test)} images", -terms["elbo"], None),
            ("  reconstruction / KL", f"{terms['reconstruction']:.2f} / {terms['kl']:.2f}", None),
            ("active units (of 50)", units["num_active"], PAPER["active_units"]),
            ("epochs / batch size", f"{args.epochs} / {args.batch_size}", "3280 / 20"),
            ("learning-rate schedule compressed into (epochs)", args.schedule_epochs, PAPER_SCHEDULE_EPOCHS),
            (f"then epochs at {args.anneal_learning_rate:g}", args.anneal_epochs, 0),
            ("continues the preset", args.initial_preset or "-", None),
        ],
        args,
        results,
        clock,
    )
    if args.save_preset:
        write_preset(
            args,
            model,
            clock,
            summary="VAE 784-200-200-50 (tanh) with a Bernoulli decoder on dynamically binarized MNIST, "
            "Burda et al. (2015) Table 1 (VAE, k=1), " + training_summary(args, earlier),
            data={
                "dataset": "mnist",
                "train": f"{len(x_train)} training images, binarized afresh each epoch",
                "test": "test images binarized once (seed 123); NLL over a seeded subset of "
                f"{len(log_px)} of them",
            },
            figures={
                f"test_nll_nats (-L_{args.k})": nll,
                "test_nll_standard_error": standard_error,
                "test_negative_elbo_nats": -terms["elbo"],
                "active_units": units["num_active"],
                "paper_test_nll_nats": PAPER["nll"],
            },
            check=mnist_check(
                "negative ELBO (nats, one posterior sample) on the first 1,000 test "
                "images, binarized with load_dataset(binarize='static', seed=0)",
                tolerance=0.1,
                binarize="static",
                seed=0,
            ),
            epochs=args.epochs + args.anneal_epochs,
            batch_size=args.batch_size,
            source=mnist_source(args),
            continues=earlier,
        )


if __name__ == "__main__":
    main()
