"""Saving a layer's random-number state with its weights."""

from keras import ops

SEED_STATE_KEY = "seed_generator_state"


class SavesSeedState:
    """Mixin for a layer that draws noise from `self.seed_generator`: its state (seed and
    counter) is saved with the layer's weights and restored on loading.

    Keras saves weights but not a `keras.random.SeedGenerator`'s state, so a reloaded
    layer would restart its noise stream (or, without a seed, draw a new one). A training
    run resumed from a checkpoint then draws other noise than the uninterrupted run would
    have; with the state restored, it draws exactly the same. Files saved without the state
    (older keras-ae versions) still load, with the layer's fresh stream.

    Example:
        >>> class MyNoise(SavesSeedState, keras.layers.Layer): ...
    """

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store[SEED_STATE_KEY] = ops.convert_to_numpy(self.seed_generator.state)

    def load_own_variables(self, store):
        keys = list(store.keys())
        if SEED_STATE_KEY not in keys:
            super().load_own_variables(store)
            return
        self.seed_generator.state.assign(store[SEED_STATE_KEY][...])
        super().load_own_variables({key: store[key] for key in keys if key != SEED_STATE_KEY})


def derived_seed(seed, stream=1):
    """A seed for another random stream of the object seeded with `seed`.

    Keras draws with a `SeedGenerator`'s state as the key of a counter-based generator,
    so two layers seeded alike draw from the same bits in the same step (a uniform and a
    normal draw then correlate). Seeding the extra layer with `derived_seed(seed)` keeps
    the streams independent and the whole model reproducible from its one seed.

    Args:
        seed: an int >= 0.
        stream: which extra stream (1, 2, ...).

    Returns:
        An int in `[0, 2**31 - 1)`.
    """
    return (seed * 1_000_003 + stream * 7_919) % (2**31 - 1)
