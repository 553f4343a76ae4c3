"""The README cannot drift from the code: its Python blocks run (or at least resolve every
name they import from keras_ae), and every `keras-ae` command line in it parses."""

import ast
import importlib
import re
import shlex

import numpy as np
import pytest

from keras_ae import cli
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.DOTALL)
BASH_BLOCKS = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)

# Blocks run for real on small stand-in data, identified by a line they contain. The other
# blocks need a server, a download or minutes of metrics; their names are resolved below.
RUNNABLE = (
    'model = keras_ae.create_model("vae"',
    "sae = keras_ae.create_model(",
    "path = export_for_serving(",
    "vq = keras_ae.create_model(",
    "draw = keras_ae.create_model(",
)


def stand_ins():
    rng = np.random.default_rng(0)
    images = (rng.uniform(size=(48, 28, 28, 1)) > 0.5).astype("float32")
    return {"x_train": images[:32], "x_val": images[32:40], "x_test": images[40:]}


def test_the_readme_has_code_to_check():
    assert len(PYTHON_BLOCKS) >= 6 and len(BASH_BLOCKS) >= 3
    assert sum(any(key in block for key in RUNNABLE) for block in PYTHON_BLOCKS) == len(RUNNABLE)


@pytest.mark.parametrize("index", range(len(PYTHON_BLOCKS)))
def test_every_python_block_imports_only_what_exists(index):
    tree = ast.parse(PYTHON_BLOCKS[index])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("keras_ae"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{node.module}.{alias.name}"
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "keras_ae"
        ):
            import keras_ae

            assert hasattr(keras_ae, node.attr), f"keras_ae.{node.attr}"


def test_the_runnable_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = stand_ins()
    for block in PYTHON_BLOCKS:
        if any(key in block for key in RUNNABLE):
            exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    # What the blocks promise: a restored model that answers like the trained one.
    x_test = namespace["x_test"]
    np.testing.assert_allclose(
        namespace["restored"].predict(x_test, verbose=0), namespace["recons"], atol=1e-5
    )
    assert namespace["samples"].shape == (16, 28, 28, 1)
    assert namespace["indices"].shape == (8, 7, 7) and namespace["vq_samples"].shape == (16, 28, 28, 1)
    assert namespace["canvases"].shape == (16, 8, 28, 28, 1) and set(namespace["boxes"]) == {"read", "write"}
    assert (tmp_path / "saved_models" / "my_vae" / "2" / "saved_model.pb").is_file()
    assert (tmp_path / "saved_models" / "models.config").is_file()


def test_every_command_line_parses():
    parser = cli.build_parser()
    lines = [line.split("#")[0].strip() for block in BASH_BLOCKS for line in block.splitlines()]
    commands = [shlex.split(line)[1:] for line in lines if line.startswith("keras-ae ")]
    assert len(commands) >= 10
    for argv in commands:
        argv = [a.replace("DIR", str(REPO)) for a in argv]  # `--from DIR` must name a folder
        if argv[0] in ("evaluate", "plot", "export") and not argv[1].startswith("-"):
            argv[1] = str(REPO)  # a run folder the README's earlier commands would have made
        args = parser.parse_args(argv)
        if getattr(args, "check", None):  # what `main` checks across arguments after parsing
            args.check(args)
