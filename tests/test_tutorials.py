"""Every tutorial runs end to end in fast mode and writes non-blank figures."""

import json
import os
import pathlib
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
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    import matplotlib.image

    for name in FIGURES[script.stem]:
        path = tmp_path / name
        assert path.is_file() and path.stat().st_size > 1000, name
        pixels = matplotlib.image.imread(path)
        assert pixels.std() > 0.01, f"{name} is blank"


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
