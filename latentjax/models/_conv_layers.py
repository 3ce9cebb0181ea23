"""Flax convolution layers that follow the ``conv_impl`` switch ("auto" | "xla" | "fast").

Both factories return flax's own modules, or a subclass of them, with the same
attributes and the same parameters (``kernel``, ``bias``, same shapes and initial
values), so a checkpoint trained with one implementation loads into the other::

    h = conv_layer("fast", 64, (4, 4), strides=(2, 2), name="conv_1")(x)
    h = conv_transpose_layer("fast", 32, (4, 4), strides=(2, 2), name="deconv_1")(h)

``nn.Conv`` takes the convolution function as its ``conv_general_dilated`` attribute.
``nn.ConvTranspose`` has no such attribute, so ``FastConvTranspose`` overrides its
``__call__`` for the common case (rank-2 NHWC inputs with one batch axis, zero padding,
no mask) and defers to flax's ``__call__`` for everything else.

``upsample_conv_layer`` is nearest-neighbour 2x upsampling followed by a 3x3 "SAME"
``nn.Conv`` (the U-Net's upsampling), one module with that convolution's parameters. On
the fast path it never builds the upsampled image: each of the four output phases is a
2x2 convolution of the low-resolution input with the taps the upsampling makes equal
summed, 4 taps per pixel instead of 9 (2.25x fewer FLOPs, the same values to rounding).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax.kernels._conv import (
    _NHWC,
    conv_general_dilated_fast,
    conv_transpose_fast,
    resolve_conv_impl,
)

Array = jax.Array


class FastConvTranspose(nn.ConvTranspose):
  """``nn.ConvTranspose`` computed by ``conv_transpose_fast``; same attributes and params."""

  @nn.compact
  def __call__(self, inputs: Array) -> Array:
    """[B, H, W, C] -> [B, H', W', features], as ``nn.ConvTranspose``."""
    kernel_size = ((self.kernel_size,) if isinstance(self.kernel_size, int)
                   else tuple(self.kernel_size))
    common = (inputs.ndim == 4 and len(kernel_size) == 2 and self.mask is None
              and not (isinstance(self.padding, str) and self.padding not in ("SAME", "VALID")))
    if not common:
      return super().__call__(inputs)
    strides = (1, 1) if self.strides is None else (
        (self.strides,) * 2 if isinstance(self.strides, int) else tuple(self.strides))
    dilation = None if self.kernel_dilation is None else (
        (self.kernel_dilation,) * 2 if isinstance(self.kernel_dilation, int)
        else tuple(self.kernel_dilation))
    padding = self.padding
    if not isinstance(padding, str):
      padding = nn.linear.canonicalize_padding(padding, 2)
    in_features = inputs.shape[-1]
    kernel_shape = kernel_size + ((self.features, in_features) if self.transpose_kernel
                                  else (in_features, self.features))
    kernel = self.param("kernel", self.kernel_init, kernel_shape, self.param_dtype)
    bias = (self.param("bias", self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = conv_transpose_fast(inputs, kernel, strides, padding, rhs_dilation=dilation,
                            dimension_numbers=("NHWC", "HWIO", "NHWC"),
                            transpose_kernel=self.transpose_kernel, precision=self.precision,
                            preferred_element_type=self.preferred_element_type)
    if bias is not None:
      y += jnp.reshape(bias, (1, 1, 1, -1))
    return y


def conv_layer(conv_impl: str, features: int, kernel_size, **kwargs) -> nn.Conv:
  """An ``nn.Conv`` whose convolution follows ``conv_impl`` ("auto", "xla" or "fast").

  Args:
    conv_impl: "xla" is flax's layer unchanged; "fast" passes
      ``conv_general_dilated_fast``; "auto" is "fast" on CPU, "xla" elsewhere.
    features, kernel_size, **kwargs: ``nn.Conv``'s attributes.

  Raises:
    ValueError: for an unknown ``conv_impl``.
  """
  if resolve_conv_impl(conv_impl) == "fast":
    kwargs["conv_general_dilated"] = conv_general_dilated_fast
  return nn.Conv(features, kernel_size, **kwargs)


def conv_transpose_layer(conv_impl: str, features: int, kernel_size,
                         **kwargs) -> nn.ConvTranspose:
  """An ``nn.ConvTranspose`` (or ``FastConvTranspose``) following ``conv_impl``.

  Raises:
    ValueError: for an unknown ``conv_impl``.
  """
  cls = FastConvTranspose if resolve_conv_impl(conv_impl) == "fast" else nn.ConvTranspose
  return cls(features, kernel_size, **kwargs)


def _fold_taps(w: Array, axis: int):
  """3 taps along ``axis`` -> ((even kernel, pads), (odd kernel, pads)), 2 taps each.

  Upsampled, u[2i] = u[2i + 1] = x[i]; so output 2i reads (x[i - 1], x[i], x[i]) and
  output 2i + 1 reads (x[i], x[i], x[i + 1]) through taps (w0, w1, w2).
  """
  w0, w1, w2 = (jax.lax.index_in_dim(w, k, axis) for k in range(3))
  return ((jnp.concatenate([w0, w1 + w2], axis), (1, 0)),
          (jnp.concatenate([w0 + w1, w2], axis), (0, 1)))


def upsample_conv_phases(x: Array, w: Array, precision=None) -> Array:
  """conv(nearest_upsample_2x(x), w, stride 1, "SAME") without the upsampled image.

  Args:
    x: [B, H, W, C] input.
    w: [3, 3, C, O] kernel (HWIO).
    precision: passed to the convolutions.

  Returns:
    [B, 2H, 2W, O]: four 2x2 convolutions of ``x`` (one per output phase), interleaved.

  Raises:
    ValueError: if ``x`` is not 4-D or ``w`` is not [3, 3, C, O].
  """
  if x.ndim != 4 or w.ndim != 4 or w.shape[:3] != (3, 3, x.shape[-1]):
    raise ValueError(f"upsample_conv_phases: x must be [B, H, W, C] and w [3, 3, C, O], "
                     f"got x {x.shape} and w {w.shape}")
  b, h, wd, _ = x.shape
  rows = []
  for w_row, pad_row in _fold_taps(w, 0):
    cols = [conv_general_dilated_fast(x, w_rc, (1, 1), (pad_row, pad_col),
                                      dimension_numbers=_NHWC, precision=precision)
            for w_rc, pad_col in _fold_taps(w_row, 1)]
    rows.append(jnp.stack(cols, axis=3))  # [B, H, W, 2 (column phase), O]
  y = jnp.stack(rows, axis=2)  # [B, H, 2 (row phase), W, 2, O]
  return y.reshape(b, 2 * h, 2 * wd, w.shape[-1])


class UpsampleConv(nn.Conv):
  """Nearest 2x upsampling, then this ``nn.Conv`` (3x3, "SAME", stride 1); same params.

  ``phases=True`` computes it by ``upsample_conv_phases``; otherwise the image is
  upsampled and flax's ``nn.Conv`` runs on it.
  """

  phases: bool = False

  @nn.compact
  def __call__(self, inputs: Array) -> Array:
    """[B, H, W, C] -> [B, 2H, 2W, features]."""
    kernel_size = ((self.kernel_size,) if isinstance(self.kernel_size, int)
                   else tuple(self.kernel_size))
    plain = (kernel_size == (3, 3) and self.padding == "SAME" and inputs.ndim == 4
             and self.strides in (None, 1, (1, 1)) and self.input_dilation in (None, 1, (1, 1))
             and self.kernel_dilation in (None, 1, (1, 1)) and self.feature_group_count == 1
             and self.mask is None)
    if not (self.phases and plain):
      return super().__call__(jnp.repeat(jnp.repeat(inputs, 2, axis=1), 2, axis=2))
    kernel = self.param("kernel", self.kernel_init, (3, 3, inputs.shape[-1], self.features),
                        self.param_dtype)
    bias = (self.param("bias", self.bias_init, (self.features,), self.param_dtype)
            if self.use_bias else None)
    inputs, kernel, bias = self.promote_dtype(inputs, kernel, bias, dtype=self.dtype)
    y = upsample_conv_phases(inputs, kernel, precision=self.precision)
    if bias is not None:
      y += jnp.reshape(bias, (1, 1, 1, -1))
    return y


def upsample_conv_layer(conv_impl: str, features: int, **kwargs) -> UpsampleConv:
  """Nearest 2x upsampling then a 3x3 "SAME" convolution, following ``conv_impl``.

  "xla" upsamples and runs flax's ``nn.Conv``; "fast" computes the four output phases
  as 2x2 convolutions of the input (``upsample_conv_phases``); "auto" is "fast" on CPU.
  The parameters (``kernel`` [3, 3, C, features], ``bias``) are the same either way.

  Raises:
    ValueError: for an unknown ``conv_impl``.
  """
  fast = resolve_conv_impl(conv_impl) == "fast"
  if fast:
    kwargs["conv_general_dilated"] = conv_general_dilated_fast
  return UpsampleConv(features, (3, 3), padding="SAME", phases=fast, **kwargs)
