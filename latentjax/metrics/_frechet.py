"""Frechet distance between Gaussians fitted to features: FID (Heusel et al., 2017).

    mu1, sigma1 = metrics.feature_statistics(real_features)   # [N, D] -> [D], [D, D]
    mu2, sigma2 = metrics.feature_statistics(fake_features)
    metrics.frechet_distance(mu1, sigma1, mu2, sigma2)        # float, >= 0
    metrics.fid_from_features(real_features, fake_features)   # the same in one call

The squared Frechet (2-Wasserstein) distance between N(mu1, S1) and N(mu2, S2) is
``||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))``. The trace of the matrix
square root is taken from symmetric eigendecompositions, in float64:
``tr((S1 S2)^(1/2)) = tr((S1^(1/2) S2 S1^(1/2))^(1/2))``, the sum of the square roots of
the eigenvalues of a symmetric positive semi-definite matrix. Negative eigenvalues from
round-off are clamped at 0, so rank-deficient covariances (fewer samples than dimensions)
give a finite, real value with no imaginary part to discard. ``frechet_distance_jax``
is the same computation in jittable JAX for accelerators.
"""

import numpy as np

from latentjax.metrics._features import as_feature_pair, as_features

_STATS_CHUNK = 4096  # rows converted to float64 at a time


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
  """Mean and unbiased covariance of features, in float64.

  Two passes over chunks of rows (the mean, then the centred scatter), so a large
  float32 array is never copied whole into float64.

  Args:
    features: [N, D] float, N >= 2, finite.

  Returns:
    ``(mu, sigma)``: float64 [D] mean and float64 [D, D] covariance (divisor N - 1).

  Raises:
    ValueError: wrong rank, N < 2, NaN or inf values.

  Example:
    >>> mu, sigma = feature_statistics(np.array([[0.0, 1.0], [2.0, 3.0]]))
    >>> mu.tolist(), sigma.tolist()
    ([1.0, 2.0], [[2.0, 2.0], [2.0, 2.0]])
  """
  x = as_features("features", features, min_rows=2)
  n, d = x.shape
  total = np.zeros(d, np.float64)
  for start in range(0, n, _STATS_CHUNK):
    total += np.sum(x[start:start + _STATS_CHUNK], axis=0, dtype=np.float64)
  mu = total / n
  scatter = np.zeros((d, d), np.float64)
  for start in range(0, n, _STATS_CHUNK):
    centred = x[start:start + _STATS_CHUNK].astype(np.float64) - mu[None, :]
    scatter += centred.T @ centred
  sigma = scatter / (n - 1)
  return mu, (sigma + sigma.T) / 2.0


def _check_gaussian(mu, sigma, mu_name: str, sigma_name: str, d=None):
  try:
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
  except (TypeError, ValueError) as err:
    raise TypeError(f"`{mu_name}` and `{sigma_name}` must be numeric arrays") from err
  if mu.ndim != 1 or mu.shape[0] < 1:
    raise ValueError(f"`{mu_name}` must be a [D] mean vector, got shape {mu.shape}")
  if d is not None and mu.shape[0] != d:
    raise ValueError(f"`{mu_name}` must be [D] with D = {d} (the length of `mu1`), "
                     f"got shape {mu.shape}")
  d = mu.shape[0]
  if sigma.shape != (d, d):
    raise ValueError(f"`{sigma_name}` must be [D, D] with D = {d}, got shape {sigma.shape}")
  if not np.isfinite(mu).all():
    raise ValueError(f"`{mu_name}` holds NaN or inf values")
  if not np.isfinite(sigma).all():
    raise ValueError(f"`{sigma_name}` holds NaN or inf values")
  return mu, sigma


