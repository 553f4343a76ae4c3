"""Burda et al. (2015), Table 1, VAE k=1 row: test NLL of a VAE on dynamically binarized MNIST.

Architecture as in the paper: 784-200-200-50 with tanh hidden units in the encoder and
the mirrored decoder, a diagonal Gaussian posterior and a Bernoulli decoder. Training
binarizes every training image afresh each time it is seen (dynamic binarization);
the test images are binarized once with a fixed seed. The test NLL is -L_5000, the
importance-weighted bound with 5000 samples; active units use Cov_x(E_q[u]) > 1e-2.

Learning rate: the paper's schedule, stage i lasting 3^i epochs at 1e-3 * 10^(-i/7),
with Adam (beta1=0.9, beta2=0.999, epsilon=1e-4). The paper runs 8 stages (3280 epochs)
with batches of 20; a budgeted run is a prefix of that schedule with batches of 100.

    python benchmarks/reproduce/vae_mnist_nll.py            # full mode (see RESULTS.md)
    python benchmarks/reproduce/vae_mnist_nll.py --fast     # pipeline check, seconds
"""

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


def burda_learning_rate(epoch):
    """Learning rate of epoch `epoch` (0-based): stage i spans 3^i epochs at 1e-3 * 10^(-i/7)."""
    stage, end = 0, 1
    while epoch >= end:
        stage += 1
        end += 3**stage
    return 1e-3 * 10 ** (-stage / 7)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    add_mnist_dir(parser)
    parser.add_argument("--epochs", type=int, help="training epochs (full: 121 = schedule stages 0-4)")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--num-train", type=int, help="training images (default: all 60000)")
    parser.add_argument("--num-test", type=int, help="test images for ELBO and active units (default: all)")
    parser.add_argument("--k", type=int, help="importance samples of L_k (paper: 5000)")
    parser.add_argument(
        "--nll-examples", type=int, help="test images (a seeded random subset) the L_k estimate averages over"
    )
    args = resolve(parser.parse_args(argv), FAST, FULL)

    import keras
    import numpy as np
    import tensorflow as tf

    import keras_ae
    from keras_ae.evaluation import active_units, elbo, importance_weighted_log_likelihood

    clock = Stopwatch()
    keras.utils.set_random_seed(args.seed)
    (x_train, _), (x_test, _) = load_mnist(args.mnist_dir, args.num_train, args.num_test)
    x_test = (np.random.default_rng(123).uniform(size=x_test.shape) < x_test).astype("float32")

    def dynamically_binarized(x):
        batches = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=args.seed).batch(args.batch_size)
        sample = lambda b: tf.cast(tf.random.uniform(tf.shape(b)) < b, tf.float32)  # noqa: E731
        return batches.map(sample, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)

    model = keras_ae.create_model(
        "vae", input_shape=(784,), latent_dim=50, hidden_units=(200, 200), activation="tanh", seed=args.seed
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-4))
    history = model.fit(
        dynamically_binarized(x_train),
        epochs=args.epochs,
        callbacks=[keras.callbacks.LearningRateScheduler(burda_learning_rate)],
        shuffle=False,  # the dataset shuffles itself
        verbose=0 if args.fast else 2,
    )
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
            "Burda et al. (2015) Table 1 (VAE, k=1), trained with a prefix of the paper's schedule.",
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
            epochs=args.epochs,
            batch_size=args.batch_size,
            source=mnist_source(args),
        )


if __name__ == "__main__":
    main()
