"""Noise schedules of discrete-time diffusion and the timestep grids of the samplers.

A :class:`Schedule` holds the betas of the forward process and their cumulative products
``alphas_cumprod[t] = prod_{i <= t} (1 - betas[i])`` for ``t = 0, ..., T - 1``. It is a
pytree (arrays as leaves, ``num_timesteps`` static), so it passes into ``jax.jit``::

    s = diffusion.linear_schedule(1000)                 # Ho et al. (2020)
    s = diffusion.cosine_schedule(1000, s=0.008)        # Nichol & Dhariwal (2021)
    grid = diffusion.timesteps(1000, 50)                # [980, 960, ..., 0]

The values are computed in float64 on the host and stored in JAX's default float dtype
(float32, or float64 under ``jax.experimental.enable_x64``).
"""

import math

import flax.struct
import jax
import jax.numpy as jnp
import numpy as np

from latentjax.latent_ops import _validation as v

SPACINGS = ("uniform", "quadratic", "trailing")
# Nichol & Dhariwal (2021) clip the cosine schedule's betas to avoid a singularity at t = T.
COSINE_MAX_BETA = 0.999


@flax.struct.dataclass
class Schedule:
  """Discrete noise schedule ``t = 0, ..., T - 1`` (a pytree).

  Attributes:
    betas: [T] float, the variances of the forward steps ``q(x_t | x_{t-1})``.
    alphas_cumprod: [T] float, ``prod_{i <= t} (1 - betas[i])`` (written ``alpha_bar_t``).
    one_minus_alphas_cumprod: [T] float, ``1 - alphas_cumprod``, computed in float64: near
      ``t = 0`` ``alpha_bar`` is ``1 - 1e-4`` and ``1 - alpha_bar`` of its float32 value
      keeps only four digits (a relative error of up to 5e-4 in the noise variance).
    num_timesteps: static int ``T``.
  """

  betas: jax.Array
  alphas_cumprod: jax.Array
  one_minus_alphas_cumprod: jax.Array
  num_timesteps: int = flax.struct.field(pytree_node=False)


def _from_betas(betas: np.ndarray) -> Schedule:
  betas = np.asarray(betas, np.float64)
  alphas_cumprod = np.cumprod(1.0 - betas)
  one_minus = -np.expm1(np.cumsum(np.log1p(-betas)))  # no cancellation near alpha_bar = 1
  return Schedule(betas=jnp.asarray(betas), alphas_cumprod=jnp.asarray(alphas_cumprod),
                  one_minus_alphas_cumprod=jnp.asarray(one_minus),
                  num_timesteps=int(betas.shape[0]))


def _check_fraction(name: str, value, low_open: bool = True) -> float:
  if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
    raise TypeError(f"`{name}` must be a Python float, got {value!r}")
  value = float(value)
  if not math.isfinite(value) or not (0.0 < value < 1.0 if low_open else 0.0 <= value < 1.0):
    interval = "(0, 1)" if low_open else "[0, 1)"
    raise ValueError(f"`{name}` must lie in {interval}, got {value}")
  return value


def linear_schedule(num_timesteps: int = 1000, beta_start: float = 1e-4,
                    beta_end: float = 0.02) -> Schedule:
  """Linearly increasing betas (Ho et al., 2020).

  Args:
    num_timesteps: ``T >= 1``, the number of forward steps.
    beta_start: ``betas[0]`` in ``(0, 1)``.
    beta_end: ``betas[T - 1]`` in ``(0, 1)``, at least ``beta_start``.

  Returns:
    A :class:`Schedule` with ``betas = linspace(beta_start, beta_end, T)``.

  Raises:
    ValueError: if ``num_timesteps < 1`` or a beta is outside ``(0, 1)`` or
      ``beta_end < beta_start``.
    TypeError: if an argument is not a Python number.

  Example:
    >>> s = linear_schedule(1000)
    >>> float(s.betas[0]), float(s.betas[-1])
    (0.0001, 0.02)
  """
  num_timesteps = v.check_int("num_timesteps", num_timesteps, minimum=1)
  beta_start = _check_fraction("beta_start", beta_start)
  beta_end = _check_fraction("beta_end", beta_end)
  if beta_end < beta_start:
    raise ValueError(f"`beta_end` ({beta_end}) must be >= `beta_start` ({beta_start})")
  return _from_betas(np.linspace(beta_start, beta_end, num_timesteps))


def cosine_schedule(num_timesteps: int = 1000, s: float = 0.008) -> Schedule:
  """The cosine schedule of Nichol & Dhariwal (2021).

  ``f(u) = cos((u + s) / (1 + s) * pi / 2) ** 2`` and ``alpha_bar(u) = f(u) / f(0)`` on
  ``u = t / T``; ``betas[t] = min(1 - alpha_bar((t + 1) / T) / alpha_bar(t / T), 0.999)``,
  and ``alphas_cumprod`` is the product of the clipped ``1 - betas``.

  Args:
    num_timesteps: ``T >= 1``.
    s: offset in ``[0, 1)`` that keeps betas near ``t = 0`` from being too small.

  Returns:
    A :class:`Schedule`.

  Raises:
    ValueError: if ``num_timesteps < 1`` or ``s`` is outside ``[0, 1)``.
    TypeError: if an argument is not a Python number.

  Example:
    >>> s = cosine_schedule(1000)
    >>> float(s.betas[-1])
    0.999
  """
  num_timesteps = v.check_int("num_timesteps", num_timesteps, minimum=1)
  s = _check_fraction("s", s, low_open=False)
  u = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
  f = np.cos((u + s) / (1.0 + s) * np.pi / 2.0) ** 2
  alpha_bar = f / f[0]
  betas = np.minimum(1.0 - alpha_bar[1:] / alpha_bar[:-1], COSINE_MAX_BETA)
  return _from_betas(betas)


