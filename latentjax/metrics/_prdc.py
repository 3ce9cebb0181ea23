"""Precision, recall, density and coverage of generated features (PRDC).

    res = metrics.prdc(real_features, fake_features, nearest_k=5)
    res["precision"], res["recall"], res["density"], res["coverage"]

Precision and recall of Kynkaanniemi et al. (2019), density and coverage of Naeem et al.
(2020), on the k-nearest-neighbour balls of each set: a point's radius is the Euclidean
distance to its k-th nearest *other* point of its own set, and a point lies inside a
ball when its distance to the centre is strictly less than the radius. With N real
points x_i (radii r_i) and M fake points y_j (radii s_j):

* precision = (1/M) #{j : d(y_j, x_i) < r_i for some i}
* recall    = (1/N) #{i : d(x_i, y_j) < s_j for some j}
* density   = (1/(k M)) sum_j #{i : d(y_j, x_i) < r_i}
* coverage  = (1/N) #{i : d(x_i, y_j) < r_i for some j}

Squared distances are computed by jitted JAX, one chunk of rows against all points of
the other set at a time ([chunk_size, N] in memory, never [N, M]), and reduced as they
come: the k smallest per row for the radii, per-fake ball counts, and running "some
point inside" flags per real point. The arithmetic is in JAX's default float (float32
unless ``jax_enable_x64``) at full matmul precision; radii and distances are compared
squared, so no square roots are taken.
"""

import functools

import numpy as np

from latentjax.metrics._features import as_feature_pair, check_positive_int

PRDC_KEYS = ("precision", "recall", "density", "coverage")


def _sq_dists(rows, row_norms, cols, col_norms):
  """[c, n] squared distances ||a||^2 + ||b||^2 - 2 a.b, clamped at 0."""
  import jax
  import jax.numpy as jnp

  dots = jnp.matmul(rows, cols.T, precision=jax.lax.Precision.HIGHEST)
  return jnp.maximum(row_norms[:, None] + col_norms[None, :] - 2 * dots, 0)


@functools.cache
def _kernels():
  import jax
  import jax.numpy as jnp

  @functools.partial(jax.jit, static_argnames=("size", "k"))
  def kth_neighbour(points, norms, start, size, k):
    """[size, k] squared distances of rows [start, start + size) to their k nearest other
    points, nearest first. (Returned whole: slicing the k-th column inside the program
    lets XLA:CPU replace its top-k kernel with a full sort of the rows.)"""
    rows = jax.lax.dynamic_slice_in_dim(points, start, size)
    row_norms = jax.lax.dynamic_slice_in_dim(norms, start, size)
    d2 = _sq_dists(rows, row_norms, points, norms)
    index = start + jnp.arange(size)
    own = index[:, None] == jnp.arange(points.shape[0])[None, :]
    d2 = jnp.where(own, jnp.inf, d2)
    smallest, _ = jax.lax.top_k(-d2, k)
    return -smallest

  @functools.partial(jax.jit, static_argnames=("size",))
  def cross(fake, fake_norms, fake_r2, start, first_new, size, real, real_norms, real_r2,
            recall_hit, covered):
    """Fake rows [start, start + size) against all real points: counts and running flags.

    Rows before ``start + first_new`` were reduced by an earlier chunk and are masked.
    """
    rows = jax.lax.dynamic_slice_in_dim(fake, start, size)
    row_norms = jax.lax.dynamic_slice_in_dim(fake_norms, start, size)
    row_r2 = jax.lax.dynamic_slice_in_dim(fake_r2, start, size)
    valid = jnp.arange(size) >= first_new
    d2 = _sq_dists(rows, row_norms, real, real_norms)             # [size, N]
    in_real = (d2 < real_r2[None, :]) & valid[:, None]            # y_j in ball of x_i
    in_fake = (d2 < row_r2[:, None]) & valid[:, None]             # x_i in ball of y_j
    counts = jnp.sum(in_real, axis=1, dtype=jnp.int32)
    return counts, recall_hit | jnp.any(in_fake, axis=0), covered | jnp.any(in_real, axis=0)

  return kth_neighbour, cross


