"""Kernel Inception Distance (Binkowski et al., 2018): unbiased MMD^2 of features.

    res = metrics.kid(real_features, fake_features, num_subsets=100, subset_size=1000)
    res["kid_mean"], res["kid_std"]

With the cubic polynomial kernel k(x, y) = (x.y / d + 1)^3 on d-dimensional features,
the unbiased estimate of the squared maximum mean discrepancy between samples X and Y
of m points each is

    MMD^2_u = sum_{i != j} k(x_i, x_j) / (m (m - 1)) + sum_{i != j} k(y_i, y_j) / (m (m - 1))
              - 2 sum_{i, j} k(x_i, y_j) / m^2.

It is averaged over random subsets (each drawn without replacement from each set) to
bound memory and give a spread. The estimate is unbiased, so it can be slightly
negative when the two distributions agree. Kernel matrices are computed by jitted JAX
in its default float (float32 unless ``jax_enable_x64``) at full matmul precision.
"""

import functools

import numpy as np

from latentjax.metrics._features import as_feature_pair, check_positive_int


@functools.cache
def _mmd_kernel():
  import jax
  import jax.numpy as jnp

  @jax.jit
  def mmd2(real, fake, real_index, fake_index):
    """Unbiased MMD^2 of the rows ``real[real_index]`` and ``fake[fake_index]``."""
    x = jnp.take(real, real_index, axis=0)
    y = jnp.take(fake, fake_index, axis=0)
    m, d = x.shape
    hi = jax.lax.Precision.HIGHEST
    kernel = lambda a, b: (jnp.matmul(a, b.T, precision=hi) / d + 1) ** 3
    k_xx, k_yy, k_xy = kernel(x, x), kernel(y, y), kernel(x, y)
    off = lambda k: (jnp.sum(k) - jnp.trace(k)) / (m * (m - 1))
    return off(k_xx) + off(k_yy) - 2 * jnp.mean(k_xy)

  return mmd2


def kid(real_features, fake_features, *, num_subsets: int = 100, subset_size: int = 1000,
        seed: int = 0, normalize: bool = False) -> dict:
  """Kernel Inception Distance: mean and spread of unbiased MMD^2 over random subsets.

  Args:
    real_features: [N, D] float, finite, N >= 2.
    fake_features: [M, D] float, finite, M >= 2, the same width D.
    num_subsets: number of random subset pairs, >= 1.
    subset_size: points per subset of each set, >= 2; capped at min(N, M).
    seed: seed of the NumPy generator drawing the subsets.
    normalize: first divide both sets by the root mean square of the real features'
      entries. The cubic kernel assumes entries of order 1, as Inception-v3's pool
      features have; for features of larger scale (a classifier's penultimate layer, say
      RMS 6) its values grow as the scale to the sixth power and the estimate drowns in
      its own variance (real against real features: -229 instead of about 0). Leave it
      off for Inception features, to match published KID figures.

  Returns:
    ``{"kid_mean": float, "kid_std": float}``: the mean over subsets of MMD^2_u and its
    standard deviation over subsets (ddof = 0: the spread of one subset's estimate,
    not a standard error; 0 for a single subset).

  Raises:
    ValueError: wrong rank, different widths, fewer than 2 rows, NaN or inf,
      num_subsets < 1, subset_size < 2.

  Example:
    >>> x = np.random.default_rng(0).normal(size=(500, 16))
    >>> kid(x, x + 1.0, num_subsets=10, subset_size=200)["kid_mean"] > 0.1
    True
  """
  import jax
  import jax.numpy as jnp

  num_subsets = check_positive_int("num_subsets", num_subsets)
  subset_size = check_positive_int("subset_size", subset_size, minimum=2)
  dtype = np.dtype(jax.dtypes.canonicalize_dtype(jnp.float64))
  real, fake = as_feature_pair(real_features, fake_features, min_rows=2, dtype=dtype)
  if not isinstance(normalize, bool):
    raise ValueError(f"`normalize` must be a bool, got {normalize!r}")
  if normalize:
    scale = float(np.sqrt(np.mean(np.square(real, dtype=np.float64))))
    if scale > 0:
      real, fake = (real / scale).astype(dtype), (fake / scale).astype(dtype)
  m = min(subset_size, real.shape[0], fake.shape[0])
  rng = np.random.default_rng(seed)
  mmd2 = _mmd_kernel()
  device_real, device_fake = jnp.asarray(real), jnp.asarray(fake)
  values = []
  for _ in range(num_subsets):
    real_index = rng.choice(real.shape[0], m, replace=False)
    fake_index = rng.choice(fake.shape[0], m, replace=False)
    values.append(mmd2(device_real, device_fake, real_index, fake_index))
  values = np.asarray(jnp.stack(values), np.float64)
  return {"kid_mean": float(np.mean(values)), "kid_std": float(np.std(values))}
