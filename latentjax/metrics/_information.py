"""Histogram discretisation, discrete mutual information and entropy (nats), in NumPy.

The building blocks of the Mutual Information Gap (Chen et al., 2018) as evaluated by
Locatello et al. (2019): each code is cut into equal-width bins, then plug-in (empirical)
mutual information is computed between every discretised code and every factor::

    codes_d = discretize(codes, num_bins=20)          # int [N, K]
    mi = discrete_mutual_info(codes_d, factors)       # [K, F], nats
    h = discrete_entropy(factors)                     # [F], nats
"""

import numpy as np


def _matrix(name: str, x, spec: str) -> np.ndarray:
  arr = np.asarray(x)
  if arr.ndim != 2:
    raise ValueError(f"`{name}` must be {spec}, got shape {arr.shape}")
  if arr.shape[0] < 1 or arr.shape[1] < 1:
    raise ValueError(f"`{name}` must be {spec} with N, columns >= 1, got shape {arr.shape}")
  return arr


def _int_matrix(name: str, x, spec: str) -> np.ndarray:
  arr = _matrix(name, x, spec)
  if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.bool_)):
    if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) or np.any(
        arr != np.round(arr)):
      raise ValueError(f"`{name}` must hold integer values {spec}, got dtype {arr.dtype}")
  return arr.astype(np.int64)


def discretize(codes, num_bins: int = 20) -> np.ndarray:
  """Equal-width histogram bins per code, as ``np.histogram(codes[:, k], num_bins)``.

  Each column is cut into ``num_bins`` bins of equal width between its minimum and
  maximum; bin ``b`` holds ``edge_b <= x < edge_{b+1}`` and the last bin also holds the
  maximum, so ``np.bincount(out[:, k], minlength=num_bins)`` equals the counts of
  ``np.histogram(codes[:, k], num_bins)``. A constant column gets np.histogram's range
  ``(c - 0.5, c + 0.5)`` and so falls in a single bin.

  Args:
    codes: [N, K] finite floats.
    num_bins: number of bins per code, >= 1 (20 in Locatello et al., 2019).

  Returns:
    int64 [N, K] bin indices in ``[0, num_bins)``.

  Raises:
    ValueError: ``codes`` not 2-D, empty or not finite; ``num_bins`` < 1.

  Example:
    >>> discretize(np.array([[0.0], [0.5], [1.0]]), num_bins=2)[:, 0].tolist()
    [0, 1, 1]
  """
  if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
    raise ValueError(f"`num_bins` must be an int >= 1, got {num_bins!r}")
  codes = _matrix("codes", codes, "[N, K]").astype(np.float64)
  if not np.all(np.isfinite(codes)):
    raise ValueError(f"`codes` must be finite, got {int(np.sum(~np.isfinite(codes)))} "
                     "NaN or inf values")
  out = np.empty(codes.shape, np.int64)
  for k in range(codes.shape[1]):
    edges = np.histogram_bin_edges(codes[:, k], bins=int(num_bins))
    # Interior edges only: values below the first go to bin 0, the maximum to the last.
    out[:, k] = np.searchsorted(edges[1:-1], codes[:, k], side="right")
  return out


def _dense_labels(column: np.ndarray) -> tuple[np.ndarray, int]:
  values, inverse = np.unique(column, return_inverse=True)
  return inverse.reshape(-1), len(values)


def _mutual_info(a: np.ndarray, na: int, b: np.ndarray, nb: int) -> float:
  """Plug-in mutual information (nats) of two dense label vectors."""
  n = a.shape[0]
  joint = np.bincount(a * nb + b, minlength=na * nb).reshape(na, nb) / n
  pa, pb = joint.sum(axis=1), joint.sum(axis=0)
  nz = joint > 0
  outer = pa[:, None] * pb[None, :]
  mi = float(np.sum(joint[nz] * np.log(joint[nz] / outer[nz])))
  return max(mi, 0.0)


def discrete_mutual_info(codes_discrete, factors) -> np.ndarray:
  """Empirical mutual information between every discrete code and every factor, in nats.

  ``I(c_k; v_j) = sum_{a, b} p(a, b) log(p(a, b) / (p(a) p(b)))`` from the joint
  histogram of the N pairs (0 log 0 = 0); the values of each column may be any integers.

  Args:
    codes_discrete: [N, K] ints, e.g. `discretize` of the codes.
    factors: [N, F] ints, the ground-truth factor labels.

  Returns:
    float64 [K, F], >= 0.

  Raises:
    ValueError: wrong ranks, non-integer values or different numbers of rows.

  Example:
    >>> discrete_mutual_info([[0], [1]], [[0], [1]]).round(4).tolist()   # log 2
    [[0.6931]]
  """
  codes_discrete = _int_matrix("codes_discrete", codes_discrete, "[N, K]")
  factors = _int_matrix("factors", factors, "[N, F]")
  if codes_discrete.shape[0] != factors.shape[0]:
    raise ValueError(f"`codes_discrete` and `factors` must have the same number of rows N, "
                     f"got shapes {codes_discrete.shape} and {factors.shape}")
  codes = [_dense_labels(c) for c in codes_discrete.T]
  facts = [_dense_labels(f) for f in factors.T]
  out = np.zeros((len(codes), len(facts)), np.float64)
  for k, (a, na) in enumerate(codes):
    for j, (b, nb) in enumerate(facts):
      out[k, j] = _mutual_info(a, na, b, nb)
  return out


def discrete_entropy(factors) -> np.ndarray:
  """Empirical entropy of every factor, ``-sum_v p(v) log p(v)`` in nats.

  Args:
    factors: [N, F] ints.

  Returns:
    float64 [F], >= 0 (0 for a factor with a single value).

  Raises:
    ValueError: wrong rank or non-integer values.

  Example:
    >>> discrete_entropy([[0, 1], [1, 1]]).round(4).tolist()
    [0.6931, 0.0]
  """
  factors = _int_matrix("factors", factors, "[N, F]")
  out = np.zeros(factors.shape[1], np.float64)
  for j, column in enumerate(factors.T):
    labels, _ = _dense_labels(column)
    p = np.bincount(labels) / labels.shape[0]
    out[j] = max(float(-np.sum(p * np.log(p))), 0.0) + 0.0  # no -0.0
  return out
