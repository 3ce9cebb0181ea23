"""Interpolation between latent codes: linear and spherical.

Use ``lerp``/``slerp`` for single weights (any leading batch shape) and ``interpolate``
for an evenly spaced path with both endpoints included::

    from latentjax import latent_ops as lo
    path = lo.interpolate(z0, z1, num_steps=8, method="slerp")   # [8, D] or [B, 8, D]
    frames = jax.vmap(decoder)(path)

``slerp`` works on the raw vectors (Shoemake's formula with the angle between ``z0`` and
``z1``; no normalising), the usual choice for Gaussian latents (White, 2016). It is
computed with a cancellation-free angle, falls back to ``lerp`` for nearly parallel or
anti-parallel inputs and zero vectors, and never returns NaN (nor NaN gradients).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.latent_ops import _validation as v

METHODS = ("linear", "slerp")

# Below this |sin(angle)| slerp is replaced by lerp: for nearly parallel vectors the two
# agree to O(angle^2) (below float32 resolution); for nearly anti-parallel ones the great
# circle is ill-defined and the slerp weights would grow like 1 / sin(angle).
_SIN_EPS = 1e-3


def _broadcast(*xs):
  shape = np.broadcast_shapes(*(x.shape for x in xs))
  return [jnp.broadcast_to(x, shape) for x in xs]


def _safe_norm(x):
  sq = jnp.sum(x * x, axis=-1, keepdims=True)
  positive = sq > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, sq, 1.0)), 0.0)


def _check_pair(z0, z1, t):
  z0, z1, t = v.as_float(z0), v.as_float(z1), v.as_float(t)
  v.check_min_rank("z0", z0, 1, "[..., D]")
  v.check_same_shape("z1", z1, "z0", z0)
  try:
    np.broadcast_shapes(t.shape, z0.shape)
  except ValueError:
    raise ValueError(
        f"`t` must broadcast against `z0` {z0.shape} (use t[..., None] for one weight per "
        f"code), got shape {t.shape}") from None
  return z0, z1, t


def lerp(z0, z1, t):
  """Linear interpolation ``(1 - t) * z0 + t * z1``.

  Args:
    z0: [..., D] start codes.
    z1: [..., D] end codes, same shape as ``z0``.
    t: weights broadcastable (NumPy rules) against ``z0``: a scalar, ``[..., 1]`` for one
      weight per code, or ``[..., D]``.

  Returns:
    [broadcast shape] interpolated codes; exactly ``z0`` at ``t = 0`` and ``z1`` at ``t = 1``.

  Raises:
    ValueError: if ``z1`` differs in shape from ``z0`` or ``t`` does not broadcast.

  Example:
    >>> lerp(jnp.zeros(2), jnp.ones(2), 0.25)   # [0.25, 0.25]
  """
  return _lerp(*_check_pair(z0, z1, t))


@jax.jit
def _lerp(z0, z1, t):
  z0, z1, t = _broadcast(z0, z1, t)
  return (1.0 - t) * z0 + t * z1


def slerp(z0, z1, t):
  """Spherical linear interpolation on the raw vectors.

  ``sin((1 - t) w) / sin(w) * z0 + sin(t w) / sin(w) * z1`` with ``w`` the angle between
  ``z0`` and ``z1``. Equal-norm endpoints give a path of constant norm whose angle advances
  linearly in ``t``. Falls back to :func:`lerp` when ``|sin w| < 1e-3`` (nearly parallel or
  anti-parallel) or either vector is zero; never NaN.

  Args:
    z0: [..., D] start codes.
    z1: [..., D] end codes, same shape as ``z0``.
    t: weights broadcastable against ``z0`` (a scalar or ``[..., 1]``; a per-coordinate
      ``[..., D]`` weight is accepted and applied coordinate-wise to the slerp weights).

  Returns:
    [broadcast shape] interpolated codes.

  Raises:
    ValueError: if ``z1`` differs in shape from ``z0`` or ``t`` does not broadcast.

  Example:
    >>> slerp(jnp.array([1., 0.]), jnp.array([0., 1.]), 0.5)   # [0.7071, 0.7071]
  """
  return _slerp(*_check_pair(z0, z1, t))


@jax.jit
def _slerp(z0, z1, t):
  n0, n1 = _safe_norm(z0), _safe_norm(z1)
  u0 = z0 / jnp.where(n0 > 0, n0, 1.0)
  u1 = z1 / jnp.where(n1 > 0, n1, 1.0)
  # Kahan's angle: accurate for nearly parallel and nearly anti-parallel unit vectors.
  omega = 2.0 * jnp.arctan2(_safe_norm(u0 - u1), _safe_norm(u0 + u1))
  sin_omega = jnp.sin(omega)
  degenerate = (sin_omega < _SIN_EPS) | (n0 == 0) | (n1 == 0)
  safe_sin = jnp.where(degenerate, 1.0, sin_omega)
  z0, z1, t, omega, safe_sin, degenerate = _broadcast(z0, z1, t, omega, safe_sin, degenerate)
  w0 = jnp.where(degenerate, 1.0 - t, jnp.sin((1.0 - t) * omega) / safe_sin)
  w1 = jnp.where(degenerate, t, jnp.sin(t * omega) / safe_sin)
  return w0 * z0 + w1 * z1


@functools.partial(jax.jit, static_argnames=("num_steps", "method"))
def _interpolate(z0, z1, *, num_steps, method):
  t = jnp.linspace(0.0, 1.0, num_steps, dtype=z0.dtype)[:, None]
  fn = _lerp if method == "linear" else _slerp
  path = fn(z0[..., None, :], z1[..., None, :], t)
  # Endpoints are set exactly, whatever the floating-point rounding of the weights.
  return path.at[..., 0, :].set(z0).at[..., -1, :].set(z1)


def interpolate(z0, z1, num_steps: int, method: str = "linear"):
  """Evenly spaced interpolation path from ``z0`` to ``z1``, endpoints included.

  Compiled once per shape, ``num_steps`` and ``method``.

  Args:
    z0: [D] or [B, D] start codes.
    z1: [D] or [B, D] end codes, same shape as ``z0``.
    num_steps: number of points on each path (>= 2), static.
    method: ``"linear"`` (:func:`lerp`) or ``"slerp"`` (:func:`slerp`), static.

  Returns:
    [num_steps, D] for single codes, [B, num_steps, D] for batches; ``path[..., 0, :]`` is
    exactly ``z0`` and ``path[..., -1, :]`` exactly ``z1``.

  Raises:
    ValueError: wrong ranks or shapes, ``num_steps < 2``, unknown ``method``.

  Example:
    >>> lo.interpolate(z0, z1, num_steps=10, method="slerp").shape   # (10, D)
  """
  z0, z1 = v.as_float(z0), v.as_float(z1)
  v.check_code("z0", z0)
  v.check_same_shape("z1", z1, "z0", z0)
  num_steps = v.check_int("num_steps", num_steps, minimum=2)
  v.check_choice("method", method, METHODS)
  return _interpolate(z0, z1, num_steps=num_steps, method=method)
