"""Killed training runs: `keras-ae train` killed with SIGKILL in the middle of an epoch, then
run again with the same command, ends with the weights of a run that was never killed.

The kill comes from inside the process (a wrapper around the CLI sends SIGKILL to itself
right after a chosen step), so it lands at the same step on every machine; nothing is
flushed or cleaned up, exactly as with `kill -9` or a machine losing power. Also: a
multi-worker run stopped by a loss that is not finite on one worker.
"""

import json
import os
import signal

import numpy as np

from keras_ae.runs import load_run
from tests.conftest import finish_processes, start_python
from tests.models.test_multi_worker import free_ports, tf_config

# Runs the CLI; with KILL_AT=(epoch, step) set, SIGKILLs itself right after that step.
KILLABLE_CLI = """
import os, signal, sys
from keras_ae.cli import main
from keras_ae.runs.run_checkpoint import RunCheckpoint

kill_at = {kill_at!r}
if kill_at is not None:
    original = RunCheckpoint.on_train_batch_end

    def on_train_batch_end(self, batch, logs=None):
        original(self, batch, logs)
        if (self._epoch, self._step_offset + batch + 1) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    RunCheckpoint.on_train_batch_end = on_train_batch_end
sys.exit(main({argv!r}))
"""


def cli(argv, kill_at=None, env=None, cwd=None):
    return start_python(KILLABLE_CLI.format(argv=list(argv), kill_at=kill_at), env=env, cwd=cwd)


def final_weights(run):
    return load_run(run)[0].get_weights()


def checkpoint_state(run):
    return json.loads((run / "checkpoints" / "state.json").read_text())


def test_a_run_killed_mid_epoch_resumes_to_the_weights_of_an_uninterrupted_run(tmp_path):
    # The embedded digits (1,437 training images) in batches of 16: 90 steps per epoch, run
    # in executions of 16 steps, so the callbacks see steps 16, 32, 48, ... A checkpoint
    # every 30 steps is taken at steps 32 and 64; the kill after step 48 loses 33 to 48.
    def argv(out):
        return ["train", "vae", "--dataset", "digits", "--epochs", "3", "--batch-size", "16",
                "--binarize", "dynamic", "--likelihood", "bernoulli", "--save-every", "30",
                "--deterministic", "--no-tensorboard", "--verbose", "2", "--out", str(out)]  # fmt: skip

    whole, killed = tmp_path / "whole", tmp_path / "killed"
    reference = cli(argv(whole))
    victim = cli(argv(killed), kill_at=(1, 48))
    victim.communicate(timeout=240)  # drains its pipes; a timeout leaves it to the reaper
    finish_processes([reference], timeout=240)
    assert victim.returncode == -signal.SIGKILL
    state = checkpoint_state(killed)
    assert (state["epoch"], state["step"]) == (1, 32) and not (killed / "model.keras").exists()

    resumed = finish_processes([cli(argv(killed))], timeout=240)[0]
    assert "Resuming epoch 2 at step 32 of 90." in resumed
    # Op determinism on, one process: the same operations on the same values, bit for bit.
    for got, want in zip(final_weights(killed), final_weights(whole), strict=True):
        np.testing.assert_array_equal(got, want)
    history = json.loads((killed / "history.json").read_text())
    assert history == json.loads((whole / "history.json").read_text())


