"""Boundary checks of the diffusion functions: they run on the host, before any tracing.

Shapes and static options are checked always; value checks (finite inputs, timesteps in
range, ``eta >= 0``) run only where the value is concrete, so the functions stay usable
under ``jax.jit``. Failures raise ``ValueError`` (``TypeError`` for a wrong kind of
argument) naming the argument and what it got.
"""

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.latent_ops import _validation as v


def check_batch(name: str, x):
  """``x`` as a float array ``[B, ...]`` with ``B >= 1``; finite when concrete."""
  x = v.as_float(x)
  if x.ndim < 1 or x.shape[0] < 1:
    raise ValueError(f"`{name}` must be a batch [B, ...] with B >= 1, got shape {x.shape}")
  if v.is_concrete(x) and not bool(np.all(np.isfinite(np.asarray(x)))):
    raise ValueError(f"`{name}` has NaN or infinite values")
  return x


def check_timestep(name: str, t, num_timesteps: int, batch: int, allow_clean: bool = False):
  """``t`` as an int32 scalar or ``[B]`` array; in range when concrete.

  ``allow_clean`` admits any negative value (``t < 0`` means the clean image, as a spacing
  like ``t - T // n`` gives at the last step); those are mapped to ``-1``, concrete or
  traced.
  """
  t = jnp.asarray(t)
  if not jnp.issubdtype(t.dtype, jnp.integer):
    raise TypeError(f"`{name}` must be an integer timestep, got dtype {t.dtype}")
  if t.ndim not in (0, 1) or (t.ndim == 1 and t.shape[0] != batch):
    raise ValueError(f"`{name}` must be a scalar or [B] with B = {batch}, got shape {t.shape}")
  if v.is_concrete(t):
    values = np.asarray(t)
    below_range = not allow_clean and values.size and values.min() < 0
    if below_range or (values.size and values.max() > num_timesteps - 1):
      where = (f"<= {num_timesteps - 1} (negative: the clean image)" if allow_clean
               else f"lie in [0, {num_timesteps - 1}]")
      raise ValueError(f"`{name}` must {where}, got values in [{values.min()}, "
                       f"{values.max()}]")
  t = t.astype(jnp.int32)
  return jnp.maximum(t, -1) if allow_clean else t


def check_eta(eta, key):
  """``eta`` as a float array; ``eta >= 0``, and a key wherever noise is added.

  Returns:
    ``(eta, key)``; ``key`` is None only for a concrete ``eta == 0``.
  """
  concrete = isinstance(eta, (int, float, np.number)) and not isinstance(eta, bool)
  value = float(eta) if concrete else None
  eta = jnp.asarray(eta)
  real = jnp.issubdtype(eta.dtype, jnp.floating) or jnp.issubdtype(eta.dtype, jnp.integer)
  if eta.ndim != 0 or not real:
    raise ValueError(f"`eta` must be a real scalar, got shape {eta.shape} dtype {eta.dtype}")
  if concrete or v.is_concrete(eta):
    value = float(eta) if value is None else value
    if not np.isfinite(value) or value < 0.0:
      raise ValueError(f"`eta` must be >= 0, got {value}")
    if value > 0.0 and key is None:
      raise ValueError(f"`eta` = {value} > 0 adds noise and needs a PRNG `key`, got None")
  elif key is None:
    raise ValueError("a traced `eta` needs a PRNG `key` (the noise term may be non-zero)")
  return eta.astype(jnp.float32) if eta.dtype != jnp.float64 else eta, key


def check_key(name: str, key):
  """Raises unless ``key`` is a PRNG key (raw uint32 [2] or typed)."""
  if key is None:
    raise ValueError(f"`{name}` must be a PRNG key, got None")
  key = jnp.asarray(key) if not jax.dtypes.issubdtype(getattr(key, "dtype", None),
                                                        jax.dtypes.prng_key) else key
  typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
  if not typed and (key.dtype != jnp.uint32 or key.shape != (2,)):
    raise ValueError(f"`{name}` must be a PRNG key (jax.random.PRNGKey), got shape "
                     f"{key.shape} dtype {key.dtype}")
  return key


def check_callable(name: str, fn, signature: str):
  if not callable(fn):
    raise TypeError(f"`{name}` must be a callable {signature}, got {fn!r}")
  return fn


def check_output(name: str, out, x):
  """Checks a model output has the shape of the input batch ``x``."""
  if tuple(np.shape(out)) != tuple(x.shape):
    raise ValueError(f"`{name}` must return an array of the input's shape {tuple(x.shape)}, "
                     f"got shape {tuple(np.shape(out))}")
  return out
