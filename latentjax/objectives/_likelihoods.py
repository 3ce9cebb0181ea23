"""Log-densities used by the autoencoder objectives, summed per example, in nats.

Shapes: data and decoder outputs are [B, ...]; results are [B].
"""

import math

import chex
import jax
import jax.numpy as jnp

Array = jax.Array

LIKELIHOODS = ("bernoulli", "gaussian")
_LOG_2PI = math.log(2.0 * math.pi)


def _sum_per_example(x: Array) -> Array:
  return x.reshape((x.shape[0], -1)).sum(axis=-1)


def bernoulli_log_likelihood(logits: Array, x: Array) -> Array:
  """log p(x | logits) under independent Bernoullis, summed per example.

  Targets may be binary or intensities in [0, 1] (the usual relaxation for
  grey-scale images, giving the cross-entropy).

  Args:
    logits: [B, ...] decoder logits.
    x: [B, ...] targets, same shape.

  Returns:
    [B] log-likelihoods in nats.
  """
  chex.assert_equal_shape([logits, x])
  ll = x * jax.nn.log_sigmoid(logits) + (1.0 - x) * jax.nn.log_sigmoid(-logits)
  return _sum_per_example(ll)


def gaussian_log_likelihood(mean: Array, x: Array, scale: float = 1.0) -> Array:
  """log N(x; mean, scale^2 I), summed per example.

  Args:
    mean: [B, ...] decoder means.
    x: [B, ...] targets.
    scale: fixed standard deviation > 0.

  Returns:
    [B] log-likelihoods in nats.
  """
  chex.assert_equal_shape([mean, x])
  z = (x - mean) / scale
  ll = -0.5 * (z * z + _LOG_2PI) - math.log(scale)
  return _sum_per_example(ll)


def log_likelihood(likelihood: str, out: Array, x: Array, gaussian_scale: float = 1.0) -> Array:
  """Dispatches to the named likelihood: "bernoulli" (out = logits) or "gaussian" (out = means).

  Raises:
    ValueError: for an unknown likelihood name.
  """
  if likelihood == "bernoulli":
    return bernoulli_log_likelihood(out, x)
  if likelihood == "gaussian":
    return gaussian_log_likelihood(out, x, gaussian_scale)
  raise ValueError(f"Unknown likelihood {likelihood!r}; registered: {', '.join(LIKELIHOODS)}")


def likelihood_mean(likelihood: str, out: Array) -> Array:
  """The mean of p(x | z) from decoder outputs: sigmoid(logits) or the Gaussian mean."""
  if likelihood == "bernoulli":
    return jax.nn.sigmoid(out)
  if likelihood == "gaussian":
    return out
  raise ValueError(f"Unknown likelihood {likelihood!r}; registered: {', '.join(LIKELIHOODS)}")


def gaussian_kl(mean: Array, logvar: Array) -> Array:
  """KL(N(mean, exp(logvar)) || N(0, I)) per example, analytic.

  Args:
    mean: [B, D].
    logvar: [B, D].

  Returns:
    [B] KL divergences in nats.
  """
  chex.assert_equal_shape([mean, logvar])
  chex.assert_rank(mean, 2)
  return 0.5 * jnp.sum(jnp.exp(logvar) + mean * mean - 1.0 - logvar, axis=-1)


def diag_gaussian_log_density(z: Array, mean: Array, logvar: Array) -> Array:
  """log N(z; mean, diag(exp(logvar))) summed over the last axis: [..., D] -> [...]."""
  chex.assert_equal_shape([z, mean, logvar])
  d = (z - mean) ** 2 * jnp.exp(-logvar)
  return -0.5 * jnp.sum(d + logvar + _LOG_2PI, axis=-1)


def standard_normal_log_density(z: Array) -> Array:
  """log N(z; 0, I) summed over the last axis: [..., D] -> [...]."""
  return -0.5 * jnp.sum(z * z + _LOG_2PI, axis=-1)
