"""Seeing generative models and their latent spaces: pictures, plots, GIFs, an HTML report.

Pure picture-making functions: arrays in (numpy or JAX), a picture out, and a PNG
written when given `path=` (parent directories are created). Two return conventions:

- image-like pictures (grids, strips, traversals, analogies, diffusion trajectories)
  return a **uint8 RGB numpy array [height, width, 3]**: `PIL.Image.fromarray(pic)`
  shows it in a notebook, and it can be put in a `Report` or tiled again;
- plots with axes (`latent_scatter`, `magnification_heatmap`, `loss_curves`) return a
  **matplotlib `Figure`** drawn on the non-interactive Agg canvas, never through
  pyplot, so they work headless and display inline in notebooks.

Images are float in [0, 1] laid out NHWC with C in (1, 3); grayscale [N, H, W] (and
[H, W] where a single picture is expected) and uint8 are accepted too. A wrong shape
raises `ValueError` naming the argument and its shape. Small images (8x8 digits) are
upscaled with nearest-neighbour (`upscale=` / `min_cell_px=`).

    from latentjax import viz
    viz.image_grid(samples, ncols=8, path="runs/vae/samples.png")
    viz.interpolation_strips({"linear": x_lin, "geodesic": x_geo},
                             lengths={"linear": 4.1, "geodesic": 3.2}, path="...")
    fig = viz.latent_scatter(z_test, y_test, method="tsne", path="runs/vae/tsne.png")
    viz.Report("VAE").add_section("Samples", images=["runs/vae/samples.png"]).write(
        "runs/vae/report.html")

Nothing is read or written at import time.
"""

from latentjax.viz._animation import gif_frames, save_gif
from latentjax.viz._diffusion_strips import denoising_trajectory, inversion_triples
from latentjax.viz._geometry_plots import magnification_comparison, magnification_heatmap
from latentjax.viz._grids import NOISE_GAP, image_grid, labelled_grid
from latentjax.viz._io import (
    figure_to_array,
    new_figure,
    resolve_upscale,
    save_figure,
    save_png,
    to_uint8,
    upscale_nearest,
)
from latentjax.viz._plots import loss_curves, read_metrics_jsonl, write_metrics_jsonl
from latentjax.viz._report import Report
from latentjax.viz._scatter import latent_scatter
from latentjax.viz._strips import (
    arithmetic_panel,
    interpolation_strips,
    reconstruction_pairs,
    style_class_grid,
    traversal_grid,
)

__all__ = [
    "NOISE_GAP",
    "Report",
    "arithmetic_panel",
    "denoising_trajectory",
    "figure_to_array",
    "gif_frames",
    "image_grid",
    "interpolation_strips",
    "inversion_triples",
    "labelled_grid",
    "latent_scatter",
    "loss_curves",
    "magnification_comparison",
    "magnification_heatmap",
    "new_figure",
    "read_metrics_jsonl",
    "reconstruction_pairs",
    "resolve_upscale",
    "save_figure",
    "save_gif",
    "save_png",
    "style_class_grid",
    "to_uint8",
    "traversal_grid",
    "upscale_nearest",
    "write_metrics_jsonl",
]
