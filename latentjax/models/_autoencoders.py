"""Composite models: a deterministic ``AutoEncoder`` and a Gaussian ``VAE``.

Both are plain ``flax.linen`` modules used through ``init``/``apply``; their
``encode``/``decode``/``sample`` methods are reached with ``method=``::

    model = VAE(encoder=MLPEncoder((256,), 16), decoder=MLPDecoder((256,), (8, 8, 1)),
                latent_dim=16)
    variables = model.init(key, x, noise)
    mean, logvar = model.apply(variables, x, method=VAE.encode)
    logits = model.apply(variables, key, 64, method=VAE.sample)

A conditional VAE is a VAE whose encoder and decoder have ``num_classes > 0``;
every method then takes integer labels ``y`` [B].
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array


class AutoEncoder(nn.Module):
  """x -> z = encoder(x) -> decoder(z), with a deterministic encoder.

  Attributes:
    encoder: maps x [B, ...] (and labels y [B]) to codes [B, D].
    decoder: maps codes [B, D] (and labels) to likelihood parameters shaped like x.
    latent_dim: D.
  """

  encoder: nn.Module
  decoder: nn.Module
  latent_dim: int

  def __call__(self, x: Array, y: Array | None = None) -> Array:
    """Reconstruction parameters [B, ...] for inputs x [B, ...]."""
    return self.decode(self.encode(x, y), y)

  def encode(self, x: Array, y: Array | None = None) -> Array:
    """Codes [B, D]."""
    return self.encoder(x, y)

  def decode(self, z: Array, y: Array | None = None) -> Array:
    """Likelihood parameters [B, ...] for codes z [B, D]."""
    return self.decoder(z, y)


class VAE(nn.Module):
  """Variational autoencoder with a diagonal Gaussian posterior and N(0, I) prior.

  Attributes:
    encoder: maps x (and y) to ``(mean, logvar)``, each [B, D].
    decoder: maps z [B, D] (and y) to likelihood parameters shaped like x.
    latent_dim: D.
  """

  encoder: nn.Module
  decoder: nn.Module
  latent_dim: int

  def __call__(self, x: Array, noise: Array, y: Array | None = None):
    """One reparameterised pass.

    Args:
      x: [B, ...] inputs.
      noise: [B, D] standard normal draws (z = mean + exp(logvar / 2) * noise).
      y: optional [B] integer labels for a conditional model.

    Returns:
      ``(decoder_output [B, ...], mean [B, D], logvar [B, D])``.
    """
    mean, logvar = self.encode(x, y)
    z = mean + jnp.exp(0.5 * logvar) * noise
    return self.decode(z, y), mean, logvar

  def encode(self, x: Array, y: Array | None = None):
    """Posterior ``(mean, logvar)``, each [B, D]."""
    return self.encoder(x, y)

  def decode(self, z: Array, y: Array | None = None) -> Array:
    """Likelihood parameters [B, ...] for codes z [B, D]."""
    return self.decoder(z, y)

  def sample(self, key: Array, num_samples: int, y: Array | None = None) -> Array:
    """Decoder outputs [num_samples, ...] for z ~ N(0, I) drawn with ``key``."""
    z = jax.random.normal(key, (num_samples, self.latent_dim))
    return self.decode(z, y)
