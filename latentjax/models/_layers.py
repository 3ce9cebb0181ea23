"""Building blocks shared by encoders and decoders: MLPs and label conditioning."""

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array


class MLP(nn.Module):
  """A stack of Dense layers with an activation between them (not after the last).

  Attributes:
    features: output width of each layer.
    activation: non-linearity applied after every layer but the last.
    activate_last: also apply the activation after the last layer.
  """

  features: Sequence[int]
  activation: Callable[[Array], Array] = nn.relu
  activate_last: bool = False

  @nn.compact
  def __call__(self, x: Array) -> Array:
    for i, width in enumerate(self.features):
      x = nn.Dense(width, name=f"dense_{i}")(x)
      if i < len(self.features) - 1 or self.activate_last:
        x = self.activation(x)
    return x


def one_hot_labels(y: Array | None, num_classes: int, batch_size: int) -> Array | None:
  """Turns integer labels [B] into float one-hot vectors [B, num_classes].

  Returns None for an unconditional model (num_classes == 0).

  Raises:
    ValueError: if a conditional model gets no labels, or labels of the wrong shape.
  """
  if num_classes == 0:
    return None
  if y is None:
    raise ValueError(
        f"`y` is required: this model is conditioned on {num_classes} classes")
  if y.shape != (batch_size,):
    raise ValueError(f"`y` must be [B] = ({batch_size},) integer labels, got shape {y.shape}")
  return jax.nn.one_hot(y, num_classes, dtype=jnp.float32)


def append_condition_channels(x: Array, cond: Array | None) -> Array:
  """Concatenates a [B, K] condition to [B, H, W, C] images as K constant channels."""
  if cond is None:
    return x
  b, h, w, _ = x.shape
  planes = jnp.broadcast_to(cond[:, None, None, :], (b, h, w, cond.shape[-1]))
  return jnp.concatenate([x, planes], axis=-1)


def append_condition(x: Array, cond: Array | None) -> Array:
  """Concatenates a [B, K] condition to [B, F] features."""
  if cond is None:
    return x
  return jnp.concatenate([x, cond], axis=-1)
