"""GAN generators (DCGAN and MLP), unconditional or class-conditioned.

Generators map noise ``z`` [B, D] (and integer labels ``y`` [B] for a conditional one)
to samples shaped like the data. Every GAN module takes a keyword ``train``:

    g = DCGANGenerator()                                     # the dcgan32 workload
    g_vars = g.init(key, jnp.zeros((1, 128)), train=False)   # {"params", "batch_stats"}
    x, g_state = g.apply(g_vars, z, train=True, mutable=["batch_stats"])
    x = g.apply(g_vars, z, train=False)                      # running averages, no update

``DCGANGenerator`` normalises with BatchNorm, whose running statistics live in the
``batch_stats`` collection of the *generator's own* variables (the discriminator's
statistics, if it has any, are in the discriminator's variables, never shared).
BatchNorm uses the batch statistics and updates the running ones when ``train=True``
(``use_running_average = not train``); pass ``mutable=["batch_stats"]`` then and keep
the returned collection.

Convolutions are created through ``_conv`` / ``_deconv``, the one place where a
module's ``conv_impl`` selects the convolution implementation.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from latentjax.kernels._conv import resolve_conv_impl
from latentjax.models._conv_layers import conv_layer, conv_transpose_layer
from latentjax.models._layers import MLP, one_hot_labels

Array = jax.Array

OUTPUT_ACTIVATIONS = ("tanh", "sigmoid", "none")
_KERNEL, _STRIDES = (4, 4), (2, 2)


def _check_conv_impl(conv_impl: str) -> None:
  resolve_conv_impl(conv_impl)  # raises ValueError naming `conv_impl` for an unknown name


def _conv(features: int, name: str, conv_impl: str = "xla") -> nn.Module:
  """A 4x4 stride-2 "SAME" convolution; ``conv_impl`` selects the implementation."""
  return conv_layer(conv_impl, features, _KERNEL, strides=_STRIDES, padding="SAME", name=name)


def _deconv(features: int, name: str, conv_impl: str = "xla") -> nn.Module:
  """A 4x4 stride-2 "SAME" transposed convolution (doubles H and W)."""
  return conv_transpose_layer(conv_impl, features, _KERNEL, strides=_STRIDES, padding="SAME",
                              name=name)


def _output_activation(x: Array, name: str) -> Array:
  if name == "tanh":
    return jnp.tanh(x)
  if name == "sigmoid":
    return jax.nn.sigmoid(x)
  if name == "none":
    return x
  raise ValueError(
      f"Unknown output_activation {name!r}; registered: {', '.join(OUTPUT_ACTIVATIONS)}")


def _condition_code(z: Array, y: Array | None, num_classes: int, embed_dim: int) -> Array:
  """Appends the label to the noise: [B, D] -> [B, D + K] (one-hot) or [B, D + E] (embedding).

  Called inside a generator's compact ``__call__``; ``embed_dim > 0`` creates a learned
  ``nn.Embed`` named "label_embed", ``embed_dim == 0`` uses the one-hot label.

  Raises:
    ValueError: ``z`` is not [B, D], or a conditional model gets no / badly shaped labels.
  """
  if z.ndim != 2:
    raise ValueError(f"`z` must be [B, D] noise codes, got shape {z.shape}")
  if num_classes == 0:
    return z
  if embed_dim > 0:
    one_hot_labels(y, num_classes, z.shape[0])  # validates y
    cond = nn.Embed(num_classes, embed_dim, name="label_embed")(y)
  else:
    cond = one_hot_labels(y, num_classes, z.shape[0])
  return jnp.concatenate([z, cond.astype(z.dtype)], axis=-1)


class DCGANGenerator(nn.Module):
  """DCGAN generator: Dense to a small feature map, then 4x4 stride-2 transposed convs.

  z [B, D] -> Dense(h0 * w0 * channels[0]) -> BatchNorm -> ReLU -> reshape
  [B, h0, w0, channels[0]] -> for c in channels[1:]: ConvTranspose(c) -> BatchNorm ->
  ReLU -> ConvTranspose(output_shape[-1]) -> output activation, with
  h0 = H / 2^L, w0 = W / 2^L, L = len(channels) (each transposed convolution doubles
  the resolution). The first BatchNorm normalises each of the h0 * w0 * channels[0]
  Dense features; the others normalise per channel.

  The defaults are the ``dcgan32`` benchmark generator (z in R^128, base 4x4x256,
  channels 256 -> 128 -> 64 -> 3, 32x32x3 tanh output; 1,195,587 parameters). Other
  sizes: ``output_shape=(8, 8, 1), channels=(128, 64)`` for ``digits`` (base 2x2);
  ``output_shape=(32, 32, 1)`` for ``sprites``.

  Attributes:
    output_shape: (H, W, C) per sample, H and W divisible by 2^len(channels).
    channels: channels of the base feature map, then of each hidden transposed
      convolution (L = len(channels) >= 1 up-samplings in all).
    num_classes: > 0 for a class-conditioned generator (label appended to z).
    embed_dim: 0 appends the one-hot label; > 0 a learned embedding of this size.
    output_activation: "tanh" (samples in [-1, 1]), "sigmoid" ([0, 1]) or "none".
    bn_momentum: BatchNorm running-average momentum (flax convention: 0.9 keeps 90%).
    bn_axis_name: the pmap axis to average batch statistics over, or None.
    conv_impl: the convolution implementation: "xla", "fast" or "auto" (see
      ``models.resolve_conv_impl``).
  """

  output_shape: Sequence[int] = (32, 32, 3)
  channels: Sequence[int] = (256, 128, 64)
  num_classes: int = 0
  embed_dim: int = 0
  output_activation: str = "tanh"
  bn_momentum: float = 0.9
  bn_axis_name: str | None = None
  conv_impl: str = "xla"

  def _norm(self, x: Array, train: bool, name: str) -> Array:
    return nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                        epsilon=1e-5, axis_name=self.bn_axis_name, name=name)(x)

  @nn.compact
  def __call__(self, z: Array, y: Array | None = None, *, train: bool) -> Array:
    """Generates samples.

    Args:
      z: [B, D] noise codes.
      y: [B] integer labels for a conditional generator, else None.
      train: use and update batch statistics (needs ``mutable=["batch_stats"]``).

    Returns:
      [B, H, W, C] samples.
    """
    if len(self.output_shape) != 3:
      raise ValueError(
          f"`output_shape` must be (H, W, C), got {tuple(self.output_shape)}")
    if not self.channels:
      raise ValueError("`channels` must name at least the base feature map's channels")
    height, width, out_c = self.output_shape
    levels = len(self.channels)
    h0, w0 = height // 2**levels, width // 2**levels
    if h0 < 1 or h0 * 2**levels != height or w0 * 2**levels != width:
      raise ValueError(
          f"`output_shape` {tuple(self.output_shape)} must have H and W divisible by "
          f"2**{levels} (one up-sampling per entry of `channels`)")
    b = z.shape[0]
    h = _condition_code(z, y, self.num_classes, self.embed_dim)
    base = self.channels[0]
    h = nn.Dense(h0 * w0 * base, name="project")(h)
    h = nn.relu(self._norm(h, train, "project_bn")).reshape((b, h0, w0, base))
    for i, c in enumerate(self.channels[1:]):
      h = _deconv(c, f"deconv_{i}", self.conv_impl)(h)
      h = nn.relu(self._norm(h, train, f"deconv_{i}_bn"))
    h = _deconv(out_c, f"deconv_{levels - 1}", self.conv_impl)(h)
    return _output_activation(h, self.output_activation)


class MLPGenerator(nn.Module):
  """MLP generator, e.g. for ``toy2d`` points: z [B, D] -> [B, *output_shape].

  ReLU hidden layers, a linear output layer, then the output activation.

  Attributes:
    hidden_dims: widths of the hidden layers.
    output_shape: per-sample shape, e.g. (2,) or (8, 8, 1).
    num_classes: > 0 for a class-conditioned generator (label appended to z).
    embed_dim: 0 appends the one-hot label; > 0 a learned embedding of this size.
    output_activation: "none" (default, unbounded), "tanh" or "sigmoid".
    conv_impl: unused (no convolutions); kept so every GAN module has the same fields.
  """

  hidden_dims: Sequence[int] = (128, 128, 128)
  output_shape: Sequence[int] = (2,)
  num_classes: int = 0
  embed_dim: int = 0
  output_activation: str = "none"
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, z: Array, y: Array | None = None, *, train: bool) -> Array:
    """Generates samples.

    Args:
      z: [B, D] noise codes.
      y: [B] integer labels for a conditional generator, else None.
      train: accepted for a uniform interface (this module has no state).

    Returns:
      [B, *output_shape] samples.
    """
    del train
    _check_conv_impl(self.conv_impl)
    b = z.shape[0]
    h = _condition_code(z, y, self.num_classes, self.embed_dim)
    out = MLP((*self.hidden_dims, int(np.prod(self.output_shape))), name="mlp")(h)
    return _output_activation(out, self.output_activation).reshape((b, *self.output_shape))
