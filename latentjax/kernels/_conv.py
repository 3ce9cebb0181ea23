"""Convolutions whose forward pass and both gradients run on XLA:CPU's fast paths.

XLA:CPU runs a strided convolution, its input gradient and its weight gradient at
reasonable speed, but the weight gradient of a *transposed* convolution (a convolution
of an input-dilated image) 10-20x slower, and any convolution of a thin (RGB) image
slowly. ``conv_general_dilated_fast`` is a drop-in for ``lax.conv_general_dilated``
that, for the 2-D NHWC/HWIO cases networks use, is built from three maps of a strided
convolution y = A_w x:

  * A_w itself: XLA's convolution, or a matrix product over patches of the image's
    space-to-depth rearrangement when the input has fewer than 16 channels;
  * its transpose A_w^T (the input gradient, and also a transposed convolution, which is
    rewritten as A^T of a strided convolution with the flipped, in/out-swapped kernel):
    stride-1 convolutions over the pixel phases of x for wide images, a matmul and a
    stride-1 col2im for thin or small ones;
  * its weight gradient (XLA's strided one).

A ``jax.custom_vjp`` ties them together — the gradients of each map are the other two —
so every gradient, of any order, of a convolution *or* a transposed convolution runs
through strided-convolution kernels and matrix products, never through the slow
weight gradient of an input-dilated convolution. Everything else — dilated kernels,
feature or batch groups, strides above 2, kernels above 4x4, other layouts or dtypes —
is passed to ``lax.conv_general_dilated`` unchanged, so an unsupported case is slower,
never wrong::

    y = conv_general_dilated_fast(x, w, (2, 2), "SAME",
                                  dimension_numbers=("NHWC", "HWIO", "NHWC"))
    conv = conv_general_dilated_fn(resolve_conv_impl("auto"))  # fast on CPU only
    step = jax.jit(step, compiler_options=conv_compiler_options("auto"))  # Eigen on CPU

``conv_transpose_fast`` is the same drop-in for ``lax.conv_transpose``.
"""

import functools
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

Array = jax.Array

CONV_IMPLS = ("auto", "xla", "fast")
_NHWC = ("NHWC", "HWIO", "NHWC")
_STRIDES = (1, 2)
_MAX_KERNEL = 4
_DTYPES = (jnp.float32, jnp.bfloat16, jnp.float16)


def resolve_conv_impl(conv_impl: str, backend: str | None = None) -> str:
  """Turns ``"auto"`` into ``"fast"`` on CPU and ``"xla"`` elsewhere.

  Args:
    conv_impl: "auto", "xla" or "fast".
    backend: the platform to resolve for (default: ``jax.default_backend()``).

  Returns:
    "xla" or "fast".

  Raises:
    ValueError: for an unknown ``conv_impl``.
  """
  if conv_impl not in CONV_IMPLS:
    raise ValueError(
        f"`conv_impl` must be one of {', '.join(map(repr, CONV_IMPLS))}, got {conv_impl!r}")
  if conv_impl != "auto":
    return conv_impl
  return "fast" if (backend or jax.default_backend()) == "cpu" else "xla"


def conv_general_dilated_fn(conv_impl: str) -> Callable[..., Array]:
  """``lax.conv_general_dilated`` or ``conv_general_dilated_fast``, by ``conv_impl``."""
  if resolve_conv_impl(conv_impl) == "fast":
    return conv_general_dilated_fast
  return lax.conv_general_dilated


# XLA:CPU hands convolutions and matrix products to YNNPACK by default. The fast
# formulations ran faster on Eigen's kernels (XLA:CPU's other path): whole training steps
# 1.15-1.35x on convvae32, dcgan32 and unet32, alternating windows in one process; an MLP
# step ran 0.94x, so only convolutional models take these options. Reductions (BatchNorm
# and GroupNorm statistics, bias gradients) stay with YNNPACK: without it XLA:CPU runs
# them as tree-shaped reduce-windows, ~50 ms of a 540 ms dcgan32 step (1.10x faster
# with them on YNNPACK, alternating processes).
_CPU_FAST_CONV_OPTIONS = {"xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_REDUCE",
                          "xla_cpu_use_xnnpack": False}


