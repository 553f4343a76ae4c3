"""The model store: `saved_models/<name>/<version>/` and the `models.config` naming each model.

TF Serving serves every model listed in a `model_config_list` (`--model_config_file`),
each from a base folder holding numbered version folders; by default it serves the
highest version. `write_models_config` regenerates that file from the folder itself.
"""

import argparse
import os
import sys

from keras_ae._utils import write_text_atomically
from keras_ae.export.versions import servable_versions

MODELS_CONFIG = "models.config"

#: Where the store is mounted in the TF Serving docker image (`-v "$PWD/saved_models:/models"`).
DOCKER_BASE_PATH = "/models"


def list_store(store_dir):
    """Returns `{model_name: [versions]}` for every servable model in `store_dir`.

    A model is a subfolder holding at least one numbered version folder with a
    `saved_model.pb`; other files and folders (README, hidden temporary exports) are
    ignored, as TF Serving ignores them.
    """
    store_dir = os.fspath(store_dir)
    if not os.path.isdir(store_dir):
        raise FileNotFoundError(f"Model store folder not found: {store_dir}")
    models = {}
    for name in sorted(os.listdir(store_dir)):
        base = os.path.join(store_dir, name)
        if name.startswith(".") or not os.path.isdir(base):
            continue
        versions = servable_versions(base)
        if versions:
            models[name] = versions
    return models


def models_config_text(names, base_path=DOCKER_BASE_PATH):
    """The text-format `ModelServerConfig` serving `names` from `base_path/<name>`.

    Args:
        names: model names (folder names of the store).
        base_path: the store's path as the server sees it (absolute: TF Serving resolves
            `base_path` on its own file system).

    Returns:
        The file's text.
    """
    for name in names:
        if not name or any(c in name for c in '"\\\n/'):
            raise ValueError(f"A model name must be a plain folder name. Received: name={name!r}")
    lines = ["model_config_list {"]
    for name in names:
        lines += [
            "  config {",
            f'    name: "{name}"',
            f'    base_path: "{base_path.rstrip("/")}/{name}"',
            '    model_platform: "tensorflow"',
            "  }",
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"


def write_models_config(store_dir, base_path=DOCKER_BASE_PATH, path=None):
    """Regenerates the store's `models.config` from the models found in `store_dir`.

    Args:
        store_dir: the store folder, e.g. `"saved_models"`.
        base_path: the store's path as the server sees it: `"/models"` for the docker
            image with the store mounted there, or the absolute path of `store_dir` for a
            local `tensorflow_model_server`.
        path: where to write; defaults to `store_dir/models.config`.

    Returns:
        The path written.

    Example:
        >>> write_models_config("saved_models")                       # for docker
        >>> write_models_config("saved_models", os.path.abspath("saved_models"),
        ...                     path="/tmp/models.config")           # for a local server
    """
    names = list(list_store(store_dir))
    if not names:
        raise ValueError(
            f"No exported model (name/<version>/saved_model.pb) found in store_dir={store_dir!r}"
        )
    path = os.path.join(os.fspath(store_dir), MODELS_CONFIG) if path is None else os.fspath(path)
    return write_text_atomically(path, models_config_text(names, base_path))


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m keras_ae.export.store", description="Regenerate the models.config of a model store."
    )
    parser.add_argument("store_dir", nargs="?", default="saved_models")
    parser.add_argument(
        "--base-path", default=DOCKER_BASE_PATH, help="the store's path as the server sees it"
    )
    parser.add_argument("--out", default=None, help="file to write (default: STORE_DIR/models.config)")
    args = parser.parse_args(argv)
    path = write_models_config(args.store_dir, args.base_path, args.out)
    print(f"Wrote {path}: {', '.join(list_store(args.store_dir))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
