"""Every tutorial runs end to end in fast mode and writes its figures, each panel showing data."""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

from tests.conftest import REPO

TUTORIALS = sorted(p for p in (REPO / "tutorials").glob("*.py") if not p.name.startswith(("_", "to_")))
FIGURES = {
    "autoencoder_and_denoising": ["autoencoder_reconstructions.png", "denoising_side_by_side.png"],
    "vae": ["vae_elbo_terms.png", "vae_latent_scatter.png", "vae_manifold.png", "vae_samples.png"],
    "custom_networks": ["custom_vae_reconstructions.png"],
    "sparse_autoencoders": ["sparse_filters.png", "k_sparse_filters.png", "sparse_reconstructions.png"],
    "beta_vae": [
        "beta_vae_data.png",
        "beta_vae_capacity.png",
        "beta_vae_traversals_0.png",
        "beta_vae_traversals_1.png",
        "beta_vae_traversals_2.png",
        "beta_vae_scores.png",
    ],
    "training_to_serving": ["serving_answers.png", "serving_scores.png"],
    "contractive_autoencoder": ["contractive_jacobian.png", "contractive_reconstructions.png"],
    "draw": ["draw_elbo.png", "draw_generation.png", "draw_attention.png", "draw_samples.png"],
    "vq_vae": [
        "vq_vae_codebook_over_training.png",
        "vq_vae_codebook.png",
        "vq_vae_reconstructions.png",
        "vq_vae_samples.png",
    ],
}


# Runs a tutorial as `python tutorial.py` would, with matplotlib's `Figure.savefig` wrapped
# so that each figure saved to a file also writes `<file>.json` beside it: for each of its
# axes, whether its frame is drawn and what it shows (read from the Figure, not the pixels).
DRIVER = """
import json, os, runpy, sys
import numpy as np
from matplotlib.figure import Figure

savefig = Figure.savefig


def finite(values):
    values = np.ma.filled(np.ma.asarray(values, dtype=float), np.nan).ravel()
    return values[np.isfinite(values)]


def record(figure, path, *args, **kwargs):
    result = savefig(figure, path, *args, **kwargs)
    if isinstance(path, (str, os.PathLike)):
        axes = [
            {
                "on": ax.axison,
                "image_stds": [float(finite(im.get_array()).std()) for im in ax.get_images()],
                "line_ranges": [[float(y.min()), float(y.max())] for line in ax.get_lines()
                                if (y := finite(line.get_ydata())).size],
                "points": sum(len(c.get_offsets()) for c in ax.collections),
                "bars": len(ax.patches),
            }
            for ax in figure.axes
        ]
        with open(os.fspath(path) + ".json", "w") as f:
            json.dump(axes, f)
    return result


Figure.savefig = record
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _check_figure(path):
    """The PNG is a picture that is not one colour, and every panel of its figure shows data,
    some of which varies."""
    import matplotlib.image

    assert path.is_file() and path.stat().st_size > 1000, path.name
    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels[..., :3].std() > 0.01, f"{path.name} is blank"
    axes = json.loads(path.with_name(path.name + ".json").read_text())
    for ax in axes:
        shows = ax["image_stds"] or ax["line_ranges"] or ax["points"] or ax["bars"]
        assert shows or not ax["on"], f"{path.name}: an empty panel {ax}"  # grid fillers are turned off
    # Something varies: an image, the values of a panel's curves (one-epoch curves are single
    # points, which must then differ between curves), its points or its bars.
    varies = [
        max(ax["image_stds"], default=0.0) > 0.01
        or (ax["line_ranges"] and max(r[1] for r in ax["line_ranges"]) > min(r[0] for r in ax["line_ranges"]))
        or ax["points"] > 1
        or ax["bars"] > 1
        for ax in axes
    ]
    assert any(varies), f"{path.name} shows nothing that varies: {axes}"


def test_every_tutorial_declares_its_figures():
    assert {p.stem for p in TUTORIALS} == set(FIGURES)


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_runs_in_fast_mode(script, tmp_path, datasets_dir):
    env = dict(
        os.environ,
        KERAS_AE_TUTORIAL_FAST="1",
        KERAS_AE_TUTORIAL_OUT=str(tmp_path),
        KERAS_AE_DATASETS=str(datasets_dir),
        PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "tutorials")]),
    )
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(script)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for name in FIGURES[script.stem]:
        _check_figure(tmp_path / name)
    if script.stem == "training_to_serving":
        # The local server's config names the store's exported versions by absolute path,
        # and the printed command starts the server with it.
        local = tmp_path / "models.local.config"
        base_paths = re.findall(r'base_path: "([^"]+)"', local.read_text())
        assert base_paths == [str((tmp_path / "model_store" / "vae_mnist").resolve())]
        assert sorted(os.listdir(base_paths[0])) == ["1", "2"]
        assert f"--model_config_file={local}" in result.stdout


@pytest.mark.parametrize("script", TUTORIALS, ids=lambda p: p.stem)
def test_tutorial_converts_to_a_notebook(script, tmp_path):
    sys.path.insert(0, str(REPO / "tutorials"))
    try:
        from to_notebook import convert
    finally:
        sys.path.pop(0)
    notebook = json.loads(pathlib.Path(convert(script, tmp_path)).read_text())
    kinds = [cell["cell_type"] for cell in notebook["cells"]]
    assert kinds[0] == "markdown" and "code" in kinds and kinds.count("markdown") >= 4
    assert notebook["cells"][0]["source"][0].startswith("# ")
    # Every code cell is valid Python on its own.
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            compile("".join(cell["source"]), script.name, "exec")
