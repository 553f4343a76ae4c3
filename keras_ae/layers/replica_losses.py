"""`add_loss` terms kept per thread, for layers and models that all-reduce inside their call."""

import threading

import keras


def in_stateless_scope():
    return keras.src.backend.in_stateless_scope()


class ReplicaLosses:
    """Mixin (before the Keras class in the bases) that keeps a layer's own `add_loss` terms
    in one list per thread.

    MirroredStrategy runs the replicas' steps in threads over the same layer objects, one
    thread at a time, switching at every all-reduce. Keras keeps `add_loss` terms in one
    list per layer, which each thread clears when its outermost call starts. A layer whose
    call all-reduces (the EMA codebook's statistics, the k-sparse dead-unit count) hands
    over to the next replica in the middle of its call, so with one list a replica would
    read the other replica's terms instead of, or beside, its own. Each thread keeps its
    own list here. Only the layer's own terms are kept per thread, not its sublayers'.
    """

    def _thread_losses(self):
        # Created on first use (through `__dict__`, out of Keras' attribute tracking), so
        # the mixin needs no constructor.
        local = self.__dict__.setdefault("_replica_losses", threading.local())
        if not hasattr(local, "losses"):
            local.losses = []
        return local.losses

    def add_loss(self, loss):
        if in_stateless_scope():
            return super().add_loss(loss)
        self._thread_losses().extend(keras.tree.flatten(loss))

    def _get_own_losses(self):
        if in_stateless_scope():
            return super()._get_own_losses()
        return list(self._thread_losses())

    def _clear_losses(self):
        super()._clear_losses()
        self._thread_losses().clear()
