"""Image grids: plain sample grids and grids with row / column labels.

`labelled_grid` is the one layout engine behind every image-like picture in
`latentjax.viz` (reconstructions, interpolation strips, traversals, arithmetic panels,
diffusion trajectories): images are laid out in rows and columns, upscaled with
nearest-neighbour so 8x8 digits stay crisp, separated by padding, and annotated with
text drawn by Pillow (DejaVu Sans, shipped with matplotlib). The result is a uint8 RGB
numpy array, written to PNG when a `path` is given.

    pic = image_grid(samples, ncols=8, path="runs/vae/samples.png")
    pic = labelled_grid(cells, row_labels=["lerp", "slerp"], col_labels=["t=0", "t=1"])
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Collection, Sequence

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from latentjax.viz._checks import as_images, as_labels, to_rgb
from latentjax.viz._io import PathLike, resolve_upscale, save_png, to_uint8

# Gap colour for pictures whose pixels can take every grey level over whole tiles (noise
# images, saturated samples): a blue grey that no grey pixel has, where a white gap
# would vanish between white pixels.
NOISE_GAP = (0.56, 0.64, 0.78)


@functools.lru_cache(maxsize=32)
def get_font(size: int, bold: bool = False):
  """Returns a Pillow font of the given pixel size (DejaVu Sans, else Pillow's default)."""
  name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
  try:
    return ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name), size)
  except OSError:  # pragma: no cover - matplotlib always ships DejaVu.
    return ImageFont.load_default(size=size)


def _text_width(text: str, font) -> int:
  left, _, right, _ = font.getbbox(text)
  return int(math.ceil(right - left))


def _line_height(font) -> int:
  ascent, descent = font.getmetrics()
  return int(ascent + descent)


def _colour(value, name: str = "background") -> tuple[int, int, int]:
  """Parses a grey level or an RGB triple in [0, 1] into a uint8 RGB tuple."""
  arr = np.asarray(value, dtype=np.float64)
  if arr.ndim == 0:
    arr = np.repeat(arr, 3)
  if arr.shape != (3,) or np.any(arr < 0) or np.any(arr > 1):
    raise ValueError(f"`{name}` must be a grey level or an RGB triple in [0, 1], got {value!r}")
  return tuple(int(v) for v in np.round(arr * 255))