def conv_compiler_options(conv_impl: str, backend: str | None = None) -> dict:
  """XLA compiler options for a step of a convolutional model built with ``conv_impl``.

  On CPU with the fast convolutions, the options that route convolutions and matrix
  products to Eigen's kernels rather than YNNPACK's, and reductions to YNNPACK's;
  otherwise none. Pass them to ``jax.jit(step, compiler_options=...)`` (or
  ``lowered.compile(...)``); the values a step computes are the same either way, to
  float rounding.

  Args:
    conv_impl: "auto", "xla" or "fast" (as given to the model).
    backend: the platform compiled for (default: ``jax.default_backend()``).

  Returns:
    A new dict, empty unless the backend is CPU and ``conv_impl`` resolves to "fast".

  Raises:
    ValueError: for an unknown ``conv_impl``.
  """
  backend = backend or jax.default_backend()
  if resolve_conv_impl(conv_impl, backend) == "fast" and backend == "cpu":
    return dict(_CPU_FAST_CONV_OPTIONS)
  return {}


# --------------------------------------------------------------------------- the three maps
# x [B, H, W, C], w [kh, kw, C, O], y [B, Ho, Wo, O]; ``pads`` ((lo, hi), (lo, hi)) may be
# negative. The convolution is y = A_w x; ``_conv_t`` is its transpose A_w^T (what the input
# gradient and a transposed convolution compute); ``_conv_dw`` is the weight gradient.


def _lax_pads(pads):
  return ((0, 0, 0), (pads[0][0], pads[0][1], 0), (pads[1][0], pads[1][1], 0), (0, 0, 0))


def _out_size(size, k, s, lo, hi):
  return (size + lo + hi - k) // s + 1


def _patches(x: Array, kernel: tuple[int, int], strides, pads) -> Array:
  """[B, Ho, Wo, kh * kw * C] patches, tap-major (the order of ``w.reshape(-1, O)``)."""
  kh, kw = kernel
  sh, sw = strides
  xp = lax.pad(x, jnp.zeros((), x.dtype), _lax_pads(pads))
  b, hp, wp, c = xp.shape
  ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
  cols = [lax.slice(xp, (0, i, j, 0), (b, i + (ho - 1) * sh + 1, j + (wo - 1) * sw + 1, c),
                    (1, sh, sw, 1))
          for i in range(kh) for j in range(kw)]
  return cols[0] if len(cols) == 1 else jnp.concatenate(cols, axis=-1)


def _matmul(a, b, contract, precision, dtype):
  out = lax.dot_general(a, b, (contract, ((), ())), precision=precision,
                        preferred_element_type=jnp.float32)
  return out.astype(dtype)


def _xla_conv(x, w, strides, pads, precision):
  if any(p < 0 for lo_hi in pads for p in lo_hi):
    # Negative padding crops x first: XLA:CPU's convolution with a negative window padding
    # and more than one channel returned wrong values (even uninitialised memory) here.
    crop = tuple((min(lo, 0), min(hi, 0)) for lo, hi in pads)
    x = lax.pad(x, jnp.zeros((), x.dtype), _lax_pads(crop))
    pads = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pads)
  return lax.conv_general_dilated(x, w, strides, pads, dimension_numbers=_NHWC,
                                  precision=precision)


# Space-to-depth. A stride-s convolution with a kernel divisible by s (4x4 at stride 2) is a
# stride-1 convolution, with a kernel s times smaller per dimension and s*s times the
# channels, of the image's space-to-depth rearrangement: x padded to the rows and columns
# the output reads, each s x s block of pixels stacked into channels. Its transpose is
# then a stride-1 col2im (shifted adds, no interleaving) followed by depth-to-space.


