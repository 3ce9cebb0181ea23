"""Samplers of a noise-prediction model: DDIM, DDPM ancestral and DPM-Solver++(2M).

Each takes ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]`` and runs as one compiled
loop (``lax.scan`` over the steps), compiled once per ``eps_fn`` structure, input shape,
step count and spacing: new parameter values of the same shapes reuse the compiled code
when ``eps_fn`` holds them as pytree leaves (``functools.partial(model.apply, params)``,
``jax.tree_util.Partial``; see ``latentjax.latent_ops._decoder`` for the rules)::

    x0 = diffusion.ddim_sample(s, eps_fn, x_T, num_steps=50)            # t = 980, ..., 0
    x0 = diffusion.ddpm_sample(s, eps_fn, x_T, key)                    # the full chain
    x0 = diffusion.dpm_solver_pp_2m_sample(s, eps_fn, x_T, num_steps=20)

The grid is :func:`timesteps` ``(T, num_steps, spacing)``, visited in descending order; step
``i`` goes from ``t_i`` to the next grid point ``t_{i+1}``, and the last from the smallest
grid point to the clean image (``alpha_bar = 1``). ``eps_fn`` is evaluated once per step,
at ``(x_{t_i}, t_i)``. Arguments are checked before anything is compiled.
"""

import jax
import jax.numpy as jnp

from latentjax.diffusion import _checks as c
from latentjax.diffusion import _schedules as sch
from latentjax.diffusion._forward import per_example
from latentjax.latent_ops._decoder import decoder_jit

_EPS_SIGNATURE = "eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]"


def _sigma(level_t, level_prev, eta):
  """DDIM's eq. 16: ``eta sqrt((1 - a_prev) / (1 - a_t)) sqrt(1 - a_t / a_prev)``, with
  ``1 - a_t / a_prev = ((1 - a_t) - (1 - a_prev)) / a_prev`` (no cancellation near 1)."""
  (_, b_t), (a_prev, b_prev) = level_t, level_prev
  return eta * jnp.sqrt(b_prev / b_t * ((b_t - b_prev) / a_prev))


def ddim_update(x, eps, level_t, level_prev, eta=None, noise=None):
  """DDIM's eq. 12 from ``(alpha_bar, 1 - alpha_bar)`` pairs (:func:`levels`; scalars or
  broadcastable to ``x``).

  ``eta=None`` is the deterministic update, valid also for ``a_t = 1`` (inversion's start).
  """
  a_t, b_t = (v.astype(x.dtype) for v in level_t)
  a_prev, b_prev = (v.astype(x.dtype) for v in level_prev)
  x0 = (x - jnp.sqrt(b_t) * eps) / jnp.sqrt(a_t)
  if eta is None:
    return jnp.sqrt(a_prev) * x0 + jnp.sqrt(b_prev) * eps
  sigma = _sigma((a_t, b_t), (a_prev, b_prev), eta.astype(x.dtype))
  direction = jnp.sqrt(jnp.maximum(b_prev - jnp.square(sigma), 0.0)) * eps
  out = jnp.sqrt(a_prev) * x0 + direction
  return out if noise is None else out + sigma * noise


def ddim_step(s, x_t, eps, t, t_prev, eta=0.0, key=None):
  """One DDIM step from ``t`` to ``t_prev`` (Song et al., 2021, eqs. 12 and 16).

  ``x_prev = sqrt(a_prev) x0_hat + sqrt(1 - a_prev - sigma^2) eps + sigma z`` with
  ``x0_hat = (x_t - sqrt(1 - a_t) eps) / sqrt(a_t)``, ``z ~ N(0, I)`` and
  ``sigma = eta sqrt((1 - a_prev) / (1 - a_t)) sqrt(1 - a_t / a_prev)``; ``eta = 1`` is
  DDPM's ancestral step with the posterior variance, ``eta = 0`` the deterministic DDIM.

  Args:
    s: the :class:`Schedule`.
    x_t: [B, ...] float, the current sample.
    eps: [B, ...] the noise prediction at ``(x_t, t)``.
    t: int (Python, or a traced int32 scalar or [B]) in ``[0, T - 1]``.
    t_prev: int like ``t``; ``t_prev < 0`` steps to the clean image (``alpha_bar = 1``).
    eta: float scalar ``>= 0``, the stochasticity.
    key: PRNG key of the noise ``z``; required when ``eta > 0`` (or traced).

  Returns:
    [B, ...] the sample at ``t_prev``.

  Raises:
    ValueError: mismatched shapes, ``t``/``t_prev`` out of range (when concrete),
      ``eta < 0``, ``eta > 0`` without ``key``.

  Example:
    >>> x = ddim_step(s, x, eps_fn(x, jnp.full((B,), 980)), 980, 960)
  """
  sch.check_schedule(s)
  x_t = c.check_batch("x_t", x_t)
  if jnp.shape(eps) != x_t.shape:
    raise ValueError(f"`eps` must have the shape of `x_t` {x_t.shape}, got {jnp.shape(eps)}")
  t = c.check_timestep("t", t, s.num_timesteps, x_t.shape[0])
  t_prev = c.check_timestep("t_prev", t_prev, s.num_timesteps, x_t.shape[0], allow_clean=True)
  eta, key = c.check_eta(eta, key)
  level_t = tuple(per_example(v, x_t) for v in sch.levels(s, t))
  level_prev = tuple(per_example(v, x_t) for v in sch.levels(s, t_prev))
  if key is None:
    return ddim_update(x_t, eps, level_t, level_prev)
  noise = jax.random.normal(key, x_t.shape, x_t.dtype)
  return ddim_update(x_t, eps, level_t, level_prev, eta, noise)