def _psd_sqrt(sigma: np.ndarray) -> np.ndarray:
  """Symmetric square root of the symmetric part of ``sigma`` (eigenvalues clamped at 0)."""
  w, v = np.linalg.eigh((sigma + sigma.T) / 2.0)
  return (v * np.sqrt(np.maximum(w, 0.0))[None, :]) @ v.T


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
  """Squared Frechet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64.

  ``||mu1 - mu2||^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2))``, with the last trace
  computed as the sum of sqrt(max(lambda, 0)) over the eigenvalues lambda of
  ``S1^(1/2) S2 S1^(1/2)`` (symmetrised), ``S1^(1/2)`` from the eigendecomposition of
  S1 with eigenvalues clamped at 0. Well defined for singular covariances; the result
  is clamped at 0 against round-off. Symmetric in its two Gaussians up to round-off.

  Args:
    mu1: [D] mean of the first Gaussian (e.g. of real features).
    sigma1: [D, D] covariance of the first Gaussian (symmetric positive semi-definite).
    mu2: [D] mean of the second Gaussian.
    sigma2: [D, D] covariance of the second Gaussian.

  Returns:
    The squared distance, a Python float >= 0 (this is FID when the Gaussians are
    fitted to Inception features).

  Raises:
    ValueError: a mean not [D], a covariance not [D, D], different D, NaN or inf.

  Example:
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), 4.0 * np.eye(2))
    4.0
  """
  mu1, sigma1 = _check_gaussian(mu1, sigma1, "mu1", "sigma1")
  mu2, sigma2 = _check_gaussian(mu2, sigma2, "mu2", "sigma2", d=mu1.shape[0])
  root1 = _psd_sqrt(sigma1)
  middle = root1 @ sigma2 @ root1
  eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
  trace_sqrt = float(np.sum(np.sqrt(np.maximum(eig, 0.0))))
  diff = mu1 - mu2
  value = float(diff @ diff) + float(np.trace(sigma1)) + float(np.trace(sigma2)) - 2 * trace_sqrt
  return max(value, 0.0)


def frechet_distance_jax(mu1, sigma1, mu2, sigma2):
  """``frechet_distance`` in JAX: jittable, runs on accelerators.

  The same eigendecomposition algorithm, in the dtype of the inputs (float32 unless
  ``jax_enable_x64`` is on and float64 arrays are passed); matrix products use full
  float32 precision (no TF32/bf16 passes on GPUs and TPUs). Shapes are checked at
  trace time; values are not (no NaN check under ``jit``).

  Args:
    mu1: [D] mean of the first Gaussian.
    sigma1: [D, D] covariance of the first Gaussian.
    mu2: [D] mean of the second Gaussian.
    sigma2: [D, D] covariance of the second Gaussian.

  Returns:
    A scalar JAX array >= 0.

  Raises:
    ValueError: a mean not [D], a covariance not [D, D], or different D.

  Example:
    >>> jax.jit(frechet_distance_jax)(jnp.zeros(2), jnp.eye(2), jnp.ones(2), 4 * jnp.eye(2))
    Array(4., dtype=float32)
  """
  import jax
  import jax.numpy as jnp

  arrays = [jnp.asarray(a) for a in (mu1, sigma1, mu2, sigma2)]
  names = ("mu1", "sigma1", "mu2", "sigma2")
  for i in (0, 2):
    if arrays[i].ndim != 1 or arrays[i].shape[0] < 1:
      raise ValueError(f"`{names[i]}` must be a [D] mean vector, got shape {arrays[i].shape}")
  d = arrays[0].shape[0]
  if arrays[2].shape[0] != d:
    raise ValueError(f"`mu2` must be [D] with D = {d} (the length of `mu1`), "
                     f"got shape {arrays[2].shape}")
  for i in (1, 3):
    if arrays[i].shape != (d, d):
      raise ValueError(f"`{names[i]}` must be [D, D] with D = {d}, got shape "
                       f"{arrays[i].shape}")
  dtype = jnp.result_type(*arrays, float)
  mu1, sigma1, mu2, sigma2 = (a.astype(dtype) for a in arrays)
  hi = jax.lax.Precision.HIGHEST
  w, v = jnp.linalg.eigh((sigma1 + sigma1.T) / 2)
  root1 = jnp.matmul(v * jnp.sqrt(jnp.maximum(w, 0))[None, :], v.T, precision=hi)
  middle = jnp.matmul(jnp.matmul(root1, sigma2, precision=hi), root1, precision=hi)
  eig = jnp.linalg.eigvalsh((middle + middle.T) / 2)
  trace_sqrt = jnp.sum(jnp.sqrt(jnp.maximum(eig, 0)))
  diff = mu1 - mu2
  value = jnp.dot(diff, diff, precision=hi) + jnp.trace(sigma1) + jnp.trace(sigma2)
  return jnp.maximum(value - 2 * trace_sqrt, 0)


def fid_from_features(real_features, fake_features) -> float:
  """Frechet distance between Gaussians fitted to two feature sets (FID on Inception).

  Args:
    real_features: [N, D] float, N >= 2, finite.
    fake_features: [M, D] float, M >= 2, finite (the same width D).

  Returns:
    ``frechet_distance(*feature_statistics(real), *feature_statistics(fake))``.

  Raises:
    ValueError: wrong rank, fewer than 2 rows, different widths, NaN or inf.

  Example:
    >>> x = np.random.default_rng(0).normal(size=(100, 4))
    >>> fid_from_features(x, x) < 1e-9
    True
  """
  real, fake = as_feature_pair(real_features, fake_features)
  return frechet_distance(*feature_statistics(real), *feature_statistics(fake))
