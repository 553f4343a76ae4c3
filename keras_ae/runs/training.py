"""Training a run folder: `train_run` (resumable).

The folder's layout, and `load_run`, are in `keras_ae.runs.run_folder`.
"""

import os

import keras

from keras_ae import backend
from keras_ae._utils import read_json, write_json_atomically
from keras_ae._validation import check_bool, check_int
from keras_ae.data import check_fits, element_shape, load_dataset
from keras_ae.data.sources import check_split
from keras_ae.models.training_step import NON_FINITE_LOSS
from keras_ae.registry import import_all_models
from keras_ae.runs.config import (
    CONFIG_FILE,
    DEFAULT_PRIOR_EPOCHS,
    HISTORY_FILE,
    MODEL_FILE,
    build_model,
    config_difference,
    eval_binarize,
    resolve_config,
)
from keras_ae.runs.distribution import (
    check_workers_agree,
    is_chief,
    make_strategy,
    shard_by_data,
    write_folder,
)
from keras_ae.runs.divergence import (
    TrainingDivergedError,
    WorkerLostError,
    last_good_state,
    lost_worker_detail,
)
from keras_ae.runs.image_summaries import ImageSummaries
from keras_ae.runs.resume import model_to_load, resume_state
from keras_ae.runs.run_checkpoint import RunCheckpoint, save_model_atomically
from keras_ae.runs.run_folder import check_clearable, clear_run
from keras_ae.runs.training_data import EpochData, check_first_batch, steps_per_epoch
from keras_ae.version import __version__