def _s2d_pads(in_hw, kernel, strides, pads):
  """Padding of x to the s * (out + k/s - 1) rows/columns the phases need, or None."""
  if max(strides) != 2 or any(k % s for k, s in zip(kernel, strides, strict=True)):
    return None
  out = []
  for n, k, s, (lo, hi) in zip(in_hw, kernel, strides, pads, strict=True):
    length = s * (_out_size(n, k, s, lo, hi) + k // s - 1)
    out.append((lo, length - n - lo))
  return tuple(out)


def _space_to_depth(x: Array, strides) -> Array:
  b, h, w, c = x.shape
  sh, sw = strides
  x = x.reshape(b, h // sh, sh, w // sw, sw, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h // sh, w // sw, sh * sw * c)


def _depth_to_space(z: Array, strides, c: int) -> Array:
  b, h, w, _ = z.shape
  sh, sw = strides
  z = z.reshape(b, h, w, sh, sw, c).transpose(0, 1, 3, 2, 4, 5)
  return z.reshape(b, h * sh, w * sw, c)


def _s2d_kernel(w: Array, strides) -> Array:
  """[kh, kw, C, O] -> [kh / sh, kw / sw, sh * sw * C, O], channels in s2d order."""
  kh, kw, c, o = w.shape
  sh, sw = strides
  w = w.reshape(kh // sh, sh, kw // sw, sw, c, o).transpose(0, 2, 1, 3, 4, 5)
  return w.reshape(kh // sh, kw // sw, sh * sw * c, o)


def _col2im(cols: Array, kernel, strides, hp_wp, dtype) -> Array:
  """Adjoint of ``_patches`` on an already padded [B, hp, wp, C] image (no padding)."""
  kh, kw = kernel
  sh, sw = strides
  b, ho, wo, _ = cols.shape
  cols = cols.reshape(b, ho, wo, kh, kw, -1)
  hp, wp = hp_wp
  zero = jnp.zeros((), dtype)
  total = None
  for i in range(kh):
    for j in range(kw):
      part = lax.pad(cols[:, :, :, i, j, :], zero,
                     ((0, 0, 0), (i, hp - i - (ho - 1) * sh - 1, sh - 1),
                      (j, wp - j - (wo - 1) * sw - 1, sw - 1), (0, 0, 0)))
      total = part if total is None else total + part
  return total


# Phases. The transpose of a stride-2 convolution writes each output pixel of x from the
# taps of the kernel whose parity matches the pixel's; so each of the s * s phases of x
# (rows r = s p + phi, columns likewise) is a stride-1 convolution of y with a sub-kernel
# of those taps, flipped and in/out-swapped, and x is the phases interleaved. That turns
# XLA's input-dilated convolution (the slow kernel) into s * s forward convolutions of
# exactly the same FLOPs.


def _phase_plan(n: int, k: int, s: int, lo: int, out: int):
  """Per phase of one dimension: (first tap, number of taps, (pad lo, pad hi), length)."""
  plan = []
  for phi in range(s):
    taps = [a for a in range(k) if (phi + lo - a) % s == 0]
    length = (n - phi + s - 1) // s
    if not taps or length <= 0:
      return None
    d_min = (phi + lo - taps[-1]) // s
    pad_lo = -d_min
    pad_hi = length + len(taps) - 1 - out - pad_lo
    plan.append((taps[0], len(taps), (pad_lo, pad_hi), length))
  return plan


def _conv_t_phases(y, w, strides, pads, in_hw, precision):
  """``A_w^T y`` of a strided convolution as stride-1 convolutions over x's phases, or None."""
  kh, kw, c, _ = w.shape
  b = y.shape[0]
  plans = [_phase_plan(n, k, s, lo, m)
           for n, k, s, (lo, _), m in zip(in_hw, (kh, kw), strides, pads, y.shape[1:3],
                                           strict=True)]
  if any(p is None for p in plans):
    return None
  size_h, size_w = plans[0][0][3], plans[1][0][3]  # phase 0 is the longest
  rows = []
  for a0, ta, pad_a, len_a in plans[0]:
    cols = []
    for b0, tb, pad_b, len_b in plans[1]:
      # taps a0, a0 + s, ... in reverse: increasing offsets into y
      wk = lax.rev(w[a0:a0 + strides[0] * (ta - 1) + 1:strides[0],
                     b0:b0 + strides[1] * (tb - 1) + 1:strides[1]], (0, 1))
      part = _xla_conv(y, wk.transpose(0, 1, 3, 2), (1, 1), (pad_a, pad_b), precision)
      cols.append(lax.pad(part, jnp.zeros((), y.dtype),
                          ((0, 0, 0), (0, size_h - len_a, 0), (0, size_w - len_b, 0),
                           (0, 0, 0))))
    rows.append(jnp.stack(cols, axis=3))  # [B, size_h, size_w, s_w, C]
  x = jnp.stack(rows, axis=2)  # [B, size_h, s_h, size_w, s_w, C]
  x = x.reshape(b, size_h * strides[0], size_w * strides[1], c)
  return x[:, :in_hw[0], :in_hw[1], :]


# Which formulation each map uses. Measured on XLA:CPU (2 cores, Eigen's kernels, see
# ``conv_compiler_options``) with the layers of ``configs/bench_convlayers.py`` and the
# whole convvae32, dcgan32 and unet32 steps:
#   * "conv" — XLA's strided convolution once the image has 16 channels or more; for a
#     thin (RGB) input, "s2d" (patches of the space-to-depth image times the kernel,
#     4 taps instead of 16: 1.6 against 5.4 ms on one core for convvae32's first layer)
#     where it applies, else "matmul" (patches of the image).
#   * "conv_t" — "auto": "phases" (see ``_conv_t_phases``) for images of 16 channels or
#     more and at least 16x16 pixels, where XLA's own transpose (an input-dilated
#     convolution, which Eigen runs on one thread) was 1.3x slower on one core and 2.5x
#     on two; "s2d" (one matmul, stride-1 col2im, depth-to-space) for thin or small
#     images; XLA's transpose otherwise. "xla", "phases", "s2d" and "matmul" (strided
#     col2im) each force one.
#   * "dw" — XLA's own weight gradient ("xla"), which Eigen runs at 60-170 GFLOP/s here;
#     "matmul" (patches of x contracted with dy) stays selectable.
# Whole steps alternate too much between windows on these machines to rank variants
# that differ by less than ~5%: over XLA's transposes and the im2col thin forward, these
# choices gained 1.07x (convvae32) and 1.10x (dcgan32) in whole steps, at that edge.
_MATMUL_BELOW_CHANNELS = 16
_PHASES_FROM_PIXELS = 16 * 16
_FORMULATION = {"conv": "s2d", "conv_t": "auto", "dw": "xla"}


def _conv_t_formulation(c: int, strides, in_hw, kernel, pads) -> str:
  """The formulation ``_conv_t_impl`` uses for a transpose into [B, *in_hw, c]."""
  form = _FORMULATION["conv_t"]
  if form == "phases" and (max(strides) != 2 or c < _MATMUL_BELOW_CHANNELS):
    return "xla"  # thin images: XLA's own transpose was faster than phases of 1-3 channels
  if form != "auto":
    return form
  if max(strides) != 2:
    return "xla"
  if c >= _MATMUL_BELOW_CHANNELS and in_hw[0] * in_hw[1] >= _PHASES_FROM_PIXELS:
    return "phases"
  return "s2d" if _s2d_pads(in_hw, kernel, strides, pads) is not None else "xla"


def _conv_impl(x, w, strides, pads, precision):
  kh, kw, c, o = w.shape
  if c >= _MATMUL_BELOW_CHANNELS:
    return _xla_conv(x, w, strides, pads, precision)
  s2d = _s2d_pads(x.shape[1:3], (kh, kw), strides, pads)
  if _FORMULATION["conv"] == "s2d" and s2d is not None:
    z = _space_to_depth(lax.pad(x, jnp.zeros((), x.dtype), _lax_pads(s2d)), strides)
    w2 = _s2d_kernel(w, strides)
    p = _patches(z, w2.shape[:2], (1, 1), ((0, 0), (0, 0)))
    return _matmul(p, w2.reshape(-1, o), ((3,), (0,)), precision, x.dtype)
  p = _patches(x, (kh, kw), strides, pads)
  return _matmul(p, w.reshape(kh * kw * c, o), ((3,), (0,)), precision, x.dtype)


def _conv_t_impl(y, w, strides, pads, in_hw, precision):
  kh, kw, c, o = w.shape
  form = _conv_t_formulation(c, strides, in_hw, (kh, kw), pads)
  if form == "phases":
    x = _conv_t_phases(y, w, strides, pads, in_hw, precision)
    if x is not None:
      return x
    form = "s2d" if _FORMULATION["conv_t"] == "auto" else "xla"
  s2d = _s2d_pads(in_hw, (kh, kw), strides, pads)
  if form == "s2d" and s2d is not None:
    w2 = _s2d_kernel(w, strides)
    cols = _matmul(y, w2.reshape(-1, o), ((3,), (1,)), precision, y.dtype)
    z_hw = tuple((n + lo + hi) // s for n, (lo, hi), s in zip(in_hw, s2d, strides, strict=True))
    z = _col2im(cols, w2.shape[:2], (1, 1), z_hw, y.dtype)
    neg = tuple((-lo, -hi) for lo, hi in s2d)
    return lax.pad(_depth_to_space(z, strides, c), jnp.zeros((), y.dtype), _lax_pads(neg))
  if form != "matmul":
    x_aval = jax.ShapeDtypeStruct((y.shape[0], *in_hw, c), y.dtype)
    return jax.linear_transpose(lambda x: _xla_conv(x, w, strides, pads, precision),
                                x_aval)(y)[0]
  cols = _matmul(y, w.reshape(kh * kw * c, o), ((3,), (1,)), precision, y.dtype)
  hp_wp = tuple(n + lo + hi for n, (lo, hi) in zip(in_hw, pads, strict=True))
  total = _col2im(cols, (kh, kw), strides, hp_wp, y.dtype)
  neg = tuple((-lo, -hi) for lo, hi in pads)
  return lax.pad(total, jnp.zeros((), y.dtype), _lax_pads(neg))


def _conv_dw_impl(x, dy, kernel_shape, strides, pads, precision):
  kh, kw, c, o = kernel_shape
  if _FORMULATION["dw"] == "xla":
    w_aval = jax.ShapeDtypeStruct(kernel_shape, dy.dtype)
    return jax.linear_transpose(lambda w: _xla_conv(x, w, strides, pads, precision),
                                w_aval)(dy)[0]
  p = _patches(x, (kh, kw), strides, pads)
  dw = _matmul(p, dy, ((0, 1, 2), (0, 1, 2)), precision, dy.dtype)
  return dw.reshape(kernel_shape)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4))
def _conv(x, w, strides, pads, precision):
  return _conv_impl(x, w, strides, pads, precision)


def _conv_fwd(x, w, strides, pads, precision):
  return _conv_impl(x, w, strides, pads, precision), (x, w)


def _conv_bwd(strides, pads, precision, res, g):
  x, w = res
  return (_conv_t(g, w, strides, pads, x.shape[1:3], precision),
          _conv_dw(x, g, w.shape, strides, pads, precision))


_conv.defvjp(_conv_fwd, _conv_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5))
def _conv_t(y, w, strides, pads, in_hw, precision):
  return _conv_t_impl(y, w, strides, pads, in_hw, precision)


def _conv_t_fwd(y, w, strides, pads, in_hw, precision):
  return _conv_t_impl(y, w, strides, pads, in_hw, precision), (y, w)


def _conv_t_bwd(strides, pads, in_hw, precision, res, g):
  y, w = res
  del in_hw  # g has the input's shape
  return (_conv(g, w, strides, pads, precision),
          _conv_dw(g, y, w.shape, strides, pads, precision))


_conv_t.defvjp(_conv_t_fwd, _conv_t_bwd)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5))
def _conv_dw(x, dy, kernel_shape, strides, pads, precision):
  return _conv_dw_impl(x, dy, kernel_shape, strides, pads, precision)


