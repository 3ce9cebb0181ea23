"""Log-densities used by the autoencoder objectives, summed per example, in nats.

Shapes: data and decoder outputs are [B, ...]; results are [B].
"""

import math

import chex
import jax
import jax.numpy as jnp

Array = jax.Array

LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")
_CB_TAYLOR = 1e-2  # |logit| below which log C and the mean use their Taylor series
_LOG_2PI = math.log(2.0 * math.pi)


def _sum_per_example(x: Array) -> Array:
  return x.reshape((x.shape[0], -1)).sum(axis=-1)


def bernoulli_log_likelihood(logits: Array, x: Array) -> Array:
  """log p(x | logits) under independent Bernoullis, summed per example.

  A normalised density only for binary targets. Intensities in [0, 1] are accepted (the
  usual relaxation for grey-scale images, giving the cross-entropy), but then the value
  is not a log-density and a bound built on it is not a bound on log p(x): binarise the
  data (`binarize`) or use `continuous_bernoulli_log_likelihood`.

  Args:
    logits: [B, ...] decoder logits.
    x: [B, ...] targets, same shape.

  Returns:
    [B] log-likelihoods in nats.
  """
  chex.assert_equal_shape([logits, x])
  ll = x * jax.nn.log_sigmoid(logits) + (1.0 - x) * jax.nn.log_sigmoid(-logits)
  return _sum_per_example(ll)


def _continuous_bernoulli_log_norm(logits: Array) -> Array:
  """log C(lambda) of the continuous Bernoulli, lambda = sigmoid(logits), elementwise.

  C = 2 artanh(1 - 2 lambda) / (1 - 2 lambda) = eta / tanh(eta / 2) for eta = logits, so
  log C = log|eta| - log tanh(|eta| / 2), with log 2 + eta^2 / 12 near eta = 0.
  """
  a = jnp.abs(logits)
  safe = jnp.maximum(a, _CB_TAYLOR)
  e = jnp.exp(-safe)
  far = jnp.log(safe) - jnp.log1p(-e) + jnp.log1p(e)
  near = math.log(2.0) + logits * logits / 12.0
  return jnp.where(a < _CB_TAYLOR, near, far)


def continuous_bernoulli_log_likelihood(logits: Array, x: Array) -> Array:
  """log p(x | logits) under independent continuous Bernoullis, summed per example.

  The continuous Bernoulli (Loaiza-Ganem & Cunningham, 2019) is the Bernoulli
  cross-entropy plus its normaliser log C(lambda), a proper density on [0, 1], so an
  ELBO built on it is a lower bound on the density of grey-level images.

  Args:
    logits: [B, ...] decoder logits (lambda = sigmoid(logits)).
    x: [B, ...] targets in [0, 1], same shape.

  Returns:
    [B] log-densities in nats (may be positive: a density on [0, 1]).
  """
  chex.assert_equal_shape([logits, x])
  ll = (x * jax.nn.log_sigmoid(logits) + (1.0 - x) * jax.nn.log_sigmoid(-logits)
        + _continuous_bernoulli_log_norm(logits))
  return _sum_per_example(ll)


def continuous_bernoulli_mean(logits: Array) -> Array:
  """E[x] of the continuous Bernoulli: lambda / (2 lambda - 1) - 1 / logits (1/2 at 0)."""
  a = jnp.abs(logits)
  safe = jnp.where(a < _CB_TAYLOR, _CB_TAYLOR, logits)
  lam = jax.nn.sigmoid(safe)
  far = lam / (2.0 * lam - 1.0) - 1.0 / safe
  return jnp.where(a < _CB_TAYLOR, 0.5 + logits / 12.0, far)


def binarize(key: Array, x: Array) -> Array:
  """Dynamic binarisation: x_bin ~ Bernoulli(x) elementwise, for intensities x in [0, 1].

  Args:
    key: PRNG key.
    x: [...] intensities in [0, 1].

  Returns:
    [...] float array of 0s and 1s, same dtype as x.
  """
  return jax.random.bernoulli(key, jnp.clip(x, 0.0, 1.0)).astype(x.dtype)


def binarize_per_example(keys: Array, x: Array) -> Array:
  """`binarize` with one key per example: keys [B], x [B, ...] -> [B, ...]."""
  chex.assert_axis_dimension(keys, 0, x.shape[0])
  return jax.vmap(binarize)(keys, x)


def describe_likelihood(likelihood: str, binarize_inputs: bool) -> str:
  """What log p(x | z) under this likelihood is: a density of what, or not a density."""
  if likelihood == "bernoulli":
    if binarize_inputs:
      return "a density of binary images (dynamically binarised inputs, Bernoulli likelihood)"
    return ("not a normalised density: the Bernoulli cross-entropy of grey-level "
            "intensities (a Bernoulli is a density only for binary data)")
  if likelihood == "continuous_bernoulli":
    return "a density of intensities in [0, 1] (continuous Bernoulli likelihood)"
  if likelihood == "gaussian":
    return "a density of real-valued pixels (Gaussian likelihood of fixed scale)"
  raise ValueError(f"Unknown likelihood {likelihood!r}; registered: {', '.join(LIKELIHOODS)}")


def describe_bound(likelihood: str, binarize_inputs: bool) -> str:
  """What an ELBO/IWAE figure under this likelihood measures, for labels and reports."""
  what = describe_likelihood(likelihood, binarize_inputs)
  if likelihood == "bernoulli" and not binarize_inputs:
    return f"not a bound on log p(x), nats per image: {what}"
  return f"lower bound on log p(x), nats per image, under {what}"


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
  """Dispatches to the named likelihood.

  "bernoulli" and "continuous_bernoulli" take logits, "gaussian" takes means.

  Raises:
    ValueError: for an unknown likelihood name.
  """
  if likelihood == "bernoulli":
    return bernoulli_log_likelihood(out, x)
  if likelihood == "continuous_bernoulli":
    return continuous_bernoulli_log_likelihood(out, x)
  if likelihood == "gaussian":
    return gaussian_log_likelihood(out, x, gaussian_scale)
  raise ValueError(f"Unknown likelihood {likelihood!r}; registered: {', '.join(LIKELIHOODS)}")


def likelihood_mean(likelihood: str, out: Array) -> Array:
  """The mean of p(x | z) from decoder outputs (sigmoid of logits, the continuous
  Bernoulli's mean, or the Gaussian mean)."""
  if likelihood == "bernoulli":
    return jax.nn.sigmoid(out)
  if likelihood == "continuous_bernoulli":
    return continuous_bernoulli_mean(out)
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
