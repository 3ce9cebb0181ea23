"""The noise-prediction U-Net of denoising diffusion models (Ho et al., 2020, DDPM).

``UNet`` maps noisy images x_t [B, H, W, C], their timesteps t [B] and optional class
labels [B] to a prediction shaped like x_t (the noise eps, in DDPM's parameterisation)::

    net = UNet()                                            # the unet32 benchmark network
    variables = net.init(key, jnp.zeros((1, 32, 32, 3)), jnp.zeros((1,), jnp.int32))
    eps_hat = net.apply(variables, x_t, t)                  # [B, 32, 32, 3]
    eps_hat = net.apply(variables, x_t, t, train=True, rngs={"dropout": key})

Layout (DDPM's): conv_in; per level ``num_res_blocks`` residual blocks (each followed by
self-attention when the level's height is in ``attn_resolutions``) and, except at the
last level, a 3x3 stride-2 downsampler; a middle block of residual block, attention,
residual block; per level on the way up ``num_res_blocks + 1`` residual blocks, each
taking one skip connection (every down-path activation, conv_in's and each
downsampler's included, is one skip, consumed last-in first-out), attention as on the way
down, and, except at the top level, nearest x2 upsampling then a 3x3 conv; GroupNorm,
SiLU and a 3x3 conv to ``out_channels``.

Presets (``unet_preset(name)``): "unet32" (BENCHMARKS.md, 4,437,699 parameters on
32x32x3), "ddpm_cifar10" (DDPM's CIFAR-10 network, 35,746,307 parameters on 32x32x3;
the paper reports 35.7M), "digits" (8x8x1) and "sprites" (32x32x1).
"""

import math
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from latentjax.kernels._conv import resolve_conv_impl
from latentjax.models._conv_layers import conv_layer, upsample_conv_layer
from latentjax.models._norm import group_norm_layer

Array = jax.Array

_EPS = 1e-5  # GroupNorm epsilon

UNET_PRESETS = {
    "unet32": dict(ch=64, ch_mult=(1, 2, 2), num_res_blocks=1, attn_resolutions=(16,),
                   dropout=0.0),
    "ddpm_cifar10": dict(ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2,
                         attn_resolutions=(16,), dropout=0.1),
    "digits": dict(ch=32, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(4,),
                   dropout=0.1, num_groups=8),
    "sprites": dict(ch=32, ch_mult=(1, 2, 2), num_res_blocks=1, attn_resolutions=(8,),
                    dropout=0.1, num_groups=8),
}


def _concrete(x) -> bool:
  """Whether ``x`` has a value now (not a tracer of jit, vmap, scan or grad)."""
  try:
    np.asarray(x)
  except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
    return False
  return True


def _norm(conv_impl: str, num_groups: int, name: str) -> nn.Module:
  return group_norm_layer(conv_impl, num_groups, epsilon=_EPS, name=name)


def timestep_embedding(t: Array, dim: int) -> Array:
  """Sinusoidal embedding of timesteps (Vaswani et al., 2017; as in DDPM).

  Channel i < dim / 2 is sin(t * 10000^(-i / (dim / 2))), channel dim / 2 + i its cosine.

  Args:
    t: [B] integer or float timesteps.
    dim: an even embedding width.

  Returns:
    [B, dim] float32 embeddings.

  Raises:
    ValueError: if ``t`` is not [B] or ``dim`` is not a positive even number.

  Example:
    >>> timestep_embedding(jnp.array([0, 10]), 4).shape
    (2, 4)
  """
  if t.ndim != 1:
    raise ValueError(f"`t` must be [B] timesteps, got shape {t.shape}")
  if dim < 2 or dim % 2:
    raise ValueError(f"`dim` must be a positive even number, got {dim}")
  half = dim // 2
  freqs = jnp.exp(-math.log(10000.0) * jnp.arange(half, dtype=jnp.float32) / half)
  angles = t.astype(jnp.float32)[:, None] * freqs[None, :]
  return jnp.concatenate([jnp.sin(angles), jnp.cos(angles)], axis=-1)