def _eval(eps_fn, x, t):
  return eps_fn(x, jnp.full((x.shape[0],), t, jnp.int32))


def ddim_loop(eps_fn, s, x, key, eta, ts, prevs):
  """The DDIM chain over the static grid ``ts -> prevs`` (traced; no checks)."""
  keys = None if key is None else jax.random.split(key, len(ts))

  def body(x, inputs):
    t, t_prev, k = inputs
    eps = _eval(eps_fn, x, t)
    level_t, level_prev = sch.levels(s, t), sch.levels(s, t_prev)
    if k is None:
      return ddim_update(x, eps, level_t, level_prev), None
    noise = jax.random.normal(k, x.shape, x.dtype)
    return ddim_update(x, eps, level_t, level_prev, eta, noise), None

  x, _ = jax.lax.scan(body, x, (jnp.asarray(ts), jnp.asarray(prevs), keys))
  return x


@decoder_jit(static_argnames=("num_steps", "spacing"))
def _ddim_compiled(eps_fn, s, x, key, eta, *, num_steps, spacing):
  ts, prevs = sch.step_pairs(s.num_timesteps, num_steps, spacing)
  return ddim_loop(eps_fn, s, x, key, eta, ts, prevs)


def check_sampler(s, eps_fn, x, name, num_steps, spacing):
  """Checks the common sampler arguments; returns ``x`` as a float array."""
  sch.check_schedule(s)
  c.check_callable("eps_fn", eps_fn, _EPS_SIGNATURE)
  x = c.check_batch(name, x)
  sch.timesteps(s.num_timesteps, num_steps, spacing)  # checks num_steps and spacing
  return x


def ddim_sample(s, eps_fn, x_T, num_steps, eta=0.0, key=None, *, spacing="uniform"):
  """DDIM sampling, noise to image (Song et al., 2021), as one compiled loop.

  Visits ``timesteps(T, num_steps, spacing)`` in descending order, evaluating
  ``eps_fn(x_t, t)`` at each grid point ``t`` and stepping with :func:`ddim_step` to the next
  one; the last step goes to the clean image. :func:`ddim_invert` uses the same grid.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``.
    x_T: [B, ...] float, the starting noise (or an inverted latent).
    num_steps: static int in ``[1, T]``.
    eta: float ``>= 0``; 0 is deterministic, 1 is DDPM-like ancestral sampling.
    key: PRNG key of the per-step noise; required when ``eta > 0``.
    spacing: ``"uniform"`` (``980, 960, ..., 0`` for 50 of 1000), ``"quadratic"`` or
      ``"trailing"``; see :func:`timesteps`.

  Returns:
    [B, ...] the samples.

  Raises:
    ValueError: ``num_steps`` outside ``[1, T]``, unknown ``spacing``, ``eta < 0``,
      ``eta > 0`` without ``key``, non-finite ``x_T`` (all before compiling).
    TypeError: ``eps_fn`` not callable, ``num_steps`` not a static int.

  Example:
    >>> x0 = ddim_sample(s, functools.partial(unet.apply, params), x_T, num_steps=50)
  """
  x_T = check_sampler(s, eps_fn, x_T, "x_T", num_steps, spacing)
  eta, key = c.check_eta(eta, key)
  if key is not None:
    key = c.check_key("key", key)
  return _ddim_compiled(eps_fn, s, x_T, key, eta, num_steps=num_steps, spacing=spacing)


