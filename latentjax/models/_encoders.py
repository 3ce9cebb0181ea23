"""Encoders: images or vectors [B, ...] to codes [B, D] or Gaussian posteriors.

A Gaussian encoder returns ``(mean, logvar)``, each [B, D]; a deterministic one
returns codes [B, D]. Conditional encoders take integer labels ``y`` [B].
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax.models._conv_layers import conv_layer
from latentjax.models._layers import (
    MLP,
    append_condition,
    append_condition_channels,
    one_hot_labels,
)

Array = jax.Array


def _head(h: Array, latent_dim: int, gaussian: bool):
  if gaussian:
    stats = nn.Dense(2 * latent_dim, name="posterior")(h)
    mean, logvar = jnp.split(stats, 2, axis=-1)
    return mean, logvar
  return nn.Dense(latent_dim, name="code")(h)


class MLPEncoder(nn.Module):
  """Flattens the input and maps it through an MLP to a code or a Gaussian posterior.

  Attributes:
    hidden_dims: widths of the hidden layers.
    latent_dim: D, the size of the code.
    gaussian: return ``(mean, logvar)`` instead of a code.
    num_classes: > 0 for a conditional encoder (one-hot label appended to the input).
  """

  hidden_dims: Sequence[int]
  latent_dim: int
  gaussian: bool = True
  num_classes: int = 0

  @nn.compact
  def __call__(self, x: Array, y: Array | None = None):
    b = x.shape[0]
    h = x.reshape((b, -1))
    h = append_condition(h, one_hot_labels(y, self.num_classes, b))
    h = MLP(tuple(self.hidden_dims), activate_last=True, name="mlp")(h)
    return _head(h, self.latent_dim, self.gaussian)


class ConvEncoder(nn.Module):
  """4x4 stride-2 convolutions with ReLU, then a Dense head.

  Each convolution halves the resolution: [B, H, W, C] -> [B, H/2^L, W/2^L, channels[-1]].

  Attributes:
    channels: output channels of each convolution (L = len(channels)).
    latent_dim: D.
    gaussian: return ``(mean, logvar)`` instead of a code.
    num_classes: > 0 for a conditional encoder (one-hot label as extra input channels).
    conv_impl: "xla" (flax's convolution), "fast" (``conv_general_dilated_fast``,
      matmul-speed gradients on CPU) or "auto" (fast on CPU); same parameters either way.
  """

  channels: Sequence[int]
  latent_dim: int
  gaussian: bool = True
  num_classes: int = 0
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: Array, y: Array | None = None):
    if x.ndim != 4:
      raise ValueError(f"`x` must be [B, H, W, C] images, got shape {x.shape}")
    b = x.shape[0]
    h = append_condition_channels(x, one_hot_labels(y, self.num_classes, b))
    for i, c in enumerate(self.channels):
      h = conv_layer(self.conv_impl, c, (4, 4), strides=(2, 2), padding="SAME",
                     name=f"conv_{i}")(h)
      h = nn.relu(h)
    h = h.reshape((b, -1))
    return _head(h, self.latent_dim, self.gaussian)