def _conv_dw_fwd(x, dy, kernel_shape, strides, pads, precision):
  return _conv_dw_impl(x, dy, kernel_shape, strides, pads, precision), (x, dy)


def _conv_dw_bwd(kernel_shape, strides, pads, precision, res, g):
  x, dy = res
  del kernel_shape
  return (_conv_t(dy, g, strides, pads, x.shape[1:3], precision),
          _conv(x, g, strides, pads, precision))


_conv_dw.defvjp(_conv_dw_fwd, _conv_dw_bwd)


# --------------------------------------------------------------------------- drop-ins


def _canonical(v, n):
  return (1,) * n if v is None else tuple(int(a) for a in v)


def _is_nhwc(lhs, rhs, dimension_numbers) -> bool:
  if dimension_numbers is None:  # lax's default is NCHW / OIHW
    return False
  try:
    dn = lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
  except (TypeError, ValueError):
    return False
  return dn == lax.conv_dimension_numbers(lhs.shape, rhs.shape, _NHWC)


def _explicit_pads(padding, in_hw, kernel, strides):
  if isinstance(padding, str):
    if padding.upper() not in ("SAME", "VALID", "SAME_LOWER"):
      return None
    return tuple(tuple(p) for p in lax.padtype_to_pads(in_hw, kernel, strides, padding))
  try:
    pads = tuple((int(lo), int(hi)) for lo, hi in padding)
  except (TypeError, ValueError):
    return None
  return pads if len(pads) == 2 else None


