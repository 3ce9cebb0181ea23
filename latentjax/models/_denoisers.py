"""An MLP noise predictor for vector data: latent diffusion on a VAE's codes, toy2d.

    net = MLPDenoiser(hidden_dims=(256, 256), num_classes=0)
    eps = net.apply(variables, x_t, t)          # x_t [B, D], t [B] int -> [B, D]

The time step enters as a sinusoidal embedding through a small MLP, added (with a label
embedding for a conditional model, label ``num_classes`` = no label) to every hidden
layer's pre-activation.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax

from latentjax.models._unet import timestep_embedding

Array = jax.Array


class MLPDenoiser(nn.Module):
  """x_t [B, D] (or [B, ...], flattened), t [B] -> the prediction [B, ...] of the same shape.

  Attributes:
    hidden_dims: widths of the hidden layers (SiLU).
    time_dim: width of the time (and label) embedding.
    num_classes: > 0 for a conditional model; label ``num_classes`` is the null label.
  """

  hidden_dims: Sequence[int]
  time_dim: int = 128
  num_classes: int = 0

  @nn.compact
  def __call__(self, x: Array, t: Array, labels: Array | None = None, *,
               train: bool = False) -> Array:
    del train
    b = x.shape[0]
    if t.shape != (b,):
      raise ValueError(f"`t` must be [{b}] time steps, got shape {t.shape}")
    if (labels is None) != (self.num_classes == 0):
      raise ValueError(f"`labels` must be given exactly when num_classes > 0 "
                       f"(num_classes={self.num_classes}, labels given: {labels is not None})")
    emb = timestep_embedding(t, self.time_dim)
    emb = nn.Dense(self.time_dim, name="time_1")(emb)
    emb = nn.Dense(self.time_dim, name="time_2")(nn.silu(emb))
    if labels is not None:
      emb = emb + nn.Embed(self.num_classes + 1, self.time_dim, name="label")(labels)
    h = x.reshape((b, -1))
    for i, w in enumerate(self.hidden_dims):
      h = nn.Dense(w, name=f"dense_{i}")(h) + nn.Dense(w, name=f"time_proj_{i}")(emb)
      h = nn.silu(h)
    out = nn.Dense(x.reshape((b, -1)).shape[1], name="out")(h)
    return out.reshape(x.shape)
