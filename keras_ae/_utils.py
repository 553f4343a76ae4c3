"""Small helpers shared across the package: atomic file writes and a layer walker."""

import json
import os
import tempfile


def write_text_atomically(path, text):
    """Writes `text` to `path` through a temporary file and a rename.

    A reader sees the old file or the whole new one, never a half-written file, and an
    interruption leaves the old file in place. Concurrent writers (processes or threads)
    each write their own temporary file: the file ends up as one writer's whole text.
    """
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.tmp-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            # On disk before the rename: after a power loss the name holds the old text or
            # the whole new one, not an empty file.
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates the file private (0600); give it an ordinary file's permissions.
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def fsync_file(path):
    """Flushes the file at `path` to disk (its data, before a rename publishes it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_umask():
    """The process's umask, read without changing it where the system allows.

    `os.umask` can only be read by setting it, which for a moment affects files other
    threads create; Linux reports it in `/proc/self/status`.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json_atomically(path, payload):
    """Writes `payload` as indented JSON to `path` atomically (see `write_text_atomically`)."""
    return write_text_atomically(path, json.dumps(payload, indent=2) + "\n")


def read_json(path):
    """Returns the JSON document stored in `path`.

    Raises:
        ValueError: the file is not valid JSON (cut short by a lost machine, say); the
            message names the file.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f"{os.fspath(path)} is not valid JSON ({error}); it may have been cut short."
        ) from None


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
