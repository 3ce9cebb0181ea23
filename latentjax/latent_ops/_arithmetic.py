"""Latent arithmetic: analogies, attribute vectors, moves and traversal grids.

Vector arithmetic on codes (Mikolov-style analogies, White's attribute vectors) and the
batches of codes for traversal figures::

    smiling = lo.attribute_vector(codes, labels == 1)      # mean(has) - mean(not has)
    z_new = lo.move_along(z, smiling, 2.0)                  # 2 latent units along it
    grid = lo.traverse(z, 3, jnp.linspace(-3, 3, 7))        # dimension 3, [7, D]
    grid = lo.traverse(z, smiling, jnp.linspace(-3, 3, 7))  # a direction, [7, D]

All functions are jit- and vmap-compatible; shape checks run at trace time.
"""

import jax.numpy as jnp
import numpy as np

from latentjax.latent_ops import _validation as v

TRAVERSE_MODES = ("add", "set")


def analogy(a, b, c):
  """Latent analogy ``c + (b - a)``: "a is to b as c is to ?".

  Args:
    a: [..., D] codes.
    b: [..., D] codes, same shape as ``a``.
    c: [..., D] codes, same shape as ``a``.

  Returns:
    [..., D] codes ``c + (b - a)``.

  Raises:
    ValueError: if the shapes differ or ``a`` is a scalar.

  Example:
    >>> lo.analogy(z_man, z_king, z_woman)   # ~ z_queen
  """
  a, b, c = v.as_float(a), v.as_float(b), v.as_float(c)
  v.check_min_rank("a", a, 1, "[..., D]")
  v.check_same_shape("b", b, "a", a)
  v.check_same_shape("c", c, "a", a)
  return c + (b - a)


def attribute_vector(z, has_attribute):
  """Attribute vector ``mean(z[has]) - mean(z[~has])``.

  Computed with weighted means, so it is jit-compatible. With concrete inputs an empty
  group raises; under ``jit`` (abstract mask) an empty group gives NaN.

  Args:
    z: [N, D] codes.
    has_attribute: [N] boolean mask.

  Returns:
    [D] difference of the two groups' mean codes.

  Raises:
    ValueError: wrong shapes, or (concrete mask) a group without members.
    TypeError: if ``has_attribute`` is not boolean.

  Example:
    >>> glasses = lo.attribute_vector(codes, attrs[:, 15] == 1)
  """
  z = v.as_float(z)
  v.check_rank("z", z, (2,), "[N, D]")
  v.check_bool_mask("has_attribute", has_attribute, z.shape[0], "z")
  if v.is_concrete(has_attribute):
    count = int(np.sum(np.asarray(has_attribute)))
    if count == 0 or count == z.shape[0]:
      group = "with" if count == 0 else "without"
      raise ValueError(
          f"`has_attribute` has no codes {group} the attribute ({count} of {z.shape[0]} "
          "True); both groups need at least one code")
  w = jnp.asarray(has_attribute).astype(z.dtype)[:, None]
  mean_has = jnp.sum(w * z, axis=0) / jnp.sum(w)
  mean_not = jnp.sum((1.0 - w) * z, axis=0) / jnp.sum(1.0 - w)
  return mean_has - mean_not


def _unit(direction):
  norm = jnp.linalg.norm(direction)
  return direction / jnp.where(norm > 0, norm, 1.0)


def move_along(z, direction, amount, normalize: bool = True):
  """Moves codes along a direction: ``z + amount * direction / ||direction||``.

  Args:
    z: [D] or [B, D] codes.
    direction: [D] direction in latent space.
    amount: scalar, or [B] one amount per code of a batch ``z``.
    normalize: if True (default) ``amount`` is in latent units along the unit
      direction; if False the direction is used as given (``z + amount * direction``).

  Returns:
    Codes of the shape of ``z``. A zero direction leaves ``z`` unchanged.

  Raises:
    ValueError: wrong ranks or latent sizes, or an ``amount`` of the wrong shape.

  Example:
    >>> lo.move_along(codes, lo.attribute_vector(codes, smiling), -1.5)
  """
  z, direction, amount = v.as_float(z), v.as_float(direction), v.as_float(amount)
  v.check_code("z", z)
  v.check_rank("direction", direction, (1,), "[D]")
  v.check_latent_size("direction", direction, z.shape[-1], "z")
  if amount.ndim == 1 and z.ndim == 2:
    if amount.shape != z.shape[:1]:
      raise ValueError(
          f"`amount` must be a scalar or [B] with B = {z.shape[0]} (the batch of `z`), "
          f"got shape {amount.shape}")
    amount = amount[:, None]
  elif amount.ndim != 0:
    spec = "a scalar or [B]" if z.ndim == 2 else "a scalar"
    raise ValueError(f"`amount` must be {spec}, got shape {amount.shape}")
  step = _unit(direction) if normalize else direction
  return z + amount * step[None] if z.ndim == 2 else z + amount * step


def traverse(z, direction_or_dim, values, mode: str = "add"):
  """Codes for a traversal: ``z`` moved to each of ``values`` along a direction.

  Args:
    z: [D] or [B, D] base codes.
    direction_or_dim: an ``int`` latent dimension (the unit vector ``e_dim``) or a [D]
      direction (normalised to unit length).
    values: [V] positions along the direction.
    mode: ``"add"``: ``z + value * u`` (offsets from ``z``); ``"set"``: the component of
      ``z`` along ``u`` is replaced by ``value`` (``z - (z.u) u + value u``), which for a
      dimension sets ``z[dim] = value`` as in beta-VAE latent traversals.

  Returns:
    [V, D] for a single code, [B, V, D] for a batch.

  Raises:
    ValueError: wrong ranks/sizes, a dimension out of range, an unknown ``mode``.
    TypeError: if ``direction_or_dim`` is neither an int nor an array.

  Example:
    >>> grid = lo.traverse(z, 2, jnp.linspace(-3., 3., 9), mode="set")   # [9, D]
    >>> images = jax.vmap(decoder)(grid)
  """
  z, values = v.as_float(z), v.as_float(values)
  v.check_code("z", z)
  v.check_rank("values", values, (1,), "[V]")
  v.check_choice("mode", mode, TRAVERSE_MODES)
  dim_size = z.shape[-1]
  if isinstance(direction_or_dim, (int, np.integer)) and not isinstance(direction_or_dim, bool):
    dim = int(direction_or_dim)
    if not -dim_size <= dim < dim_size:
      raise ValueError(
          f"`direction_or_dim` must be a dimension in [0, {dim_size}) for `z` of shape "
          f"{z.shape}, got {dim}")
    unit = jnp.zeros((dim_size,), z.dtype).at[dim].set(1.0)
  elif hasattr(direction_or_dim, "shape") or isinstance(direction_or_dim, (list, tuple)):
    direction = v.as_float(direction_or_dim)
    v.check_rank("direction_or_dim", direction, (1,), "an int dimension or a [D] direction")
    v.check_latent_size("direction_or_dim", direction, dim_size, "z")
    unit = _unit(direction).astype(z.dtype)
  else:
    raise TypeError(
        f"`direction_or_dim` must be an int dimension or a [D] array, got {direction_or_dim!r}")
  base = z[..., None, :]  # [..., 1, D]
  if mode == "set":
    unit_b = unit.reshape((1,) * z.ndim + (dim_size,))
    base = base - jnp.sum(base * unit_b, axis=-1, keepdims=True) * unit_b
  offsets = values[:, None] * unit[None, :]  # [V, D]
  if z.ndim == 2:
    offsets = offsets[None]
  return base + offsets