def _plan(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
          feature_group_count, batch_group_count, preferred_element_type):
  """``(kind, strides, pads, out_hw)`` for a case the fast path covers, or None to use lax."""
  if lhs.ndim != 4 or rhs.ndim != 4 or not _is_nhwc(lhs, rhs, dimension_numbers):
    return None
  if feature_group_count != 1 or batch_group_count != 1:
    return None
  if lhs.dtype != rhs.dtype or not any(lhs.dtype == d for d in _DTYPES):
    return None
  if preferred_element_type is not None and jnp.dtype(preferred_element_type) != lhs.dtype:
    return None
  strides, lhs_dil = _canonical(window_strides, 2), _canonical(lhs_dilation, 2)
  if _canonical(rhs_dilation, 2) != (1, 1) or len(strides) != 2 or len(lhs_dil) != 2:
    return None
  kernel = rhs.shape[:2]
  if lhs.shape[3] != rhs.shape[2] or max(kernel) > _MAX_KERNEL or min(lhs.shape[1:3]) < 1:
    return None
  if lhs_dil == (1, 1):
    if not all(s in _STRIDES for s in strides):
      return None
    pads = _explicit_pads(padding, lhs.shape[1:3], kernel, strides)
    if pads is None or any(_out_size(n, k, s, lo, hi) < 1 for n, k, s, (lo, hi)
                           in zip(lhs.shape[1:3], kernel, strides, pads, strict=True)):
      return None
    return "conv", strides, pads, None
  if strides != (1, 1) or not all(d in _STRIDES for d in lhs_dil) or isinstance(padding, str):
    return None  # lax itself rejects string padding with input dilation
  pads = _explicit_pads(padding, lhs.shape[1:3], kernel, strides)
  if pads is None:
    return None
  # y = conv(dilate(x, d), w, pads) is the transpose of a stride-d convolution of y with
  # the flipped, in/out-swapped kernel and padding (k - 1 - lo, k - 1 - hi).
  out = [(n - 1) * d + 1 + lo + hi - k + 1
         for n, d, k, (lo, hi) in zip(lhs.shape[1:3], lhs_dil, kernel, pads, strict=True)]
  if min(out) < 1:
    return None
  t_pads = tuple((k - 1 - lo, k - 1 - hi) for k, (lo, hi) in zip(kernel, pads, strict=True))
  return "transpose", lhs_dil, t_pads, tuple(out)


