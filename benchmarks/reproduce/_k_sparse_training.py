"""`k_sparse_mnist.py`'s training: the model and optimizer its flags describe, and the fit."""

from _common import optimizer_from_args


def train(args, x_train, alpha):
    """Trains the k-sparse autoencoder the flags describe, encoding `alpha * k` units:
    `(model, history, optimizer)`."""
    import numpy as np

    import keras_ae

    total_steps = args.epochs * -(-len(x_train) // args.batch_size)
    schedule = {}
    if args.k_start:
        schedule = {
            "k_start": args.k_start,
            "total_steps": total_steps,
            "k_schedule_fraction": args.k_schedule_fraction,
        }
    # The dead units' auxiliary loss, only when asked: other runs keep the paper's model.
    aux = {}
    if args.aux_k:
        aux = {"aux_k": args.aux_k, "aux_weight": args.aux_weight, "dead_steps": args.dead_steps}
    model = keras_ae.create_model(
        "k_sparse_autoencoder",
        input_shape=(784,),
        latent_dim=1000,
        hidden_units=(),
        k=args.k,
        alpha=alpha,
        tied_weights=True,
        likelihood=args.likelihood,
        **schedule,
        **aux,
    )
    if args.init_std:
        kernel = model.encoder.get_layer("code").kernel
        kernel.assign(np.random.default_rng(args.seed).normal(0.0, args.init_std, kernel.shape))
    learning_rate = learning_rate_schedule(
        args.learning_rate,
        args.learning_rate_decay,
        total_steps,
        # The model's own k schedule length (KSparseAutoencoder.current_k).
        max(1, int(total_steps * args.k_schedule_fraction)) if args.k_start else 0,
    )
    optimizer = optimizer_from_args(args, learning_rate)
    model.compile(optimizer=optimizer)
    history = model.fit(
        x_train, epochs=args.epochs, batch_size=args.batch_size, shuffle=True, verbose=0 if args.fast else 2
    )
    return model, history, optimizer


def learning_rate_schedule(rate, decay, total_steps, constant_steps):
    """The optimizer's learning rate: `rate`, or with `decay="cosine"` a cosine to zero.

    Keras' `CosineDecay` with its warm-up held flat (`warmup_target=rate`) keeps `rate`
    for `constant_steps` (the k schedule's steps) and then decays it to zero over the
    remaining `total_steps - constant_steps`; a built-in schedule, so the saved model's
    optimizer reloads without custom objects.
    """
    if decay == "none":
        return rate
    if total_steps - constant_steps < 1:
        raise ValueError(
            f"A {decay} decay needs steps after the {constant_steps} constant ones. "
            f"Received: total_steps={total_steps}"
        )
    import keras

    return keras.optimizers.schedules.CosineDecay(
        rate,
        decay_steps=total_steps - constant_steps,
        alpha=0.0,
        warmup_target=rate,
        warmup_steps=constant_steps,
    )
