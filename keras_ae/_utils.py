"""Small helpers shared across the package: atomic file writes and a layer walker."""

import json
import os


def write_text_atomically(path, text):
    """Writes `text` to `path` through a temporary file and a rename.

    A reader sees the old file or the whole new one, never a half-written file, and an
    interruption leaves the old file in place.
    """
    path = os.fspath(path)
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def write_json_atomically(path, payload):
    """Writes `payload` as indented JSON to `path` atomically (see `write_text_atomically`)."""
    return write_text_atomically(path, json.dumps(payload, indent=2) + "\n")


def read_json(path):
    """Returns the JSON document stored in `path`."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def walk_layers(layer):
    """Yields every sublayer of `layer` recursively, innermost first (not `layer` itself).

    Nested models and layers that hold layers (their `_layers`) are entered, so a
    user's custom block is reached too.
    """
    children = getattr(layer, "layers", None)
    if children is None:
        children = getattr(layer, "_layers", [])
    for child in children:
        yield from walk_layers(child)
        yield child
