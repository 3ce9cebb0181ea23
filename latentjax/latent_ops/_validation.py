"""Static argument checks shared by the latent ops.

Every public function validates shapes, ranks and static options at its boundary, before
anything is traced: shapes are static in JAX, so the same checks run eagerly and under
``jax.jit``/``jax.vmap``. A failed check raises ``ValueError`` (or ``TypeError`` for a wrong
kind of argument) naming the argument and what it got::

    ValueError: `z0` must be [D] or [B, D], got shape (3, 4, 5)

Value checks that need concrete data (an empty group in a mask) run only when the data
is concrete; under ``jit`` they are documented at each function instead.
"""

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np


def as_float(x):
  """Returns ``x`` as a JAX array of a floating dtype (integers become float32)."""
  x = jnp.asarray(x)
  if not jnp.issubdtype(x.dtype, jnp.floating):
    x = x.astype(jnp.promote_types(x.dtype, jnp.float32))
  return x


def compute_dtype(x):
  """float32 for codes of a narrower float dtype (bfloat16, float16), else ``x.dtype``.

  Optimisation over codes (geodesics) accumulates many small updates, which bfloat16
  rounds away; such codes are computed in float32 and the result cast back.
  """
  return jnp.float32 if jnp.finfo(x.dtype).bits < 32 else x.dtype


def check_decoder_accepts(decoder, code, name: str) -> None:
  """Raises ``ValueError`` unless ``decoder`` can be applied to one code like ``code``.

  Traces the decoder abstractly (``jax.eval_shape``; nothing is computed), so a code size
  the decoder does not take is named here rather than deep inside its layers.
  """
  spec = jax.ShapeDtypeStruct(code.shape[-1:], code.dtype)
  try:
    jax.eval_shape(decoder, spec)
  except Exception as e:  # noqa: BLE001 - whatever the decoder raises for that input
    reason = " ".join(str(e).split())[:300]
    raise ValueError(
        f"`decoder` does not take a code of shape {spec.shape} (the last axis of `{name}`, "
        f"dtype {code.dtype}): {type(e).__name__}: {reason}") from e


def is_concrete(x) -> bool:
  """Whether ``x`` holds concrete values (not an abstract tracer under jit/vmap/grad)."""
  return not isinstance(x, jax.core.Tracer)


def check_rank(name: str, x, ranks: Sequence[int], spec: str) -> None:
  """Raises ``ValueError`` unless ``x.ndim`` is one of ``ranks``.

  Args:
    name: argument name used in the message.
    x: array-like to check.
    ranks: allowed numbers of dimensions.
    spec: human-readable shape spec, e.g. ``"[D] or [B, D]"``.

  Raises:
    ValueError: ``"`z0` must be [D] or [B, D], got shape (3, 4, 5)"``.
  """
  shape = tuple(np.shape(x))
  if len(shape) not in tuple(ranks):
    raise ValueError(f"`{name}` must be {spec}, got shape {shape}")


def check_min_rank(name: str, x, min_rank: int, spec: str) -> None:
  """Raises ``ValueError`` unless ``x.ndim >= min_rank``."""
  shape = tuple(np.shape(x))
  if len(shape) < min_rank:
    raise ValueError(f"`{name}` must be {spec}, got shape {shape}")


def check_code(name: str, x) -> None:
  """Checks ``x`` is a single code ``[D]`` or a batch of codes ``[B, D]`` with ``D >= 1``."""
  check_rank(name, x, (1, 2), "[D] or [B, D]")
  if np.shape(x)[-1] < 1:
    raise ValueError(f"`{name}` must have a latent size D >= 1, got shape {tuple(np.shape(x))}")


def check_same_shape(name: str, x, ref_name: str, ref) -> None:
  """Raises ``ValueError`` unless ``x`` has exactly the shape of ``ref``."""
  shape, ref_shape = tuple(np.shape(x)), tuple(np.shape(ref))
  if shape != ref_shape:
    raise ValueError(
        f"`{name}` must have the same shape as `{ref_name}` {ref_shape}, got shape {shape}")


def check_latent_size(name: str, x, size: int, ref_name: str) -> None:
  """Raises ``ValueError`` unless the last axis of ``x`` has ``size`` entries."""
  shape = tuple(np.shape(x))
  if not shape or shape[-1] != size:
    raise ValueError(
        f"`{name}` must have latent size D = {size} (the last axis of `{ref_name}`), "
        f"got shape {shape}")


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
  """Checks ``value`` is a Python/NumPy integer within ``[minimum, maximum]``; returns it.

  Raises:
    TypeError: if ``value`` is not an integer (a traced value included: the
      argument must be static).
    ValueError: if it is out of range.
  """
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise TypeError(f"`{name}` must be a static Python int, got {value!r}")
  value = int(value)
  if minimum is not None and value < minimum:
    raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
  if maximum is not None and value > maximum:
    raise ValueError(f"`{name}` must be <= {maximum}, got {value}")
  return value


def check_choice(name: str, value, choices: Sequence[str]) -> str:
  """Checks ``value`` is one of ``choices``; the message lists the valid ones."""
  if value not in tuple(choices):
    valid = ", ".join(repr(c) for c in choices)
    raise ValueError(f"Unknown `{name}` {value!r}; valid: {valid}")
  return value


def check_bool_mask(name: str, mask, length: int, ref_name: str) -> None:
  """Checks ``mask`` is a boolean ``[N]`` array with ``N == length``."""
  mask_dtype = jnp.asarray(mask).dtype if not hasattr(mask, "dtype") else mask.dtype
  if mask_dtype != jnp.bool_:
    raise TypeError(
        f"`{name}` must be a boolean mask, got dtype {mask_dtype}; compare labels first, "
        "e.g. `labels == 1`")
  shape = tuple(np.shape(mask))
  if shape != (length,):
    raise ValueError(
        f"`{name}` must be [N] with N = {length} (the first axis of `{ref_name}`), "
        f"got shape {shape}")
