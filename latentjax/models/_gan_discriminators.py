"""GAN discriminators (DCGAN and MLP), optionally spectrally normalised or projection-conditioned.

A discriminator maps samples [B, ...] (and integer labels ``y`` [B] for a projection
discriminator) to real-valued logits [B], the input of the losses in
``latentjax.objectives`` (``non_saturating_d_loss`` etc.).

Variables and their collections, all in the *discriminator's own* variable dict:

* ``params``: weights (spectral normalisation adds none: the normalised weight is
  computed on the fly from the raw one, which is what the optimiser updates);
* ``spectral_stats`` (``spectral_norm=True``): per wrapped layer the power-iteration
  vector ``u`` and the last estimate ``sigma`` of the largest singular value, as
  ``nn.SpectralNorm`` keeps them (here under its ``collection_name="spectral_stats"``,
  so that they never mix with BatchNorm statistics);
* ``batch_stats`` (``batch_norm=True`` only; off by default): BatchNorm running averages.

``train=True`` runs one power-iteration step and stores the new ``u`` and ``sigma``, and
BatchNorm uses and updates batch statistics; pass ``mutable=["spectral_stats"]`` (plus
``"batch_stats"`` with BatchNorm), i.e. every collection but ``params``::

    d = DCGANDiscriminator(spectral_norm=True)
    d_vars = d.init(key, x, train=False)                  # {"params", "spectral_stats"}
    state = {k: v for k, v in d_vars.items() if k != "params"}
    logits, new_state = d.apply({"params": p, **state}, x, train=True,
                                mutable=list(state))
    logits = d.apply(d_vars, x, train=False)            # no update, deterministic

With ``train=False`` the stored ``u`` seeds one power-iteration step whose result is
not stored, so evaluation is deterministic. Gradients never flow through ``u`` (flax
stops them), as in Miyato et al. (2018).
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from latentjax.models._gan import _check_conv_impl, _conv
from latentjax.models._layers import one_hot_labels

Array = jax.Array

SPECTRAL_STATS = "spectral_stats"


def _projection_init():
  # Like a Dense head's LeCun-normal kernel: <embed(y), phi> starts at the head's scale.
  return nn.initializers.variance_scaling(1.0, "fan_out", "truncated_normal")


class _DiscriminatorBase(nn.Module):
  """Shared pieces: optional spectral normalisation and the projection head."""

  def _apply(self, layer: nn.Module, x: Array, train: bool, name: str) -> Array:
    if self.spectral_norm:
      return nn.SpectralNorm(layer, collection_name=SPECTRAL_STATS, name=f"{name}_sn")(
          x, update_stats=train)
    return layer(x)

  def _head(self, phi: Array, y: Array | None, train: bool) -> Array:
    """logit = psi(phi) + <embed(y), phi> (Miyato & Koyama, 2018); [B, F] -> [B]."""
    logit = self._apply(nn.Dense(1, name="head"), phi, train, "head")[:, 0]
    if self.num_classes == 0:
      return logit
    one_hot_labels(y, self.num_classes, phi.shape[0])  # validates y
    embed = nn.Embed(self.num_classes, phi.shape[-1], embedding_init=_projection_init(),
                     name="label_embed")
    e = self._apply(embed, y, train, "label_embed")
    return logit + jnp.sum(e * phi, axis=-1)


class DCGANDiscriminator(_DiscriminatorBase):
  """DCGAN discriminator: 4x4 stride-2 convolutions with LeakyReLU, flatten, Dense 1.

  x [B, H, W, C] -> for c in channels: Conv(c) [-> BatchNorm] -> LeakyReLU(slope) ->
  flatten to phi [B, F] -> logit [B]. BatchNorm (if enabled) follows every convolution
  but the first, as in Radford et al. (2016). With ``num_classes > 0`` it is a projection
  discriminator: logit = Dense(phi) + <embed(y), phi>, the embedding F wide.

  The defaults are the ``dcgan32`` benchmark discriminator (channels 64 -> 128 -> 256 on
  32x32x3; 662,977 parameters). For ``digits`` (8x8x1) e.g. ``channels=(64, 128)``.

  Attributes:
    channels: output channels of each convolution (each halves H and W).
    num_classes: > 0 for a projection discriminator.
    spectral_norm: spectrally normalise every convolution, the head and the embedding.
    batch_norm: BatchNorm after every convolution but the first (off in dcgan32).
    leaky_slope: negative slope of the LeakyReLU.
    bn_momentum: BatchNorm running-average momentum.
    bn_axis_name: the pmap axis to average batch statistics over, or None.
    conv_impl: the convolution implementation: "xla", "fast" or "auto".
  """

  channels: Sequence[int] = (64, 128, 256)
  num_classes: int = 0
  spectral_norm: bool = False
  batch_norm: bool = False
  leaky_slope: float = 0.2
  bn_momentum: float = 0.9
  bn_axis_name: str | None = None
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: Array, y: Array | None = None, *, train: bool) -> Array:
    """Scores samples.

    Args:
      x: [B, H, W, C] samples.
      y: [B] integer labels for a projection discriminator, else None.
      train: update spectral-norm vectors and use/update BatchNorm batch statistics
        (needs those collections mutable).

    Returns:
      [B] logits.
    """
    if x.ndim != 4:
      raise ValueError(f"`x` must be [B, H, W, C] images, got shape {x.shape}")
    h = x
    for i, c in enumerate(self.channels):
      h = self._apply(_conv(c, f"conv_{i}", self.conv_impl), h, train, f"conv_{i}")
      if self.batch_norm and i > 0:
        h = nn.BatchNorm(use_running_average=not train, momentum=self.bn_momentum,
                         epsilon=1e-5, axis_name=self.bn_axis_name, name=f"conv_{i}_bn")(h)
      h = nn.leaky_relu(h, self.leaky_slope)
    return self._head(h.reshape((h.shape[0], -1)), y, train)


class MLPDiscriminator(_DiscriminatorBase):
  """MLP discriminator, e.g. for ``toy2d`` points: x [B, ...] flattened -> logits [B].

  Dense -> LeakyReLU(slope) per hidden layer gives phi [B, hidden_dims[-1]], then the
  head (and the projection with ``num_classes > 0``).

  Attributes:
    hidden_dims: widths of the hidden layers (at least one).
    num_classes: > 0 for a projection discriminator.
    spectral_norm: spectrally normalise every Dense layer and the embedding.
    leaky_slope: negative slope of the LeakyReLU.
    conv_impl: unused (no convolutions); kept so every GAN module has the same fields.
  """

  hidden_dims: Sequence[int] = (128, 128, 128)
  num_classes: int = 0
  spectral_norm: bool = False
  leaky_slope: float = 0.2
  conv_impl: str = "xla"

  @nn.compact
  def __call__(self, x: Array, y: Array | None = None, *, train: bool) -> Array:
    """Scores samples.

    Args:
      x: [B, ...] samples.
      y: [B] integer labels for a projection discriminator, else None.
      train: update spectral-norm vectors (needs ``mutable=["spectral_stats"]``).

    Returns:
      [B] logits.
    """
    _check_conv_impl(self.conv_impl)
    if x.ndim < 2:
      raise ValueError(f"`x` must be [B, ...] samples, got shape {x.shape}")
    if not self.hidden_dims:
      raise ValueError("`hidden_dims` must have at least one hidden layer")
    h = x.reshape((x.shape[0], -1))
    for i, width in enumerate(self.hidden_dims):
      h = self._apply(nn.Dense(width, name=f"dense_{i}"), h, train, f"dense_{i}")
      h = nn.leaky_relu(h, self.leaky_slope)
    return self._head(h, y, train)
