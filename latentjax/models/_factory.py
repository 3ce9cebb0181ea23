"""A registry of model families, so configs name a family and get a module."""

import inspect
from collections.abc import Callable, Sequence

import flax.linen as nn

from latentjax.kernels._conv import resolve_conv_impl
from latentjax.models._autoencoders import VAE, AutoEncoder
from latentjax.models._decoders import ConvDecoder, MLPDecoder
from latentjax.models._encoders import ConvEncoder, MLPEncoder

ARCHITECTURES = ("mlp", "conv")
_FAMILIES: dict[str, Callable[..., nn.Module]] = {}


def register_family(name: str):
  """Decorator adding a model-family constructor to the registry under ``name``.

  The constructor is called as ``fn(architecture, latent_dim, hidden_dims, channels,
  input_shape, num_classes)``, plus ``conv_impl="xla" | "fast"`` when it takes that
  keyword.
  """

  def wrap(fn):
    if name in _FAMILIES:
      raise ValueError(f"model family {name!r} is already registered")
    _FAMILIES[name] = fn
    return fn

  return wrap


def registered_families() -> tuple[str, ...]:
  """Names accepted by ``build_model``'s ``family``."""
  return tuple(sorted(_FAMILIES))


def _encoder_decoder(architecture, latent_dim, hidden_dims, channels, input_shape,
                     num_classes, gaussian, conv_impl="xla"):
  if architecture == "mlp":
    enc = MLPEncoder(tuple(hidden_dims), latent_dim, gaussian=gaussian, num_classes=num_classes)
    dec = MLPDecoder(tuple(hidden_dims[::-1]), tuple(input_shape), num_classes=num_classes)
  elif architecture == "conv":
    if len(input_shape) != 3:
      raise ValueError(
          f"model.architecture='conv' needs image inputs [H, W, C], got input shape "
          f"{tuple(input_shape)}")
    enc = ConvEncoder(tuple(channels), latent_dim, gaussian=gaussian, num_classes=num_classes,
                      conv_impl=conv_impl)
    dec = ConvDecoder(tuple(channels), tuple(input_shape), num_classes=num_classes,
                      conv_impl=conv_impl)
  else:
    raise ValueError(
        f"Unknown architecture {architecture!r}; registered: {', '.join(ARCHITECTURES)}")
  return enc, dec


@register_family("ae")
def _ae(architecture, latent_dim, hidden_dims, channels, input_shape, num_classes,
        conv_impl="xla"):
  del num_classes  # the plain autoencoder is unconditional
  enc, dec = _encoder_decoder(architecture, latent_dim, hidden_dims, channels, input_shape, 0,
                              gaussian=False, conv_impl=conv_impl)
  return AutoEncoder(encoder=enc, decoder=dec, latent_dim=latent_dim)


@register_family("vae")
def _vae(architecture, latent_dim, hidden_dims, channels, input_shape, num_classes,
        conv_impl="xla"):
  del num_classes
  enc, dec = _encoder_decoder(architecture, latent_dim, hidden_dims, channels, input_shape, 0,
                              gaussian=True, conv_impl=conv_impl)
  return VAE(encoder=enc, decoder=dec, latent_dim=latent_dim)


@register_family("cvae")
def _cvae(architecture, latent_dim, hidden_dims, channels, input_shape, num_classes,
        conv_impl="xla"):
  if num_classes < 2:
    raise ValueError(
        f"model.family='cvae' needs a labelled dataset (>= 2 classes), got {num_classes}")
  enc, dec = _encoder_decoder(architecture, latent_dim, hidden_dims, channels, input_shape,
                              num_classes, gaussian=True, conv_impl=conv_impl)
  return VAE(encoder=enc, decoder=dec, latent_dim=latent_dim)


def build_model(family: str, *, architecture: str, latent_dim: int,
                hidden_dims: Sequence[int], channels: Sequence[int],
                input_shape: Sequence[int], num_classes: int = 0,
                conv_impl: str = "auto") -> nn.Module:
  """Builds a model of a registered family.

  Args:
    family: "ae", "vae" or "cvae" (see ``registered_families()``).
    architecture: "mlp" or "conv".
    latent_dim: D > 0.
    hidden_dims: MLP hidden widths (encoder order; the decoder mirrors them).
    channels: convolution channels (encoder order).
    input_shape: per-example data shape, e.g. (8, 8, 1).
    num_classes: classes of the conditioning label (cvae only).
    conv_impl: convolutions of a conv model: "xla" (XLA's), "fast"
      (``conv_general_dilated_fast``: matmul-speed gradients on CPU) or "auto" ("fast"
      on CPU, "xla" on GPU/TPU), resolved here, once, for the default backend.

  Returns:
    An unbound flax module.

  Raises:
    ValueError: for an unknown family or architecture, or a bad size.
  """
  if family not in _FAMILIES:
    raise ValueError(
        f"Unknown model family {family!r}; registered: {', '.join(registered_families())}")
  if latent_dim <= 0:
    raise ValueError(f"`latent_dim` must be positive, got {latent_dim}")
  conv_impl = resolve_conv_impl(conv_impl)
  build = _FAMILIES[family]
  extra = {"conv_impl": conv_impl} if _takes_conv_impl(build) else {}
  return build(architecture, latent_dim, hidden_dims, channels, input_shape, num_classes,
               **extra)


def _takes_conv_impl(fn) -> bool:
  """Whether a registered constructor accepts the ``conv_impl`` keyword."""
  params = inspect.signature(fn).parameters.values()
  return any(p.name == "conv_impl" or p.kind is p.VAR_KEYWORD for p in params)