class _ResBlock(nn.Module):
  """GroupNorm, SiLU, 3x3 conv, + Dense(SiLU(temb)), GroupNorm, SiLU, dropout, 3x3 conv."""

  features: int
  num_groups: int
  dropout: float
  conv_impl: str

  @nn.compact
  def __call__(self, x: Array, temb: Array, train: bool) -> Array:
    h = nn.silu(_norm(self.conv_impl, self.num_groups, "norm_1")(x))
    h = conv_layer(self.conv_impl, self.features, (3, 3), padding="SAME", name="conv_1")(h)
    proj = nn.Dense(self.features, name="temb_proj")(nn.silu(temb))
    h = h + proj[:, None, None, :]
    h = nn.silu(_norm(self.conv_impl, self.num_groups, "norm_2")(h))
    if self.dropout > 0:
      h = nn.Dropout(self.dropout, deterministic=not train)(h)
    h = conv_layer(self.conv_impl, self.features, (3, 3), padding="SAME", name="conv_2")(h)
    if x.shape[-1] != self.features:
      x = conv_layer(self.conv_impl, self.features, (1, 1), name="shortcut")(x)
    return x + h


class _AttnBlock(nn.Module):
  """Single-head self-attention over all H * W positions, GroupNorm first, residual."""

  num_groups: int
  conv_impl: str

  @nn.compact
  def __call__(self, x: Array) -> Array:
    b, height, width, c = x.shape
    h = _norm(self.conv_impl, self.num_groups, "norm")(x).reshape((b, -1, c))
    q = nn.Dense(c, name="q")(h)
    k = nn.Dense(c, name="k")(h)
    v = nn.Dense(c, name="v")(h)
    weights = jax.nn.softmax(jnp.einsum("bqc,bkc->bqk", q, k) / math.sqrt(c), axis=-1)
    h = nn.Dense(c, name="proj_out")(jnp.einsum("bqk,bkc->bqc", weights, v))
    return x + h.reshape((b, height, width, c))


