"""A procedural dSprites: the factor grid and a vectorised numpy renderer.

`sprites` follows dSprites (Matthey et al., 2017): 3 shapes x 6 scales x 40 orientations
x 32 x 32 positions, binary images, with the factor names and value conventions of TFDS's
``dsprites``. Disentanglement metrics render observations for chosen factors with
`render_sprites`, which is what the ``sprites`` TFDS builder stores:

    labels = sprites_factor_labels("32_lite")          # {factor: class indices}
    x = render_sprites_from_labels(**{f"label_{k}": v[:1] for k, v in labels.items()},
                                   resolution=32)      # (1, 32, 32, 1) in {0, 1}

Geometry (image coordinates in [0, 1], x to the right, y downwards, pixel (i, j) centred
at ((j + 0.5) / R, (i + 0.5) / R)):
  * a sprite fits in a disc of radius ``scale * 0.2`` around its centre
    ``0.2 + 0.6 * (x_position, y_position)``, so it never leaves the image;
  * square: half-side ``r / sqrt(2)``; ellipse: semi-axes ``r`` and ``r / 2`` (elongated,
    as in dSprites); heart: the curve ``(x^2 + y^2 - 1)^3 = x^2 y^3``, point down, scaled
    into the disc;
  * the shape turns by ``orientation`` radians, counter-clockwise as displayed;
  * a pixel is 1 when its centre is inside the shape (no anti-aliasing).

Values (as TFDS ``dsprites``): shape 1., 2., 3. (square, ellipse, heart); scale
``linspace(0.5, 1, 6)``; positions ``linspace(0, 1, 32)``; orientation ``2 pi k / 40``,
k = 0..39 (dSprites uses ``linspace(0, 2 pi, 40)``, whose first and last orientations
coincide; here all 40 are distinct, in [0, 2 pi)).
"""

from __future__ import annotations

import dataclasses

import numpy as np

FACTOR_NAMES = ("shape", "scale", "orientation", "x_position", "y_position")
SHAPE_NAMES = ("square", "ellipse", "heart")  # values 1., 2., 3.

_FULL_SIZES = (3, 6, 40, 32, 32)
_MAX_RADIUS = 0.2  # radius (image units) of the disc holding a sprite of scale 1
_HEART_RADIUS = 1.3367  # radius of the heart curve around (0, _HEART_CENTER_Y)
_HEART_CENTER_Y = 0.1181  # middle of the heart's bounding box, y in [-1, 1.236]
_CHUNK = 1024  # examples rendered at once, bounding temporary memory


@dataclasses.dataclass(frozen=True)
class _Grid:
  """A builder config: a resolution and an even subsample of the full factor grid."""

  resolution: int
  orientation_index: tuple[int, ...]
  position_index: tuple[int, ...]


def _even(n_full: int, n: int) -> tuple[int, ...]:
  """n indices spread evenly over range(n_full), both ends included."""
  return tuple(int(i) for i in np.round(np.linspace(0, n_full - 1, n)))


_ALL_ORIENTATIONS = tuple(range(40))
_ALL_POSITIONS = tuple(range(32))
_LITE_ORIENTATIONS = tuple(range(0, 40, 4))  # every 36 degrees: 10 orientations
GRIDS = {
    "64": _Grid(64, _ALL_ORIENTATIONS, _ALL_POSITIONS),
    "32": _Grid(32, _ALL_ORIENTATIONS, _ALL_POSITIONS),
    "32_lite": _Grid(32, _LITE_ORIENTATIONS, _even(32, 8)),
    "16_lite": _Grid(16, _LITE_ORIENTATIONS, _even(32, 8)),
}


def _check_config(config: str) -> _Grid:
  if config not in GRIDS:
    raise ValueError(f"Unknown sprites config {config!r}; known: {', '.join(sorted(GRIDS))}")
  return GRIDS[config]


def _full_values() -> dict[str, np.ndarray]:
  return {
      "shape": np.array([1.0, 2.0, 3.0]),
      "scale": np.linspace(0.5, 1.0, 6),
      "orientation": 2 * np.pi * np.arange(40) / 40,
      "x_position": np.linspace(0.0, 1.0, 32),
      "y_position": np.linspace(0.0, 1.0, 32),
  }


