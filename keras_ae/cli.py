"""The `keras-ae` command line."""

import argparse
import os
import sys


def _quiet_tensorflow():
    # TensorFlow prints C++ notices at import time; this must be set before the import.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def demo(args):
    """Trains a small VAE on the embedded 8x8 digits and writes a reconstruction PNG."""
    import keras_ae
    from keras_ae.data import load_digits
    from keras_ae.plotting import plot_reconstructions

    (x_train, _), (x_test, _) = load_digits()
    model = keras_ae.create_model(
        "vae", input_shape=x_train.shape[1:], latent_dim=args.latent_dim, hidden_units=(128, 64), seed=0
    )
    model.compile(optimizer="adam")
    model.fit(x_train, epochs=args.epochs, batch_size=64, validation_data=(x_test,), verbose=2)
    os.makedirs(args.out, exist_ok=True)
    print(model.evaluate(x_test, verbose=0, return_dict=True))
    path = plot_reconstructions(model, x_test, os.path.join(args.out, "reconstructions.png"))
    model.save(os.path.join(args.out, "model.keras"))
    print(f"Wrote {path} and {os.path.join(args.out, 'model.keras')}")


def build_parser():
    parser = argparse.ArgumentParser(prog="keras-ae", description="Train and inspect keras-ae autoencoders.")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("demo", help="train a small VAE on embedded digits and write pictures")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--latent-dim", type=int, default=8)
    p.add_argument("--out", default="demo_output")
    p.set_defaults(func=demo)
    return parser


def main(argv=None):
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    args.func(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
