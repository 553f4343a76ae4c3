"""Gregor et al. (2015), Table 2: binarized MNIST test NLL of DRAW, with and without attention.

The paper's models: T = 64 steps, 256-unit LSTMs, z of 100 per step, read 2x2 and write
5x5 glimpses (with attention) or whole-image read and dense write (without); test
negative log-likelihood <= 80.97 nats with attention, <= 87.40 without. Here each model
is trained on statically binarized MNIST (Adam 1e-3 with Keras' `clipnorm=10`: each
variable's gradient clipped to norm 10 on its own, not their global norm; batch 100) for
the given budget, then scored with the importance-weighted bound L_k (Burda et al.) over
the test images, beside the zoo's VAE 784-200-200-50 (Burda et al.'s layer sizes, but the
zoo's default ReLU hidden units, not their tanh) trained and scored the same way. The
time per epoch of each model is reported: DRAW's step runs T recurrent steps one after
the other, so it costs about T times a VAE step of the same width.

    python benchmarks/reproduce/draw_mnist.py                                  # full: the paper's T=64, 50 epochs
    python benchmarks/reproduce/draw_mnist.py --steps 16 --epochs 3 --num-test 1000   # a budgeted run
    python benchmarks/reproduce/draw_mnist.py --fast                           # pipeline check, seconds
"""

from _common import Stopwatch, add_mnist_dir, base_parser, load_mnist, report, resolve

PAPER = {"draw_attention": 80.97, "draw_no_attention": 87.40}
MODELS = ("attention", "no_attention", "vae")  # what --skip can name
FULL = {
    "epochs": 50,
    "steps": 64,
    "latent_dim": 100,
    "units": 256,
    "num_train": None,
    "num_test": None,
    "num_samples": 1000,
}
FAST = {
    "epochs": 1,
    "steps": 4,
    "latent_dim": 10,
    "units": 32,
    "num_train": 600,
    "num_test": 100,
    "num_samples": 10,
}


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    add_mnist_dir(parser)
    parser.add_argument("--epochs", type=int, help="training epochs per model (full: 50)")
    parser.add_argument("--steps", type=int, help="DRAW's T (paper: 64)")
    parser.add_argument("--latent-dim", type=int, help="size of each z_t (paper: 100)")
    parser.add_argument("--units", type=int, help="LSTM units (paper: 256)")
    parser.add_argument("--num-train", type=int, help="training images (default: all 60000)")
    parser.add_argument("--num-test", type=int, help="test images scored (default: all 10000)")
    parser.add_argument("--num-samples", type=int, help="importance samples k of L_k (full: 1000)")
    parser.add_argument("--read-size", type=int, default=2, help="read glimpse N with attention (paper: 2)")
    parser.add_argument("--write-size", type=int, default=5, help="write patch N with attention (paper: 5)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--skip", default="", help=f"comma list of models to skip: {','.join(MODELS)}")
    args = resolve(parser.parse_args(argv), FAST, FULL)
    if args.epochs < 1:
        parser.error(f"--epochs must be 1 or more. Received: {args.epochs}")
    skip = {s for s in args.skip.split(",") if s}
    if not skip <= set(MODELS):
        parser.error(
            f"--skip takes some of {','.join(MODELS)}, comma-separated. "
            f"Received: {args.skip!r} (unknown: {','.join(sorted(skip - set(MODELS)))})"
        )

    import time

    import keras
    import numpy as np

    import keras_ae
    from keras_ae.evaluation import importance_weighted_log_likelihood

    clock = Stopwatch()
    (x_train, _), (x_test, _) = load_mnist(args.mnist_dir, args.num_train, args.num_test)
    rng = np.random.default_rng(args.seed)
    x_train = (rng.uniform(size=x_train.shape) < x_train).astype("float32").reshape(-1, 28, 28, 1)
    x_test = (rng.uniform(size=x_test.shape) < x_test).astype("float32").reshape(-1, 28, 28, 1)
    common = {"input_shape": (28, 28, 1), "seed": args.seed}
    candidates = {
        "attention": ("draw", {"steps": args.steps, "latent_dim": args.latent_dim, "encoder_units": args.units,
                               "decoder_units": args.units, "read_size": args.read_size,
                               "write_size": args.write_size}),
        "no_attention": ("draw", {"steps": args.steps, "latent_dim": args.latent_dim,
                                  "encoder_units": args.units, "decoder_units": args.units}),
        # Burda et al.'s sizes with the zoo's default ReLU (not their tanh): RESULTS.md's VAE row.
        "vae": ("vae", {"latent_dim": 50, "hidden_units": (200, 200)}),
    }  # fmt: skip
    results, rows = {"models": {}}, []
    for name, (registry_name, kwargs) in candidates.items():
        if name in skip:
            continue
        keras.utils.set_random_seed(args.seed)
        model = keras_ae.create_model(registry_name, **common, **kwargs)
        # clipnorm clips each variable's gradient to norm 10 on its own (global_clipnorm would
        # clip their global norm); kept as RESULTS.md's runs were trained.
        model.compile(optimizer=keras.optimizers.Adam(args.learning_rate, clipnorm=10.0))
        start = time.perf_counter()
        history = model.fit(
            x_train, epochs=args.epochs, batch_size=args.batch_size, verbose=0 if args.fast else 2
        )
        seconds = time.perf_counter() - start
        clock.lap(f"train {name}")
        bound = importance_weighted_log_likelihood(
            model, x_test, num_samples=args.num_samples, seed=args.seed, verbose=0 if args.fast else 1
        )
        clock.lap(f"score {name}")
        entry = {
            "test_nll": float(-bound.mean()),
            "test_nll_standard_error": float(bound.std() / np.sqrt(len(bound))),
            "final_train_negative_elbo": float(history.history["loss"][-1]),
            "seconds_per_epoch": seconds / args.epochs,
            "config": kwargs,
        }
        results["models"][name] = entry
        paper = {"attention": PAPER["draw_attention"], "no_attention": PAPER["draw_no_attention"]}.get(name)
        label = {
            "attention": f"DRAW, attention (read {args.read_size}x{args.read_size}, write {args.write_size}x{args.write_size})",
            "no_attention": "DRAW, no attention",
            "vae": "VAE 784-200-200-50",
        }
        rows += [
            (f"{label[name]}: test NLL (L_{args.num_samples})", entry["test_nll"], paper),
            (f"{label[name]}: seconds per epoch", entry["seconds_per_epoch"], None),
        ]
    rows.append(
        ("epochs / T / z / units", f"{args.epochs} / {args.steps} / {args.latent_dim} / {args.units}", None)
    )
    report(
        "Gregor et al. 2015, Table 2 (binarized MNIST, test NLL in nats)",
        rows,
        args,
        results,
        clock,
        notes=[
            f"NLL = -mean(L_k), k={args.num_samples} importance paths per test image (the paper's NLL is its bound)",
            "DRAW's step runs T recurrent steps in sequence: its time per epoch grows linearly with T",
        ],
    )


if __name__ == "__main__":
    main()
