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
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax.models._conv import (
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