def test_a_worker_killed_mid_epoch_and_the_job_restarted_ends_like_an_uninterrupted_job(tmp_path):
    # 2 workers on global batches of 64 (23 steps per epoch, callbacks after every step
    # under a strategy); a checkpoint every 10 steps. Worker 1 is killed after step 15 of
    # epoch 2; the chief, blocked in the next all-reduce, is stopped by TensorFlow's health
    # check and says so (a job with a lost worker is restarted whole), and both are started
    # again with the same command.
    def argv(out):
        return ["train", "autoencoder", "--dataset", "digits", "--epochs", "2", "--batch-size", "64",
                "--save-every", "10", "--deterministic", "--distribute", "multi_worker",
                "--no-tensorboard", "--verbose", "0", "--out", str(out)]  # fmt: skip

    def job(out, kill_at=None, name="job"):
        ports = free_ports(2)
        env = []
        for index in range(2):
            scratch = tmp_path / f"tmp_{name}{index}"  # the worker's TMPDIR
            scratch.mkdir()
            env.append({"TF_CONFIG": tf_config(ports, index), "TMPDIR": str(scratch)})
        return [cli(argv(out), env=env[0]), cli(argv(out), kill_at=kill_at, env=env[1])]

    whole, killed = tmp_path / "whole", tmp_path / "killed"
    reference = job(whole, name="whole")
    chief, worker = job(killed, kill_at=(1, 15), name="killed")
    try:
        worker.communicate(timeout=240)
        assert worker.returncode == -signal.SIGKILL
        _, chief_error = chief.communicate(timeout=180)
    finally:
        for process in (chief, worker):
            if process.poll() is None:
                process.kill()
            process.communicate()
    state = checkpoint_state(killed)
    assert (state["epoch"], state["step"]) == (1, 10)
    assert chief.returncode == 2, chief_error[-2000:]
    assert (
        f"Training in {killed} stopped: another worker of the cluster stopped or became unreachable"
        in chief_error
    )
    assert "/job:worker/replica:0/task:1" in chief_error  # TensorFlow's name of the lost task
    checkpoint = killed / "checkpoints" / "epoch_0001_step_000010.keras"
    assert f"epoch 1, step 10 of epoch 2 ({checkpoint}); running the same command" in chief_error

    outputs = finish_processes(reference + job(killed, name="resumed"), timeout=300)
    for (chief_output, worker_output), run in zip((outputs[:2], outputs[2:]), (whole, killed), strict=True):
        assert f"Wrote {run / 'model.keras'}" in chief_output
        assert "Wrote" not in worker_output and "This worker wrote nothing: the chief writes" in worker_output
    # Each worker's share of each step and the all-reduce of two values are the same in
    # both jobs: the same weights, bit for bit. (Against one process alone the sums are
    # ordered differently, and Adam carries the rounding differences on.)
    for got, want in zip(final_weights(killed), final_weights(whole), strict=True):
        np.testing.assert_array_equal(got, want)
    assert sorted(os.listdir(killed / "checkpoints")) == [
        "epoch_0001.keras",
        "epoch_0002.keras",
        "state.json",
    ]
    # Only the chief wrote the run folder; the other worker wrote into a scratch folder
    # under its TMPDIR and removed it (a SIGKILLed worker cannot: its scratch stays).
    for run in (whole, killed):
        assert sorted(os.listdir(run)) == ["checkpoints", "config.json", "history.json", "model.keras"]
    # (TensorFlow's autograph leaves its generated modules there too.)
    for name in ("whole0", "whole1", "resumed0", "resumed1", "killed0"):
        assert [f for f in os.listdir(tmp_path / f"tmp_{name}") if f.startswith("keras_ae_worker_")] == []
    assert [f for f in os.listdir(tmp_path / "tmp_killed1") if f.startswith("keras_ae_worker_")] != []


