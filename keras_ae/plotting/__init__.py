"""Pictures of autoencoders, written as PNG files with matplotlib (headless Agg backend).

Every function takes a trained model (or a history) and an output path, writes one PNG and
returns the path, so the same pictures come from Python and from `keras-ae plot`.
"""

from keras_ae.plotting.codebook import code_counts, plot_codebook_usage
from keras_ae.plotting.latent import (
    latent_kl_per_dim,
    plot_latent_manifold,
    plot_latent_scatter,
    plot_latent_traversals,
)
from keras_ae.plotting.pictures import (
    first_layer_kernel,
    plot_filters,
    plot_loss_curves,
    plot_reconstructions,
    plot_samples,
)
from keras_ae.plotting.steps import plot_attention_steps, plot_generation_steps

__all__ = [
    "code_counts",
    "first_layer_kernel",
    "latent_kl_per_dim",
    "plot_attention_steps",
    "plot_codebook_usage",
    "plot_filters",
    "plot_generation_steps",
    "plot_latent_manifold",
    "plot_latent_scatter",
    "plot_latent_traversals",
    "plot_loss_curves",
    "plot_reconstructions",
    "plot_samples",
]
