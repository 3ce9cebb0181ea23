"""Adversarial losses on discriminator logits, and gradient penalties.

Losses are pure functions of the discriminator's real-valued outputs ("logits",
any shape with a leading batch axis, e.g. [B]), averaged over every element:

  =================  ===========================================  ==================
  name               discriminator loss                           generator loss
  =================  ===========================================  ==================
  ``non_saturating`` E softplus(-D(x)) + E softplus(D(G(z)))      E softplus(-D(G(z)))
  ``hinge``          E relu(1 - D(x)) + E relu(1 + D(G(z)))       -E D(G(z))
  ``wasserstein``    E D(G(z)) - E D(x)                           -E D(G(z))
  =================  ===========================================  ==================

(softplus(-l) = -log sigmoid(l): the non-saturating loss is the cross-entropy of a
sigmoid classifier, Goodfellow et al. 2014, with the generator's "-log D" trick.)
The Wasserstein critic needs a Lipschitz constraint, e.g. ``gradient_penalty``
(WGAN-GP, weight 10 in Gulrajani et al. 2017) or spectral normalisation::

    loss = objectives.get_gan_loss("hinge")
    d_loss = loss.d_loss(d_real, d_fake) + gamma / 2 * objectives.r1_penalty(d_fn, x)
    g_loss = loss.g_loss(d_fake)

Penalty weights are left to the caller.
"""

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

Array = jax.Array


def _check_logits(name: str, logits) -> Array:
  logits = jnp.asarray(logits)
  if logits.ndim < 1 or logits.shape[0] < 1:
    raise ValueError(f"`{name}` must be [B, ...] logits with B >= 1, got shape {logits.shape}")
  if not jnp.issubdtype(logits.dtype, jnp.floating):
    raise TypeError(f"`{name}` must be floating-point logits, got dtype {logits.dtype}")
  return logits


def non_saturating_d_loss(real_logits: Array, fake_logits: Array) -> Array:
  """Discriminator cross-entropy: E softplus(-D(x)) + E softplus(D(G(z))).

  Args:
    real_logits: [B, ...] discriminator outputs on data.
    fake_logits: [B', ...] outputs on generated samples (B' may differ from B).

  Returns:
    [] the loss; 2 log 2 for all-zero logits.
  """
  real = _check_logits("real_logits", real_logits)
  fake = _check_logits("fake_logits", fake_logits)
  return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


def non_saturating_g_loss(fake_logits: Array) -> Array:
  """Generator loss -E log sigmoid(D(G(z))) = E softplus(-D(G(z))); [B, ...] -> []."""
  return jnp.mean(jax.nn.softplus(-_check_logits("fake_logits", fake_logits)))


def hinge_d_loss(real_logits: Array, fake_logits: Array) -> Array:
  """Hinge discriminator loss E relu(1 - D(x)) + E relu(1 + D(G(z))); -> [] (2 at zero)."""
  real = _check_logits("real_logits", real_logits)
  fake = _check_logits("fake_logits", fake_logits)
  return jnp.mean(jax.nn.relu(1.0 - real)) + jnp.mean(jax.nn.relu(1.0 + fake))


def hinge_g_loss(fake_logits: Array) -> Array:
  """Hinge generator loss -E D(G(z)); [B, ...] -> []."""
  return -jnp.mean(_check_logits("fake_logits", fake_logits))


def wasserstein_d_loss(real_logits: Array, fake_logits: Array) -> Array:
  """Wasserstein critic loss E D(G(z)) - E D(x); -> [] (needs a Lipschitz constraint)."""
  real = _check_logits("real_logits", real_logits)
  fake = _check_logits("fake_logits", fake_logits)
  return jnp.mean(fake) - jnp.mean(real)


def wasserstein_g_loss(fake_logits: Array) -> Array:
  """Wasserstein generator loss -E D(G(z)); [B, ...] -> []."""
  return -jnp.mean(_check_logits("fake_logits", fake_logits))


class GANLoss(NamedTuple):
  """A pair of adversarial losses.

  Attributes:
    d_loss: ``d_loss(real_logits, fake_logits) -> []``, minimised by the discriminator.
    g_loss: ``g_loss(fake_logits) -> []``, minimised by the generator.
  """

  d_loss: Callable[[Array, Array], Array]
  g_loss: Callable[[Array], Array]


GAN_LOSSES: dict[str, GANLoss] = {}


def register_gan_loss(name: str, d_loss: Callable, g_loss: Callable) -> GANLoss:
  """Adds a (discriminator, generator) loss pair to ``GAN_LOSSES`` under ``name``.

  Raises:
    ValueError: if ``name`` is already registered.
  """
  if name in GAN_LOSSES:
    raise ValueError(f"GAN loss {name!r} is already registered")
  GAN_LOSSES[name] = GANLoss(d_loss, g_loss)
  return GAN_LOSSES[name]


