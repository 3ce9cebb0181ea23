"""Decoders: codes [B, D] to the parameters of p(x | z), shaped like the data.

The output is the likelihood's natural parameter: logits for a Bernoulli
likelihood, means for a Gaussian one (see ``latentjax.objectives``).
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import numpy as np

from latentjax.models._conv_layers import conv_transpose_layer
from latentjax.models._layers import MLP, append_condition, one_hot_labels

Array = jax.Array


class MLPDecoder(nn.Module):
  """MLP from codes to a flat output, reshaped to ``output_shape``.

  Attributes:
    hidden_dims: widths of the hidden layers.
    output_shape: per-example output shape, e.g. (8, 8, 1) or (2,).
    num_classes: > 0 for a conditional decoder (one-hot label appended to z).
  """

  hidden_dims: Sequence[int]
  output_shape: Sequence[int]
  num_classes: int = 0

  @nn.compact
  def __call__(self, z: Array, y: Array | None = None) -> Array:
    b = z.shape[0]
    h = append_condition(z, one_hot_labels(y, self.num_classes, b))
    out = MLP((*self.hidden_dims, int(np.prod(self.output_shape))), name="mlp")(h)
    return out.reshape((b, *self.output_shape))


class ConvDecoder(nn.Module):
  """Dense to a small feature map, then 4x4 stride-2 transposed convolutions.

  Mirrors ``ConvEncoder``: a Dense layer makes [B, H/2^L, W/2^L, channels[-1]], each
  of the L transposed convolutions doubles the resolution, the last one produces
  ``output_shape[-1]`` channels with no activation.

  Attributes:
    channels: the encoder's channels (used in reverse order), L = len(channels).
    output_shape: (H, W, C), H and W divisible by 2^L.
    num_classes: > 0 for a conditional decoder.
    conv_impl: "xla" (flax's ``nn.ConvTranspose``), "fast" (``FastConvTranspose``,
      matmul-speed gradients on CPU) or "auto" (fast on CPU); same parameters either way.
  """

  channels: Sequence[int]
  output_shape: Sequence[int]
  num_classes: int = 0
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, z: Array, y: Array | None = None) -> Array:
    height, width, out_c = self.output_shape
    levels = len(self.channels)
    h0, w0 = height // 2**levels, width // 2**levels
    if h0 * 2**levels != height or w0 * 2**levels != width:
      raise ValueError(
          f"`output_shape` {tuple(self.output_shape)} must have H and W divisible by "
          f"2**{levels}")
    b = z.shape[0]
    h = append_condition(z, one_hot_labels(y, self.num_classes, b))
    top = self.channels[-1]
    h = nn.relu(nn.Dense(h0 * w0 * top, name="project")(h)).reshape((b, h0, w0, top))
    reversed_channels = list(self.channels[::-1][1:]) + [out_c]
    for i, c in enumerate(reversed_channels):
      h = conv_transpose_layer(self.conv_impl, c, (4, 4), strides=(2, 2), padding="SAME",
                               name=f"deconv_{i}")(h)
      if i < len(reversed_channels) - 1:
        h = nn.relu(h)
    return h