def conv_general_dilated_fast(
    lhs: Array, rhs: Array, window_strides: Sequence[int],
    padding: str | Sequence[tuple[int, int]], lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None, dimension_numbers=None,
    feature_group_count: int = 1, batch_group_count: int = 1, precision=None,
    preferred_element_type=None) -> Array:
  """``lax.conv_general_dilated`` with matmul-speed gradients on CPU; same arguments.

  The fast path covers 2-D convolutions in NHWC/HWIO/NHWC layout, kernels up to 4x4,
  window strides 1 or 2 (or, for a transposed convolution, input dilation 1 or 2 at
  stride 1), any "SAME"/"VALID"/explicit padding, no kernel dilation, one feature and
  batch group, float32/bfloat16/float16 operands of one dtype (accumulated in float32).
  Any other call is passed to ``lax.conv_general_dilated`` as is.

  Args:
    lhs: [B, H, W, C] inputs (for the fast path).
    rhs: [kh, kw, C, O] kernel.
    window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
      feature_group_count, batch_group_count, precision, preferred_element_type:
      as ``lax.conv_general_dilated``.

  Returns:
    [B, Ho, Wo, O], equal to ``lax.conv_general_dilated`` to float rounding.
  """
  plan = _plan(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count, batch_group_count,
               preferred_element_type)
  if plan is None:
    return lax.conv_general_dilated(
        lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count, batch_group_count=batch_group_count,
        precision=precision, preferred_element_type=preferred_element_type)
  kind, strides, pads, out_hw = plan
  if kind == "conv":
    return _conv(lhs, rhs, strides, pads, precision)
  w_t = jnp.flip(rhs, (0, 1)).transpose(0, 1, 3, 2)
  return _conv_t(lhs, w_t, strides, pads, out_hw, precision)


