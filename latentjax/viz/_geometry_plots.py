"""The magnification-factor heat map of a 2-D latent space, with geodesics drawn on it.

As in "Latent Space Oddity: on the Curvature of Deep Generative Models" (Arvanitidis,
Hansen & Hauberg, 2017): the decoder's magnification factor sqrt(det(J^T J)) (or any
scalar field) over a grid of a 2-D latent space, on a log colour scale, with geodesics
drawn as solid lines and the straight lines between the same endpoints dashed, and the
data codes scattered on top.

    xs, ys = np.linspace(-3, 3, 64), np.linspace(-3, 3, 64)
    zz = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    mf = jax.vmap(lambda z: jnp.sqrt(jnp.linalg.det(lo.pullback_metric(dec, z))))(zz)
    fig = magnification_heatmap(mf.reshape(64, 64), (-3, 3, -3, 3), curves=geodesics,
                                points=z_test, labels=y_test, path="runs/ae2d/mf.png")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from latentjax.viz._checks import as_points, as_vector
from latentjax.viz._io import PathLike, new_figure, save_figure

_CURVE_COLOURS = ("#ff3b3b", "#ffffff", "#ffb000", "#00e0ff", "#ff5cf0", "#7dff5c")


def _as_curves(curves) -> list[tuple[str | None, np.ndarray]]:
  if curves is None:
    return []
  if isinstance(curves, Mapping):
    items = [(str(k), v) for k, v in curves.items()]
  else:  # A list of [T, 2] arrays or one [K, T, 2] array.
    items = [(None, c) for c in curves]
  out = []
  for i, (name, c) in enumerate(items):
    arr = as_points(c, f"curves[{name!r}]" if name else f"curves[{i}]", dims=2)
    if arr.shape[0] < 2:
      raise ValueError(f"`curves[{i}]` must be [T, 2] with T >= 2, got shape {arr.shape}")
    out.append((name, arr))
  return out


def magnification_heatmap(
    grid_values,
    extent: Sequence[float],
    curves=None,
    points=None,
    labels=None,
    *,
    straight_lines: bool = True,
    log_scale: bool = True,
    cmap: str = "viridis",
    value_label: str = "magnification factor",
    title: str | None = None,
    figsize: tuple[float, float] = (6.4, 5.6),
    path: PathLike | None = None,
    ax=None,
) -> Figure:
  """Draws a scalar field over a 2-D latent space with curves and codes on top.

  Args:
    grid_values: [H, W] values on a regular grid: `grid_values[i, j]` is the value at
      (x_j, y_i), x increasing along columns and y along rows from `ymin` (the layout
      of `np.meshgrid(xs, ys)`).
    extent: (xmin, xmax, ymin, ymax) of the grid.
    curves: optional geodesics: a list of [T, 2] arrays, a [K, T, 2] array, or a
      mapping name -> [T, 2] (names go in the legend). Drawn solid, endpoints dotted.
    points: optional [N, 2] data codes, scattered on top.
    labels: optional [N] class labels colouring `points`.
    straight_lines: also draw the straight segment between each curve's endpoints,
      dashed, in the curve's colour.
    log_scale: logarithmic colour scale (non-positive values are shown as the
      lowest colour).
    cmap: matplotlib colour map name.
    value_label: colour bar label.
    title: optional axes title.
    figsize: figure size in inches.
    path: if given, the figure is also saved there as PNG.
    ax: optional matplotlib axes to draw into (its figure is returned; `figsize` unused).

  Returns:
    The matplotlib `Figure`.

  Raises:
    ValueError: on malformed `grid_values`, `extent`, `curves`, `points` or `labels`.

  Example:
    >>> fig = magnification_heatmap(np.random.rand(32, 32) + 0.1, (-2, 2, -2, 2),
    ...                             curves=[np.stack([np.linspace(-1, 1, 9)] * 2, -1)])
  """
  values = np.asarray(grid_values, dtype=np.float64)
  if values.ndim != 2 or min(values.shape) < 2:
    raise ValueError(f"`grid_values` must be [H, W] with H, W >= 2, got shape {values.shape}")
  ext = as_vector(extent, "extent", 4).astype(np.float64)
  xmin, xmax, ymin, ymax = ext.tolist()
  if not (xmax > xmin and ymax > ymin):
    raise ValueError(f"`extent` must be (xmin, xmax, ymin, ymax) with max > min, got {extent}")
  paths = _as_curves(curves)
  pts = None if points is None else as_points(points, "points", dims=2)
  y = None
  if labels is not None:
    if pts is None:
      raise ValueError("`labels` needs `points`")
    y = as_vector(labels, "labels", pts.shape[0])

  if ax is None:
    fig = new_figure(figsize, layout="compressed")
    ax = fig.add_subplot()
  else:
    fig = ax.figure
  finite = values[np.isfinite(values)]
  positive = finite[finite > 0]
  norm = None
  if log_scale and positive.size:
    vmax = positive.max()
    vmin = max(positive.min(), vmax * 1e-8)
    norm = mcolors.LogNorm(vmin=vmin, vmax=vmax)
    values = np.where(values > 0, values, vmin)
  ratio = (ymax - ymin) / (xmax - xmin)
  im = ax.imshow(values, origin="lower", extent=(xmin, xmax, ymin, ymax), cmap=cmap, norm=norm,
                 interpolation="bilinear", aspect="equal" if 0.25 <= ratio <= 4 else "auto")
  fig.colorbar(im, ax=ax, label=value_label + (" (log scale)" if norm is not None else ""),
               shrink=0.9)

  if pts is not None:
    if y is None:
      ax.scatter(pts[:, 0], pts[:, 1], s=6, c="white", edgecolors="black", linewidths=0.3,
                 alpha=0.7, zorder=2)
    else:
      classes = np.unique(y)
      palette = matplotlib.colormaps["tab10" if classes.size <= 10 else "tab20"]
      for i, cls in enumerate(classes):
        mask = y == cls
        ax.scatter(pts[mask, 0], pts[mask, 1], s=8, color=palette(i % palette.N),
                   edgecolors="black", linewidths=0.2, alpha=0.85, zorder=2)

  outline = [patheffects.withStroke(linewidth=3.2, foreground="black")]
  legend = []
  for i, (name, c) in enumerate(paths):
    colour = _CURVE_COLOURS[i % len(_CURVE_COLOURS)]
    ax.plot(c[:, 0], c[:, 1], color=colour, linewidth=2.0, path_effects=outline, zorder=4)
    if straight_lines:
      ax.plot(c[[0, -1], 0], c[[0, -1], 1], color=colour, linewidth=1.5, linestyle=(0, (4, 3)),
              path_effects=outline, zorder=3)
    ax.scatter(c[[0, -1], 0], c[[0, -1], 1], s=30, color=colour, edgecolors="black",
               linewidths=1.0, zorder=5)
    if name:
      legend.append(Line2D([], [], color=colour, linewidth=2.0, label=name,
                           path_effects=outline))
  if paths:
    legend.append(Line2D([], [], color="black", linewidth=2.0, label="geodesic"))
    if straight_lines:
      legend.append(Line2D([], [], color="black", linewidth=1.5, linestyle=(0, (4, 3)),
                           label="straight line"))
    ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.11), fontsize="small",
              ncols=min(3, len(legend)), frameon=False, handlelength=2.5)
  ax.set_xlim(xmin, xmax)
  ax.set_ylim(ymin, ymax)
  ax.set_xlabel("z1")
  ax.set_ylabel("z2")
  ax.set_title(title or value_label)
  if path is not None:
    save_figure(fig, path)
  return fig


def magnification_comparison(
    panels: Mapping[str, tuple],
    extent: Sequence[float],
    points=None,
    labels=None,
    *,
    value_label: str = "magnification factor",
    panel_size: tuple[float, float] = (6.0, 5.4),
    path: PathLike | None = None,
) -> Figure:
  """Heat maps of several metrics over one 2-D latent window, side by side.

  Each panel is :func:`magnification_heatmap` with its own colour scale, so the same
  codes and endpoints can be compared under, say, the mean-only and the expected metric.

  Args:
    panels: ``{title: (grid_values [H, W], curves)}``, curves as in
      :func:`magnification_heatmap` (or None).
    extent: (xmin, xmax, ymin, ymax) shared by every grid.
    points: optional [N, 2] codes drawn on every panel.
    labels: optional [N] labels colouring them.
    value_label: colour bar label.
    panel_size: inches per panel.
    path: if given, the figure is also saved there as PNG.

  Returns:
    The matplotlib `Figure`.

  Raises:
    ValueError: no panels, or malformed inputs (as :func:`magnification_heatmap`).

  Example:
    >>> magnification_comparison({"mean": (mf, geo), "expected": (mf_e, geo_e)}, ext)
  """
  if not panels:
    raise ValueError("`panels` must hold at least one (grid_values, curves) pair")
  fig = new_figure((panel_size[0] * len(panels), panel_size[1]), layout="compressed")
  axes = fig.subplots(1, len(panels), squeeze=False)[0]
  for ax, (title, (values, curves)) in zip(axes, panels.items(), strict=True):
    magnification_heatmap(values, extent, curves=curves, points=points, labels=labels,
                          value_label=value_label, title=title, ax=ax)
  if path is not None:
    save_figure(fig, path)
  return fig
