"""Animated GIFs of latent walks (interpolations, traversals, denoising), via Pillow.

A decoded path through latent space reads best as a short looping animation. Frames
are nearest-neighbour upscaled so small images (8x8 digits) are viewable, can be
played forward then backward (`boomerang`), and can pause on the endpoints.

    save_gif(decoder(lo.interpolate(z0, z1, 24, method="slerp")), "runs/vae/slerp.gif",
             fps=12, boomerang=True)
"""

from __future__ import annotations

import pathlib

import numpy as np
from PIL import Image

from latentjax.viz._checks import as_images
from latentjax.viz._io import PathLike, resolve_upscale, to_uint8, upscale_nearest


def gif_frames(
    frames,
    *,
    boomerang: bool = False,
    pause_ends: int = 0,
    value_range: tuple[float, float] = (0.0, 1.0),
    upscale: int | None = None,
    min_cell_px: int = 128,
) -> np.ndarray:
  """Prepares the uint8 frames `save_gif` would write, without writing them.

  Args:
    frames: [T, H, W, C] (C in (1, 3)) or [T, H, W] images, float in `value_range`
      or uint8 (e.g. a sequence of pictures made by `image_grid`).
    boomerang: append the frames in reverse (without repeating the endpoints), so
      the loop plays forward then backward smoothly.
    pause_ends: repeat the first and last frame this many extra times.
    value_range: (low, high) of float input, mapped to [0, 1] and clipped.
    upscale: integer nearest-neighbour zoom; None derives it from `min_cell_px`.
    min_cell_px: with `upscale=None`, the minimum longer side of a frame in pixels.

  Returns:
    uint8 array [T', H', W', C] of the frames in playing order.

  Raises:
    ValueError: on malformed `frames` or a negative `pause_ends`.
  """
  x = as_images(frames, "frames", lead=("T",), value_range=value_range)
  if int(pause_ends) != pause_ends or pause_ends < 0:
    raise ValueError(f"`pause_ends` must be a non-negative integer, got {pause_ends!r}")
  x = to_uint8(x)
  parts = [x[:1]] * int(pause_ends) + [x] + [x[-1:]] * int(pause_ends)
  if boomerang and x.shape[0] > 2:
    parts.append(x[-2:0:-1])
  seq = np.concatenate(parts, axis=0)
  scale = resolve_upscale(x.shape[1], x.shape[2], upscale, min_cell_px)
  return upscale_nearest(seq, scale)


def save_gif(
    frames,
    path: PathLike,
    *,
    fps: float = 10.0,
    loop: int | None = 0,
    boomerang: bool = False,
    pause_ends: int = 0,
    value_range: tuple[float, float] = (0.0, 1.0),
    upscale: int | None = None,
    min_cell_px: int = 128,
) -> pathlib.Path:
  """Writes frames as an animated GIF, creating parent directories.

  Args:
    frames: [T, H, W, C] (C in (1, 3)) or [T, H, W] images, float in `value_range`
      or uint8.
    path: destination file name (".gif").
    fps: frames per second (GIF stores delays in 1/100 s, so up to 100).
    loop: number of repeats, 0 to loop forever, None to play once.
    boomerang: play forward then backward (see `gif_frames`).
    pause_ends: extra copies of the first and last frame.
    value_range: (low, high) of float input.
    upscale: integer nearest-neighbour zoom; None derives it from `min_cell_px`.
    min_cell_px: with `upscale=None`, the minimum longer side of a frame in pixels.

  Returns:
    The path written, as a `pathlib.Path`.

  Raises:
    ValueError: on malformed `frames` or a non-positive `fps`.

  Example:
    >>> save_gif(np.random.rand(8, 8, 8), "/tmp/walk.gif", fps=4, boomerang=True)
    PosixPath('/tmp/walk.gif')
  """
  if not fps > 0:
    raise ValueError(f"`fps` must be positive, got {fps!r}")
  seq = gif_frames(frames, boomerang=boomerang, pause_ends=pause_ends,
                   value_range=value_range, upscale=upscale, min_cell_px=min_cell_px)
  if seq.shape[-1] == 1:
    images = [Image.fromarray(np.ascontiguousarray(f[..., 0])) for f in seq]
  else:
    images = [Image.fromarray(f).quantize(colors=256, dither=Image.Dither.NONE)
              for f in seq]
  path = pathlib.Path(path)
  path.parent.mkdir(parents=True, exist_ok=True)
  kwargs = {"loop": int(loop)} if loop is not None else {}
  images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                 duration=max(10, int(round(1000.0 / fps))), optimize=False, disposal=2,
                 **kwargs)
  return path