@decoder_jit(static_argnames=("num_steps", "spacing"))
def _ddpm_compiled(eps_fn, s, x, key, *, num_steps, spacing):
  ts, prevs = sch.step_pairs(s.num_timesteps, num_steps, spacing)
  keys = jax.random.split(key, len(ts))

  def body(x, inputs):
    t, t_prev, k = inputs
    eps = _eval(eps_fn, x, t)
    a_t, b_t = (v.astype(x.dtype) for v in sch.levels(s, t))
    a_prev, b_prev = (v.astype(x.dtype) for v in sch.levels(s, t_prev))
    alpha = a_t / a_prev  # the respaced 1 - beta of this step
    beta = (b_t - b_prev) / a_prev  # = 1 - alpha, without cancelling near alpha = 1
    mean = (x - beta / jnp.sqrt(b_t) * eps) / jnp.sqrt(alpha)
    variance = beta * b_prev / b_t  # beta_tilde; 0 at the last step
    return mean + jnp.sqrt(variance) * jax.random.normal(k, x.shape, x.dtype), None

  x, _ = jax.lax.scan(body, x, (jnp.asarray(ts), jnp.asarray(prevs), keys))
  return x


def ddpm_sample(s, eps_fn, x_T, key, num_steps=None, *, spacing="uniform"):
  """Ancestral sampling (Ho et al., 2020) with the posterior variance ``beta_tilde``.

  ``x_prev = (x_t - beta_t / sqrt(1 - a_t) eps) / sqrt(1 - beta_t) + sqrt(beta_tilde_t) z``,
  ``beta_tilde_t = beta_t (1 - a_prev) / (1 - a_t)``. With ``num_steps = None`` (or ``T``)
  this is the full chain ``T - 1, ..., 0``; fewer steps use the respacing of Nichol &
  Dhariwal (2021): on the grid ``timesteps(T, num_steps, spacing)`` the step from ``t`` to
  the next grid point ``t_prev`` has ``beta_t = 1 - a_t / a_prev``. The last step (to
  ``alpha_bar = 1``) adds no noise. Equals :func:`ddim_sample` with ``eta = 1``.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``.
    x_T: [B, ...] float starting noise.
    key: PRNG key of the per-step noise.
    num_steps: static int in ``[1, T]``, or None for all ``T`` steps.
    spacing: grid of the respaced chain; see :func:`timesteps`.

  Returns:
    [B, ...] the samples.

  Raises:
    ValueError: ``num_steps`` outside ``[1, T]``, unknown ``spacing``, a missing ``key``,
      non-finite ``x_T``.

  Example:
    >>> x0 = ddpm_sample(s, eps_fn, jax.random.normal(k1, shape), k2)
  """
  num_steps = s.num_timesteps if num_steps is None and isinstance(s, sch.Schedule) else num_steps
  x_T = check_sampler(s, eps_fn, x_T, "x_T", num_steps, spacing)
  key = c.check_key("key", key)
  return _ddpm_compiled(eps_fn, s, x_T, key, num_steps=num_steps, spacing=spacing)


@decoder_jit(static_argnames=("num_steps", "spacing"))
def _dpm_compiled(eps_fn, s, x, *, num_steps, spacing):
  grid, _ = sch.step_pairs(s.num_timesteps, num_steps, spacing)
  ts = jnp.asarray(grid)
  a, b = (v.astype(x.dtype) for v in sch.levels(s, ts))
  alpha, sigma = jnp.sqrt(a), jnp.sqrt(b)
  lam = jnp.log(alpha) - jnp.log(sigma)  # log-SNR / 2 at each grid point, increasing

  def data_pred(x, i):
    return (x - sigma[i] * _eval(eps_fn, x, ts[i])) / alpha[i]

  def body(carry, i):
    x, x0_prev, h_prev = carry
    x0 = data_pred(x, i)
    h = lam[i + 1] - lam[i]
    ratio = h_prev / h
    second = x0 + (x0 - x0_prev) / (2.0 * ratio)  # (1 + 1/2r) D_i - 1/2r D_{i-1}
    # First order at the first step (no history) and into the smallest grid point.
    d = jnp.where((i > 0) & (i < num_steps - 2), second, x0)
    x = sigma[i + 1] / sigma[i] * x - alpha[i + 1] * jnp.expm1(-h) * d
    return (x, x0, h), None

  init = (x, jnp.zeros_like(x), jnp.ones((), x.dtype))
  (x, _, _), _ = jax.lax.scan(body, init, jnp.arange(num_steps - 1))
  return data_pred(x, num_steps - 1)  # to sigma = 0: x0 = D, first order