register_gan_loss("non_saturating", non_saturating_d_loss, non_saturating_g_loss)
register_gan_loss("hinge", hinge_d_loss, hinge_g_loss)
register_gan_loss("wasserstein", wasserstein_d_loss, wasserstein_g_loss)


def get_gan_loss(name: str) -> GANLoss:
  """The registered :class:`GANLoss` called ``name``.

  Raises:
    ValueError: ``Unknown GAN loss 'hinj'; registered: hinge, non_saturating, wasserstein``.
  """
  if name not in GAN_LOSSES:
    raise ValueError(
        f"Unknown GAN loss {name!r}; registered: {', '.join(sorted(GAN_LOSSES))}")
  return GAN_LOSSES[name]


def _safe_norm(sq: Array) -> Array:
  """sqrt(sq) with a finite (zero) gradient at sq = 0."""
  positive = sq > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


def _input_gradients(d_fn: Callable[[Array], Array], x: Array) -> Array:
  """dD(x_b)/dx_b for every example, [B, ...], by one backward pass of sum_b D(x_b).

  Exact per-example gradients as long as D scores each example on its own (no batch
  statistics in training mode, no minibatch features).
  """
  def total(x):
    out = d_fn(x)
    if jnp.ndim(out) < 1 or jnp.shape(out)[0] != x.shape[0]:
      raise ValueError(
          f"`d_fn` must return [B, ...] logits with B = {x.shape[0]}, got shape "
          f"{jnp.shape(out)}")
    return jnp.sum(out)

  return jax.grad(total)(x)


def _check_samples(name: str, x) -> Array:
  x = jnp.asarray(x)
  if x.ndim < 1 or x.shape[0] < 1:
    raise ValueError(f"`{name}` must be [B, ...] samples with B >= 1, got shape {x.shape}")
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise TypeError(f"`{name}` must be floating-point samples, got dtype {x.dtype}")
  return x


def gradient_norms(d_fn: Callable[[Array], Array], x: Array) -> Array:
  """Per-example input-gradient norms ||grad_x D(x_b)||_2 over all non-batch axes.

  Args:
    d_fn: ``d_fn(x [B, ...]) -> [B] or [B, 1]`` logits, scoring examples independently
      (a discriminator's ``apply`` with its variables bound and ``train=False``).
    x: [B, ...] points.

  Returns:
    [B] norms, differentiable in ``d_fn``'s parameters (zero-gradient-safe at 0).
  """
  x = _check_samples("x", x)
  g = _input_gradients(d_fn, x)
  return _safe_norm(jnp.sum(jnp.square(g).reshape((x.shape[0], -1)), axis=-1))


def gradient_penalty(d_fn: Callable[[Array], Array], real: Array, fake: Array,
                     key: Array, target: float = 1.0) -> Array:
  """WGAN-GP penalty E (||grad D(x_hat)|| - target)^2 on random interpolates.

  x_hat_b = eps_b real_b + (1 - eps_b) fake_b with eps = jax.random.uniform(key, (B, 1,
  ..., 1)) (one draw per example, broadcast over its other axes); the norm is taken per
  example over all non-batch axes. Gulrajani et al. (2017) add 10 times this to the
  critic's loss.

  Args:
    d_fn: ``d_fn(x [B, ...]) -> [B] or [B, 1]`` logits, scoring examples independently.
    real: [B, ...] data.
    fake: [B, ...] generated samples (pass ``jax.lax.stop_gradient`` of them for the
      discriminator update).
    key: PRNG key for the interpolation weights.
    target: the gradient norm aimed for (1 in WGAN-GP).

  Returns:
    [] the penalty, differentiable in ``d_fn``'s parameters.

  Raises:
    ValueError: if ``real`` and ``fake`` differ in shape or are not [B, ...].
  """
  real, fake = _check_samples("real", real), _check_samples("fake", fake)
  if real.shape != fake.shape:
    raise ValueError(
        f"`fake` must have the same shape as `real` {real.shape}, got shape {fake.shape}")
  eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1), real.dtype)
  x_hat = eps * real + (1.0 - eps) * fake
  return jnp.mean(jnp.square(gradient_norms(d_fn, x_hat) - target))


def r1_penalty(d_fn: Callable[[Array], Array], real: Array) -> Array:
  """R1 penalty E ||grad_x D(x)||^2 on data (Mescheder et al., 2018).

  The regulariser of the paper is (gamma / 2) times this, added to the discriminator's
  loss; the weighting is left to the caller.

  Args:
    d_fn: ``d_fn(x [B, ...]) -> [B] or [B, 1]`` logits, scoring examples independently.
    real: [B, ...] data.

  Returns:
    [] the mean over the batch of the squared per-example gradient norms.
  """
  real = _check_samples("real", real)
  g = _input_gradients(d_fn, real)
  return jnp.mean(jnp.sum(jnp.square(g).reshape((real.shape[0], -1)), axis=-1))
