"""Group normalisation whose statistics and gradient are per-channel sums over pixels.

``nn.GroupNorm`` reduces a [B, H, W, G, C/G] view of its input over (H, W, C/G), keeping
the groups in the middle: on XLA:CPU that is a strided reduction its kernels run slowly,
forward and backward. ``group_norm`` computes the same normalisation from per-channel
sums over the pixels of each example — sum over H * W of x and of x^2, one [B, C] array
each, a contiguous reduction — folded into groups afterwards on [B, G, C/G], which is
tiny. A ``jax.custom_vjp`` gives the backward pass the same shape: two per-channel sums
(of the output gradient, and of it times x), then one elementwise pass::

    y = group_norm(x, scale, bias, num_groups=32, epsilon=1e-5)   # x [B, H, W, C]

``group_norm_layer(conv_impl, ...)`` is ``nn.GroupNorm`` with "xla", and on the fast path
``FastGroupNorm``, a subclass with the same attributes and the same parameters (``scale``,
``bias``), so checkpoints move between the two.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from latentjax.kernels._conv import resolve_conv_impl

Array = jax.Array


def _channel_sums(x: Array) -> Array:
  """[N, M, C] -> [N, C] float32 sums over M."""
  return jnp.sum(x, axis=1, dtype=jnp.float32)


def _fold(v: Array, groups: int) -> Array:
  """[N, C] -> [N, G]: sums over each group's channels."""
  n, c = v.shape
  return v.reshape(n, groups, c // groups).sum(-1)


def _unfold(v: Array, c: int) -> Array:
  """[N, G] -> [N, C]: each group's value on its channels."""
  return jnp.repeat(v, c // v.shape[1], axis=1)


def _statistics(x: Array, groups: int):
  """Per-group mean and variance (E[x^2] - E[x]^2, clipped at 0, as flax's) of [N, M, C]."""
  _, m, c = x.shape
  count = m * (c // groups)
  xf = x.astype(jnp.float32)
  mean = _fold(_channel_sums(xf), groups) / count
  mean_sq = _fold(_channel_sums(xf * xf), groups) / count
  return mean, jnp.maximum(mean_sq - mean * mean, 0.0)


def _forward(x, scale, bias, groups, epsilon, dtype):
  c = x.shape[-1]
  mean, var = _statistics(x, groups)
  inv = lax.rsqrt(var + epsilon)
  a = _unfold(inv, c) * scale.astype(jnp.float32)[None]  # y = a x + b, per (example, channel)
  b = bias.astype(jnp.float32)[None] - _unfold(mean, c) * a
  y = x.astype(jnp.float32) * a[:, None, :] + b[:, None, :]
  return y.astype(dtype), (x, scale, mean, inv)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4, 5))
def _group_norm(x, scale, bias, groups, epsilon, dtype):
  return _forward(x, scale, bias, groups, epsilon, dtype)[0]


def _group_norm_bwd(groups, epsilon, dtype, res, gy):
  """dx = inv (scale gy - mean_g(scale gy) - xhat mean_g(scale gy xhat)), per group g."""
  del epsilon, dtype
  x, scale, mean, inv = res
  _, m, c = x.shape
  count = m * (c // groups)
  xf, gf = x.astype(jnp.float32), gy.astype(jnp.float32)
  sf = scale.astype(jnp.float32)[None]
  mean_c, inv_c = _unfold(mean, c), _unfold(inv, c)
  sum_g = _channel_sums(gf)                                   # [N, C]
  sum_gxhat = (_channel_sums(gf * xf) - mean_c * sum_g) * inv_c
  mean_dxhat = _unfold(_fold(sum_g * sf, groups), c) / count
  mean_dxhat_xhat = _unfold(_fold(sum_gxhat * sf, groups), c) / count
  coef_g = inv_c * sf
  coef_x = -inv_c * inv_c * mean_dxhat_xhat
  const = -inv_c * mean_dxhat - coef_x * mean_c
  dx = gf * coef_g[:, None] + xf * coef_x[:, None] + const[:, None]
  return (dx.astype(x.dtype), sum_gxhat.sum(0).astype(scale.dtype),
          sum_g.sum(0).astype(scale.dtype))


_group_norm.defvjp(_forward, _group_norm_bwd)


def group_norm(x: Array, scale: Array, bias: Array, num_groups: int,
               epsilon: float = 1e-6, dtype=None) -> Array:
  """Group normalisation of [B, ..., C] over all axes but the batch, per group of channels.

  The values of ``nn.GroupNorm(num_groups, epsilon=epsilon)`` with these parameters (to
  float32 rounding): statistics in float32, the variance as E[x^2] - E[x]^2 clipped at 0.
  First-order and higher reverse-mode gradients are defined (a ``jax.custom_vjp``);
  forward-mode (``jax.jvp``) is not.

  Args:
    x: [B, ..., C] input (at least 2-D).
    scale: [C] multiplier.
    bias: [C] offset.
    num_groups: G, dividing C.
    epsilon: added to the variance.
    dtype: output dtype (default: the promoted dtype of ``x`` and the parameters).

  Returns:
    [B, ..., C], like ``x``.

  Raises:
    ValueError: if ``x`` is not at least 2-D, ``num_groups`` does not divide C, or
      ``scale`` / ``bias`` are not [C].
  """
  if x.ndim < 2:
    raise ValueError(f"group_norm: `x` must be [B, ..., C], got shape {x.shape}")
  c = x.shape[-1]
  if not isinstance(num_groups, int) or num_groups < 1 or c % num_groups:
    raise ValueError(f"group_norm: `num_groups` must be a positive int dividing the "
                     f"{c} channels, got {num_groups!r}")
  for name, v in (("scale", scale), ("bias", bias)):
    if v.shape != (c,):
      raise ValueError(f"group_norm: `{name}` must be [{c}], got shape {v.shape}")
  dtype = jnp.result_type(x.dtype, scale.dtype, bias.dtype) if dtype is None else dtype
  flat = x.reshape(x.shape[0], -1, c)
  return _group_norm(flat, scale, bias, num_groups, float(epsilon), dtype).reshape(x.shape)


class FastGroupNorm(nn.GroupNorm):
  """``nn.GroupNorm`` computed by ``group_norm``; same attributes and parameters.

  Used for the common case (``num_groups`` set, reduction over every axis but the batch,
  scale and bias on, no cross-device ``axis_name``, no mask); anything else is
  ``nn.GroupNorm``'s own computation.
  """

  @nn.compact
  def __call__(self, x: Array, *, mask=None) -> Array:
    """[B, ..., C] -> [B, ..., C], as ``nn.GroupNorm``."""
    common = (mask is None and self.num_groups is not None and self.group_size is None
              and self.use_bias and self.use_scale and self.axis_name is None
              and self.reduction_axes is None and self.use_fast_variance and x.ndim >= 2
              and x.shape[-1] % self.num_groups == 0)
    if not common:
      return super().__call__(x, mask=mask)
    c = x.shape[-1]
    scale = self.param("scale", self.scale_init, (c,), self.param_dtype)
    bias = self.param("bias", self.bias_init, (c,), self.param_dtype)
    return group_norm(x, scale, bias, self.num_groups, self.epsilon, self.dtype)


def group_norm_layer(conv_impl: str, num_groups: int, **kwargs) -> nn.GroupNorm:
  """``nn.GroupNorm`` ("xla") or ``FastGroupNorm`` ("fast"; "auto": fast on CPU).

  Raises:
    ValueError: for an unknown ``conv_impl``.
  """
  cls = FastGroupNorm if resolve_conv_impl(conv_impl) == "fast" else nn.GroupNorm
  return cls(num_groups, **kwargs)
