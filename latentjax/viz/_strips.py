"""Labelled strips of decoded images: reconstructions, interpolations, traversals, analogies.

Thin wrappers over `labelled_grid`: each arranges its images into rows and columns and
writes the labels a reader needs (method names and path lengths, traversal values,
analogy captions). All return a uint8 RGB array [height, width, 3] and save a PNG when
given `path`. Layout keywords (`pad_px`, `background`, `upscale`, `min_cell_px`,
`font_size`) are passed through to `labelled_grid`.

    interpolation_strips({"linear": x_lin, "spherical": x_slerp, "geodesic": x_geo},
                         lengths={"linear": 4.1, "spherical": 4.0, "geodesic": 3.2},
                         path="runs/vae/interpolations.png")
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from latentjax.viz._checks import as_images, as_labels, as_vector, same_image_shape
from latentjax.viz._grids import compose_grid
from latentjax.viz._io import PathLike, save_png


def _finish(pic: np.ndarray, path: PathLike | None) -> np.ndarray:
  if path is not None:
    save_png(pic, path)
  return pic


def reconstruction_pairs(
    originals,
    reconstructions,
    *,
    ncols: int | None = None,
    layout: str = "rows",
    labels: Sequence[str] = ("original", "reconstruction"),
    title: str | None = None,
    path: PathLike | None = None,
    **grid_kwargs,
) -> np.ndarray:
  """Shows originals next to their reconstructions.

  Args:
    originals: [N, H, W, C] or [N, H, W] images in [0, 1].
    reconstructions: the same shape as `originals`.
    ncols: with `layout="rows"`, images per row (None: all N in one row pair; more
      than `ncols` wraps into several row pairs); with `layout="columns"`, pairs per
      row (None: as square as possible).
    layout: "rows" puts a row of originals over a row of reconstructions; "columns"
      alternates original / reconstruction columns.
    labels: the two captions, drawn as row labels ("rows") or column labels ("columns").
    title: optional title.
    path: if given, the picture is also written there as PNG.
    **grid_kwargs: layout options of `labelled_grid`.

  Returns:
    uint8 RGB array [height, width, 3].

  Raises:
    ValueError: on mismatched or malformed shapes, or an unknown `layout`.

  Example:
    >>> pic = reconstruction_pairs(x[:8], model_apply(x[:8]), path="recon.png")
  """
  x = as_images(originals, "originals")
  y = as_images(reconstructions, "reconstructions")
  same_image_shape({"originals": x, "reconstructions": y})
  labels = as_labels(labels, "labels", 2)
  n, image_shape = x.shape[0], x.shape[1:]
  if ncols is not None and (int(ncols) != ncols or ncols < 1):
    raise ValueError(f"`ncols` must be a positive integer or None, got {ncols!r}")
  if layout == "rows":
    per_row = min(int(ncols or n), n)
    blocks = math.ceil(n / per_row)
    cells = np.zeros((2 * blocks, per_row, *image_shape), np.float32)
    present = np.zeros((2 * blocks, per_row), bool)
    for i in range(n):
      b, j = divmod(i, per_row)
      cells[2 * b, j], cells[2 * b + 1, j] = x[i], y[i]
      present[2 * b:2 * b + 2, j] = True
    pic = compose_grid(cells, present, row_labels=labels * blocks, title=title, **grid_kwargs)
  elif layout == "columns":
    pairs = min(int(ncols or math.ceil(math.sqrt(n))), n)
    rows = math.ceil(n / pairs)
    cells = np.zeros((rows, 2 * pairs, *image_shape), np.float32)
    present = np.zeros((rows, 2 * pairs), bool)
    for i in range(n):
      r, j = divmod(i, pairs)
      cells[r, 2 * j], cells[r, 2 * j + 1] = x[i], y[i]
      present[r, 2 * j:2 * j + 2] = True
    pic = compose_grid(cells, present, col_labels=labels * pairs, title=title,
                       col_gaps=frozenset(range(1, 2 * pairs - 1, 2)), **grid_kwargs)
  else:
    raise ValueError(f"`layout` must be 'rows' or 'columns', got {layout!r}")
  return _finish(pic, path)


def interpolation_strips(
    strips: Mapping[str, object],
    lengths: Mapping[str, float] | None = None,
    *,
    length_fmt: str = "length {:.3g}",
    show_t: bool = False,
    title: str | None = None,
    path: PathLike | None = None,
    **grid_kwargs,
) -> np.ndarray:
  """Shows decoded interpolation paths between the same endpoints, one row per method.

  Args:
    strips: method name -> [T, H, W, C] (or [T, H, W]) decoded images along the path,
      e.g. {"linear": ..., "spherical": ..., "geodesic": ...}. Strips may differ in T
      (shorter ones leave blank cells) but must share the image shape.
    lengths: optional method name -> decoded path length, written right of the row.
    length_fmt: format of a length note.
    show_t: label the columns with t evenly spaced in [0, 1] (for equal-length strips).
    title: optional title.
    path: if given, the picture is also written there as PNG.
    **grid_kwargs: layout options of `labelled_grid`.

  Returns:
    uint8 RGB array [height, width, 3].

  Raises:
    ValueError: if `strips` is empty, shapes disagree, or `lengths` names an
      unknown method.

  Example:
    >>> pic = interpolation_strips({"linear": dec(lerp_path), "geodesic": dec(geo_path)},
    ...                            lengths={"linear": 5.2, "geodesic": 4.1})
  """
  if not strips:
    raise ValueError("`strips` must name at least one method, got an empty mapping")
  arrays = {name: as_images(s, f"strips[{name!r}]", lead=("T",)) for name, s in strips.items()}
  same_image_shape({f"strips[{k!r}]": v for k, v in arrays.items()}, lead=0)
  lengths = dict(lengths or {})
  unknown = sorted(set(lengths) - set(arrays))
  if unknown:
    raise ValueError(f"`lengths` names methods missing from `strips`: {unknown}")
  names = list(arrays)
  steps = max(a.shape[0] for a in arrays.values())
  image_shape = next(iter(arrays.values())).shape[1:]
  cells = np.zeros((len(names), steps, *image_shape), np.float32)
  present = np.zeros((len(names), steps), bool)
  for r, name in enumerate(names):
    t = arrays[name].shape[0]
    cells[r, :t], present[r, :t] = arrays[name], True
  notes = None
  if lengths:
    notes = [length_fmt.format(float(lengths[n])) if n in lengths else "" for n in names]
  col_labels = None
  if show_t:
    col_labels = [f"{t:.2g}" for t in np.linspace(0.0, 1.0, steps)]
  pic = compose_grid(cells, present, row_labels=[str(n) for n in names], row_notes=notes,
                     col_labels=col_labels, title=title, **grid_kwargs)
  return _finish(pic, path)


def traversal_grid(
    images,
    row_labels: Sequence[str] | None = None,
    col_values: Sequence[float] | None = None,
    *,
    value_fmt: str = "{:+.2g}",
    title: str | None = None,
    path: PathLike | None = None,
    **grid_kwargs,
) -> np.ndarray:
  """Shows latent traversals: one row per latent dimension or direction.

  Args:
    images: [R, V, H, W, C] (or [R, V, H, W]): row r decodes the code moved along
      dimension / direction r to each of V values.
    row_labels: R labels, e.g. ["z0", "z1"] or ["PC1", "smile"].
    col_values: V traversal values, written above the columns with `value_fmt`.
    value_fmt: format of a column value.
    title: optional title.
    path: if given, the picture is also written there as PNG.
    **grid_kwargs: layout options of `labelled_grid`.

  Returns:
    uint8 RGB array [height, width, 3].

  Raises:
    ValueError: on malformed `images` or label lengths.

  Example:
    >>> pic = traversal_grid(decoded, [f"z{i}" for i in range(4)], np.linspace(-3, 3, 7))
  """
  cells = as_images(images, "images", lead=("R", "V"))
  rows, values = cells.shape[:2]
  col_labels = None
  if col_values is not None:
    col_values = as_vector(col_values, "col_values", values)
    col_labels = [value_fmt.format(float(v)) for v in col_values]
  pic = compose_grid(cells, row_labels=as_labels(row_labels, "row_labels", rows),
                     col_labels=col_labels, title=title, **grid_kwargs)
  return _finish(pic, path)


def arithmetic_panel(
    a,
    b,
    c,
    result,
    *,
    captions: Sequence[str] = ("a", "b", "c", "c + (b − a)"),
    extra: Mapping[str, object] | None = None,
    row_labels: Sequence[str] | None = None,
    title: str | None = None,
    path: PathLike | None = None,
    **grid_kwargs,
) -> np.ndarray:
  """Shows latent arithmetic: rows of a, b, c and the decoded c + (b - a).

  Args:
    a: [N, H, W, C] (or [N, H, W]) decoded "a" codes, one analogy per row.
    b: same shape, decoded "b" codes.
    c: same shape, decoded "c" codes.
    result: same shape, decoded `analogy(a, b, c)` codes.
    captions: four column captions.
    extra: optional caption -> [N, H, W, C] columns appended after the result
      (e.g. a real reference image).
    row_labels: optional N row labels.
    title: optional title.
    path: if given, the picture is also written there as PNG.
    **grid_kwargs: layout options of `labelled_grid`.

  Returns:
    uint8 RGB array [height, width, 3]; the result column is set apart by a gap.

  Raises:
    ValueError: if shapes differ or label lengths are wrong.

  Example:
    >>> pic = arithmetic_panel(dec(za), dec(zb), dec(zc), dec(lo.analogy(za, zb, zc)))
  """
  columns = {"a": a, "b": b, "c": c, "result": result}
  columns.update({f"extra[{k!r}]": v for k, v in (extra or {}).items()})
  arrays = {k: as_images(v, k) for k, v in columns.items()}
  same_image_shape(arrays)
  col_labels = as_labels(captions, "captions", 4) + [str(k) for k in (extra or {})]
  cells = np.stack(list(arrays.values()), axis=1)
  pic = compose_grid(cells, row_labels=as_labels(row_labels, "row_labels", cells.shape[0]),
                     col_labels=col_labels, col_gaps=frozenset({2}), title=title,
                     **grid_kwargs)
  return _finish(pic, path)


def style_class_grid(
    images,
    *,
    sources=None,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    source_label: str = "style",
    title: str | None = None,
    path: PathLike | None = None,
    **grid_kwargs,
) -> np.ndarray:
  """Shows "this image's style, with another class": rows = style sources, columns = classes.

  Typically decoded from a conditional VAE with the style code of row r's source and
  the class label of column k.

  Args:
    images: [R, K, H, W, C] (or [R, K, H, W]) decoded images.
    sources: optional [R, H, W, C] style-source images shown as a first column.
    row_labels: optional R row labels.
    col_labels: optional K class names (e.g. ["0", "1", ...]).
    source_label: caption of the `sources` column.
    title: optional title.
    path: if given, the picture is also written there as PNG.
    **grid_kwargs: layout options of `labelled_grid`.

  Returns:
    uint8 RGB array [height, width, 3].

  Raises:
    ValueError: on malformed shapes or label lengths.

  Example:
    >>> pic = style_class_grid(decoded, sources=x[:5], col_labels=[str(k) for k in range(10)])
  """
  cells = as_images(images, "images", lead=("R", "K"))
  rows, classes = cells.shape[:2]
  col_labels = as_labels(col_labels, "col_labels", classes)
  gaps = frozenset()
  if sources is not None:
    src = as_images(sources, "sources")
    if src.shape != (rows, *cells.shape[2:]):
      raise ValueError(
          f"`sources` must be [R, H, W, C] = {(rows, *cells.shape[2:])}, got shape {src.shape}")
    cells = np.concatenate([src[:, None], cells], axis=1)
    col_labels = [source_label] + (col_labels or [""] * classes)
    gaps = frozenset({0})
  pic = compose_grid(cells, row_labels=as_labels(row_labels, "row_labels", rows),
                     col_labels=col_labels, col_gaps=gaps, title=title, **grid_kwargs)
  return _finish(pic, path)
