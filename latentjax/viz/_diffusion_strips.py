"""Pictures of diffusion models: denoising trajectories and DDIM inversion triples.

A diffusion model's "latent" is the noise image it starts from. These pictures show
how samples emerge from noise over the reverse process, and how well deterministic
DDIM inversion (image -> noise -> image) round-trips. Both return a uint8 RGB array
[height, width, 3] and save a PNG when given `path`. Noise reaches white and black
over whole tiles, so their tiles sit in gaps of `NOISE_GAP`, a colour no grey pixel has.

    denoising_trajectory(xs, timesteps, value_range=(-1, 1), path="runs/ddpm/traj.png")
    inversion_triples(x0, diffusion.ddim_invert(s, eps_fn, x0, 50), x0_rec)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from latentjax.viz._checks import (
    as_images,
    as_labels,
    as_vector,
    rescale_per_image,
    same_image_shape,
)
from latentjax.viz._grids import NOISE_GAP, compose_grid
from latentjax.viz._io import PathLike, save_png


def denoising_trajectory(
    images,
    timesteps,
    *,
    row_labels: Sequence[str] | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    title: str | None = None,
    path: PathLike | None = None,
    **grid_kwargs,
) -> np.ndarray:
  """Shows samples along the reverse diffusion process: columns = timesteps, rows = samples.

  Args:
    images: [T, N, H, W, C] (or [T, N, H, W]) intermediate images x_t (or predicted
      x_0) at T recorded timesteps, for N samples.
    timesteps: [T] timestep of each column, written above it as "t=...".
    row_labels: optional N row labels.
    value_range: (low, high) of the images, mapped to [0, 1] and clipped; use
      (-1, 1) for models trained on data scaled to [-1, 1].
    title: optional title.
    path: if given, the picture is also written there as PNG.
    **grid_kwargs: layout options of `labelled_grid` (`pad_px`, `background`, `gap`:
      `NOISE_GAP` by default, which no grey pixel of the noise matches, `upscale`,
      `min_cell_px`, `font_size`).

  Returns:
    uint8 RGB array [height, width, 3].

  Raises:
    ValueError: if `images` is malformed or `timesteps` does not have T entries.

  Example:
    >>> pic = denoising_trajectory(np.random.rand(5, 2, 8, 8), [999, 750, 500, 250, 0])
  """
  frames = as_images(images, "images", lead=("T", "N"), value_range=value_range)
  steps = as_vector(timesteps, "timesteps", frames.shape[0])
  col_labels = [f"t={v:g}" for v in steps.tolist()]
  cells = np.swapaxes(frames, 0, 1)
  pic = compose_grid(cells, row_labels=as_labels(row_labels, "row_labels", cells.shape[0]),
                     col_labels=col_labels, title=title, **{"gap": NOISE_GAP, **grid_kwargs})
  if path is not None:
    save_png(pic, path)
  return pic


def inversion_triples(
    originals,
    inverted_noise,
    reconstructions,
    *,
    labels: Sequence[str] = ("image", "inverted noise", "reconstruction"),
    show_error: bool = True,
    value_range: tuple[float, float] = (0.0, 1.0),
    title: str | None = None,
    path: PathLike | None = None,
    **grid_kwargs,
) -> np.ndarray:
  """Shows image -> inverted noise -> reconstruction, one sample per row.

  The noise column is min-max rescaled to [0, 1] per image so its structure is
  visible whatever its scale; the other columns use `value_range`.

  Args:
    originals: [N, H, W, C] (or [N, H, W]) clean images.
    inverted_noise: same shape, the noise latents found by inversion.
    reconstructions: same shape, the images regenerated from that noise.
    labels: three column captions.
    show_error: write each row's reconstruction mean squared error (in the units of
      `value_range`) to its right.
    value_range: (low, high) of `originals` and `reconstructions`.
    title: optional title.
    path: if given, the picture is also written there as PNG.
    **grid_kwargs: layout options of `labelled_grid` (`gap`: `NOISE_GAP` by default).

  Returns:
    uint8 RGB array [height, width, 3].

  Raises:
    ValueError: if the three arrays differ in shape or are malformed.

  Example:
    >>> pic = inversion_triples(x0, noise, x0_rec, value_range=(-1, 1))
  """
  x = as_images(originals, "originals")
  z = as_images(inverted_noise, "inverted_noise")
  y = as_images(reconstructions, "reconstructions")
  same_image_shape({"originals": x, "inverted_noise": z, "reconstructions": y})
  notes = None
  if show_error:
    mse = np.mean((x - y) ** 2, axis=(1, 2, 3))
    notes = [f"MSE {v:.2e}" for v in mse]
  x01 = as_images(originals, "originals", value_range=value_range)
  y01 = as_images(reconstructions, "reconstructions", value_range=value_range)
  cells = np.stack([x01, rescale_per_image(z), y01], axis=1)
  pic = compose_grid(cells, col_labels=as_labels(labels, "labels", 3), row_notes=notes,
                     title=title, **{"gap": NOISE_GAP, **grid_kwargs})
  if path is not None:
    save_png(pic, path)
  return pic