def dpm_solver_pp_2m_sample(s, eps_fn, x_T, num_steps, *, spacing="uniform"):
  """DPM-Solver++(2M) (Lu et al., 2022): second-order multistep in the data prediction.

  With ``alpha_t = sqrt(a_t)``, ``sigma_t = sqrt(1 - a_t)``, ``lambda_t = log(alpha_t /
  sigma_t)`` and ``x0_i = (x_i - sigma_i eps_fn(x_i, t_i)) / alpha_i`` on the grid
  ``timesteps(T, num_steps, spacing)`` (descending), step ``i`` (``h = lambda_{i+1} -
  lambda_i``, ``r = h_{i-1} / h``) is
  ``x_{i+1} = sigma_{i+1} / sigma_i x_i - alpha_{i+1} (exp(-h) - 1) D_i`` with
  ``D_i = (1 + 1/(2r)) x0_i - 1/(2r) x0_{i-1}``. Conventions: the first step is first order
  (``D_0 = x0_0``, i.e. DDIM); so are the last two ("lower order final"): the step into the
  smallest grid point (on the uniform grid a large jump in ``lambda``, ``t = 20 -> 0`` for
  50 of 1000, where the second-order extrapolation with a small ``r`` is unstable) and the
  step from it to the clean image (``sigma = 0``, ``lambda = inf``), which returns ``x0`` of
  that point. ``num_steps`` evaluations of ``eps_fn`` in all, one per grid point.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``.
    x_T: [B, ...] float starting noise.
    num_steps: static int in ``[1, T]``; 10-20 is typical.
    spacing: see :func:`timesteps`.

  Returns:
    [B, ...] the samples.

  Raises:
    ValueError: ``num_steps`` outside ``[1, T]``, unknown ``spacing``, non-finite ``x_T``.

  Example:
    >>> x0 = dpm_solver_pp_2m_sample(s, eps_fn, x_T, num_steps=20)
  """
  x_T = check_sampler(s, eps_fn, x_T, "x_T", num_steps, spacing)
  return _dpm_compiled(eps_fn, s, x_T, num_steps=num_steps, spacing=spacing)


@decoder_jit(static_argnames=("num_steps", "spacing"))
def _trajectory_compiled(eps_fn, s, x, *, num_steps, spacing):
  ts, prevs = sch.step_pairs(s.num_timesteps, num_steps, spacing)

  def body(x, inputs):
    t, t_prev = inputs
    x = ddim_update(x, _eval(eps_fn, x, t), sch.levels(s, t), sch.levels(s, t_prev))
    return x, x

  _, states = jax.lax.scan(body, x, (jnp.asarray(ts), jnp.asarray(prevs)))
  return jnp.concatenate([x[None], states], axis=0)


def ddim_trajectory(s, eps_fn, x_T, num_steps, *, spacing="uniform"):
  """The whole deterministic DDIM chain: every intermediate state, as one compiled loop.

  The same updates as :func:`ddim_sample` with ``eta = 0``, recording the state after
  each step. ``states[k]`` for ``k < num_steps`` is ``x`` at the ``k``-th grid point of
  ``timesteps(T, num_steps, spacing)`` (descending; ``states[0]`` is ``x_T`` itself) and
  ``states[num_steps]`` is the clean sample, equal to ``ddim_sample(s, eps_fn, x_T,
  num_steps)``.

  Args:
    s: the :class:`Schedule`.
    eps_fn: ``eps_fn(x_t [B, ...], t [B] int32) -> eps [B, ...]``.
    x_T: [B, ...] float, the starting noise.
    num_steps: static int in ``[1, T]``.
    spacing: the grid of :func:`timesteps`.

  Returns:
    [num_steps + 1, B, ...] the states, noise first, sample last.

  Raises:
    ValueError: ``num_steps`` outside ``[1, T]``, unknown ``spacing``, non-finite ``x_T``.
    TypeError: ``eps_fn`` not callable.

  Example:
    >>> states = ddim_trajectory(s, eps_fn, x_T, 50)     # [51, B, ...]
    >>> grid = timesteps(s.num_timesteps, 50)           # states[k] is at grid[k], k < 50
  """
  x_T = check_sampler(s, eps_fn, x_T, "x_T", num_steps, spacing)
  return _trajectory_compiled(eps_fn, s, x_T, num_steps=num_steps, spacing=spacing)