def _chunk_starts(n: int, size: int):
  """(slice start, first new row within the slice) of each [size]-row chunk of n rows.

  The last chunk is moved back to end at row n (a fixed shape, so one compilation);
  its rows already covered by the previous chunk are skipped.
  """
  for start in range(0, n, size):
    begin = min(start, n - size)
    yield begin, start - begin


def _sq_norms(x):
  import jax.numpy as jnp

  return jnp.sum(x * x, axis=1)


def nearest_neighbour_radii(points, nearest_k: int, chunk_size: int):
  """Squared distance of every point to its ``nearest_k``-th nearest other point.

  Args:
    points: [N, D] float array (N > nearest_k).
    nearest_k: k >= 1.
    chunk_size: rows per jitted call (memory about chunk_size * N floats).

  Returns:
    JAX [N] squared radii, in the dtype of ``points`` on device.
  """
  import jax.numpy as jnp

  kth_neighbour, _ = _kernels()
  points = jnp.asarray(points)
  norms = _sq_norms(points)
  n = points.shape[0]
  size = min(chunk_size, n)
  parts = [kth_neighbour(points, norms, begin, size=size, k=nearest_k)[first:, -1]
           for begin, first in _chunk_starts(n, size)]
  return jnp.concatenate(parts)


def prdc(real_features, fake_features, nearest_k=5, *, chunk_size: int = 1024) -> dict:
  """Precision, recall, density and coverage of fake features against real ones.

  Args:
    real_features: [N, D] float, finite, N > nearest_k.
    fake_features: [M, D] float, finite, M > nearest_k, the same width D.
    nearest_k: k of the k-nearest-neighbour radii (5 in Naeem et al., 2020).
    chunk_size: rows of one set compared with all points of the other per jitted call;
      memory is about ``chunk_size * max(N, M)`` floats. Results do not depend on it.

  Returns:
    ``{"precision": float, "recall": float, "density": float, "coverage": float}``;
    precision, recall and coverage in [0, 1], density in [0, N / k].

  Raises:
    ValueError: wrong rank, different widths, NaN or inf, nearest_k not an integer
      >= 1 or not below the number of points of each set, chunk_size < 1.

  Example:
    >>> x = np.random.default_rng(0).normal(size=(200, 8))
    >>> res = prdc(x, x, 5)
    >>> res["precision"], res["recall"], res["coverage"]
    (1.0, 1.0, 1.0)
  """
  import jax
  import jax.numpy as jnp

  nearest_k = check_positive_int("nearest_k", nearest_k)
  chunk_size = check_positive_int("chunk_size", chunk_size)
  dtype = np.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))
  real, fake = as_feature_pair(real_features, fake_features, min_rows=2, dtype=dtype)
  for name, x in (("real_features", real), ("fake_features", fake)):
    if nearest_k >= x.shape[0]:
      raise ValueError(f"`nearest_k` must be below the number of points of each set, got "
                       f"nearest_k={nearest_k} with `{name}` of shape {x.shape}")
  device_real, device_fake = jnp.asarray(real), jnp.asarray(fake)
  real_r2 = nearest_neighbour_radii(device_real, nearest_k, chunk_size)
  fake_r2 = nearest_neighbour_radii(device_fake, nearest_k, chunk_size)

  _, cross = _kernels()
  real_norms, fake_norms = _sq_norms(device_real), _sq_norms(device_fake)
  size = min(chunk_size, fake.shape[0])
  recall_hit = jnp.zeros(real.shape[0], bool)
  covered = jnp.zeros(real.shape[0], bool)
  counts = []
  for begin, first in _chunk_starts(fake.shape[0], size):
    chunk_counts, recall_hit, covered = cross(
        device_fake, fake_norms, fake_r2, begin, first, size, device_real, real_norms,
        real_r2, recall_hit, covered)
    counts.append(chunk_counts[first:])
  counts = np.asarray(jnp.concatenate(counts), np.int64)
  n, m = real.shape[0], fake.shape[0]
  return {
      "precision": float(np.count_nonzero(counts)) / m,
      "recall": float(np.count_nonzero(np.asarray(recall_hit))) / n,
      "density": float(counts.sum()) / (nearest_k * m),
      "coverage": float(np.count_nonzero(np.asarray(covered))) / n,
  }