def conv_transpose_padding(kernel: int, stride: int, padding) -> tuple[int, int]:
  """The explicit (lo, hi) padding ``lax.conv_transpose`` uses along one dimension.

  Args:
    kernel: the (dilated) kernel size.
    stride: the transposed convolution's stride.
    padding: "SAME", "VALID" or the forward convolution's (lo, hi) pair.
  """
  if padding == "SAME":
    total = kernel + stride - 2
    lo = kernel - 1 if stride > kernel - 1 else int(np.ceil(total / 2))
    return lo, total - lo
  if padding == "VALID":
    return kernel - 1, kernel + stride - 2 + max(kernel - stride, 0) - (kernel - 1)
  lo, hi = padding
  return kernel - lo - 1, kernel - hi - 1


def conv_transpose_fast(lhs: Array, rhs: Array, strides: Sequence[int],
                        padding: str | Sequence[tuple[int, int]],
                        rhs_dilation: Sequence[int] | None = None, dimension_numbers=None,
                        transpose_kernel: bool = False, precision=None,
                        preferred_element_type=None,
                        use_consistent_padding: bool = False) -> Array:
  """``lax.conv_transpose`` through ``conv_general_dilated_fast``; same arguments.

  Args:
    lhs: [B, H, W, C] inputs.
    rhs: [kh, kw, C, O] kernel ([kh, kw, O, C] with ``transpose_kernel``).
    strides, padding, rhs_dilation, dimension_numbers, transpose_kernel, precision,
      preferred_element_type, use_consistent_padding: as ``lax.conv_transpose``
      (string padding is the forward convolution's; explicit pairs are the dilated
      convolution's own unless ``use_consistent_padding``, as there).

  Returns:
    [B, H', W', O], equal to ``lax.conv_transpose`` to float rounding.
  """
  if dimension_numbers is None and lhs.ndim == 4:
    dimension_numbers = _NHWC
  bad_string = isinstance(padding, str) and padding not in ("SAME", "VALID")
  if lhs.ndim != 4 or bad_string or not _is_nhwc(lhs, rhs, dimension_numbers):
    return lax.conv_transpose(lhs, rhs, strides, padding, rhs_dilation=rhs_dilation,
                              dimension_numbers=dimension_numbers,
                              transpose_kernel=transpose_kernel, precision=precision,
                              preferred_element_type=preferred_element_type,
                              use_consistent_padding=use_consistent_padding)
  dil = _canonical(rhs_dilation, 2)
  strides = _canonical(strides, 2)
  if use_consistent_padding or isinstance(padding, str):
    eff = [(k - 1) * r + 1 for k, r in zip(rhs.shape[:2], dil, strict=True)]
    per_dim = [padding] * 2 if isinstance(padding, str) else [tuple(p) for p in padding]
    pads = tuple(conv_transpose_padding(k, s, p)
                 for k, s, p in zip(eff, strides, per_dim, strict=True))
  else:
    pads = tuple((int(lo), int(hi)) for lo, hi in padding)
  if transpose_kernel:
    rhs = jnp.flip(rhs, (0, 1)).swapaxes(2, 3)
  return conv_general_dilated_fast(lhs, rhs, (1, 1), pads, lhs_dilation=strides,
                                   rhs_dilation=dil, dimension_numbers=_NHWC,
                                   precision=precision,
                                   preferred_element_type=preferred_element_type)
