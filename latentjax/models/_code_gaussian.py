"""Sampling from a deterministic autoencoder by fitting a Gaussian to its codes."""

import chex
import jax
import jax.numpy as jnp

Array = jax.Array


def fit_code_gaussian(codes: Array, jitter: float = 1e-5) -> tuple[Array, Array]:
  """Maximum-likelihood Gaussian of a set of codes.

  Args:
    codes: [N, D] codes of training examples, N >= 2.
    jitter: added to the covariance diagonal so it is positive definite.

  Returns:
    ``(mean [D], cov [D, D])``.

  Raises:
    ValueError: if ``codes`` is not [N, D] with N >= 2.

  Example:
    >>> mean, cov = fit_code_gaussian(jnp.ones((10, 2)))
  """
  if codes.ndim != 2 or codes.shape[0] < 2:
    raise ValueError(f"`codes` must be [N, D] with N >= 2, got shape {codes.shape}")
  codes = jnp.asarray(codes, jnp.float32)
  mean = codes.mean(axis=0)
  centred = codes - mean[None]
  cov = centred.T @ centred / codes.shape[0]
  return mean, cov + jitter * jnp.eye(codes.shape[1], dtype=cov.dtype)


def sample_code_gaussian(key: Array, mean: Array, cov: Array, num_samples: int) -> Array:
  """Draws [num_samples, D] codes from N(mean, cov).

  Raises:
    ValueError: if ``mean`` is not [D] or ``cov`` not [D, D].
  """
  if mean.ndim != 1:
    raise ValueError(f"`mean` must be [D], got shape {mean.shape}")
  d = mean.shape[0]
  if cov.shape != (d, d):
    raise ValueError(f"`cov` must be [D, D] = ({d}, {d}), got shape {cov.shape}")
  chol = jnp.linalg.cholesky(cov)
  eps = jax.random.normal(key, (num_samples, d), dtype=mean.dtype)
  out = mean[None] + eps @ chol.T
  chex.assert_shape(out, (num_samples, d))
  return out
