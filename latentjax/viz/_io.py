"""Pixels in and out: float images to uint8, nearest-neighbour upscaling, PNG files.

Every picture function in `latentjax.viz` ends here: it builds a float picture in
[0, 1] (or a matplotlib `Figure`), turns it into bytes with `to_uint8`, and writes it
with `save_png` / `save_figure` when given a `path`. Figures are always drawn with the
non-interactive Agg canvas, never through pyplot, so nothing here needs a display.

    pic = to_uint8(images)                 # float [..., H, W, C] in [0, 1] -> uint8
    save_png(upscale_nearest(pic, 4), "runs/vae/samples.png")
"""

from __future__ import annotations

import io
import math
import os
import pathlib
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

PathLike = str | os.PathLike


def to_uint8(images) -> np.ndarray:
  """Converts float images in [0, 1] to uint8 in [0, 255].

  Values outside [0, 1] are clipped, NaN becomes 0 and +/-inf the nearest bound.
  uint8 input is returned unchanged (as a numpy array); booleans map to 0 / 255.

  Args:
    images: array of any shape (numpy or JAX), float in [0, 1], uint8 or bool.

  Returns:
    A uint8 numpy array of the same shape.

  Raises:
    TypeError: if `images` is not numeric.

  Example:
    >>> to_uint8(np.array([0.0, 0.5, 1.0, 2.0]))
    array([  0, 128, 255, 255], dtype=uint8)
  """
  arr = np.asarray(images)
  if arr.dtype == np.uint8:
    return arr
  if arr.dtype == np.bool_:
    return arr.astype(np.uint8) * 255
  if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
    raise TypeError(f"`images` must be a numeric array, got dtype {arr.dtype}")
  arr = np.nan_to_num(arr.astype(np.float32), nan=0.0, posinf=1.0, neginf=0.0)
  return np.round(np.clip(arr, 0.0, 1.0) * 255.0).astype(np.uint8)


def resolve_upscale(height: int, width: int, upscale: int | None, min_cell_px: int) -> int:
  """Chooses an integer nearest-neighbour zoom factor for an image of the given size.

  Args:
    height: image height in pixels.
    width: image width in pixels.
    upscale: an explicit factor (>= 1), or None to derive one from `min_cell_px`.
    min_cell_px: with `upscale=None`, the smallest factor making the longer side
      at least this many pixels (an 8x8 digit becomes 48x48 with the default 48).

  Returns:
    The factor, an int >= 1.

  Raises:
    ValueError: if `upscale` or `min_cell_px` is not a positive integer.
  """
  if upscale is not None:
    if int(upscale) != upscale or upscale < 1:
      raise ValueError(f"`upscale` must be a positive integer or None, got {upscale!r}")
    return int(upscale)
  if int(min_cell_px) != min_cell_px or min_cell_px < 0:
    raise ValueError(f"`min_cell_px` must be a non-negative integer, got {min_cell_px!r}")
  return max(1, math.ceil(min_cell_px / max(height, width, 1)))


def upscale_nearest(images, factor: int) -> np.ndarray:
  """Enlarges images by an integer factor with nearest-neighbour sampling.

  Args:
    images: [..., H, W, C] or [H, W] array.
    factor: integer zoom factor >= 1.

  Returns:
    [..., H * factor, W * factor, C] (or [H * factor, W * factor]) array, same dtype.

  Raises:
    ValueError: if `factor` is not a positive integer or `images` has rank < 2.

  Example:
    >>> upscale_nearest(np.zeros((8, 8, 3)), 4).shape
    (32, 32, 3)
  """
  arr = np.asarray(images)
  if int(factor) != factor or factor < 1:
    raise ValueError(f"`factor` must be a positive integer, got {factor!r}")
  if arr.ndim < 2:
    raise ValueError(f"`images` must have rank >= 2, got shape {arr.shape}")
  if factor == 1:
    return arr
  h_axis, w_axis = (-2, -1) if arr.ndim == 2 else (-3, -2)
  return np.repeat(np.repeat(arr, factor, axis=h_axis), factor, axis=w_axis)