def refusing_workers(argvs, cwds=None):
    """Runs the CLI with each of `argvs` as the workers of one cluster (in the folders
    `cwds`, else this one); each must stop with a keras-ae error (exit code 2). Returns
    their stderr."""
    ports = free_ports(len(argvs))
    cwds = cwds or [None] * len(argvs)
    workers = [
        cli(argv, env={"TF_CONFIG": tf_config(ports, index)}, cwd=cwd)
        for index, (argv, cwd) in enumerate(zip(argvs, cwds, strict=True))
    ]
    try:
        errors = [worker.communicate(timeout=240)[1] for worker in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.communicate()
    for worker, error in zip(workers, errors, strict=True):
        assert worker.returncode == 2, error[-2000:]
    return errors


def test_a_run_diverging_on_one_worker_stops_every_worker_naming_the_run(tmp_path):
    # One image of 1e30 under a Gaussian likelihood: the loss of the batch holding it is
    # Inf on the worker whose share holds it, finite on the other. Both must stop with the
    # divergence message, and name the run folder, not a worker's scratch folder.
    from keras_ae.data import load_dataset

    x = load_dataset("digits", "train", as_numpy=True)
    bad = x.copy()
    bad[700] = 1e30
    np.savez(tmp_path / "bad.npz", x_train=bad, x_test=x[:64])
    out = tmp_path / "run"
    argv = ["train", "autoencoder", "--dataset", str(tmp_path / "bad.npz"), "--likelihood", "gaussian",
            "--epochs", "1", "--batch-size", "64", "--distribute", "multi_worker", "--no-tensorboard",
            "--verbose", "0", "--out", str(out)]  # fmt: skip
    for error in refusing_workers([argv, argv]):
        assert f"Training diverged in {out}: the loss became NaN or Inf" in error
        assert "keras_ae_worker_" not in error


def test_a_worker_that_cannot_load_the_data_stops_every_worker(tmp_path):
    # The same relative --dataset on two workers in different folders: worker 1's has no
    # such file. It fails while loading the data, before the model's variables are created
    # (a collective, in which worker 0 used to wait for it until TensorFlow's health check
    # gave up on it), and worker 0 stops with it.
    from keras_ae.data import load_dataset

    x = load_dataset("digits", "train", as_numpy=True)
    for name in ("has_data", "no_data"):
        (tmp_path / name).mkdir()
    np.savez(tmp_path / "has_data" / "data.npz", x_train=x, x_test=x[:64])
    argv = ["train", "autoencoder", "--dataset", "data.npz", "--epochs", "1", "--batch-size", "64",
            "--distribute", "multi_worker", "--no-tensorboard", "--verbose", "0", "--out",
            str(tmp_path / "run")]  # fmt: skip
    errors = refusing_workers([argv, argv], cwds=[tmp_path / "has_data", tmp_path / "no_data"])
    assert "worker 1 could not start the run (its own output says why)" in errors[0]
    assert "data.npz" in errors[1] and "could not start" not in errors[1]
    assert not (tmp_path / "run").exists()


def test_workers_that_would_resume_different_checkpoints_are_stopped(tmp_path):
    # A run folder that is not shared: worker 0 sees the run's epoch-1 checkpoint, worker 1
    # an empty folder. Resumed so, worker 0 would train epoch 2 while worker 1 trained
    # epochs 1 and 2, leaving worker 0 waiting in an all-reduce. Both must refuse at once.
    def argv(out, epochs, *extra):
        return ["train", "autoencoder", "--dataset", "digits", "--epochs", str(epochs), "--batch-size", "64",
                "--no-tensorboard", "--verbose", "0", "--out", str(tmp_path / out), *extra]  # fmt: skip

    finish_processes([cli(argv("run", 1)), cli(argv("other", 1, "--latent-dim", "3"))], timeout=240)
    for error in refusing_workers(
        [argv(out, 2, "--distribute", "multi_worker") for out in ("run", "unshared")]
    ):
        assert (
            "from different points (worker 0: epoch 1, step 0; worker 1: no checkpoint (a new run))" in error
        )
    # A worker whose folder holds another run refuses with its own message; the other
    # worker stops with it instead of waiting for it.
    errors = refusing_workers([argv(out, 2, "--distribute", "multi_worker") for out in ("run", "other")])
    assert "worker 1 could not start the run (its own output says why)" in errors[0]
    assert "holds a run with other settings (latent_dim: 3 -> 8)" in errors[1]
    # The same for a check that comes before the run folder is read: --restart where
    # worker 1's folder is a project's, not a run (it used to fail before joining the
    # cluster, and worker 0 waited for it without end).
    (tmp_path / "project" / "logs").mkdir(parents=True)
    errors = refusing_workers(
        [argv(out, 2, "--distribute", "multi_worker", "--restart") for out in ("run", "project")]
    )
    assert "worker 1 could not start the run" in errors[0]
    assert "is not a keras-ae run folder" in errors[1] and (tmp_path / "project" / "logs").is_dir()
    # Nothing was trained or written: the run still holds its one epoch.
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())["loss"]) == 1
    assert checkpoint_state(tmp_path / "run")["epoch"] == 1


def test_an_unavailable_error_outside_a_cluster_is_not_a_lost_worker():
    # Only under MultiWorkerMirroredStrategy does an UnavailableError mean a lost worker; a
    # single process can meet one from a remote file system, and keeps TensorFlow's error.
    import tensorflow as tf

    from keras_ae.runs.divergence import lost_worker_detail

    error = tf.errors.UnavailableError(None, None, "Collective ops is aborted by: task 1 is unhealthy")
    assert lost_worker_detail(error, tf.distribute.get_strategy()) is None
    assert lost_worker_detail(ValueError("x"), tf.distribute.get_strategy()) is None
