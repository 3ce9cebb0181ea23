"""Training losses and evaluation bounds for autoencoders and VAEs.

Losses are built by factories that close over hyper-parameters, and return
``loss_fn(params, model_state, batch, keys) -> (loss, (metrics, model_state))``
where ``keys`` [B] holds one PRNG key per example (so data-parallel runs draw the
same noise as a single-device run). Bounds take plain callables, so they work with
any encoder/decoder pair::

    bound = iwae_bound(encode_fn, decode_fn, x, key, num_samples=100)   # [B] nats
"""

import math
from collections.abc import Callable

import chex
import jax
import jax.numpy as jnp

from latentjax.objectives._likelihoods import (
  binarize_per_example,
  diag_gaussian_log_density,
  gaussian_kl,
  likelihood_mean,
  log_likelihood,
  standard_normal_log_density,
)

Array = jax.Array


_BINARIZE_TAG = 1  # folded into an example's key for its binarisation noise


def _inputs(batch, input_key, label_key):
  x = batch[input_key]
  y = batch[label_key] if label_key is not None else None
  return x, y


def binarize_batch(x: Array, keys: Array) -> Array:
  """The dynamically binarised inputs a loss with ``binarize=True`` trains on.

  Args:
    x: [B, ...] intensities in [0, 1].
    keys: [B] the examples' keys (as the training step passes them to the loss).

  Returns:
    [B, ...] binary images, each drawn with ``fold_in(key, 1)`` of its example's key.
  """
  sub = jax.vmap(lambda k: jax.random.fold_in(k, _BINARIZE_TAG))(keys)
  return binarize_per_example(sub, x)


def make_vae_loss(model, *, beta: float, likelihood: str, gaussian_scale: float = 1.0,
                  input_key: str = "image", label_key: str | None = None,
                  binarize: bool = False):
  """Negative ELBO with analytic KL, the KL weighted by ``beta`` (beta-VAE).

  loss = mean_b [ -log p(x_b | z_b) + beta * KL(q(z | x_b) || p(z)) ], one
  reparameterised sample per example. ``beta = 1`` is the standard VAE.

  Args:
    model: a ``latentjax.models.VAE``.
    beta: KL weight >= 0.
    likelihood: "bernoulli", "continuous_bernoulli" or "gaussian".
    gaussian_scale: the fixed standard deviation of a Gaussian likelihood.
    input_key: the batch entry holding x [B, ...].
    label_key: the batch entry holding labels [B] for a conditional VAE, else None.
    binarize: train on dynamically binarised inputs (``binarize_batch``), a fresh binary
      image each step; the Bernoulli likelihood is then a normalised density.

  Returns:
    ``loss_fn(params, model_state, batch, keys)``; metrics: loss, elbo, recon_nll, kl (nats).
  """
  if beta < 0:
    raise ValueError(f"`beta` must be >= 0, got {beta}")

  def loss_fn(params, model_state, batch, keys):
    x, y = _inputs(batch, input_key, label_key)
    chex.assert_shape(keys, (x.shape[0], *keys.shape[1:]))
    if binarize:
      x = binarize_batch(x, keys)
    noise = jax.vmap(lambda k: jax.random.normal(k, (model.latent_dim,)))(keys)
    out, mean, logvar = model.apply({"params": params, **model_state}, x, noise, y)
    ll = log_likelihood(likelihood, out, x, gaussian_scale)
    kl = gaussian_kl(mean, logvar)
    loss = jnp.mean(-ll + beta * kl)
    metrics = {"loss": loss, "elbo": jnp.mean(ll - kl), "recon_nll": -jnp.mean(ll),
               "kl": jnp.mean(kl)}
    return loss, (metrics, model_state)

  return loss_fn