class UNet(nn.Module):
  """DDPM's noise-prediction U-Net (Ho et al., 2020); see the module docstring's layout.

  The defaults are the ``unet32`` benchmark network (4,437,699 parameters on 32x32x3).
  ``UNet(ch=128, ch_mult=(1, 2, 2, 2), num_res_blocks=2, dropout=0.1)`` is DDPM's
  CIFAR-10 network: 35,746,307 parameters (the paper: 35.7M).

  Attributes:
    ch: base channels; level i has ``ch * ch_mult[i]``; the time embedding is 4 * ch.
    ch_mult: channel multipliers, one level each; the input is halved
      len(ch_mult) - 1 times.
    num_res_blocks: residual blocks per level on the way down (one more on the way up).
    attn_resolutions: feature-map heights after whose residual blocks self-attention
      follows (the middle block always has attention).
    dropout: dropout rate inside residual blocks (active only with ``train=True``).
    num_groups: GroupNorm groups; must divide ``ch * m`` for every m in ``ch_mult``.
    out_channels: output channels (None: the input's).
    num_classes: > 0 for class conditioning: a learned embedding of ``num_classes + 1``
      rows is added to the time embedding; label ``num_classes`` is the NULL label,
      meaning unconditional (for classifier-free guidance).
    conv_impl: the convolution implementation: "xla", "fast" or "auto" (see
      ``models.resolve_conv_impl``).
  """

  ch: int = 64
  ch_mult: Sequence[int] = (1, 2, 2)
  num_res_blocks: int = 1
  attn_resolutions: Sequence[int] = (16,)
  dropout: float = 0.0
  num_groups: int = 32
  out_channels: int | None = None
  num_classes: int = 0
  conv_impl: str = "xla"

  def _check_attributes(self) -> None:
    if not isinstance(self.ch, int) or self.ch < 2 or self.ch % 2:
      raise ValueError(f"`ch` must be a positive even int, got {self.ch!r}")
    mult = tuple(self.ch_mult)
    if not mult or not all(isinstance(m, int) and m >= 1 for m in mult):
      raise ValueError(f"`ch_mult` must be a non-empty tuple of positive ints, got {mult}")
    if not isinstance(self.num_res_blocks, int) or self.num_res_blocks < 1:
      raise ValueError(f"`num_res_blocks` must be an int >= 1, got {self.num_res_blocks!r}")
    if not all(isinstance(r, int) and r >= 1 for r in self.attn_resolutions):
      raise ValueError(
          f"`attn_resolutions` must be positive ints, got {tuple(self.attn_resolutions)}")
    if not 0.0 <= self.dropout < 1.0:
      raise ValueError(f"`dropout` must be in [0, 1), got {self.dropout!r}")
    bad = [self.ch * m for m in mult if (self.ch * m) % max(self.num_groups, 1)]
    if self.num_groups < 1 or bad:
      raise ValueError(f"`num_groups` {self.num_groups} must be >= 1 and divide every "
                       f"level's channels ch * ch_mult = {[self.ch * m for m in mult]}")
    if self.out_channels is not None and self.out_channels < 1:
      raise ValueError(f"`out_channels` must be None or >= 1, got {self.out_channels!r}")
    if not isinstance(self.num_classes, int) or self.num_classes < 0:
      raise ValueError(f"`num_classes` must be an int >= 0, got {self.num_classes!r}")
    resolve_conv_impl(self.conv_impl)  # ValueError naming `conv_impl`

  def _check_inputs(self, x: Array, t: Array, labels: Array | None) -> Array:
    """Shape checks at call (trace) time; returns t as [B]."""
    if x.ndim != 4:
      raise ValueError(f"`x` must be [B, H, W, C] images, got shape {x.shape}")
    b, height, width, _ = x.shape
    factor = 2 ** (len(self.ch_mult) - 1)
    if height % factor or width % factor:
      raise ValueError(f"`x` height and width must be divisible by 2**{len(self.ch_mult) - 1}"
                       f" = {factor} (one halving per level after the first), got {x.shape}")
    reached = [height // 2**i for i in range(len(self.ch_mult))]
    missing = [r for r in self.attn_resolutions if r not in reached]
    if missing:
      raise ValueError(f"`attn_resolutions` {tuple(self.attn_resolutions)} names {missing}, "
                       f"never reached: the feature-map heights are {reached}")
    t = jnp.asarray(t)
    if t.ndim == 0:
      t = jnp.broadcast_to(t, (b,))
    if t.shape != (b,):
      raise ValueError(f"`t` must be [B] = ({b},) timesteps (or a scalar), got shape {t.shape}")
    if _concrete(t) and not np.all(np.isfinite(np.asarray(t))):
      raise ValueError(f"`t` must be finite, got {t}")
    if self.num_classes == 0 and labels is not None:
      raise ValueError("`labels` given to an unconditional model (num_classes == 0)")
    if self.num_classes > 0:
      if labels is None:
        raise ValueError(f"`labels` is required: this model is conditioned on "
                         f"{self.num_classes} classes (label {self.num_classes} = unconditional)")
      labels = jnp.asarray(labels)
      if labels.shape != (b,) or not jnp.issubdtype(labels.dtype, jnp.integer):
        raise ValueError(f"`labels` must be [B] = ({b},) integers, got shape {labels.shape} "
                         f"of {labels.dtype}")
      if _concrete(labels) and not np.all((np.asarray(labels) >= 0)
                                          & (np.asarray(labels) <= self.num_classes)):
        raise ValueError(f"`labels` must be in [0, {self.num_classes}] ({self.num_classes} = "
                         f"unconditional), got {labels}")
    return t

  @nn.compact
  def __call__(self, x: Array, t: Array, labels: Array | None = None, *,
               train: bool = False) -> Array:
    """Predicts the noise (or whatever it is trained to) of noisy images.

    Args:
      x: [B, H, W, C] noisy images, H and W divisible by 2^(len(ch_mult) - 1).
      t: [B] integer or float timesteps (a scalar is broadcast to the batch).
      labels: [B] integer labels in [0, num_classes] for a conditional model
        (``num_classes`` = unconditional), else None.
      train: apply dropout (needs the "dropout" rng when ``dropout > 0``).

    Returns:
      [B, H, W, out_channels] predictions (out_channels defaults to C).

    Raises:
      ValueError: for bad attributes, ``x`` not rank 4 or not divisible into the levels,
        ``attn_resolutions`` the network never reaches, ``t`` not [B], or labels given
        to an unconditional model / missing or not [B] integers for a conditional one.

    Example:
      >>> net = UNet(**UNET_PRESETS["digits"], num_classes=10)
      >>> x = jnp.zeros((2, 8, 8, 1)); t = jnp.array([3, 500]); y = jnp.array([1, 10])
      >>> net.apply(net.init(jax.random.PRNGKey(0), x, t, y), x, t, y).shape
      (2, 8, 8, 1)
    """
    self._check_attributes()
    t = self._check_inputs(x, t, labels)
    temb_dim = 4 * self.ch
    temb = timestep_embedding(t, self.ch)
    temb = nn.Dense(temb_dim, name="temb_dense_0")(temb)
    temb = nn.Dense(temb_dim, name="temb_dense_1")(nn.silu(temb))
    if self.num_classes > 0:
      temb = temb + nn.Embed(self.num_classes + 1, temb_dim, name="label_embed")(labels)

    def res(features, name):
      return _ResBlock(features, self.num_groups, self.dropout, self.conv_impl, name=name)

    def attn(name):
      return _AttnBlock(self.num_groups, self.conv_impl, name=name)

    levels = len(self.ch_mult)
    h = conv_layer(self.conv_impl, self.ch, (3, 3), padding="SAME", name="conv_in")(x)
    skips = [h]
    for i, m in enumerate(self.ch_mult):
      for j in range(self.num_res_blocks):
        h = res(self.ch * m, f"down_{i}_res_{j}")(h, temb, train)
        if h.shape[1] in self.attn_resolutions:
          h = attn(f"down_{i}_attn_{j}")(h)
        skips.append(h)
      if i < levels - 1:
        h = conv_layer(self.conv_impl, h.shape[-1], (3, 3), strides=(2, 2),
                       padding=((1, 1), (1, 1)), name=f"down_{i}_downsample")(h)
        skips.append(h)
    h = res(h.shape[-1], "mid_res_0")(h, temb, train)
    h = attn("mid_attn")(h)
    h = res(h.shape[-1], "mid_res_1")(h, temb, train)
    for i in reversed(range(levels)):
      for j in range(self.num_res_blocks + 1):
        h = jnp.concatenate([h, skips.pop()], axis=-1)
        h = res(self.ch * self.ch_mult[i], f"up_{i}_res_{j}")(h, temb, train)
        if h.shape[1] in self.attn_resolutions:
          h = attn(f"up_{i}_attn_{j}")(h)
      if i > 0:
        h = upsample_conv_layer(self.conv_impl, h.shape[-1], name=f"up_{i}_upsample")(h)
    h = nn.silu(_norm(self.conv_impl, self.num_groups, "norm_out")(h))
    out_c = x.shape[-1] if self.out_channels is None else self.out_channels
    return conv_layer(self.conv_impl, out_c, (3, 3), padding="SAME", name="conv_out")(h)


def unet_preset(name: str, **overrides) -> UNet:
  """A ``UNet`` of one of ``UNET_PRESETS``, with attributes overridden.

  Args:
    name: "unet32" (32x32x3, 4,437,699 parameters), "ddpm_cifar10" (32x32x3,
      35,746,307), "digits" (8x8x1) or "sprites" (32x32x1).
    **overrides: ``UNet`` attributes, e.g. ``num_classes=10``, ``conv_impl="fast"``.

  Returns:
    The module (unbound).

  Raises:
    ValueError: for an unknown preset name.

  Example:
    >>> unet_preset("digits", num_classes=10).ch_mult
    (1, 2)
  """
  if name not in UNET_PRESETS:
    raise ValueError(f"Unknown `name` {name!r}; presets: {', '.join(UNET_PRESETS)}")
  return UNet(**{**UNET_PRESETS[name], **overrides})
