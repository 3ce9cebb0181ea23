"""GAN inversion: the latent code whose generated image best matches a given one.

For each target image ``x_b``, Adam minimises over ``z``

    mean((generator(z) - x_b)^2) + prior_weight * ||z||^2 / 2,

the mean squared error over the image's elements plus the negative log-density of the
N(0, I) prior (up to a constant). That is MAP estimation under a Gaussian likelihood
N(x; generator(z), sigma^2 I) with ``prior_weight = 2 sigma^2 / P`` for images of P
elements; ``prior_weight = 0`` (the default) is a pure reconstruction search. The images
and their random restarts run as one compiled ``lax.scan`` of ``num_steps`` steps,
``jax.vmap``-ed over both, so a batch gives the same codes as one image at a time. The
restart with the lowest final objective wins. ``z_init`` (e.g. an encoder's codes) is the
first start of each image: the hybrid "encode, then optimise" inversion::

    codes, errors = lo.invert(generator, images, key, latent_dim=128)
    codes, errors = lo.invert(generator, images, key, z_init=encoder(images))

Compilation follows the rules of every decoder op (``latentjax.latent_ops._decoder``):
a pytree generator (``functools.partial(apply_one, variables)``, ``jax.tree_util.Partial``,
an Equinox module) compiles once per structure and shapes, its parameters passed as traced
arguments; a generator that reads arrays it captures (a closure, a callable object) is
traced afresh on every call, so those arrays are never baked into a cached executable.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax.latent_ops import _validation as v
from latentjax.latent_ops._decoder import decoder_jit

_STATIC = ("num_steps",)


class InversionResult(NamedTuple):
  """Output of :func:`invert` (a tuple: ``codes, errors = invert(...)``).

  Attributes:
    codes: [B, D] the codes found.
    errors: [B] mean squared error between ``generator(codes[b])`` and ``x[b]``.
  """

  codes: jax.Array
  errors: jax.Array


def _cosine(peak, num_steps):
  def lr(count):
    frac = jnp.minimum(count.astype(peak.dtype) / num_steps, 1.0)
    return peak * 0.5 * (1.0 + jnp.cos(jnp.pi * frac))

  return lr


def _invert_one(generator, target, starts, learning_rate, prior_weight, *, num_steps):
  """Optimises every start [R, D] for one target image; returns the best (code, error)."""

  def objective(z):
    err = jnp.mean(jnp.square(generator(z).astype(target.dtype) - target))
    return err + prior_weight * 0.5 * jnp.sum(jnp.square(z)), err

  optimizer = optax.adam(_cosine(learning_rate, num_steps))

  def run(z0):
    def step(carry, _):
      z, opt_state = carry
      grad = jax.grad(lambda z: objective(z)[0])(z)
      updates, opt_state = optimizer.update(grad, opt_state, z)
      return (optax.apply_updates(z, updates), opt_state), None

    (z, _), _ = jax.lax.scan(step, (z0, optimizer.init(z0)), None, length=num_steps)
    obj, err = objective(z)
    return z, obj, err

  codes, objs, errs = jax.vmap(run)(starts)
  best = jnp.argmin(objs)
  return codes[best], errs[best]


def _invert_batch(generator, x, starts, learning_rate, prior_weight, *, num_steps):
  one = functools.partial(_invert_one, generator, num_steps=num_steps)
  codes, errors = jax.vmap(lambda t, s: one(t, s, learning_rate, prior_weight))(x, starts)
  return InversionResult(codes, errors)


_invert_cached = decoder_jit(static_argnames=_STATIC)(_invert_batch)


def _output_shape(generator, latent_dim, dtype):
  try:
    out = jax.eval_shape(generator, jax.ShapeDtypeStruct((latent_dim,), dtype))
  except (TypeError, ValueError) as err:
    raise ValueError(
        f"`generator` must map one code [D] = [{latent_dim}] to an image: {err}") from err
  if not hasattr(out, "shape"):
    raise TypeError(
        f"`generator` must return a single array for a code [{latent_dim}], got {out!r}")
  return tuple(out.shape)


def _check_scalar(name, value, minimum, strict):
  if isinstance(value, (int, float, np.integer, np.floating)):
    bad = value <= minimum if strict else value < minimum
    if bad:
      raise ValueError(f"`{name}` must be {'>' if strict else '>='} {minimum}, got {value}")


def invert(generator, x, key, *, latent_dim: int | None = None, num_steps: int = 300,
           learning_rate: float = 0.05, prior_weight: float = 0.0, num_restarts: int = 1,
           z_init=None) -> InversionResult:
  """Optimisation-based inversion of a generator, per image, batched.

  Args:
    generator: callable mapping one code ``[D]`` to one image (an array of any shape).
      For a Flax generator of batches: ``functools.partial(apply_one, variables)`` with
      ``def apply_one(variables, z): return g.apply(variables, z[None], train=False)[0]``.
    x: [B, ...] target images; ``x.shape[1:]`` must be the generator's output shape.
    key: PRNG key for the random starts N(0, I) (unused when ``z_init`` is the only start).
    latent_dim: D; required without ``z_init``, else must match it.
    num_steps: Adam steps per start (static); the learning rate decays to 0 on a cosine.
    learning_rate: Adam's initial step size, in latent units.
    prior_weight: weight of ||z||^2 / 2 (0 for pure reconstruction; see the module
      docstring for its MAP interpretation).
    num_restarts: starts per image (static); the one of lowest final objective is kept.
    z_init: optional [B, D] first start of each image (e.g. an encoder's codes); the other
      ``num_restarts - 1`` starts are random.

  Returns:
    ``InversionResult(codes [B, D], errors [B])``: the codes and their mean squared
    reconstruction errors.

  Raises:
    ValueError: ``x`` not matching the generator's output shape, bad ``z_init`` shape,
      missing or mismatched ``latent_dim``, out-of-range arguments.
    TypeError: non-integer static arguments, a generator returning a pytree.

  Example:
    >>> codes, errors = lo.invert(generator, generator_batch(z_true), key, latent_dim=8)
  """
  x = v.as_float(x)
  v.check_min_rank("x", x, 1, "[B, ...] images")
  num_steps = v.check_int("num_steps", num_steps, minimum=1)
  num_restarts = v.check_int("num_restarts", num_restarts, minimum=1)
  _check_scalar("learning_rate", learning_rate, 0.0, strict=True)
  _check_scalar("prior_weight", prior_weight, 0.0, strict=False)
  batch = x.shape[0]
  if z_init is not None:
    z_init = v.as_float(z_init)
    v.check_rank("z_init", z_init, (2,), "[B, D] start codes")
    if z_init.shape[0] != batch:
      raise ValueError(
          f"`z_init` must be [B, D] with B = {batch} (the first axis of `x`), "
          f"got shape {z_init.shape}")
    if latent_dim is not None and v.check_int("latent_dim", latent_dim, 1) != z_init.shape[1]:
      raise ValueError(
          f"`latent_dim` {latent_dim} does not match `z_init` of shape {z_init.shape}")
    latent_dim = z_init.shape[1]
  elif latent_dim is None:
    raise ValueError("`latent_dim` is required when `z_init` is None")
  latent_dim = v.check_int("latent_dim", latent_dim, minimum=1)
  out_shape = _output_shape(generator, latent_dim, x.dtype)
  if x.shape[1:] != out_shape:
    raise ValueError(
        f"`x` must be [B, *generator output shape] = [B, {', '.join(map(str, out_shape))}], "
        f"got shape {x.shape}")

  num_random = num_restarts - (z_init is not None)
  starts = jax.random.normal(key, (batch, num_random, latent_dim), x.dtype)
  if z_init is not None:
    starts = jnp.concatenate([z_init.astype(x.dtype)[:, None], starts], axis=1)
  args = (x, starts, jnp.asarray(learning_rate, x.dtype), jnp.asarray(prior_weight, x.dtype))
  return _invert_cached(generator, *args, num_steps=num_steps)
