"""Encoder-based and hybrid inversion of a generator: an encoder trained to undo it.

Optimisation-based inversion (`invert`) searches a code per image; an *inverse encoder*
maps an image to its code in one forward pass, after training on pairs the generator
makes itself: z ~ N(0, I), x = G(z), minimise

    code_weight * ||E(x) - z||^2  +  ||G(E(x)) - x||^2        (means over elements)

so the encoder learns both where a generated image came from and a code that draws it
again. Its codes are a good start for `invert` (the hybrid: ``invert(G, x, key,
z_init=encoder(params, x))``), which then only refines them.

    params, losses = lo.fit_inverse_encoder(key, generator, encoder, params0, latent_dim=8)
    codes, errors = lo.encode_inverse(generator, encoder, params, images)

``generator(z [D]) -> x [...]`` maps one code (as every latent op); ``encoder(params,
x [B, ...]) -> [B, D]`` maps a batch (e.g. ``functools.partial(module.apply)`` of a Flax
module, called as ``encoder({"params": p}, x)`` when ``params = {"params": p}``).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from latentjax.latent_ops import _validation as v
from latentjax.latent_ops._decoder import decoder_jit
from latentjax.latent_ops._inversion import InversionResult, _output_shape


class InverseEncoderFit(NamedTuple):
  """Output of `fit_inverse_encoder`.

  Attributes:
    params: the trained encoder parameters.
    losses: [num_steps] the training objective at each step.
  """

  params: object
  losses: jax.Array


def _pair(generator, encoder):
  del encoder
  return generator


def _fit_impl(pair, params, key, learning_rate, code_weight, *, latent_dim, num_steps,
              batch_size):
  generator, encoder = pair.args
  optimizer = optax.adam(learning_rate)

  def loss_fn(p, k):
    z = jax.random.normal(k, (batch_size, latent_dim))
    x = jax.lax.stop_gradient(jax.vmap(generator)(z))
    z_hat = encoder(p, x)
    x_hat = jax.vmap(generator)(z_hat)
    return (code_weight * jnp.mean(jnp.square(z_hat - z))
            + jnp.mean(jnp.square(x_hat - x)))

  def step(carry, k):
    p, opt_state = carry
    loss, grads = jax.value_and_grad(loss_fn)(p, k)
    updates, opt_state = optimizer.update(grads, opt_state, p)
    return (optax.apply_updates(p, updates), opt_state), loss

  keys = jax.random.split(key, num_steps)
  (params, _), losses = jax.lax.scan(step, (params, optimizer.init(params)), keys)
  return InverseEncoderFit(params, losses)


_fit = decoder_jit(static_argnames=("latent_dim", "num_steps", "batch_size"))(_fit_impl)


def fit_inverse_encoder(key, generator, encoder, params, *, latent_dim: int,
                        num_steps: int = 2000, batch_size: int = 64,
                        learning_rate: float = 1e-3,
                        code_weight: float = 1.0) -> InverseEncoderFit:
  """Trains an encoder to invert a generator on samples it generates (one compiled loop).

  Args:
    key: PRNG key for the codes z ~ N(0, I) of every step.
    generator: ``generator(z [D]) -> x [...]``, one code to one image (kept fixed).
    encoder: ``encoder(params, x [B, ...]) -> z [B, D]``.
    params: the encoder's initial parameters (a pytree).
    latent_dim: D.
    num_steps: Adam steps (static).
    batch_size: generated pairs per step (static).
    learning_rate: Adam's step size, > 0.
    code_weight: weight of the code error against the image error, >= 0.

  Returns:
    ``InverseEncoderFit(params, losses [num_steps])``.

  Raises:
    ValueError: bad sizes or weights, or an encoder whose output is not [B, D].
  """
  latent_dim = v.check_int("latent_dim", latent_dim, minimum=1)
  num_steps = v.check_int("num_steps", num_steps, minimum=1)
  batch_size = v.check_int("batch_size", batch_size, minimum=1)
  if not learning_rate > 0:
    raise ValueError(f"`learning_rate` must be > 0, got {learning_rate}")
  if not code_weight >= 0:
    raise ValueError(f"`code_weight` must be >= 0, got {code_weight}")
  out_shape = _output_shape(generator, latent_dim, jnp.float32)
  x = jax.ShapeDtypeStruct((batch_size, *out_shape), jnp.float32)
  z = jax.eval_shape(encoder, params, x)
  if getattr(z, "shape", None) != (batch_size, latent_dim):
    raise ValueError(
        f"`encoder` must map images [B, ...] to codes [B, D] = [{batch_size}, {latent_dim}], "
        f"got {getattr(z, 'shape', z)}")
  pair = jax.tree_util.Partial(_pair, generator, encoder)
  return _fit(pair, params, key, jnp.float32(learning_rate), jnp.float32(code_weight),
              latent_dim=latent_dim, num_steps=num_steps, batch_size=batch_size)


@decoder_jit()
def _encode_impl(pair, params, x):
  generator, encoder = pair.args
  z = encoder(params, x)
  x_hat = jax.vmap(generator)(z)
  err = jnp.mean(jnp.square(x_hat - x).reshape(x.shape[0], -1), axis=1)
  return InversionResult(z, err)


def encode_inverse(generator, encoder, params, x) -> InversionResult:
  """Codes of images from a trained inverse encoder, with their reconstruction errors.

  Args:
    generator: ``generator(z [D]) -> x [...]``.
    encoder: ``encoder(params, x [B, ...]) -> [B, D]``.
    params: the encoder's parameters (from `fit_inverse_encoder`).
    x: [B, ...] images of the generator's output shape.

  Returns:
    ``InversionResult(codes [B, D], errors [B])``, errors as in `invert` (per-image MSE).
  """
  x = v.as_float(x)
  v.check_min_rank("x", x, 2, "[B, ...] images")
  pair = jax.tree_util.Partial(_pair, generator, encoder)
  return _encode_impl(pair, params, x)
