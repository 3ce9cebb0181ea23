"""Boundary checks shared by the picture functions.

Every public function in `latentjax.viz` validates its arrays here, so that a wrong
shape fails at once with a message naming the argument and its shape, e.g.
``ValueError("`images` must be [N, H, W, C] with C in (1, 3) or [N, H, W], got shape
(4, 8, 8, 2)")``, instead of as an obscure broadcasting error deep inside matplotlib.

    images = as_images(images, "images", lead=("N",))   # float32 [N, H, W, C]
    cells = as_images(cells, "images", lead=("R", "C"))  # float32 [R, C, H, W, ch]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _asarray(x, name: str) -> np.ndarray:
  try:
    arr = np.asarray(x)
  except ValueError as e:  # Ragged nested lists.
    raise ValueError(f"`{name}` must be a rectangular array: {e}") from None
  if arr.dtype == object:
    raise TypeError(f"`{name}` must be a numeric array, got dtype object")
  return arr


def as_float(arr: np.ndarray, name: str) -> np.ndarray:
  """Converts a numeric array to float32: uint8 is divided by 255, NaN/inf cleaned."""
  if arr.dtype == np.uint8:
    return arr.astype(np.float32) / 255.0
  if arr.dtype == np.bool_:
    return arr.astype(np.float32)
  if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
    raise TypeError(f"`{name}` must be a numeric array, got dtype {arr.dtype}")
  arr = arr.astype(np.float32)
  return np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=0.0)


def as_images(x, name: str, lead: Sequence[str] = ("N",),
              value_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
  """Validates a batch of images and returns float32 [*lead, H, W, C] with C in (1, 3).

  A grayscale [*lead, H, W] whose W is 1 or 3 is refused as ambiguous: it is far more
  likely a colour batch missing a leading axis.

  Args:
    x: [*lead, H, W, C] with C in (1, 3), or grayscale [*lead, H, W]; float (in
      `value_range`), uint8 (0..255) or bool; numpy or JAX.
    name: argument name used in error messages.
    lead: names of the leading batch axes, e.g. ("N",) or ("R", "C").
    value_range: (low, high) of float input, mapped linearly to [0, 1].

  Returns:
    float32 array [*lead, H, W, C], values mapped to [0, 1] (not clipped).

  Raises:
    ValueError: on a wrong rank, channel count or an empty axis.
    TypeError: on non-numeric input.
  """
  arr = _asarray(x, name)
  n = len(lead)
  lead_txt = ", ".join(lead)
  ch = "ch" if "C" in lead else "C"
  expected = (f"`{name}` must be [{lead_txt}, H, W, {ch}] with {ch} in (1, 3) "
              f"or [{lead_txt}, H, W]")
  if arr.ndim == n + 2 and arr.shape[-1] not in (1, 3):
    arr = arr[..., None]
  elif not (arr.ndim == n + 3 and arr.shape[-1] in (1, 3)):
    raise ValueError(f"{expected}, got shape {arr.shape}")
  if 0 in arr.shape:
    raise ValueError(f"`{name}` must not have an empty axis, got shape {arr.shape}")
  is_uint8 = arr.dtype == np.uint8
  arr = as_float(arr, name)
  low, high = value_range
  if not high > low:
    raise ValueError(f"`value_range` must be (low, high) with high > low, got {value_range}")
  if not is_uint8 and (low, high) != (0.0, 1.0):
    arr = (arr - low) / (high - low)
  return arr


def to_rgb(images: np.ndarray) -> np.ndarray:
  """Repeats a single channel three times: [..., 1] -> [..., 3]; RGB is unchanged."""
  if images.shape[-1] == 1:
    return np.repeat(images, 3, axis=-1)
  return images


def same_image_shape(arrays: dict[str, np.ndarray], lead: int = 1) -> None:
  """Raises ValueError unless all arrays share their [H, W, C] (and leading) shape.

  Args:
    arrays: name -> validated image array.
    lead: how many leading axes must match as well (0 for image shape only).
  """
  items = list(arrays.items())
  ref_name, ref = items[0]
  k = ref.ndim - 3 - lead
  for other_name, other in items[1:]:
    if other.shape[k:] != ref.shape[k:]:
      raise ValueError(
          f"`{other_name}` must have the same shape as `{ref_name}`, got "
          f"{other.shape} and {ref.shape}")


def rescale_per_image(images: np.ndarray) -> np.ndarray:
  """Min-max rescales each image of [N, H, W, C] to [0, 1] (constant images to 0.5)."""
  axes = tuple(range(1, images.ndim))
  low = images.min(axis=axes, keepdims=True)
  high = images.max(axis=axes, keepdims=True)
  span = high - low
  safe = np.where(span > 0, span, 1.0)
  return np.where(span > 0, (images - low) / safe, 0.5).astype(np.float32)


def as_labels(labels, name: str, length: int) -> list[str] | None:
  """Checks an optional sequence of text labels of the given length."""
  if labels is None:
    return None
  if isinstance(labels, str):
    raise TypeError(f"`{name}` must be a sequence of strings, got a single string {labels!r}")
  labels = [str(label) for label in labels]
  if len(labels) != length:
    raise ValueError(f"`{name}` must have {length} entries, got {len(labels)}")
  return labels


def as_vector(x, name: str, length: int | None = None) -> np.ndarray:
  """Checks a 1-D numeric array, optionally of a given length."""
  arr = _asarray(x, name)
  if arr.ndim != 1 or (length is not None and arr.shape[0] != length):
    want = f"[{length}]" if length is not None else "1-D"
    raise ValueError(f"`{name}` must be {want}, got shape {arr.shape}")
  return arr


def as_points(x, name: str, dims: int | None = 2) -> np.ndarray:
  """Checks a float array of points [N, dims] (any D when `dims` is None)."""
  arr = _asarray(x, name)
  if arr.ndim != 2 or (dims is not None and arr.shape[1] != dims) or arr.shape[0] == 0:
    want = f"[N, {dims}]" if dims is not None else "[N, D]"
    raise ValueError(f"`{name}` must be {want} with N >= 1, got shape {arr.shape}")
  if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
    raise TypeError(f"`{name}` must be a numeric array, got dtype {arr.dtype}")
  arr = arr.astype(np.float64)
  if not np.all(np.isfinite(arr)):
    raise ValueError(f"`{name}` must be finite, got {int(np.sum(~np.isfinite(arr)))} NaN/inf")
  return arr
