"""Training on several worker processes with TensorFlow's `MultiWorkerMirroredStrategy`.

Two worker processes on 127.0.0.1 (free ports, bounded time, always reaped) train the same
model on the same global batches as one process alone; the losses and weights must agree.
"""

import json
import socket

import numpy as np
import pytest

from tests.conftest import finish_processes, start_python

WORKER = """
import json, os
import numpy as np, tensorflow as tf
import keras, keras_ae

multi = "TF_CONFIG" in os.environ
strategy = tf.distribute.MultiWorkerMirroredStrategy() if multi else tf.distribute.get_strategy()
rng = np.random.default_rng(0)
# 65 examples: the last global batch of each epoch holds one, so one worker's share of it
# is empty (its loss terms would be means over nothing).
x = rng.uniform(size=(65, 10)).astype("float32")
w = rng.uniform(0.2, 2.0, size=65).astype("float32")
results = {}
for name, extra in MODELS.items():
    kw = dict(input_shape=(10,), latent_dim=2, hidden_units=(8,), **extra)
    keras.utils.set_random_seed(0)  # the same initial weights and shuffles in every process
    with strategy.scope():
        model = keras_ae.create_model(name, **kw)
        model.compile(optimizer=keras.optimizers.SGD(0.05))
    # fit outside the scope, as Keras documents: the model keeps its strategy.
    history = model.fit(x, sample_weight=w, batch_size=16, epochs=2, verbose=0)
    results[name] = {
        "loss": history.history["loss"],
        "steps": int(model.train_step_count.numpy()),
        "replicas": strategy.num_replicas_in_sync,
        "weights": [v.tolist() for v in model.get_weights()],
    }
with strategy.scope():
    sampler = keras_ae.layers.Sampling(seed=5)
draw = tf.function(lambda: sampler([tf.zeros((256, 4)), tf.zeros((256, 4))], training=True))
results["noise"] = strategy.experimental_local_results(strategy.run(draw))[0].numpy().tolist()

# An infinite loss in one worker's share only (one bad example: wherever fit's shuffle puts
# it, one worker's share holds it): every worker must stop with the divergence message,
# not wait for the other at the gradients' all-reduce or fail there on a lost peer.
bad = x[:64].copy()
bad[44] = 1e30
keras.utils.set_random_seed(0)
with strategy.scope():
    model = keras_ae.create_model(
        "autoencoder", input_shape=(10,), latent_dim=2, hidden_units=(8,), likelihood="gaussian"
    )
    model.compile(optimizer=keras.optimizers.SGD(0.05))
try:
    model.fit(bad, batch_size=16, epochs=1, verbose=0)
    results["diverged"] = "trained without an error"
except Exception as error:
    from keras_ae.models.training_step import NON_FINITE_LOSS

    results["diverged"] = keras_ae.backend.is_non_finite_error(error, NON_FINITE_LOSS) or repr(error)[:500]
print("RESULT" + json.dumps(results))
"""

# Deterministic models (a VAE's noise depends on how the batch is split over replicas);
# the VQ-VAE's EMA statistics are all-reduced over the workers before the codebook update.
MODELS = {
    "autoencoder": {},
    "vq_vae": {"num_latents": 3, "num_embeddings": 4, "ema": True, "seed": 1},
}


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def tf_config(ports, index):
    workers = [f"127.0.0.1:{port}" for port in ports]
    return json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})


def result(stdout):
    return json.loads(stdout.split("RESULT", 1)[1])


@pytest.fixture(scope="module")
def trained_alone_and_on_two_workers():
    code = WORKER.replace("MODELS.items()", f"{MODELS!r}.items()")
    ports = free_ports(2)
    processes = [start_python(code)]  # one process alone: global batches of 16
    processes += [start_python(code, env={"TF_CONFIG": tf_config(ports, i)}) for i in range(2)]
    return [result(out) for out in finish_processes(processes, timeout=240)]


@pytest.mark.parametrize("name", list(MODELS))
def test_two_workers_match_one_process_on_the_global_batch(trained_alone_and_on_two_workers, name):
    alone, *workers = (r[name] for r in trained_alone_and_on_two_workers)
    assert alone["replicas"] == 1
    for worker in workers:
        assert worker["replicas"] == 2
        # 65 examples in global batches of 16 for 2 epochs: 10 steps on every worker, each
        # on its half of the global batch; were the data duplicated (the same 8 examples
        # on both workers), the gradients and weights would differ from one process's.
        # The fifth step gives one worker 1 example and the other none.
        assert worker["steps"] == alone["steps"] == 10
        # The logged loss is the mean over the examples, not of the two workers' means
        # (which would weigh the 33 examples of one worker like the other's 32).
        np.testing.assert_allclose(worker["loss"], alone["loss"], rtol=1e-5)
        for got, want in zip(worker["weights"], alone["weights"], strict=True):
            np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-5, atol=1e-6)


def test_a_loss_that_is_not_finite_on_one_worker_stops_every_worker(trained_alone_and_on_two_workers):
    assert [r["diverged"] for r in trained_alone_and_on_two_workers] == [True, True, True]


def test_each_worker_draws_its_own_noise(trained_alone_and_on_two_workers):
    # The seed generator's state is mirrored: without the replica folded into the seed,
    # both workers would draw the same noise for different examples.
    alone, first, second = (np.array(r["noise"]) for r in trained_alone_and_on_two_workers)
    assert np.abs(first - second).max() > 0.5
    for noise in (alone, first, second):
        assert abs(noise.mean()) < 0.15 and abs(noise.std() - 1.0) < 0.1  # 1024 standard normals
    # Uncorrelated across the workers.
    assert abs(np.corrcoef(first.ravel(), second.ravel())[0, 1]) < 0.15
