"""Inversion of the samplers: image to noise latent.

* :func:`ddim_invert` runs the deterministic DDIM update forwards in ``t``, on exactly the
  grid that :func:`ddim_sample` visits, in reverse order: from the clean image
  (``alpha_bar = 1``) through ``timesteps(T, n)[::-1]`` (``0, 20, ..., 980`` for 50 of
  1000). The step from grid point ``t_prev`` (or the clean image) to ``t`` evaluates
  ``eps_fn(x_{t_prev}, t)``: the same timestep label as the sampling step between the
  two points, which evaluates ``eps_fn(x_t, t)``; only the ``x`` argument is approximated
  (``eps(x_t, t) ~ eps(x_{t_prev}, t)``). For an ``eps_fn`` constant in ``x`` the round
  trip is exact.
* :func:`exact_invert` / :func:`exact_sample`: EDICT (Wallace et al., 2023), coupled
  latents whose round trip reconstructs to float precision for any ``eps_fn``.
* :func:`optimize_noise`: the latent that minimises DDIM's reconstruction error, by Adam
  through the compiled sampler, started from :func:`ddim_invert`.

::

    z = diffusion.ddim_invert(s, eps_fn, x0, num_steps=50)
    x0_again = diffusion.ddim_sample(s, eps_fn, z, num_steps=50)      # ~ x0
    pair = diffusion.exact_invert(s, eps_fn, x0, num_steps=50)
    x0_exact, _ = diffusion.exact_sample(s, eps_fn, pair, num_steps=50)
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from latentjax.diffusion import _checks as c
from latentjax.diffusion import _samplers as smp
from latentjax.diffusion import _schedules as sch
from latentjax.latent_ops import _validation as v
from latentjax.latent_ops._decoder import decoder_jit

INITS = ("invert", "random")
EDICT_MIX = 0.93


def _ascending_pairs(s, num_steps, spacing):
  """``(t_from, t_to)`` of each inversion step, ``t_from = -1`` (clean) first."""
  ts, prevs = sch.step_pairs(s.num_timesteps, num_steps, spacing)
  return prevs[::-1], ts[::-1]


def invert_loop(eps_fn, s, x, num_steps, spacing):
  froms, tos = _ascending_pairs(s, num_steps, spacing)

  def body(x, inputs):
    t_from, t_to = inputs
    eps = smp._eval(eps_fn, x, t_to)
    return smp.ddim_update(x, eps, sch.levels(s, t_from), sch.levels(s, t_to)), None

  x, _ = jax.lax.scan(body, x, (jnp.asarray(froms), jnp.asarray(tos)))
  return x


@decoder_jit(static_argnames=("num_steps", "spacing"))
def _invert_compiled(eps_fn, s, x, *, num_steps, spacing):
  return invert_loop(eps_fn, s, x, num_steps, spacing)


def ddim_invert(s, eps_fn, x0, num_steps, *, spacing="uniform"):
  """DDIM inversion, image to noise latent: deterministic DDIM forwards in ``t``.

  Step ``k`` goes from ``t_from`` to ``t_to`` along ``(-1, t_0), (t_0, t_1), ...,
  (t_{n-2}, t_{n-1})`` for the ascending grid ``t_0 < ... < t_{n-1}`` of
  :func:`timesteps` (``t_from = -1`` is the clean image), with
  ``x_to = sqrt(a_to) x0_hat + sqrt(1 - a_to) eps``, ``x0_hat = (x_from - sqrt(1 - a_from)
  eps) / sqrt(a_from)`` and ``eps = eps_fn(x_from, t_to)``: ``eps_fn`` is called at the
  timesteps ``t_0, ..., t_{n-1}``, the reverse of :func:`ddim_sample`'s calls.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``.
    x0: [B, ...] float clean images.
    num_steps: static int in ``[1, T]``, as for :func:`ddim_sample`.
    spacing: the grid, as for :func:`ddim_sample`.

  Returns:
    [B, ...] latents at the largest grid point (``980`` for 50 of 1000).

  Raises:
    ValueError: ``num_steps`` outside ``[1, T]``, unknown ``spacing``, non-finite ``x0``.

  Example:
    >>> z = ddim_invert(s, eps_fn, x0, 50)
    >>> x0_again = ddim_sample(s, eps_fn, z, 50)
  """
  x0 = smp.check_sampler(s, eps_fn, x0, "x0", num_steps, spacing)
  return _invert_compiled(eps_fn, s, x0, num_steps=num_steps, spacing=spacing)


def _edict_coefficients(s, t, t_prev, dtype):
  """``(a, b)`` of the DDIM update ``x_prev = a x_t + b eps`` from ``t`` to ``t_prev``."""
  a_t, b_t = (v.astype(dtype) for v in sch.levels(s, t))
  a_prev, b_prev = (v.astype(dtype) for v in sch.levels(s, t_prev))
  scale = jnp.sqrt(a_prev / a_t)
  return scale, jnp.sqrt(b_prev) - scale * jnp.sqrt(b_t)


@decoder_jit(static_argnames=("num_steps", "spacing", "inverse"))
def _edict_compiled(eps_fn, s, x, y, mix, *, num_steps, spacing, inverse):
  ts, prevs = sch.step_pairs(s.num_timesteps, num_steps, spacing)
  mix = mix.astype(x.dtype)

  def denoise(carry, inputs):
    (x, y), (t, t_prev) = carry, inputs
    a, b = _edict_coefficients(s, t, t_prev, x.dtype)
    x_mid = a * x + b * smp._eval(eps_fn, y, t)
    y_mid = a * y + b * smp._eval(eps_fn, x_mid, t)
    x_new = mix * x_mid + (1.0 - mix) * y_mid
    y_new = mix * y_mid + (1.0 - mix) * x_new
    return (x_new, y_new), None

  def noise(carry, inputs):
    (x_new, y_new), (t, t_prev) = carry, inputs
    a, b = _edict_coefficients(s, t, t_prev, x_new.dtype)
    y_mid = (y_new - (1.0 - mix) * x_new) / mix
    x_mid = (x_new - (1.0 - mix) * y_mid) / mix
    y = (y_mid - b * smp._eval(eps_fn, x_mid, t)) / a
    x = (x_mid - b * smp._eval(eps_fn, y, t)) / a
    return (x, y), None

  pairs = (jnp.asarray(ts), jnp.asarray(prevs))
  if inverse:
    pairs = (pairs[0][::-1], pairs[1][::-1])
  (x, y), _ = jax.lax.scan(noise if inverse else denoise, (x, y), pairs)
  return x, y


def _check_mix(mix):
  value = float(mix) if isinstance(mix, (int, float, np.number)) else None
  mix = jnp.asarray(mix)
  if mix.ndim != 0:
    raise ValueError(f"`mix` must be a float scalar, got shape {mix.shape}")
  value = float(mix) if value is None and v.is_concrete(mix) else value
  if value is not None and not 0.0 < value <= 1.0:
    raise ValueError(f"`mix` must lie in (0, 1], got {value}")
  return mix.astype(jnp.float32) if mix.dtype != jnp.float64 else mix


def exact_invert(s, eps_fn, x0, num_steps, *, mix=EDICT_MIX, spacing="uniform"):
  """EDICT inversion (Wallace et al., 2023): image to a pair of coupled latents.

  Starts from ``x = y = x0`` and inverts, step by step in ascending ``t``, the
  :func:`exact_sample` update; every operation is an explicit inverse, so
  ``exact_sample(exact_invert(x0))`` reproduces ``x0`` up to rounding for any ``eps_fn``
  (not just one that is locally constant, as DDIM inversion needs). Cost: 2 evaluations
  of ``eps_fn`` per step, twice DDIM's 1, in both directions.

  Precision: the inverse mixing divides by ``mix`` at every step, so rounding errors grow
  like ``(1 / mix) ** num_steps`` (times ``1 / sqrt(alpha_bar)`` of the largest grid
  point). In float32 with ``mix = 0.93`` the round trip is exact to about 1e-5 at 5 steps,
  a few 1e-4 at 20-50 and breaks down by 200 steps; run in float64
  (``jax.enable_x64``: about 1e-12 at 50 steps) or with ``mix`` closer to 1 for long chains.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``.
    x0: [B, ...] float clean images.
    num_steps: static int in ``[1, T]``.
    mix: EDICT's mixing weight ``p`` in ``(0, 1]``, 0.93 in the paper (smaller mixes the
      two chains more and amplifies rounding more: ``1 / p`` per step).
    spacing: the grid of :func:`timesteps`.

  Returns:
    ``(x_T, y_T)``, two [B, ...] latents at the largest grid point.

  Raises:
    ValueError: ``num_steps`` outside ``[1, T]``, unknown ``spacing``, ``mix`` outside
      ``(0, 1]``, non-finite ``x0``.

  Example:
    >>> pair = exact_invert(s, eps_fn, x0, 50)
    >>> x_rec, y_rec = exact_sample(s, eps_fn, pair, 50)   # both ~ x0 to rounding
  """
  x0 = smp.check_sampler(s, eps_fn, x0, "x0", num_steps, spacing)
  mix = _check_mix(mix)
  return _edict_compiled(eps_fn, s, x0, x0, mix, num_steps=num_steps, spacing=spacing,
                         inverse=True)


def exact_sample(s, eps_fn, latents, num_steps, *, mix=EDICT_MIX, spacing="uniform"):
  """EDICT sampling (Wallace et al., 2023): coupled latents to images.

  Per step from ``t`` to ``t_prev``, with the DDIM update ``x -> a x + b eps``:
  ``x' = a x + b eps(y, t)``, ``y' = a y + b eps(x', t)``, then the mixing
  ``x'' = p x' + (1 - p) y'``, ``y'' = p y' + (1 - p) x''``. 2 ``eps_fn`` evaluations per
  step (DDIM: 1); both at the step's upper timestep ``t``.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``.
    latents: ``(x_T, y_T)`` from :func:`exact_invert`, or a single [B, ...] noise array
      used for both (generation).
    num_steps: static int in ``[1, T]``; the same as the inversion's to reconstruct.
    mix: the mixing weight ``p`` in ``(0, 1]``.
    spacing: the grid of :func:`timesteps`.

  Returns:
    ``(x_0, y_0)``: two [B, ...] images (equal to rounding after :func:`exact_invert`).

  Raises:
    ValueError: as :func:`exact_invert`, or two latents of different shapes.

  Example:
    >>> x_rec, _ = exact_sample(s, eps_fn, exact_invert(s, eps_fn, x0, 20), 20)
  """
  if isinstance(latents, (tuple, list)):
    if len(latents) != 2:
      raise ValueError(f"`latents` must be (x_T, y_T) or one array, got {len(latents)} items")
    x, y = latents
  else:
    x = y = latents
  x = smp.check_sampler(s, eps_fn, x, "latents", num_steps, spacing)
  y = c.check_batch("latents", y)
  v.check_same_shape("latents[1]", y, "latents[0]", x)
  mix = _check_mix(mix)
  return _edict_compiled(eps_fn, s, x, y, mix, num_steps=num_steps, spacing=spacing,
                         inverse=False)


@decoder_jit(static_argnames=("num_steps", "spacing", "num_iters"))
def _optimize_compiled(eps_fn, s, x0, x_init, learning_rate, *, num_steps, spacing,
                       num_iters):
  ts, prevs = sch.step_pairs(s.num_timesteps, num_steps, spacing)
  start = invert_loop(eps_fn, s, x0, num_steps, spacing) if x_init is None else x_init
  optimizer = optax.adam(learning_rate)

  def loss_fn(z):
    return jnp.mean(jnp.square(smp.ddim_loop(eps_fn, s, z, None, None, ts, prevs) - x0))

  def body(carry, _):
    z, state = carry
    loss, grad = jax.value_and_grad(loss_fn)(z)
    updates, state = optimizer.update(grad, state, z)
    return (optax.apply_updates(z, updates), state), loss

  (z, _), losses = jax.lax.scan(body, (start, optimizer.init(start)), None, length=num_iters)
  return z, losses


def optimize_noise(s, eps_fn, x0, num_steps, key=None, *, num_iters=100, learning_rate=0.01,
                   init="invert", spacing="uniform"):
  """Optimisation-based embedding: the ``x_T`` whose DDIM sample best reconstructs ``x0``.

  Minimises ``mean((ddim_sample(s, eps_fn, x_T, num_steps) - x0) ** 2)`` over ``x_T`` by
  ``num_iters`` Adam steps, differentiating through the compiled deterministic sampler;
  the whole optimisation is one compiled loop. Cost per iteration: a forward and a
  backward pass through ``num_steps`` ``eps_fn`` evaluations.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``, differentiable in ``x_t``.
    x0: [B, ...] float target images.
    num_steps: static int in ``[1, T]``, the sampler's step count.
    key: PRNG key, used only by ``init="random"``.
    num_iters: static int ``>= 1``, the Adam steps.
    learning_rate: float ``> 0``, Adam's step size.
    init: ``"invert"`` (start from :func:`ddim_invert`'s latent) or ``"random"``
      (standard normal noise from ``key``).
    spacing: the grid of :func:`timesteps`.

  Returns:
    ``(x_T, losses)``: [B, ...] the optimised latents and [num_iters] the loss before each
    Adam step (``losses[0]`` is the starting point's reconstruction error).

  Raises:
    ValueError: ``num_steps``/``spacing`` as :func:`ddim_sample`, ``num_iters < 1``,
      ``learning_rate <= 0``, unknown ``init``, ``init="random"`` without ``key``.

  Example:
    >>> z, losses = optimize_noise(s, eps_fn, x0, 20, num_iters=200, learning_rate=0.02)
  """
  x0 = smp.check_sampler(s, eps_fn, x0, "x0", num_steps, spacing)
  num_iters = v.check_int("num_iters", num_iters, minimum=1)
  v.check_choice("init", init, INITS)
  plain = isinstance(learning_rate, (int, float, np.number))
  lr = jnp.asarray(learning_rate, jnp.float32)
  if lr.ndim != 0 or ((plain or v.is_concrete(lr)) and not float(learning_rate) > 0.0):
    raise ValueError(f"`learning_rate` must be a float > 0, got {learning_rate!r}")
  x_init = None
  if init == "random":
    key = c.check_key("key", key)
    x_init = jax.random.normal(key, x0.shape, x0.dtype)
  return _optimize_compiled(eps_fn, s, x0, x_init, lr, num_steps=num_steps, spacing=spacing,
                            num_iters=num_iters)
