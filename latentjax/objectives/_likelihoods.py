"""Log-densities used by the autoencoder objectives, summed per example, in nats.

Shapes: data and decoder outputs are [B, ...]; results are [B].
"""

import math
from fractions import Fraction

import chex
import jax
import jax.numpy as jnp

Array = jax.Array

LIKELIHOODS = ("bernoulli", "continuous_bernoulli", "gaussian")
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


# The continuous Bernoulli with logit eta (lambda = sigmoid(eta)) is the exponential family
# p(x) = C lambda^x (1 - lambda)^(1 - x) = C (1 - lambda) e^(eta x) on [0, 1], whose
# log-partition is A(eta) = log int_0^1 e^(eta x) dx = log((e^eta - 1) / eta). Hence
#   log C = softplus(eta) - A(eta) = log|eta| - log tanh(|eta| / 2),   E[x] = A'(eta).
# Both closed forms cancel near eta = 0 (a removable singularity): log C -> log 2 and
# E[x] -> 1/2 with errors ~ ulp / eta^2 in the gradients. Their Taylor series in eta come
# from the Bernoulli numbers B_2n of t / (e^t - 1) = sum_k B_k t^k / k! (B_1 = -1/2):
#   A'(eta) = 1 + 1 / (e^eta - 1) - 1 / eta  gives
#     E[x] = 1/2 + sum_{n>=1} B_2n eta^(2n-1) / (2n)!  = 1/2 + eta/12 - eta^3/720 + ...;
#   d log C / d eta = sigmoid(eta) - E[x] = 1 / eta - 1 / sinh(eta), and
#   1 / sinh(t) = sum_{n>=0} (2 - 2^2n) B_2n t^(2n-1) / (2n)!, so with log C(0) = log 2
#     log C = log 2 + sum_{n>=1} (2^2n - 2) B_2n eta^2n / (2n (2n)!)
#           = log 2 + eta^2/12 - 7 eta^4/1440 + 31 eta^6/90720 - ...
# The mean's series converges for |eta| < 2 pi (the poles of 1 / (e^t - 1) at 2 pi i), its
# n-th term shrinking like (eta / 2 pi)^2n; log C's for |eta| < pi (C = 0 at eta = i pi),
# like (eta / pi)^2n. Measured in float32 against a float64 reference (value and
# gradient, relative), the closed forms below are within 1e-6 only from |eta| ~ 1.5 (at
# eta = 0.1: 2.5e-4 for log C's gradient, 8e-4 for the mean's; 2e-6 for the mean's at 1);
# so the series serve |eta| < 1.5, where 12 terms leave a truncation error below 1e-7.
# Worst float32 error so, over 1e-6 <= |eta| <= 20: 2e-7 in values, 9e-7 in gradients.
_CB_SERIES = 1.5  # |logit| below which log C and the mean use their Taylor series
_BERNOULLI_2N = (  # B_2, B_4, ..., B_24
    Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30), Fraction(5, 66),
    Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510), Fraction(43867, 798),
    Fraction(-174611, 330), Fraction(854513, 138), Fraction(-236364091, 2730))
_CB_LOG_NORM_SERIES = tuple(float((4**n - 2) * b / (2 * n * math.factorial(2 * n)))
                            for n, b in enumerate(_BERNOULLI_2N, start=1))  # of eta^2n, n >= 1
_CB_MEAN_SERIES = tuple(float(b / math.factorial(2 * n))
                        for n, b in enumerate(_BERNOULLI_2N, start=1))  # of eta^(2n-1), n >= 1


def _polynomial(coefficients, u: Array) -> Array:
  """c_0 + c_1 u + c_2 u^2 + ... by Horner's rule."""
  out = jnp.zeros_like(u)
  for c in reversed(coefficients):
    out = out * u + c
  return out


def _continuous_bernoulli_log_norm(logits: Array) -> Array:
  """log C(lambda) of the continuous Bernoulli, lambda = sigmoid(logits), elementwise.

  C = 2 artanh(1 - 2 lambda) / (1 - 2 lambda) = eta / tanh(eta / 2) for eta = logits, so
  log C = log|eta| - log(1 - e^-|eta|) + log(1 + e^-|eta|); its Taylor series near
  eta = 0 (derived above) for |eta| < 1.5.
  """
  a = jnp.abs(logits)
  near = a < _CB_SERIES
  small = jnp.where(near, logits, 0.0)
  u = small * small
  series = math.log(2.0) + u * _polynomial(_CB_LOG_NORM_SERIES, u)
  big = jnp.where(near, _CB_SERIES, a)
  e = jnp.exp(-big)
  closed = jnp.log(big) - jnp.log1p(-e) + jnp.log1p(e)
  return jnp.where(near, series, closed)


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
  """E[x] of the continuous Bernoulli: 1 / (1 - e^-eta) - 1 / eta (1/2 at eta = 0).

  Evaluated as ``1/(1 - e) - 1/|eta|`` for ``eta > 0`` and ``1/|eta| - e/(1 - e)`` for
  ``eta < 0`` (``e = exp(-|eta|)``: no overflow, no cancellation between large terms), and
  by its Taylor series ``1/2 + eta/12 - eta^3/720 + ...`` for ``|eta| < 1.5``.
  """
  a = jnp.abs(logits)
  near = a < _CB_SERIES
  small = jnp.where(near, logits, 0.0)
  series = 0.5 + small * _polynomial(_CB_MEAN_SERIES, small * small)
  big = jnp.where(near, _CB_SERIES, a)
  e = jnp.exp(-big)
  q = 1.0 / (1.0 - e)
  closed = jnp.where(logits > 0, q - 1.0 / big, 1.0 / big - e * q)
  return jnp.where(near, series, closed)


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