def train_run(
    out,
    callbacks=(),
    verbose=1,
    restart=False,
    tensorboard=True,
    keep_checkpoints=2,
    save_every=None,
    distribute=None,
    deterministic=False,
    **settings,
):
    """Trains (or resumes) the run in folder `out`; returns `(model, history)`.

    The resolved config is saved as `out/config.json`. A checkpoint is written after every
    epoch (and every `save_every` steps); calling `train_run` again with the same settings
    resumes from the last checkpoint and trains up to `epochs` (raising `epochs` extends a
    finished run). Epoch `e` always sees the same batches in the same order (a function of
    `seed` and `e`), and a resumed run skips the batches already trained and restores the
    model's noise state, so an interrupted run ends with the weights of an uninterrupted
    one (bit for bit on one process with `deterministic=True`).

    Args:
        out: the run folder, e.g. `"runs/vae_digits"`.
        callbacks: extra Keras callbacks.
        verbose: Keras' fit verbosity (1: progress bar, 2: one line per epoch, 0: silent).
        restart: delete the run's checkpoints, logs and results (including `plots/` and
            `saved_model/`) and train from scratch; refused where `out` holds such names
            but is not a keras-ae run (no run's `config.json`). The old run is deleted only
            after the new settings have loaded their data and built their model.
        tensorboard: write TensorBoard logs under `out/logs` (Keras' `TensorBoard` callback,
            plus reconstructions and, for generative models, samples as images per epoch).
        keep_checkpoints: how many of the latest epoch checkpoints to keep, >= 1. Two (the
            default) leave an intact one to resume from when the latest is damaged.
        save_every: None, or a number of steps between mid-epoch checkpoints (a kill then
            costs at most that many steps; each checkpoint saves the whole model).
        distribute: None, `"mirrored"` (the devices of this machine) or `"multi_worker"`
            (the workers of `TF_CONFIG`, or of a Slurm allocation): see
            `keras_ae.runs.distribution`. Every worker runs this same call; only the chief
            writes `out`. Resuming reads `out`, so every worker must see it (a shared
            folder), and `batch_size` is the global batch, split over the replicas.
        deterministic: turn on TensorFlow's op determinism for this process
            (`tf.config.experimental.enable_op_determinism`; it cannot be turned off again).
        **settings: run settings (see `DEFAULTS`): `model`, `dataset`, `epochs`,
            `batch_size`, `latent_dim`, `learning_rate`, `params` (extra model arguments) ...

    Returns:
        The trained model and the history of every epoch (`{metric: [values]}`).

    Raises:
        ValueError: `out` holds a run with different settings (the message lists them); a
            `restart` in a folder that is not a run; the first training batch is outside
            what the likelihood or the binarization takes (0..255 float images, say). With
            several workers also: another worker could not start the run, or the workers
            would resume it from different checkpoints.
        TrainingDivergedError: the loss became NaN or Inf (the message names the checkpoint
            that a rerun resumes from).
        WorkerLostError: with several workers, another worker stopped or became unreachable
            during training (the same).

    Example:
        >>> model, history = train_run("runs/vae_mnist", model="vae", dataset="mnist",
        ...                            epochs=20, latent_dim=16)
    """
    out = os.fspath(out)
    # The strategy first: with several workers it waits for all of them, and from then on a
    # worker that fails a check below stops the others with it (`check_workers_agree`)
    # instead of leaving them waiting for the cluster.
    strategy = make_strategy(distribute)
    chief = is_chief(strategy)
    try:
        config = resolve_config(**settings)
        # Every argument is checked before anything is read, built or (with `restart`) deleted.
        if check_bool("restart", restart):  # a truthy "false" would wipe the run
            check_clearable(out)
        keep_checkpoints = check_int("keep_checkpoints", keep_checkpoints)
        if save_every is not None:
            check_int("save_every", save_every)
        if check_bool("deterministic", deterministic):
            backend.enable_op_determinism()
        config_path = os.path.join(out, CONFIG_FILE)
        # A restart clears the old run only once the new settings have loaded their data and
        # built their model (below): a typo in them must not cost the old run.
        if not restart and os.path.isfile(config_path):
            difference = config_difference(read_json(config_path), config)
            if difference:
                details = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in difference.items())
                raise ValueError(
                    f"{out} holds a run with other settings ({details}). Use another --out, or --restart "
                    "to discard it."
                )
        state = None if restart else resume_state(out, config["epochs"])
        # tf.data's seeded shuffles also depend on TensorFlow's global seed: fix it for a new
        # and a resumed run alike.
        keras.utils.set_random_seed(config["seed"])
        # The data too, before the workers compare: a worker whose copy of the data is
        # missing or unreadable fails here, before the model's variables are created (with
        # several workers, a collective that would wait for it). One pipeline for the whole
        # run: epoch e's pass, selected by the epoch the callback sets (until `fit` sets one,
        # epoch 0's: its shapes, step count and pictures).
        epoch_data = EpochData(config, distribute)
        train_data = epoch_data.passes()
        validation_data = _validation_data(config, distribute)
        steps = steps_per_epoch(train_data)
    except Exception:
        check_workers_agree(strategy, None, failed=True)  # the other workers stop too
        raise
    check_workers_agree(strategy, state)
    final_path = os.path.join(out, MODEL_FILE)
    with strategy.scope():
        if state:
            import_all_models()
            model_path = model_to_load(out, state, config["epochs"])
            model = keras.models.load_model(model_path)
            # `model_to_load` chose the final model exactly when the run is finished and its
            # model.keras is sound: no second read of the whole file to tell.
            finished = model_path == final_path
            history = state["history"]
            if finished and os.path.isfile(os.path.join(out, HISTORY_FILE)):
                history = read_json(os.path.join(out, HISTORY_FILE))
        else:
            model = build_model(config, element_shape(train_data))
            model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]))
            history = {}
    check_fits(element_shape(train_data), model.data_shape, config["dataset"])
    check_first_batch(train_data, config, model.likelihood)
    prior_epochs = config["prior_epochs"]
    if prior_epochs and not model.discrete:
        raise ValueError(
            f"prior_epochs trains the learned prior of a discrete model (vq_vae); {config['model']!r} "
            f"has none. Received: prior_epochs={prior_epochs}"
        )
    if restart and chief:
        clear_run(out)  # the last thing before training: every check above has passed
    with write_folder(out, chief) as root:
        _train(
            model,
            root,
            config=config,
            history=history,
            state=state,
            train_data=train_data,
            validation_data=validation_data,
            callbacks=callbacks,
            verbose=verbose,
            tensorboard=tensorboard,
            checkpoint=RunCheckpoint(
                os.path.join(root, "checkpoints"),
                history,
                keep=keep_checkpoints,
                save_every=save_every,
                steps_per_epoch=steps,
            ),
            epoch_data=epoch_data,
            run_folder=out,
        )
    return model, history