def sprites_factor_labels(config: str = "64") -> dict[str, np.ndarray]:
  """The class indices (into the full dSprites grid) that a config uses, per factor.

  Args:
    config: a ``sprites`` builder config: ``"64"``, ``"32"``, ``"32_lite"``, ``"16_lite"``.

  Returns:
    ``{factor: int64 [n_factor]}`` in `FACTOR_NAMES` order; the config holds their
    Cartesian product. E.g. ``"32_lite"`` keeps orientations 0, 4, ..., 36 and positions
    0, 4, 9, 13, 18, 22, 27, 31.
  """
  grid = _check_config(config)
  idx = (range(3), range(6), grid.orientation_index, grid.position_index, grid.position_index)
  return {name: np.asarray(i, np.int64) for name, i in zip(FACTOR_NAMES, idx, strict=True)}


def sprites_factor_values(config: str = "64") -> dict[str, np.ndarray]:
  """The factor values a config uses: ``{factor: float32 [n_factor]}``, as in dSprites."""
  full = _full_values()
  labels = sprites_factor_labels(config)
  return {k: full[k][labels[k]].astype(np.float32) for k in FACTOR_NAMES}


def sprites_factor_sizes(config: str = "64") -> dict[str, int]:
  """Number of values per factor in a config, e.g. ``{"shape": 3, ..., "y_position": 32}``."""
  return {k: len(v) for k, v in sprites_factor_labels(config).items()}


def sprites_grid_labels(config: str = "64") -> np.ndarray:
  """All factor-label combinations of a config: int64 ``[N, 5]``, the last factor fastest."""
  mesh = np.meshgrid(*sprites_factor_labels(config).values(), indexing="ij")
  return np.stack([m.reshape(-1) for m in mesh], axis=1)


def labels_to_values(labels: np.ndarray) -> np.ndarray:
  """Maps full-grid class indices ``[..., 5]`` to factor values ``[..., 5]`` (float64)."""
  labels = np.asarray(labels)
  full = _full_values()
  for i, (name, size) in enumerate(zip(FACTOR_NAMES, _FULL_SIZES, strict=True)):
    col = labels[..., i]
    if np.any((col < 0) | (col >= size)):
      raise ValueError(f"`label_{name}` must be in [0, {size}), got values {np.unique(col)}")
  return np.stack([full[k][labels[..., i]] for i, k in enumerate(FACTOR_NAMES)], axis=-1)


def _inside(shape_id: int, qx: np.ndarray, qy: np.ndarray) -> np.ndarray:
  """Membership in the unit-disc-sized shape, local coordinates (y up)."""
  if shape_id == 1:  # square, corners on the unit circle
    return np.maximum(np.abs(qx), np.abs(qy)) <= np.sqrt(0.5)
  if shape_id == 2:  # ellipse, 2:1
    return qx**2 + (2.0 * qy) ** 2 <= 1.0
  hx, hy = qx * _HEART_RADIUS, qy * _HEART_RADIUS + _HEART_CENTER_Y
  return (hx**2 + hy**2 - 1.0) ** 3 - hx**2 * hy**3 <= 0.0


