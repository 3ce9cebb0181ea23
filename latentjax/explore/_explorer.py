"""The interactive explorer's logic as plain functions: no widgets, no browser needed.

The notebook widget (`LatentExplorer`, in `_explorer_widget.py`) only wires controls to
these functions, so they are tested directly:

    data = explorer_data(decoder, codes, directions={"PC1": (v, sigma)})
    i = nearest_code(data, x=0.3, y=-1.2)            # a click on the scatter -> a code
    view = path_view(data, i, j)                      # linear / slerp / geodesic, decoded
    view.strip, view.lengths                          # uint8 picture, method -> length
    pic = slide_view(data, "PC1", amount=1.5, index=i)  # the code moved along PC1
    fig = scatter_figure(data, selected=(i, j), paths=view.paths)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax import viz
from latentjax.explore._codes import LatentCodes, jitted_decoder
from latentjax.explore._paths import (
    METHODS,
    decoded_lengths,
    interpolation_paths,
    path_frames,
    strip_label,
)


@dataclasses.dataclass(frozen=True, eq=False)
class ExplorerData:
  """What the explorer shows: codes, their 2-D picture, a decoder, named directions.

  Attributes:
    decoder: the JAX decoder ``z [..., D] -> x`` (for geodesics and lengths).
    decode: jitted numpy version of `decoder`.
    codes: [N, D] codes.
    labels: [N] labels or None.
    embedding: [N, 2] scatter coordinates (the codes when D == 2, else PCA).
    mean: [D] centre of the PCA projection.
    components: [2, D] PCA axes (rows), identity for D == 2.
    directions: name -> (unit direction [D], scale): "slide" moves a code by
      ``amount * scale`` along the direction.
  """

  decoder: Callable
  decode: Callable
  codes: np.ndarray
  labels: np.ndarray | None
  embedding: np.ndarray
  mean: np.ndarray
  components: np.ndarray
  directions: dict[str, tuple[np.ndarray, float]]

  def project(self, z) -> np.ndarray:
    """2-D scatter coordinates [..., 2] of codes [..., D]."""
    return (np.asarray(z, np.float64) - self.mean) @ self.components.T


def explorer_data(decoder, codes: LatentCodes | np.ndarray, labels=None, *,
                  directions: Mapping[str, tuple] | None = None) -> ExplorerData:
  """Prepares codes, a 2-D projection and directions for the explorer.

  Args:
    decoder: ``z [..., D] -> x``, JAX-traceable.
    codes: `LatentCodes` or [N, D] codes.
    labels: [N] labels when `codes` is an array.
    directions: optional name -> (direction [D], scale); directions are normalised.
      Without it, the first two principal directions (`latent_ops.pca`), scaled by
      the codes' standard deviation along them.

  Returns:
    The `ExplorerData`.

  Raises:
    ValueError: on malformed codes, labels or directions.
  """
  if isinstance(codes, LatentCodes):
    z, labels = codes.codes, codes.labels
  else:
    z = np.asarray(codes, np.float32)
  if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 2:
    raise ValueError(f"`codes` must be [N, D] with N >= 2 and D >= 2, got shape {z.shape}")
  if labels is not None and np.shape(labels) != (z.shape[0],):
    raise ValueError(f"`labels` must be [N] = [{z.shape[0]}], got shape {np.shape(labels)}")
  d = z.shape[1]
  pca = lo.pca(jnp.asarray(z), 2)
  if d == 2:
    mean, comps = np.zeros(2), np.eye(2)
  else:
    mean = np.asarray(pca.mean, np.float64)
    comps = np.asarray(pca.directions, np.float64)
  if directions is None:
    std = np.sqrt(np.asarray(pca.explained_variance, np.float64))
    directions = {f"PC{k + 1}": (np.asarray(pca.directions[k]), float(std[k]))
                  for k in range(2)}
  dirs = {}
  for name, (v, scale) in directions.items():
    v = np.asarray(v, np.float64)
    if v.shape != (d,) or not np.linalg.norm(v) > 0:
      raise ValueError(f"`directions[{name!r}]` must be a non-zero [D] = [{d}] vector, "
                       f"got shape {v.shape}")
    dirs[str(name)] = ((v / np.linalg.norm(v)).astype(np.float32), float(scale))
  emb = (z - mean) @ comps.T
  return ExplorerData(decoder=decoder, decode=jitted_decoder(decoder), codes=z,
                      labels=None if labels is None else np.asarray(labels),
                      embedding=emb, mean=mean, components=comps, directions=dirs)


def _check_index(data: ExplorerData, index, name: str) -> int:
  n = data.codes.shape[0]
  if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < n:
    raise ValueError(f"`{name}` must be an index in [0, {n}), got {index!r}")
  return int(index)


def nearest_code(data: ExplorerData, x: float, y: float) -> int:
  """Index of the code whose scatter point is nearest to (x, y) (a click)."""
  d2 = ((data.embedding - np.array([x, y], np.float64)) ** 2).sum(1)
  return int(np.argmin(d2))


@dataclasses.dataclass(frozen=True)
class PathView:
  """Decoded paths between two codes.

  Attributes:
    strip: uint8 picture [H, W, 3], one row per method with its length.
    lengths: method -> decoded length.
    paths: method -> [T, D] latent path.
  """

  strip: np.ndarray
  lengths: dict[str, float]
  paths: dict[str, np.ndarray]


def path_view(data: ExplorerData, start: int, end: int, *, num_frames: int = 10,
              num_points: int = 24, geodesic_steps: int = 300, resolution: int = 128,
              methods=METHODS) -> PathView:
  """Linear, spherical and geodesic paths between two codes, decoded side by side.

  Args:
    data: the `ExplorerData`.
    start: index of the first code.
    end: index of the second code.
    num_frames: decoded images per row.
    num_points: points of each path (the geodesic's discretisation).
    geodesic_steps: optimisation steps of the geodesic.
    resolution: fine resampling for the lengths.
    methods: which paths.

  Returns:
    The `PathView`.

  Raises:
    ValueError: if an index is out of range or `start == end`.
  """
  i, j = _check_index(data, start, "start"), _check_index(data, end, "end")
  if i == j:
    raise ValueError(f"`end` must differ from `start`, both are {i}")
  z0, z1 = data.codes[i][None], data.codes[j][None]
  paths = interpolation_paths(data.decoder, z0, z1, num_points=num_points,
                              geodesic_steps=geodesic_steps, methods=methods)
  lengths = decoded_lengths(data.decoder, paths, z0, z1, resolution=resolution)
  frames = path_frames(paths, z0, z1, num_frames)
  strips = {strip_label(m): data.decode(f[0]) for m, f in frames.items()}
  lens = {m: float(v[0]) for m, v in lengths.items()}
  title = f"code {i} → code {j}"
  if data.labels is not None:
    title = f"code {i} (label {data.labels[i]}) → code {j} (label {data.labels[j]})"
  strip = viz.interpolation_strips(strips, {strip_label(m): v for m, v in lens.items()},
                                   title=title)
  return PathView(strip=strip, lengths=lens, paths={m: p[0] for m, p in paths.items()})


def slide_codes(data: ExplorerData, direction: str, amounts, index: int) -> np.ndarray:
  """Codes [A, D]: code `index` moved by ``amount * scale`` along a named direction."""
  if direction not in data.directions:
    raise ValueError(f"Unknown `direction` {direction!r}; known: {', '.join(data.directions)}")
  i = _check_index(data, index, "index")
  v, scale = data.directions[direction]
  a = jnp.atleast_1d(jnp.asarray(amounts, jnp.float32)) * scale
  start = jnp.tile(jnp.asarray(data.codes[i])[None], (a.shape[0], 1))
  return np.asarray(lo.move_along(start, jnp.asarray(v), a), np.float32)


def slide_view(data: ExplorerData, direction: str, amount: float, index: int) -> np.ndarray:
  """The decoded image of a code moved along a direction, next to the original.

  Args:
    data: the `ExplorerData`.
    direction: a name in `data.directions`.
    amount: how far, in units of the direction's scale (e.g. standard deviations).
    index: the code to move.

  Returns:
    uint8 picture [H, W, 3]: the original code decoded, then the moved one.

  Raises:
    ValueError: for an unknown direction or a bad index.
  """
  z = slide_codes(data, direction, [0.0, float(amount)], index)
  x = data.decode(z)
  return viz.labelled_grid(x[None], col_labels=["code", f"{amount:+.2f} × {direction}"])


def scatter_figure(data: ExplorerData, selected=(), paths: Mapping | None = None, *,
                   title: str | None = None):
  """The scatter of codes with selected points circled and paths drawn on it.

  Args:
    data: the `ExplorerData`.
    selected: indices to mark (numbered in order).
    paths: optional method -> [T, D] latent paths, drawn projected.
    title: optional title.

  Returns:
    A matplotlib `Figure`.
  """
  fig = viz.latent_scatter(data.embedding, data.labels, method="none",
                           title=title or ("latent codes" if data.codes.shape[1] == 2
                                           else "latent codes (PCA)"),
                           figsize=(5.5, 4.3))
  ax = fig.axes[0]
  if data.codes.shape[1] > 2:
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
  styles = {"linear": ("k", "--"), "slerp": ("tab:purple", ":"), "geodesic": ("tab:red", "-")}
  for m, p in (paths or {}).items():
    xy = data.project(p)
    colour, ls = styles.get(m, ("0.3", "-"))
    ax.plot(xy[:, 0], xy[:, 1], color=colour, linestyle=ls, linewidth=2, label=strip_label(m))
  for k, idx in enumerate(selected):
    i = _check_index(data, idx, f"selected[{k}]")
    x, y = data.embedding[i]
    ax.scatter([x], [y], s=180, facecolor="none", edgecolor="black", linewidths=2, zorder=6)
    ax.annotate("AB"[k] if k < 2 else str(k), (x, y), xytext=(7, 7),
                textcoords="offset points", fontweight="bold", zorder=7)
  if paths:
    classes_legend = ax.get_legend()
    if classes_legend is not None:
      ax.add_artist(classes_legend)  # Keep it: a second legend() would replace it.
    handles = [h for h in ax.get_lines() if not h.get_label().startswith("_")]
    ax.legend(handles=handles, loc="lower left", fontsize="small", frameon=True)
  return fig


def png_bytes(picture) -> bytes:
  """PNG bytes of a uint8 picture [H, W, 3] or a matplotlib `Figure` (for image widgets)."""
  import io

  import PIL.Image
  from matplotlib.figure import Figure

  if isinstance(picture, Figure):
    picture = viz.figure_to_array(picture)
  buf = io.BytesIO()
  PIL.Image.fromarray(viz.to_uint8(picture)).save(buf, format="PNG")
  return buf.getvalue()
