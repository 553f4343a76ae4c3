"""The shared case of the command-line tests: a tiny training budget, the log lines that
must never reach a user, and the console script run in a fresh process."""

import os
import subprocess
import sys

from tests.conftest import REPO

#: A training budget of seconds: 192 digits, 2 epochs, a 2-D code.
TINY = [
    "--split",
    "train[:192]",
    "--epochs",
    "2",
    "--batch-size",
    "64",
    "--latent-dim",
    "2",
    "--hidden-units",
    "32",
]
NOISE = (
    "I0000",
    "W0000",
    "WARNING",
    "Warning:",
    "Traceback",
    "oneDNN",
    "cpu_feature_guard",
    "absl::InitializeLog",
)


def run_commands(commands, cwd):
    """Runs `keras-ae` commands one after the other in ONE fresh Python process (TensorFlow is
    imported once), as the console script does: no TF log level set. Returns the exit codes
    and the combined output."""
    script = (
        "import sys\n"
        # As the `keras-ae` console script starts: the package sees its name in argv[0].
        "sys.argv = ['keras-ae']\n"
        "from keras_ae.cli import main\n"
        f"for argv in {commands!r}:\n"
        "    print('>>> keras-ae', ' '.join(argv), flush=True)\n"
        "    print('exit', main(argv), flush=True)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=cwd, env=env
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = result.stdout.split(">>> keras-ae")[1:]
    return outputs, result.stderr