def make_ae_loss(model, *, likelihood: str, gaussian_scale: float = 1.0,
                 input_key: str = "image", label_key: str | None = None,
                 binarize: bool = False):
  """Reconstruction loss of a deterministic autoencoder: mean_b -log p(x_b | decode(encode(x_b))).

  With a Bernoulli likelihood this is the binary cross-entropy; with a Gaussian one,
  a scaled squared error plus a constant. ``binarize`` trains on dynamically binarised
  inputs, as `make_vae_loss`. Metrics: loss, recon_nll, mse.
  """
  del label_key  # unconditional

  def loss_fn(params, model_state, batch, keys):
    x = batch[input_key]
    if binarize:
      x = binarize_batch(x, keys)
    out = model.apply({"params": params, **model_state}, x)
    ll = log_likelihood(likelihood, out, x, gaussian_scale)
    recon = likelihood_mean(likelihood, out)
    loss = -jnp.mean(ll)
    metrics = {"loss": loss, "recon_nll": loss, "mse": jnp.mean((recon - x) ** 2)}
    return loss, (metrics, model_state)

  return loss_fn


def _posterior(encode_fn, x, num_samples):
  """Encodes x; returns (mean, logvar, sample(key) -> z ~ q(z | x)), all [B, D]."""
  if num_samples < 1:
    raise ValueError(f"`num_samples` must be >= 1, got {num_samples}")
  mean, logvar = encode_fn(x)
  if mean.ndim != 2 or mean.shape != logvar.shape or mean.shape[0] != x.shape[0]:
    raise ValueError(
        f"`encode_fn` must return (mean, logvar), each [B, D] with B = {x.shape[0]}; got "
        f"shapes {mean.shape} and {logvar.shape}")
  std = jnp.exp(0.5 * logvar)
  return mean, logvar, lambda k: mean + std * jax.random.normal(k, mean.shape, mean.dtype)


def elbo_bound(encode_fn: Callable, decode_fn: Callable, x: Array, key: Array, *,
               num_samples: int = 1, likelihood: str = "bernoulli",
               gaussian_scale: float = 1.0) -> Array:
  """Monte-Carlo ELBO with analytic KL: E_q[log p(x|z)] - KL(q || N(0, I)), per example.

  Args:
    encode_fn: x [B, ...] -> (mean [B, D], logvar [B, D]).
    decode_fn: z [B, D] -> likelihood parameters [B, ...].
    x: [B, ...] data.
    key: PRNG key for the posterior samples.
    num_samples: S >= 1 samples averaged for the reconstruction term.
    likelihood: "bernoulli", "continuous_bernoulli" or "gaussian".
    gaussian_scale: Gaussian likelihood standard deviation.

  Returns:
    [B] lower bounds on log p(x) in nats.
  """
  mean, logvar, sample = _posterior(encode_fn, x, num_samples)

  def recon(k):
    return log_likelihood(likelihood, decode_fn(sample(k)), x, gaussian_scale)

  ll = jax.lax.map(recon, jax.random.split(key, num_samples)).mean(axis=0)
  return ll - gaussian_kl(mean, logvar)


def iwae_bound(encode_fn: Callable, decode_fn: Callable, x: Array, key: Array, *,
               num_samples: int, likelihood: str = "bernoulli",
               gaussian_scale: float = 1.0) -> Array:
  """Importance-weighted bound (Burda et al., 2016) with k = ``num_samples``, per example.

  log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x), z_i ~ q(z | x). It is a lower bound on
  log p(x) that tightens as k grows; k = 1 is the single-sample ELBO. Samples are
  processed one at a time (``lax.map``), so memory does not grow with k.

  Args:
    encode_fn: x [B, ...] -> (mean [B, D], logvar [B, D]).
    decode_fn: z [B, D] -> likelihood parameters [B, ...].
    x: [B, ...] data.
    key: PRNG key.
    num_samples: k >= 1.
    likelihood: "bernoulli", "continuous_bernoulli" or "gaussian".
    gaussian_scale: Gaussian likelihood standard deviation.

  Returns:
    [B] bounds in nats.
  """
  mean, logvar, sample = _posterior(encode_fn, x, num_samples)

  def log_weight(k):
    z = sample(k)
    return (log_likelihood(likelihood, decode_fn(z), x, gaussian_scale)
            + standard_normal_log_density(z) - diag_gaussian_log_density(z, mean, logvar))

  log_w = jax.lax.map(log_weight, jax.random.split(key, num_samples))  # [k, B]
  return jax.nn.logsumexp(log_w, axis=0) - math.log(num_samples)