def _validation_data(config, distribute):
    """The run's validation pipeline, or None without a `validation_split`."""
    if not config["validation_split"]:
        return None
    check_split(config["dataset"], config["validation_split"], config["data_dir"], "validation_split")
    validation_data = load_dataset(
        config["dataset"],
        config["validation_split"],
        batch_size=max(config["batch_size"], 256),
        binarize=eval_binarize(config["binarize"]),
        seed=config["seed"],
        shuffle=False,
        data_dir=config["data_dir"],
    )
    if distribute is None:
        return validation_data
    # Every worker builds the same seeded pipeline and keeps its share of each global batch
    # (the datasets are one file or in memory: file sharding does not apply).
    return shard_by_data(validation_data)


def _train(
    model,
    out,
    *,
    config,
    history,
    state,
    train_data,
    validation_data,
    callbacks,
    verbose,
    tensorboard,
    checkpoint,
    epoch_data,
    run_folder,
):
    """The writing part of `train_run`, into `out` (the run folder `run_folder`, or a
    worker's scratch)."""
    os.makedirs(out, exist_ok=True)
    # The model's own constructor arguments beside the settings: what was really built.
    model_config = keras.saving.serialize_keras_object(model)["config"]
    initial_epoch, initial_step = (state["epoch"], state["step"]) if state else (0, 0)
    # Fewer epochs than trained train nothing: the file keeps the epochs the model has.
    recorded = dict(config, epochs=max(config["epochs"], initial_epoch))
    write_json_atomically(
        os.path.join(out, CONFIG_FILE),
        dict(recorded, model_config=model_config, keras_ae_version=__version__),
    )
    if initial_epoch < config["epochs"]:
        run_callbacks = [epoch_data, checkpoint]
        if tensorboard:
            logs = os.path.join(out, "logs")
            run_callbacks += [
                keras.callbacks.TensorBoard(logs, write_graph=False),
                ImageSummaries(logs, validation_data if validation_data is not None else train_data),
            ]
        steps = checkpoint.steps_per_epoch
        # An epoch interrupted mid-way is finished by a fit of its remaining steps.
        fits = [(initial_epoch, initial_step, initial_epoch + 1)] if initial_step else []
        if initial_epoch + len(fits) < config["epochs"]:
            fits.append((initial_epoch + len(fits), 0, config["epochs"]))
        if initial_step and verbose:
            print(f"Resuming epoch {initial_epoch + 1} at step {initial_step} of {steps}.")
        try:
            for first_epoch, first_step, end_epoch in fits:
                checkpoint.resume_from(first_step, state.get("metrics") if first_step else None)
                model.fit(
                    epoch_data.passes(first_step),
                    epochs=end_epoch,
                    initial_epoch=first_epoch,
                    validation_data=validation_data,
                    callbacks=run_callbacks + list(callbacks),
                    verbose=verbose,
                    shuffle=False,  # the pipeline shuffles (seeded) itself
                )
        except Exception as error:
            if backend.is_non_finite_error(error, NON_FINITE_LOSS):
                raise TrainingDivergedError(run_folder, last_good_state(run_folder, out)) from None
            detail = lost_worker_detail(error, model.distribute_strategy)
            if detail is None:
                raise
            raise WorkerLostError(run_folder, last_good_state(run_folder, out), detail) from error
    elif verbose:
        print(f"{out} is already trained to epoch {initial_epoch} (asked: {config['epochs']}).")
    if model.discrete and model.prior is None:
        epochs = DEFAULT_PRIOR_EPOCHS if config["prior_epochs"] is None else config["prior_epochs"]
        if epochs:
            if verbose:
                print(f"Training the prior over the codes for {epochs} epochs.")
            keras.utils.set_random_seed(config["seed"])
            prior_history = model.fit_prior(
                epoch_data.reshuffling(), epochs=epochs, validation_data=validation_data, verbose=verbose
            )
            for key, values in prior_history.history.items():
                # "prior_loss" and "val_prior_loss": plotted together, beside the model's.
                name = f"val_prior_{key[4:]}" if key.startswith("val_") else f"prior_{key}"
                history[name] = [float(v) for v in values]
    # Saved aside and renamed into place: a run killed while saving keeps no half-written
    # model.keras, and resumes from its checkpoint instead.
    save_model_atomically(model, os.path.join(out, MODEL_FILE))
    write_json_atomically(os.path.join(out, HISTORY_FILE), history)
