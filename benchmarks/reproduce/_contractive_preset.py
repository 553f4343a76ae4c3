"""`contractive_mnist.py`'s `--save-preset`: the CAE of the run, with its card.

Kept apart from the script so that its `main` only sequences training, measurement and
report; the card's figures are the ones the report printed.
"""

from _common import mnist_check, mnist_source, write_preset


def save_cae_preset(args, model, results, weights, clock, *, fitted_images, test_images, paper_ratio):
    """Writes the run's CAE as the preset folder `args.save_preset`.

    Args:
        args: the parsed flags (`_contractive_args.parse_args`).
        model: the trained (or chosen) one-layer CAE.
        results: the run's results; `results["per_model"]["cae"]` holds its figures and
            `results["weight_selection"]`, when present, the weight chosen on validation.
        weights: the `--contractive-weight` list (its single weight when none was chosen).
        clock: the run's `Stopwatch`; the CAE's training lap goes on the card.
        fitted_images: how many training images the CAE was fitted on.
        test_images: how many test images the figures were measured on.
        paper_ratio: Rifai et al.'s AE / CAE Jacobian ratio, for the card.
    """
    cae = results["per_model"]["cae"]
    chosen = "weight_selection" in results
    weight = results["weight_selection"]["chosen"] if chosen else weights[0]
    write_preset(
        args,
        model,
        clock,
        summary="Contractive autoencoder on MNIST, Rifai et al. (2011) Table 1: "
        f"{args.hidden_units} sigmoid units, tied weights, Bernoulli decoder, contractive_weight={weight:g}"
        + (" (chosen on the validation split)." if chosen else "."),
        data={
            "dataset": "mnist",
            "train": f"{fitted_images} training images",
            "test": f"{test_images} test images",
        },
        figures={
            "jacobian_frobenius_norm": cae["jacobian_norm"],
            "saturated_units": cae["saturation"],
            "probe_test_error": cae["probe_error"],
            "fine_tuned_test_error": None if cae["fine_tuned"] is None else cae["fine_tuned"]["error"],
            "test_cross_entropy_nats": cae["test_cross_entropy"],
            "ae_over_cae_jacobian_norm": results.get("ae_over_cae_jacobian_norm"),
            "paper_ae_over_cae_jacobian_norm": paper_ratio,
        },
        check=mnist_check(
            "training loss (cross-entropy plus contractive penalty) on the first 1,000 test images",
            tolerance=0.1,
        ),
        epochs=args.epochs,
        batch_size=args.batch_size,
        source=mnist_source(args),
        # A weight choice names each candidate's lap by its weight.
        train_lap=f"train cae {weight:g}" if chosen else "train cae",
    )
