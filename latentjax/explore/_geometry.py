"""The geometry of a 2-D latent space: magnification factor on a grid, and geodesics.

As in "Latent Space Oddity" (Arvanitidis, Hansen & Hauberg, 2018): the decoder's
magnification factor sqrt(det(J^T J)) over the plane of codes shows where the
decoder stretches space; geodesics of the pull-back metric bend around those
regions, and their decoded length is shorter than that of the straight line.

    extent = latent_extent(codes.codes)                    # (xmin, xmax, ymin, ymax)
    mf = magnification_grid(decoder, extent, grid_size=64)  # [64, 64]
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo


def latent_extent(codes, *, quantile: float = 0.995, margin: float = 0.15,
                  minimum: float = 1.0) -> tuple[float, float, float, float]:
  """A square window around 2-D codes, centred at 0, for heat maps.

  Args:
    codes: [N, 2] codes.
    quantile: the window covers this quantile of |z| on each axis (outliers aside).
    margin: extra fraction added on each side.
    minimum: the half-width is at least this (the prior's bulk for a VAE).

  Returns:
    (xmin, xmax, ymin, ymax), with xmax = ymax = -xmin = -ymin.

  Raises:
    ValueError: if `codes` is not [N, 2].
  """
  z = np.asarray(codes, np.float64)
  if z.ndim != 2 or z.shape[1] != 2 or z.shape[0] < 1:
    raise ValueError(f"`codes` must be [N, 2] with N >= 1, got shape {z.shape}")
  half = float(np.quantile(np.abs(z), quantile)) * (1.0 + margin)
  half = max(half, minimum)
  half = float(np.ceil(half * 4.0) / 4.0)  # A round number for the axes.
  return (-half, half, -half, half)


def grid_points(extent, grid_size: int) -> np.ndarray:
  """Grid codes [G, G, 2] in the layout of `np.meshgrid(xs, ys)` (rows follow y)."""
  xmin, xmax, ymin, ymax = (float(v) for v in extent)
  if isinstance(grid_size, bool) or not isinstance(grid_size, int) or grid_size < 2:
    raise ValueError(f"`grid_size` must be an int >= 2, got {grid_size!r}")
  xs = np.linspace(xmin, xmax, grid_size, dtype=np.float32)
  ys = np.linspace(ymin, ymax, grid_size, dtype=np.float32)
  return np.stack(np.meshgrid(xs, ys), axis=-1)


def magnification_grid(decoder, extent, grid_size: int = 64) -> np.ndarray:
  """The magnification factor sqrt(det(J^T J)) of a decoder over a grid of 2-D codes.

  Args:
    decoder: ``z [2] -> x``, JAX-traceable (`latent_ops.magnification_factor`).
    extent: (xmin, xmax, ymin, ymax) of the grid.
    grid_size: points per side.

  Returns:
    [grid_size, grid_size] numpy values; entry [i, j] is at (x_j, y_i), the layout
    `viz.magnification_heatmap` expects.

  Raises:
    ValueError: on a bad `grid_size`.
  """
  pts = jnp.asarray(grid_points(extent, grid_size))
  return np.asarray(lo.magnification_factor(decoder, pts), np.float64)
