"""Boundary checks shared by the feature-space sample-quality metrics.

Features are [N, D] arrays (e.g. Inception pool features of real and generated images).
These helpers turn a caller's value into a NumPy array and raise ``ValueError`` naming
the argument for a wrong rank, too few rows, mismatched widths or non-finite values.
"""

import numpy as np


def as_matrix(name: str, x, spec: str = "[N, D]", finite: bool = True) -> np.ndarray:
  """``x`` as a float64 matrix; ``ValueError`` naming ``name`` for another rank (or NaN).

  Raises:
    TypeError: for something that is not a numeric array.
    ValueError: for a rank other than 2, or (``finite``) NaN / infinite values.
  """
  try:
    arr = np.asarray(x, dtype=np.float64)
  except (TypeError, ValueError) as err:
    raise TypeError(f"`{name}` must be a numeric array {spec}, got {type(x).__name__}") from err
  if arr.ndim != 2:
    raise ValueError(f"`{name}` must be {spec}, got shape {arr.shape}")
  if finite and not np.all(np.isfinite(arr)):
    raise ValueError(f"`{name}` must be finite, got {int(np.sum(~np.isfinite(arr)))} "
                     f"NaN/inf values in shape {arr.shape}")
  return arr


def as_features(name: str, x, min_rows: int = 2, dtype=None) -> np.ndarray:
  """``x`` as a finite [N, D] NumPy array with N >= ``min_rows`` and D >= 1.

  Args:
    name: the argument's name, for error messages.
    x: [N, D] numeric array-like.
    min_rows: the fewest rows accepted.
    dtype: the NumPy dtype to convert to (default: keep a floating dtype, turn any
      other into float64).

  Returns:
    The array (not copied when it already has the dtype).

  Raises:
    TypeError: when ``x`` is not numeric.
    ValueError: wrong rank, fewer than ``min_rows`` rows, zero width, NaN or inf.
  """
  try:
    arr = np.asarray(x)
    if dtype is not None:
      arr = arr.astype(dtype, copy=False)
    elif not np.issubdtype(arr.dtype, np.floating):
      arr = arr.astype(np.float64)
  except (TypeError, ValueError) as err:
    raise TypeError(f"`{name}` must be a numeric [N, D] array, got {type(x).__name__}") from err
  if arr.ndim != 2:
    raise ValueError(f"`{name}` must be [N, D] (rank 2), got shape {arr.shape}")
  if arr.shape[0] < min_rows:
    raise ValueError(f"`{name}` must hold N >= {min_rows} points, got shape {arr.shape}")
  if arr.shape[1] < 1:
    raise ValueError(f"`{name}` must have width D >= 1, got shape {arr.shape}")
  if not np.isfinite(arr).all():
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    raise ValueError(f"`{name}` holds {bad} NaN or inf value(s); features must be finite")
  return arr


def as_feature_pair(real, fake, min_rows: int = 2, dtype=None):
  """``(real, fake)`` checked by ``as_features``, and of one width D."""
  real = as_features("real_features", real, min_rows, dtype)
  fake = as_features("fake_features", fake, min_rows, dtype)
  if real.shape[1] != fake.shape[1]:
    raise ValueError(
        f"`fake_features` must be [M, D] with D = {real.shape[1]} (the width of "
        f"`real_features`), got shape {fake.shape}")
  return real, fake


def check_positive_int(name: str, value, minimum: int = 1) -> int:
  """``value`` as an int >= ``minimum`` (bools and non-integers raise ValueError)."""
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
  if value < minimum:
    raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
  return int(value)