def _as_picture(picture) -> np.ndarray:
  """Checks a single picture and returns it as uint8 [H, W] or [H, W, 3|4]."""
  arr = to_uint8(picture)
  if arr.ndim == 3 and arr.shape[-1] == 1:
    arr = arr[..., 0]
  if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4))):
    raise ValueError(
        f"`picture` must be [H, W], [H, W, 1], [H, W, 3] or [H, W, 4], got shape {arr.shape}")
  if arr.shape[0] == 0 or arr.shape[1] == 0:
    raise ValueError(f"`picture` must not be empty, got shape {arr.shape}")
  return arr


def _prepare_path(path: PathLike) -> pathlib.Path:
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  return path


def save_png(picture, path: PathLike) -> pathlib.Path:
  """Writes one picture to a PNG file, creating parent directories.

  Args:
    picture: [H, W], [H, W, 1], [H, W, 3] or [H, W, 4] array, uint8 or float in [0, 1].
    path: destination file name.

  Returns:
    The path written, as a `pathlib.Path`.

  Raises:
    ValueError: if `picture` does not have one of the shapes above.

  Example:
    >>> save_png(np.random.rand(16, 16, 3), "/tmp/noise.png")
    PosixPath('/tmp/noise.png')
  """
  arr = _as_picture(picture)
  path = _prepare_path(path)
  Image.fromarray(arr).save(path, format="PNG")
  return path


def png_bytes(picture) -> bytes:
  """Encodes one picture (as accepted by `save_png`) to PNG bytes in memory."""
  buffer = io.BytesIO()
  Image.fromarray(_as_picture(picture)).save(buffer, format="PNG")
  return buffer.getvalue()


def new_figure(figsize: Sequence[float] = (6.0, 4.5), dpi: int = 100,
               layout: str = "constrained") -> Figure:
  """Creates a matplotlib `Figure` bound to an Agg canvas, outside pyplot.

  The figure uses the constrained layout engine, so labels and colour bars are not
  clipped. Nothing is registered with pyplot, so the figure is freed with its last
  reference and never pops up a window.

  Args:
    figsize: (width, height) in inches.
    dpi: dots per inch used when rasterising.
    layout: matplotlib layout engine; "compressed" suits axes of fixed aspect
      (images, equal-aspect maps).

  Returns:
    A new, empty `Figure`.
  """
  fig = Figure(figsize=tuple(figsize), dpi=dpi, layout=layout)
  FigureCanvasAgg(fig)
  return fig


def _agg_canvas(fig: Figure) -> FigureCanvasAgg:
  if not isinstance(fig.canvas, FigureCanvasAgg):
    FigureCanvasAgg(fig)
  return fig.canvas


def figure_to_array(fig: Figure) -> np.ndarray:
  """Rasterises a matplotlib figure to a uint8 RGB array.

  Args:
    fig: a matplotlib `Figure`.

  Returns:
    uint8 array [H, W, 3], H and W being the figure size in inches times its dpi.

  Example:
    >>> figure_to_array(new_figure((2, 1), dpi=50)).shape
    (50, 100, 3)
  """
  canvas = _agg_canvas(fig)
  canvas.draw()
  return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_figure(fig: Figure, path: PathLike, dpi: int | None = None) -> pathlib.Path:
  """Saves a matplotlib figure as PNG with a white background, creating parent dirs.

  Args:
    fig: a matplotlib `Figure`.
    path: destination file name.
    dpi: resolution; the figure's own dpi when None.

  Returns:
    The path written, as a `pathlib.Path`.
  """
  path = _prepare_path(path)
  _agg_canvas(fig)
  fig.savefig(path, format="png", dpi=dpi or fig.dpi, facecolor="white")
  return path


def figure_png_bytes(fig: Figure, dpi: int | None = None) -> bytes:
  """Rasterises a matplotlib figure to PNG bytes in memory."""
  buffer = io.BytesIO()
  _agg_canvas(fig)
  fig.savefig(buffer, format="png", dpi=dpi or fig.dpi, facecolor="white")
  return buffer.getvalue()