def render_sprites(shape, scale, orientation, x_position, y_position, *,
                   resolution: int = 64) -> np.ndarray:
  """Renders sprites from factor values, vectorised over examples.

  Args:
    shape: [N] shape values in {1., 2., 3.} (square, ellipse, heart).
    scale: [N] sizes; dSprites uses [0.5, 1] (1 fills the sprite's disc).
    orientation: [N] angles in radians, counter-clockwise as displayed.
    x_position: [N] horizontal positions in [0, 1] (0: left).
    y_position: [N] vertical positions in [0, 1] (0: top).
    resolution: side R of the square images.

  All factor arguments broadcast together (scalars included) to a batch shape S.

  Returns:
    float32 [*S, R, R, 1] binary images (0. background, 1. sprite).

  Raises:
    ValueError: for a shape value other than 1, 2, 3, a non-positive scale, a
      position outside [0, 1] or a resolution below 1.

  Example:
    >>> render_sprites([1.0, 3.0], 1.0, 0.0, 0.5, 0.5, resolution=16).shape
    (2, 16, 16, 1)
  """
  if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
    raise ValueError(f"`resolution` must be a positive int, got {resolution!r}")
  args = np.broadcast_arrays(*(np.asarray(a, np.float64) for a in
                               (shape, scale, orientation, x_position, y_position)))
  batch_shape = args[0].shape
  shp, scl, ori, px, py = (a.reshape(-1) for a in args)
  shape_id = np.rint(shp).astype(np.int64)
  if np.any(~np.isin(shape_id, (1, 2, 3))) or np.any(np.abs(shp - shape_id) > 1e-6):
    raise ValueError(f"`shape` values must be 1., 2. or 3., got {np.unique(shp)}")
  if np.any(~(scl > 0)):
    raise ValueError(f"`scale` must be positive, got min {scl.min()}")
  for name, p in (("x_position", px), ("y_position", py)):
    if np.any(~((p >= 0) & (p <= 1))):
      raise ValueError(f"`{name}` must be in [0, 1], got range [{p.min()}, {p.max()}]")

  out = np.zeros((shp.size, resolution, resolution), np.float32)
  for start in range(0, shp.size, _CHUNK):
    sl = slice(start, start + _CHUNK)
    out[sl] = _render_chunk(shape_id[sl], scl[sl], ori[sl], px[sl], py[sl], resolution)
  return out.reshape(*batch_shape, resolution, resolution, 1)


def _render_chunk(shape_id, scale, orientation, px, py, resolution: int) -> np.ndarray:
  """[n] factors -> float32 [n, R, R], testing only a window around each sprite.

  The window (side W, the same for the chunk) covers the sprite's disc, so pixels outside
  it are background; membership uses the same pixel-centre values as a full-image test.
  """
  n, res = len(shape_id), resolution
  centres = (np.arange(res) + 0.5) / res
  side = min(res, int(np.ceil(2 * _MAX_RADIUS * scale.max() * res)) + 3)
  cx = _MAX_RADIUS + (1 - 2 * _MAX_RADIUS) * px
  cy = _MAX_RADIUS + (1 - 2 * _MAX_RADIUS) * py
  col0 = np.clip(np.floor(cx * res - side / 2), 0, res - side).astype(np.int64)
  row0 = np.clip(np.floor(cy * res - side / 2), 0, res - side).astype(np.int64)
  cols = col0[:, None, None] + np.arange(side)[None, None, :]  # [n, 1, W]
  rows = row0[:, None, None] + np.arange(side)[None, :, None]  # [n, W, 1]
  r = (_MAX_RADIUS * scale)[:, None, None]
  cos, sin = np.cos(orientation)[:, None, None], np.sin(orientation)[:, None, None]
  dx = centres[cols] - cx[:, None, None]
  dy = cy[:, None, None] - centres[rows]  # rows, flipped so y points up
  qx = (cos * dx + sin * dy) / r  # rotate by -orientation into the sprite's frame
  qy = (cos * dy - sin * dx) / r
  window = np.zeros((n, side, side), bool)
  for s in (1, 2, 3):
    sel = shape_id == s
    if np.any(sel):
      window[sel] = _inside(s, qx[sel], qy[sel])
  out = np.zeros((n, res, res), np.float32)
  out[np.arange(n)[:, None, None], rows, cols] = window
  return out


def render_sprites_from_labels(label_shape, label_scale, label_orientation, label_x_position,
                               label_y_position, *, resolution: int = 64) -> np.ndarray:
  """`render_sprites` from full-grid class indices (the ``label_*`` features).

  Args:
    label_shape: [N] ints in [0, 3).
    label_scale: [N] ints in [0, 6).
    label_orientation: [N] ints in [0, 40).
    label_x_position: [N] ints in [0, 32).
    label_y_position: [N] ints in [0, 32).
    resolution: side R of the images.

  Returns:
    float32 [N, R, R, 1] binary images.
  """
  labels = np.stack(np.broadcast_arrays(label_shape, label_scale, label_orientation,
                                        label_x_position, label_y_position), axis=-1)
  values = labels_to_values(labels.astype(np.int64))
  return render_sprites(*np.moveaxis(values, -1, 0), resolution=resolution)
