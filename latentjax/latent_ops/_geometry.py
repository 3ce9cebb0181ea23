"""The decoder's pull-back metric, curve lengths and energies, curve resampling.

A decoder ``f: R^D -> R^O`` induces on its latent space the pull-back metric
``G(z) = J(z)^T J(z)`` (Arvanitidis, Hansen & Hauberg, "Latent Space Oddity", 2017), with
``J`` the Jacobian of the decoder's flattened output. For a decoder returning a pytree
(e.g. mean and standard deviation) every leaf counts, which gives the expected metric of
a Gaussian decoder. Lengths of curves in this metric are the decoded lengths::

    G = lo.pullback_metric(decoder, z)                 # [D, D]
    mf = lo.magnification_factor(decoder, grid)        # [H, W] for grid [H, W, D]
    L = lo.curve_length(decoder, curve, subdivisions=16)

Decoders map one code ``[D]`` to an output (see ``_decoder``); everything here is
compiled once per decoder object, shapes and static arguments.
"""

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.latent_ops import _validation as v
from latentjax.latent_ops._decoder import decode_flat, decoder_jit, flat_decoder


@decoder_jit()
def _pullback_metric(decoder, z):
  def metric(zi):
    jac = jax.jacfwd(decoder)(zi)  # pytree of [*out_shape, D], one forward pass per dim
    leaves = jax.tree_util.tree_leaves(jac)
    mats = [leaf.reshape((-1, zi.shape[-1])) for leaf in leaves]
    return sum(m.T @ m for m in mats)

  return jax.vmap(metric)(z.reshape((-1, z.shape[-1]))).reshape(z.shape + z.shape[-1:])


def pullback_metric(decoder, z):
  """Pull-back metric ``G(z) = J(z)^T J(z)`` of a decoder.

  ``J`` is computed with forward-mode products (``jax.jacfwd``: one Jacobian-vector
  product per latent direction, ``D`` in all), and ``G`` accumulated leaf by leaf of the
  decoder's output, so only the ``[O, D]`` Jacobian is ever formed.

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    z: [D] or [B, D] codes.

  Returns:
    [D, D] (or [B, D, D]) symmetric positive semi-definite metric tensors.

  Raises:
    ValueError: if ``z`` is not [D] or [B, D].

  Example:
    >>> lo.pullback_metric(lambda z: A @ z, z)   # A.T @ A
  """
  z = v.as_float(z)
  v.check_code("z", z)
  return _pullback_metric(decoder, z)


@decoder_jit()
def _magnification(decoder, z):
  f = flat_decoder(decoder)

  def mag(zi):
    jac = jax.jacfwd(f)(zi)  # [O, D]
    if jac.shape[0] < jac.shape[1]:
      return jnp.zeros((), jac.dtype)  # rank-deficient: det G = 0
    r = jnp.linalg.qr(jac, mode="r")  # det(J^T J) = det(R)^2, without squaring cond(J)
    return jnp.prod(jnp.abs(jnp.diagonal(r)))

  flat = z.reshape((-1, z.shape[-1]))
  return jax.vmap(mag)(flat).reshape(z.shape[:-1])


def magnification_factor(decoder, z):
  """Magnification factor ``sqrt(det G(z))``: the decoder's local volume scaling.

  Computed as ``|det R|`` from a QR factorisation of the Jacobian, which is more accurate
  than a determinant of ``J^T J``. Zero where the decoder's output has fewer dimensions
  than the latent space.

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    z: [..., D] codes, any leading shape, e.g. a [H, W, D] grid for a heat map.

  Returns:
    [...] non-negative magnification factors.

  Raises:
    ValueError: if ``z`` is a scalar.

  Example:
    >>> xs = jnp.linspace(-3, 3, 64)
    >>> grid = jnp.stack(jnp.meshgrid(xs, xs), -1)         # [64, 64, 2]
    >>> heat = lo.magnification_factor(decoder, grid)      # [64, 64]
  """
  z = v.as_float(z)
  v.check_min_rank("z", z, 1, "[..., D]")
  return _magnification(decoder, z)


def subdivide_curve(curve, subdivisions: int):
  """Splits every segment of a polyline into ``subdivisions`` equal latent pieces.

  Args:
    curve: [T, D] or [B, T, D] points.
    subdivisions: pieces per segment (>= 1); 1 returns ``curve``.

  Returns:
    [(T - 1) * subdivisions + 1, D] (or batched) points, containing the original ones.

  Raises:
    ValueError: for a wrong rank, fewer than 2 points or ``subdivisions < 1``.
  """
  curve = v.as_float(curve)
  check_curve(curve)
  subdivisions = v.check_int("subdivisions", subdivisions, minimum=1)
  return subdivide(curve, subdivisions)


def subdivide(curve, subdivisions):
  """Unchecked :func:`subdivide_curve` for use inside compiled code."""
  if subdivisions == 1:
    return curve
  s = jnp.asarray(np.arange(subdivisions) / subdivisions, curve.dtype)
  s = s.reshape((1,) * (curve.ndim - 1) + (subdivisions, 1))
  start, end = curve[..., :-1, None, :], curve[..., 1:, None, :]
  pieces = (1.0 - s) * start + s * end  # [..., T - 1, S, D]
  flat = pieces.reshape(curve.shape[:-2] + (-1, curve.shape[-1]))
  return jnp.concatenate([flat, curve[..., -1:, :]], axis=-2)