def timesteps(num_timesteps: int, num_steps: int, spacing: str = "uniform") -> np.ndarray:
  """The sampler's timestep grid, descending (the order in which a sampler visits it).

  * ``"uniform"``: DDIM's "leading" spacing ``t_i = i * (T // n)`` for ``i < n``, so 50 of
    1000 are ``980, 960, ..., 0`` (Song et al., 2021). With ``T % n != 0`` the grid stops
    short of ``T - 1``; it always has exactly ``n`` steps.
  * ``"quadratic"``: DDIM's CIFAR-10 grid ``t_i = floor((i * sqrt(0.8 T) / (n - 1)) ** 2)``,
    i.e. ``floor(linspace(0, sqrt(0.8 T), n) ** 2)``. Where that repeats a value (many steps:
    from ``n = 30`` of 1000), a repeat is raised to one above its predecessor,
    ``t_i = max(t_i, t_{i-1} + 1)``, so the grid has ``n`` distinct steps (each ``< T``).
  * ``"trailing"``: ``round(T - i * T / n) - 1``, which starts at ``T - 1`` (Lin et al.,
    2024): ``999, 979, ..., 19`` for 50 of 1000.

  Every sampler's last step goes from the smallest entry to the clean image.

  Args:
    num_timesteps: ``T >= 1`` of the schedule.
    num_steps: ``n`` in ``[1, T]``.
    spacing: one of ``"uniform"``, ``"quadratic"``, ``"trailing"``.

  Returns:
    [n] int32 NumPy array, strictly decreasing, entries in ``[0, T - 1]``.

  Raises:
    ValueError: if ``num_steps`` is outside ``[1, T]`` or ``spacing`` is unknown.
    TypeError: if ``num_timesteps`` or ``num_steps`` is not a static int.

  Example:
    >>> timesteps(1000, 5)
    array([800, 600, 400, 200,   0], dtype=int32)
  """
  num_timesteps = v.check_int("num_timesteps", num_timesteps, minimum=1)
  num_steps = v.check_int("num_steps", num_steps, minimum=1, maximum=num_timesteps)
  v.check_choice("spacing", spacing, SPACINGS)
  if spacing == "uniform":
    grid = np.arange(num_steps, dtype=np.int64) * (num_timesteps // num_steps)
  elif spacing == "quadratic":
    raw = np.floor(np.linspace(0.0, np.sqrt(0.8 * num_timesteps), num_steps) ** 2)
    grid = raw.astype(np.int64)
    for i in range(1, num_steps):
      grid[i] = max(grid[i], grid[i - 1] + 1)
  else:
    grid = np.round(np.arange(num_timesteps, 0, -num_timesteps / num_steps))[:num_steps]
    grid = grid.astype(np.int64)[::-1] - 1
  return grid[::-1].astype(np.int32)


def step_pairs(num_timesteps: int, num_steps: int, spacing: str = "uniform"):
  """``(t, t_prev)`` of each sampling step: [n] int32 each; ``t_prev = -1`` at the last."""
  grid = timesteps(num_timesteps, num_steps, spacing)
  return grid, np.concatenate([grid[1:], np.asarray([-1], np.int32)])


def alpha_bar(schedule: Schedule, t):
  """``alphas_cumprod[t]``, and 1 where ``t < 0`` (the clean image); ``t`` int, any shape."""
  t = jnp.asarray(t)
  safe = jnp.clip(t, 0, schedule.num_timesteps - 1)
  one = jnp.ones((), schedule.alphas_cumprod.dtype)
  return jnp.where(t >= 0, schedule.alphas_cumprod[safe], one)


def noise_variance(schedule: Schedule, t):
  """``1 - alpha_bar(t)`` to float precision (0 where ``t < 0``); ``t`` int, any shape."""
  t = jnp.asarray(t)
  safe = jnp.clip(t, 0, schedule.num_timesteps - 1)
  zero = jnp.zeros((), schedule.one_minus_alphas_cumprod.dtype)
  return jnp.where(t >= 0, schedule.one_minus_alphas_cumprod[safe], zero)


def levels(schedule: Schedule, t):
  """``(alpha_bar(t), 1 - alpha_bar(t))``, the second to float precision."""
  return alpha_bar(schedule, t), noise_variance(schedule, t)


def check_schedule(schedule) -> Schedule:
  """Raises ``TypeError`` unless ``schedule`` is a :class:`Schedule`."""
  if not isinstance(schedule, Schedule):
    raise TypeError(
        "`s` must be a diffusion.Schedule (linear_schedule(...) or cosine_schedule(...)), "
        f"got {type(schedule).__name__}")
  return schedule