def compose_grid(
    cells: np.ndarray,
    present: np.ndarray | None = None,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    row_notes: Sequence[str] | None = None,
    title: str | None = None,
    col_gaps: Collection[int] = (),
    pad_px: int = 2,
    background=1.0,
    gap=None,
    upscale: int | None = None,
    min_cell_px: int = 48,
    font_size: int = 13,
) -> np.ndarray:
  """Lays out validated cells [R, C, h, w, ch] (floats in [0, 1]) into one uint8 picture.

  See `labelled_grid` for the arguments; `present` [R, C] marks the cells to draw
  (others are left as background). Labels must already have the right lengths.
  """
  rows, cols, h, w, _ = cells.shape
  if int(pad_px) != pad_px or pad_px < 0:
    raise ValueError(f"`pad_px` must be a non-negative integer, got {pad_px!r}")
  if int(font_size) != font_size or font_size < 4:
    raise ValueError(f"`font_size` must be an integer >= 4, got {font_size!r}")
  scale = resolve_upscale(h, w, upscale, min_cell_px)
  cell_h, cell_w = h * scale, w * scale
  bg = _colour(background)
  between = bg if gap is None else _colour(gap, "gap")
  fg = (0, 0, 0) if sum(bg) > 3 * 127 else (255, 255, 255)
  font, title_font = get_font(font_size), get_font(font_size + 2, bold=True)
  line_h, margin = _line_height(font), max(4, font_size // 2)

  slot_w = [cell_w] * cols
  if col_labels is not None:
    slot_w = [max(cell_w, _text_width(t, font) + margin) for t in col_labels]
  left = max(_text_width(t, font) for t in row_labels) + 2 * margin if row_labels else 0
  right = max(_text_width(t, font) for t in row_notes) + 2 * margin if row_notes else 0
  title_h = _line_height(title_font) + margin if title else margin // 2
  header_h = line_h + margin // 4 if col_labels is not None else 0
  row_h = max(cell_h, line_h) if (row_labels or row_notes) else cell_h
  group_gap = 2 * margin

  xs, x = [], left + pad_px
  for j in range(cols):
    xs.append(x)
    x += slot_w[j] + pad_px + (group_gap if j in col_gaps else 0)
  width = x + right
  if title:  # A title wider than the cells and their labels: centre them under it.
    needed = _text_width(title, title_font) + 2 * margin
    shift = max(0, needed - width) // 2
    xs, left, x = [v + shift for v in xs], left + shift, x + shift
    width = max(needed, x + right)
  if not (title or col_labels is not None):
    title_h = 0
  top = title_h + header_h + pad_px
  height = top + rows * (row_h + pad_px)

  canvas = np.empty((height, width, 3), np.uint8)
  canvas[...] = bg
  canvas[top - pad_px:, left:x] = between  # The block of cells and the gaps around them.
  pixels = to_uint8(to_rgb(cells))
  for r in range(rows):
    y = top + r * (row_h + pad_px) + (row_h - cell_h) // 2
    for c in range(cols):
      if present is None or present[r, c]:
        x0 = xs[c] + (slot_w[c] - cell_w) // 2
        canvas[y:y + cell_h, x0:x0 + cell_w] = np.repeat(
            np.repeat(pixels[r, c], scale, axis=0), scale, axis=1)

  if not (title or row_labels or row_notes or col_labels is not None):
    return canvas
  image = Image.fromarray(canvas)
  draw = ImageDraw.Draw(image)

  def put(text, x, y, fnt, align):
    left_bearing = fnt.getbbox(text)[0]
    tw = _text_width(text, fnt)
    x = {"left": x, "center": x - tw / 2, "right": x - tw}[align]
    draw.text((x - left_bearing, y), text, font=fnt, fill=fg)

  if title:
    put(title, width / 2, margin // 2, title_font, "center")
  if col_labels is not None:
    for j, text in enumerate(col_labels):
      put(text, xs[j] + slot_w[j] / 2, title_h + margin // 4, font, "center")
  for r in range(rows):
    y_mid = top + r * (row_h + pad_px) + row_h / 2 - line_h / 2
    if row_labels:
      put(row_labels[r], left - margin, y_mid, font, "right")
    if row_notes:
      put(row_notes[r], x + margin, y_mid, font, "left")
  return np.asarray(image)


def labelled_grid(
    images,
    *,
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    row_notes: Sequence[str] | None = None,
    title: str | None = None,
    col_gaps: Collection[int] = (),
    value_range: tuple[float, float] = (0.0, 1.0),
    pad_px: int = 2,
    background=1.0,
    gap=None,
    upscale: int | None = None,
    min_cell_px: int = 48,
    font_size: int = 13,
    path: PathLike | None = None,
) -> np.ndarray:
  """Lays out a table of images with optional row labels, column labels and notes.

  The general engine behind the strips, traversals and arithmetic panels. Columns
  widen to fit their labels; images are centred in their slots.

  Args:
    images: [R, C, H, W, ch] with ch in (1, 3), or grayscale [R, C, H, W]; float in
      `value_range` (uint8 also accepted).
    row_labels: R strings drawn left of each row.
    col_labels: C strings drawn above each column.
    row_notes: R strings drawn right of each row (e.g. path lengths, errors).
    title: optional bold title above everything.
    col_gaps: column indices after which extra space is inserted, to set a column
      group apart (e.g. the result of an analogy).
    value_range: (low, high) of float input, mapped to [0, 1] and clipped.
    pad_px: padding between cells and around the grid, in output pixels.
    background: grey level or RGB triple in [0, 1] for padding and label areas;
      text is black on light backgrounds, white on dark ones.
    gap: grey level or RGB triple of the padding between and around the cells
      (the label areas keep `background`); None: `background`. `NOISE_GAP` stays
      visible between tiles of any grey level.
    upscale: integer nearest-neighbour zoom; None picks the smallest zoom making
      each cell at least `min_cell_px` on its longer side.
    min_cell_px: see `upscale`.
    font_size: label font size in pixels (the title is 2 px larger, bold).
    path: if given, the picture is also written there as PNG (parents created).

  Returns:
    uint8 RGB array [height, width, 3].

  Raises:
    ValueError: if `images` has the wrong rank or channels, or a label list has the
      wrong length.

  Example:
    >>> cells = np.random.rand(2, 3, 8, 8)
    >>> pic = labelled_grid(cells, row_labels=["a", "b"], col_labels=["x", "y", "z"])
    >>> pic.dtype, pic.ndim
    (dtype('uint8'), 3)
  """
  cells = as_images(images, "images", lead=("R", "C"), value_range=value_range)
  rows, cols = cells.shape[:2]
  pic = compose_grid(
      cells,
      row_labels=as_labels(row_labels, "row_labels", rows),
      col_labels=as_labels(col_labels, "col_labels", cols),
      row_notes=as_labels(row_notes, "row_notes", rows),
      title=title, col_gaps=frozenset(col_gaps), pad_px=pad_px, background=background,
      gap=gap, upscale=upscale, min_cell_px=min_cell_px, font_size=font_size)
  if path is not None:
    save_png(pic, path)
  return pic


def image_grid(
    images,
    ncols: int | None = None,
    *,
    title: str | None = None,
    value_range: tuple[float, float] = (0.0, 1.0),
    pad_px: int = 2,
    background=1.0,
    gap=None,
    upscale: int | None = None,
    min_cell_px: int = 48,
    font_size: int = 13,
    path: PathLike | None = None,
) -> np.ndarray:
  """Tiles a batch of images into a grid, row-major, with padding between them.

  Args:
    images: [N, H, W, C] with C in (1, 3), or grayscale [N, H, W]; float in
      `value_range` (uint8 also accepted). A single image must be given as [1, H, W, C].
    ncols: images per row; None makes the grid as square as possible.
    title: optional title above the grid.
    value_range: (low, high) of float input, mapped to [0, 1] and clipped; use
      (-1, 1) for images in the [-1, 1] convention.
    pad_px: padding between images and around the grid, in output pixels.
    background: grey level or RGB triple in [0, 1] of the padding (the border colour)
      and of the title band.
    gap: grey level or RGB triple of the padding between and around the images;
      None: `background`. `NOISE_GAP` for images that can be white or black
      edge to edge (noise, saturated samples).
    upscale: integer nearest-neighbour zoom; None picks one from `min_cell_px`.
    min_cell_px: with `upscale=None`, the minimum size of an image's longer side.
    font_size: title font size in pixels.
    path: if given, the picture is also written there as PNG.

  Returns:
    uint8 RGB array [height, width, 3]; unused cells of the last row are background.

  Raises:
    ValueError: if `images` has the wrong shape or `ncols` is not a positive integer.

  Example:
    >>> pic = image_grid(np.random.rand(10, 8, 8), ncols=5, upscale=4, pad_px=1)
    >>> pic.shape  # 2 rows of 32 px + 3 pads, 5 columns of 32 px + 6 pads
    (67, 166, 3)
  """
  batch = as_images(images, "images", lead=("N",), value_range=value_range)
  n = batch.shape[0]
  if ncols is None:
    ncols = math.ceil(math.sqrt(n))
  if int(ncols) != ncols or ncols < 1:
    raise ValueError(f"`ncols` must be a positive integer or None, got {ncols!r}")
  ncols = min(int(ncols), n)
  nrows = math.ceil(n / ncols)
  cells = np.zeros((nrows * ncols, *batch.shape[1:]), np.float32)
  cells[:n] = batch
  present = (np.arange(nrows * ncols) < n).reshape(nrows, ncols)
  pic = compose_grid(
      cells.reshape(nrows, ncols, *batch.shape[1:]), present, title=title, pad_px=pad_px,
      background=background, gap=gap, upscale=upscale, min_cell_px=min_cell_px,
      font_size=font_size)
  if path is not None:
    save_png(pic, path)
  return pic