def check_curve(curve, name="curve"):
  """Checks a curve is [T, D] or [B, T, D] with T >= 2."""
  v.check_rank(name, curve, (2, 3), "[T, D] or [B, T, D]")
  if curve.shape[-2] < 2:
    raise ValueError(f"`{name}` must have at least 2 points (axis -2), got shape {curve.shape}")


def segments_sq(decoder, curve):
  """Squared decoded lengths [..., T - 1] of a curve's segments (unchecked)."""
  x = decode_flat(decoder, curve)  # [..., T, O]
  d = x[..., 1:, :] - x[..., :-1, :]
  return jnp.sum(d * d, axis=-1)


def continuous_length(decoder, curve, subdivisions):
  """Unchecked :func:`curve_length` for use inside compiled code."""
  return jnp.sum(jnp.sqrt(segments_sq(decoder, subdivide(curve, subdivisions))), axis=-1)


@decoder_jit(static_argnames=("subdivisions",))
def _curve_length(decoder, curve, *, subdivisions):
  return continuous_length(decoder, curve, subdivisions)


@decoder_jit(static_argnames=("subdivisions",))
def _curve_energy(decoder, curve, *, subdivisions):
  sq = segments_sq(decoder, subdivide(curve, subdivisions))
  return sq.shape[-1] * jnp.sum(sq, axis=-1)


def curve_length(decoder, curve, subdivisions: int = 1):
  """Decoded length of a discrete curve: ``sum_i ||f(c_{i+1}) - f(c_i)||``.

  With ``subdivisions > 1`` every segment is first split into that many straight latent
  pieces, which measures the continuous piecewise-linear path through the points (the
  chord sum is only a lower bound of it).

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    curve: [T, D] or [B, T, D] points, T >= 2.
    subdivisions: latent pieces per segment (static, >= 1).

  Returns:
    Scalar (or [B]) lengths.

  Raises:
    ValueError: wrong rank or fewer than 2 points.

  Example:
    >>> lo.curve_length(decoder, lo.interpolate(z0, z1, 64))
  """
  curve = v.as_float(curve)
  check_curve(curve)
  subdivisions = v.check_int("subdivisions", subdivisions, minimum=1)
  return _curve_length(decoder, curve, subdivisions=subdivisions)


def curve_energy(decoder, curve, subdivisions: int = 1):
  """Discrete curve energy ``(T - 1) * sum_i ||f(c_{i+1}) - f(c_i)||^2``.

  For points at parameter spacing ``1 / (T - 1)`` this approximates ``int ||d f(c)/dt||^2``;
  by Cauchy-Schwarz ``length^2 <= energy``, with equality iff the decoded steps are equal,
  so minimising it gives constant-speed shortest curves.

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    curve: [T, D] or [B, T, D] points, T >= 2.
    subdivisions: latent pieces per segment (static, >= 1); ``T - 1`` becomes the number
      of pieces.

  Returns:
    Scalar (or [B]) energies.

  Raises:
    ValueError: wrong rank or fewer than 2 points.
  """
  curve = v.as_float(curve)
  check_curve(curve)
  subdivisions = v.check_int("subdivisions", subdivisions, minimum=1)
  return _curve_energy(decoder, curve, subdivisions=subdivisions)


def resample_curve(curve, num_points: int):
  """Resamples a polyline to ``num_points`` points evenly spaced in latent arc length.

  Args:
    curve: [T, D] or [B, T, D] points, T >= 2; repeated points are allowed.
    num_points: number of output points (static, >= 2).

  Returns:
    [num_points, D] (or batched) points on the polyline; endpoints kept exactly.

  Raises:
    ValueError: wrong rank, fewer than 2 points, or ``num_points < 2``.
  """
  curve = v.as_float(curve)
  check_curve(curve)
  num_points = v.check_int("num_points", num_points, minimum=2)
  seg = jnp.sqrt(jnp.sum(jnp.square(curve[..., 1:, :] - curve[..., :-1, :]), axis=-1))
  fn = lambda c, s: resample_by_lengths(c, s, num_points)
  for _ in range(curve.ndim - 2):
    fn = jax.vmap(fn)
  return fn(curve, seg)


def resample_by_lengths(points, seg_lengths, num_points):
  """Resamples a polyline ``points: [P, D]`` with given segment lengths ``[P - 1]``.

  The lengths define the arc-length parameter (latent or decoded); positions within a
  segment are interpolated linearly in latent space. Zero-length segments are skipped;
  a polyline of zero total length resamples to its first and last points.
  """
  cum = jnp.concatenate([jnp.zeros((1,), seg_lengths.dtype), jnp.cumsum(seg_lengths)])
  total = cum[-1]
  s = jnp.linspace(0.0, 1.0, num_points, dtype=cum.dtype) * total
  idx = jnp.clip(jnp.searchsorted(cum, s, side="right") - 1, 0, points.shape[0] - 2)
  length = seg_lengths[idx]
  frac = jnp.where(length > 0, (s - cum[idx]) / jnp.where(length > 0, length, 1.0), 0.0)
  frac = jnp.clip(frac, 0.0, 1.0)[:, None]
  out = (1.0 - frac) * points[idx] + frac * points[idx + 1]
  return out.at[0].set(points[0]).at[-1].set(points[-1])
