"""A classifier with named heads: the feature network of the sample-quality metrics.

Pretrained Inception weights are not available everywhere, so each built-in dataset gets
a small classifier trained by the project's own loop (``config.model.family =
"classifier"``). Its penultimate layer gives the features of FID / KID / PRDC, its heads
the predicted classes of the class coverage and the Inception-style score::

    net = Classifier(architecture="conv", hidden_dims=(), channels=(32, 64),
                     feature_dim=128, heads=(("label", 10),))
    variables = net.init(key, x)                              # x [B, H, W, C]
    logits = net.apply(variables, x)                          # {"label": [B, 10]}
    feats = net.apply(variables, x, method="features")        # [B, 128]

A dataset of ground-truth factors (``sprites``) gets one head per factor.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax

from latentjax.models._conv_layers import conv_layer
from latentjax.models._layers import MLP

Array = jax.Array


class Classifier(nn.Module):
  """Images or vectors [B, ...] -> features [B, F] -> one logit vector per head.

  Attributes:
    architecture: "mlp" (flatten, then ``hidden_dims``) or "conv" (3x3 stride-1 then 4x4
      stride-2 convolutions per entry of ``channels``, ReLU, then flatten).
    hidden_dims: MLP widths (mlp only).
    channels: output channels per resolution level (conv only).
    feature_dim: F, the width of the penultimate (feature) layer.
    heads: ``(name, num_classes)`` per head, e.g. ``(("label", 10),)``.
    conv_impl: "xla" | "fast" | "auto", as the other conv models.
  """

  architecture: str
  hidden_dims: Sequence[int]
  channels: Sequence[int]
  feature_dim: int
  heads: tuple[tuple[str, int], ...]
  conv_impl: str = "xla"

  def setup(self):
    if not self.heads:
      raise ValueError("`heads` must name at least one (head, num_classes) pair")
    if self.architecture == "conv":
      self.convs = [
          (conv_layer(self.conv_impl, c, (3, 3), padding="SAME", name=f"conv_{i}a"),
           conv_layer(self.conv_impl, c, (4, 4), strides=(2, 2), padding="SAME",
                      name=f"conv_{i}b"))
          for i, c in enumerate(self.channels)]
    elif self.architecture == "mlp":
      self.mlp = MLP(tuple(self.hidden_dims), activate_last=True, name="mlp")
    else:
      raise ValueError(f"`architecture` must be 'mlp' or 'conv', got {self.architecture!r}")
    self.feature_layer = nn.Dense(self.feature_dim, name="features")
    self.head_layers = {name: nn.Dense(n, name=f"head_{name}") for name, n in self.heads}

  def features(self, x: Array) -> Array:
    """Penultimate features [B, F] (after the ReLU) of inputs [B, ...]."""
    b = x.shape[0]
    if self.architecture == "conv":
      if x.ndim != 4:
        raise ValueError(f"`x` must be [B, H, W, C] images, got shape {x.shape}")
      h = x
      for a, s in self.convs:
        h = nn.relu(s(nn.relu(a(h))))
      h = h.reshape((b, -1))
    else:
      h = self.mlp(x.reshape((b, -1)))
    return nn.relu(self.feature_layer(h))

  def logits_from_features(self, f: Array) -> dict[str, Array]:
    """``{head: logits [B, num_classes]}`` of features [B, F]."""
    return {name: layer(f) for name, layer in self.head_layers.items()}

  def __call__(self, x: Array) -> dict[str, Array]:
    """``{head: logits [B, num_classes]}`` of inputs [B, ...]."""
    return self.logits_from_features(self.features(x))
