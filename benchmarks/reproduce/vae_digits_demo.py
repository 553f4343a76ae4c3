"""The demo model: `keras-ae train`'s default run (a VAE on the embedded 8x8 digits).

Trains exactly what `make demo` trains (`keras-ae train --out runs/demo`: 60 epochs of a
Gaussian-likelihood VAE with 8 latents on the 1,437 training digits), evaluates it on the
360 test digits, and, with `--save-preset`, ships it as the `vae_digits` preset.

    python benchmarks/reproduce/vae_digits_demo.py --save-preset keras_ae/presets/vae_digits
    python benchmarks/reproduce/vae_digits_demo.py --fast     # pipeline check, seconds
"""

import tempfile

from _common import Stopwatch, base_parser, report, write_preset


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0])
    args = parser.parse_args(argv)

    from keras_ae.runs import evaluate_run, train_run

    clock = Stopwatch()
    with tempfile.TemporaryDirectory() as folder:
        settings = {"epochs": 1} if args.fast else {}
        model, history = train_run(
            folder, seed=args.seed, verbose=0 if args.fast else 2, tensorboard=False, **settings
        )
        clock.lap("train")
        test = evaluate_run(folder)
    clock.lap("evaluate")
    results = {"test": test, "final_train_loss": history["loss"][-1]}
    report(
        "The demo model (keras-ae train's default run)",
        [
            ("test negative ELBO (nats)", test["loss"], None),
            ("  reconstruction / KL", f"{test['reconstruction_loss']:.2f} / {test['kl_loss']:.2f}", None),
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
            summary="The demo model: keras-ae train's default run (`keras-ae train`, `make demo`), a VAE "
            "with 8 latents and a Gaussian likelihood (variance 0.05) on the embedded 8x8 digits.",
            data={
                "dataset": "digits",
                "train": "the 1,437 training digits (scikit-learn's 8x8 digits, grey levels / 16)",
                "test": "the 360 test digits",
            },
            figures={
                "test_negative_elbo_nats": test["loss"],
                "test_reconstruction_nats": test["reconstruction_loss"],
                "test_kl_nats": test["kl_loss"],
                "equivalent_command": "keras-ae train --out runs/demo",
            },
            check={
                "figure": "loss",
                "description": "negative ELBO (nats, one posterior sample) on the 360 test digits",
                "dataset": "digits",
                "split": "test",
                "examples": 360,
                "tolerance": 0.05,
            },
            epochs=len(history["loss"]),
            batch_size=64,
        )


if __name__ == "__main__":
    main()
