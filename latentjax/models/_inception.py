"""The FID variant of Inception-v3 (Szegedy et al., 2016) and a loader for its weights.

Frechet Inception Distance (Heusel et al., 2017) compares the statistics of the 2048-d
``pool3`` features of this network on real and generated images. The network is the
Inception-v3 of the 2015-12-05 TensorFlow graph used by the reference FID code, whose
blocks differ from the ImageNet classifier in a few pooling choices: the average pools of
Mixed_5b..Mixed_6e and Mixed_7b leave the zero padding out of the mean, the pool branch of
Mixed_7c is a 3x3 max pool instead of an average pool, and the classifier has 1008 classes.

Weights are never fetched. The file the loader expects is the PyTorch port of that graph,
``pt_inception-2015-12-05-6726825d.pth``, the weights file of the ``pytorch-fid`` package
(found in the torch hub cache, ``~/.cache/torch/hub/checkpoints/``, on a machine where
``pytorch-fid`` has run). Other FID libraries ship the same network under other names and
formats (a TorchScript ``inception-2015-12-05.pt``, torch-fidelity's
``weights-inception-2015-12-05-6726825d.pth``) whose keys differ: the loader rejects them.
On a machine with torch, convert the file once to an ``.npz`` that needs no torch::

    import numpy as np, torch
    sd = torch.load("pt_inception-2015-12-05-6726825d.pth", map_location="cpu")
    np.savez("pt_inception-2015-12-05.npz", **{k: v.numpy() for k, v in sd.items()})

then::

    variables = models.load_inception_params("pt_inception-2015-12-05.npz")
    x = models.resize_for_inception(images)              # [N, H, W, C] in [0, 1]
    pool3 = models.InceptionV3().apply(variables, x)     # [N, 2048]

or, for FID, ``metrics.inception_feature_fn(path)`` (batched and jitted) with
``metrics.fid_from_features`` / ``metrics.feature_statistics``.

Parameter names follow the state dict: module ``Mixed_5b/branch1x1/conv`` holds the
weight ``Mixed_5b.branch1x1.conv.weight`` (OIHW there, HWIO here), ``.../bn`` holds
``bn.weight`` (scale), ``bn.bias``, ``bn.running_mean`` and ``bn.running_var``.
"""

import os
from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

Array = jax.Array

INCEPTION_SIZE = 299        # the resolution the FID features are defined at
INCEPTION_MIN_SIZE = 75     # the smallest input the strides and VALID convolutions allow
POOL3_DIM = 2048
NUM_LOGITS = 1008


class _ConvBN(nn.Module):
  """Convolution without bias, inference-mode BatchNorm (eps 1e-3), ReLU."""
  features: int
  kernel_size: tuple[int, int] = (1, 1)
  strides: tuple[int, int] = (1, 1)
  padding: tuple[int, int] = (0, 0)

  @nn.compact
  def __call__(self, x: Array) -> Array:
    ph, pw = self.padding
    x = nn.Conv(self.features, self.kernel_size, strides=self.strides,
                padding=((ph, ph), (pw, pw)), use_bias=False, name="conv")(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name="bn")(x)
    return nn.relu(x)


def _avg_pool_3x3(x: Array) -> Array:
  """3x3 stride-1 average over the pixels inside the image (padding not counted)."""
  return nn.avg_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)),
                     count_include_pad=False)


def _max_pool_3x3_s2(x: Array) -> Array:
  return nn.max_pool(x, (3, 3), strides=(2, 2), padding="VALID")


class _BlockA(nn.Module):
  """35x35 block (Mixed_5b..5d): 1x1, 5x5, double 3x3 and pool branches."""
  pool_features: int

  @nn.compact
  def __call__(self, x: Array) -> Array:
    b1 = _ConvBN(64, name="branch1x1")(x)
    b5 = _ConvBN(48, name="branch5x5_1")(x)
    b5 = _ConvBN(64, (5, 5), padding=(2, 2), name="branch5x5_2")(b5)
    b3 = _ConvBN(64, name="branch3x3dbl_1")(x)
    b3 = _ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(b3)
    b3 = _ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_3")(b3)
    bp = _ConvBN(self.pool_features, name="branch_pool")(_avg_pool_3x3(x))
    return jnp.concatenate([b1, b5, b3, bp], axis=-1)


class _BlockB(nn.Module):
  """Grid reduction 35 -> 17 (Mixed_6a)."""

  @nn.compact
  def __call__(self, x: Array) -> Array:
    b3 = _ConvBN(384, (3, 3), strides=(2, 2), name="branch3x3")(x)
    bd = _ConvBN(64, name="branch3x3dbl_1")(x)
    bd = _ConvBN(96, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = _ConvBN(96, (3, 3), strides=(2, 2), name="branch3x3dbl_3")(bd)
    return jnp.concatenate([b3, bd, _max_pool_3x3_s2(x)], axis=-1)


class _BlockC(nn.Module):
  """17x17 block with factorised 7x7 convolutions (Mixed_6b..6e)."""
  channels_7x7: int

  @nn.compact
  def __call__(self, x: Array) -> Array:
    c = self.channels_7x7
    b1 = _ConvBN(192, name="branch1x1")(x)
    b7 = _ConvBN(c, name="branch7x7_1")(x)
    b7 = _ConvBN(c, (1, 7), padding=(0, 3), name="branch7x7_2")(b7)
    b7 = _ConvBN(192, (7, 1), padding=(3, 0), name="branch7x7_3")(b7)
    bd = _ConvBN(c, name="branch7x7dbl_1")(x)
    bd = _ConvBN(c, (7, 1), padding=(3, 0), name="branch7x7dbl_2")(bd)
    bd = _ConvBN(c, (1, 7), padding=(0, 3), name="branch7x7dbl_3")(bd)
    bd = _ConvBN(c, (7, 1), padding=(3, 0), name="branch7x7dbl_4")(bd)
    bd = _ConvBN(192, (1, 7), padding=(0, 3), name="branch7x7dbl_5")(bd)
    bp = _ConvBN(192, name="branch_pool")(_avg_pool_3x3(x))
    return jnp.concatenate([b1, b7, bd, bp], axis=-1)


class _BlockD(nn.Module):
  """Grid reduction 17 -> 8 (Mixed_7a)."""

  @nn.compact
  def __call__(self, x: Array) -> Array:
    b3 = _ConvBN(192, name="branch3x3_1")(x)
    b3 = _ConvBN(320, (3, 3), strides=(2, 2), name="branch3x3_2")(b3)
    b7 = _ConvBN(192, name="branch7x7x3_1")(x)
    b7 = _ConvBN(192, (1, 7), padding=(0, 3), name="branch7x7x3_2")(b7)
    b7 = _ConvBN(192, (7, 1), padding=(3, 0), name="branch7x7x3_3")(b7)
    b7 = _ConvBN(192, (3, 3), strides=(2, 2), name="branch7x7x3_4")(b7)
    return jnp.concatenate([b3, b7, _max_pool_3x3_s2(x)], axis=-1)


class _BlockE(nn.Module):
  """8x8 block with expanded 1x3 / 3x1 branches (Mixed_7b, Mixed_7c).

  ``pool`` is "avg" (Mixed_7b, padding not counted) or "max" (Mixed_7c, FID variant).
  """
  pool: str

  @nn.compact
  def __call__(self, x: Array) -> Array:
    b1 = _ConvBN(320, name="branch1x1")(x)
    b3 = _ConvBN(384, name="branch3x3_1")(x)
    b3 = jnp.concatenate([
        _ConvBN(384, (1, 3), padding=(0, 1), name="branch3x3_2a")(b3),
        _ConvBN(384, (3, 1), padding=(1, 0), name="branch3x3_2b")(b3)], axis=-1)
    bd = _ConvBN(448, name="branch3x3dbl_1")(x)
    bd = _ConvBN(384, (3, 3), padding=(1, 1), name="branch3x3dbl_2")(bd)
    bd = jnp.concatenate([
        _ConvBN(384, (1, 3), padding=(0, 1), name="branch3x3dbl_3a")(bd),
        _ConvBN(384, (3, 1), padding=(1, 0), name="branch3x3dbl_3b")(bd)], axis=-1)
    if self.pool == "max":
      pooled = nn.max_pool(x, (3, 3), strides=(1, 1), padding=((1, 1), (1, 1)))
    else:
      pooled = _avg_pool_3x3(x)
    bp = _ConvBN(192, name="branch_pool")(pooled)
    return jnp.concatenate([b1, b3, bd, bp], axis=-1)


class InceptionV3(nn.Module):
  """The FID Inception-v3: images in [-1, 1] -> 2048-d pool3 features (and 1008 logits).

  Attributes:
    with_logits: also return the 1008-way classifier logits. The classifier's parameters
      exist either way, so one set of variables serves both settings.

  Call:
    x: [N, H, W, 3] float in [-1, 1], H, W >= 75; 299 x 299 for FID (see
      ``resize_for_inception``). BatchNorm always uses the stored statistics.

  Returns:
    pool3 [N, 2048] float32, or ``(pool3, logits [N, 1008])`` with ``with_logits``.

  Example:
    >>> pool3 = InceptionV3().apply(load_inception_params(path), resize_for_inception(x))
  """
  with_logits: bool = False

  @nn.compact
  def __call__(self, x: Array):
    if x.ndim != 4 or x.shape[-1] != 3:
      raise ValueError(f"`x` must be [N, H, W, 3], got shape {x.shape}")
    if min(x.shape[1:3]) < INCEPTION_MIN_SIZE:
      raise ValueError(
          f"`x` must be at least {INCEPTION_MIN_SIZE}x{INCEPTION_MIN_SIZE} "
          f"({INCEPTION_SIZE}x{INCEPTION_SIZE} for FID), got shape {x.shape}")
    x = _ConvBN(32, (3, 3), strides=(2, 2), name="Conv2d_1a_3x3")(x)
    x = _ConvBN(32, (3, 3), name="Conv2d_2a_3x3")(x)
    x = _ConvBN(64, (3, 3), padding=(1, 1), name="Conv2d_2b_3x3")(x)
    x = _max_pool_3x3_s2(x)
    x = _ConvBN(80, name="Conv2d_3b_1x1")(x)
    x = _ConvBN(192, (3, 3), name="Conv2d_4a_3x3")(x)
    x = _max_pool_3x3_s2(x)
    x = _BlockA(32, name="Mixed_5b")(x)
    x = _BlockA(64, name="Mixed_5c")(x)
    x = _BlockA(64, name="Mixed_5d")(x)
    x = _BlockB(name="Mixed_6a")(x)
    for name, channels in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160),
                           ("Mixed_6e", 192)):
      x = _BlockC(channels, name=name)(x)
    x = _BlockD(name="Mixed_7a")(x)
    x = _BlockE("avg", name="Mixed_7b")(x)
    x = _BlockE("max", name="Mixed_7c")(x)
    pool3 = jnp.mean(x, axis=(1, 2))
    logits = nn.Dense(NUM_LOGITS, name="fc")(pool3)
    return (pool3, logits) if self.with_logits else pool3


def resize_for_inception(images: Array, *, input_range: str = "unit") -> Array:
  """Images of any size -> the network's input: [N, 299, 299, 3] in [-1, 1].

  Bilinear resizing with half-pixel centres and no antialiasing (as the PyTorch FID
  code's ``interpolate(..., mode="bilinear", align_corners=False)``), grey images
  replicated to three channels, then the affine map to [-1, 1]. Traceable under jit.

  Args:
    images: [N, H, W, C] float, C = 1 or 3.
    input_range: "unit" for values in [0, 1], "signed" for values already in [-1, 1].

  Returns:
    [N, 299, 299, 3] float32.

  Raises:
    ValueError: wrong rank, C not 1 or 3, unknown ``input_range``.

  Example:
    >>> resize_for_inception(jnp.zeros((2, 32, 32, 1))).shape
    (2, 299, 299, 3)
  """
  if input_range not in ("unit", "signed"):
    raise ValueError(f"`input_range` must be 'unit' or 'signed', got {input_range!r}")
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f"`images` must be [N, H, W, C] with C = 1 or 3, got shape "
                     f"{images.shape}")
  x = jnp.asarray(images, jnp.float32)
  n, h, w, c = x.shape
  if (h, w) != (INCEPTION_SIZE, INCEPTION_SIZE):
    x = jax.image.resize(x, (n, INCEPTION_SIZE, INCEPTION_SIZE, c), "bilinear",
                         antialias=False)
  if c == 1:
    x = jnp.broadcast_to(x, (n, INCEPTION_SIZE, INCEPTION_SIZE, 3))
  return 2.0 * x - 1.0 if input_range == "unit" else x


_LEAF_TO_TORCH = {("params", "kernel"): "weight", ("params", "scale"): "weight",
                  ("params", "bias"): "bias", ("batch_stats", "mean"): "running_mean",
                  ("batch_stats", "var"): "running_var"}


def _to_torch_layout(value: np.ndarray) -> np.ndarray:
  """HWIO conv kernel -> OIHW; [in, out] dense kernel -> [out, in]; others unchanged."""
  if value.ndim == 4:
    return np.transpose(value, (3, 2, 0, 1))
  return value.T if value.ndim == 2 else value


def _from_torch_layout(value: np.ndarray) -> np.ndarray:
  if value.ndim == 4:
    return np.transpose(value, (2, 3, 1, 0))
  return value.T if value.ndim == 2 else value


def _torch_key(flat_key: tuple[str, ...]) -> str:
  collection, *modules, leaf = flat_key
  return ".".join([*modules, _LEAF_TO_TORCH[(collection, leaf)]])


def inception_variable_shapes() -> dict:
  """The module's variables as ``jax.ShapeDtypeStruct`` leaves (no allocation).

  Returns:
    ``{"params": ..., "batch_stats": ...}`` nested dicts of ShapeDtypeStruct.
  """
  x = jax.ShapeDtypeStruct((1, INCEPTION_MIN_SIZE, INCEPTION_MIN_SIZE, 3), jnp.float32)
  return jax.eval_shape(InceptionV3().init, jax.random.PRNGKey(0), x)


def inception_state_dict(variables: Mapping) -> dict[str, np.ndarray]:
  """Module variables -> a PyTorch-style state dict of NumPy arrays (OIHW conv kernels).

  The inverse of ``load_inception_params``: ``np.savez(path, **inception_state_dict(v))``
  writes a file that loads back to ``v``.

  Args:
    variables: ``{"params": ..., "batch_stats": ...}`` of ``InceptionV3``.

  Returns:
    ``{"Conv2d_1a_3x3.conv.weight": [32, 3, 3, 3], ..., "fc.bias": [1008]}``.

  Raises:
    ValueError: a variable that has no state-dict counterpart.
  """
  out = {}
  for flat_key, value in traverse_util.flatten_dict(dict(variables)).items():
    if (flat_key[0], flat_key[-1]) not in _LEAF_TO_TORCH:
      raise ValueError(f"`variables` holds {'/'.join(flat_key)}, which is not an "
                       "InceptionV3 variable")
    out[_torch_key(flat_key)] = _to_torch_layout(np.asarray(value))
  return out


def _read_state_dict(path: str) -> Mapping[str, np.ndarray]:
  suffix = os.path.splitext(path)[1].lower()
  if suffix == ".npz":
    with np.load(path, allow_pickle=False) as data:
      return {k: data[k] for k in data.files}
  if suffix in (".pth", ".pt"):
    try:
      import torch
    except ImportError as err:
      raise ImportError(
          f"reading {path!r} needs torch, which is not installed; convert the file to .npz "
          "on a machine with torch (see load_inception_params) and load that") from err
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.detach().cpu().numpy() for k, v in state.items()}
  raise ValueError(f"`path` must end in .npz, .pth or .pt, got {path!r}")


def load_inception_params(path: str | os.PathLike) -> dict:
  """Loads the FID Inception-v3 weights from a local state-dict file.

  The file holds the PyTorch state dict of ``pt_inception-2015-12-05-6726825d.pth``
  (keys such as ``Conv2d_1a_3x3.conv.weight``, ``Mixed_5b.branch1x1.bn.running_mean``,
  ``fc.weight``), either as that ``.pth`` (needs torch) or as an ``.npz`` with the same
  keys, made once where torch is installed::

      import numpy as np, torch
      sd = torch.load("pt_inception-2015-12-05-6726825d.pth", map_location="cpu")
      np.savez("pt_inception-2015-12-05.npz", **{k: v.numpy() for k, v in sd.items()})

  Conv kernels go from OIHW to HWIO, the classifier from [out, in] to [in, out].
  ``*.num_batches_tracked`` counters are ignored.

  Args:
    path: a ``.npz``, ``.pth`` or ``.pt`` file.

  Returns:
    ``{"params": ..., "batch_stats": ...}`` float32 variables for ``InceptionV3().apply``.

  Raises:
    FileNotFoundError: no file at ``path``.
    ImportError: a ``.pth`` file without torch installed.
    ValueError: another suffix; a missing or unexpected key, a wrong shape or a
      non-finite value (the first offending key is named).

  Example:
    >>> variables = load_inception_params("pt_inception-2015-12-05.npz")
    >>> InceptionV3().apply(variables, resize_for_inception(images)).shape
    (N, 2048)
  """
  path = os.fspath(path)
  if not os.path.isfile(path):
    raise FileNotFoundError(f"`path` {path!r} is not a file")
  state = {k: v for k, v in _read_state_dict(path).items()
           if not k.endswith(".num_batches_tracked")}
  expected = traverse_util.flatten_dict(inception_variable_shapes())
  keys = {flat_key: _torch_key(flat_key) for flat_key in expected}
  for key in keys.values():
    if key not in state:
      raise ValueError(f"the weights file {path!r} has no key {key!r}; it is not the FID "
                       "Inception-v3 state dict (pt_inception-2015-12-05)")
  unexpected = sorted(set(state) - set(keys.values()))
  if unexpected:
    raise ValueError(f"the weights file {path!r} has unexpected key {unexpected[0]!r} "
                     f"({len(unexpected)} in all); it is not the FID Inception-v3 state dict")
  flat = {}
  for flat_key, key in keys.items():
    value = np.asarray(state[key])
    want = _to_torch_layout(np.empty(expected[flat_key].shape, np.bool_)).shape
    if value.shape != want:
      raise ValueError(f"key {key!r} of {path!r} has shape {value.shape}, expected {want}")
    if not np.issubdtype(value.dtype, np.floating) or not np.all(np.isfinite(value)):
      raise ValueError(f"key {key!r} of {path!r} must hold finite floats, got dtype "
                       f"{value.dtype}" + (" with NaN or inf values"
                                           if np.issubdtype(value.dtype, np.floating) else ""))
    flat[flat_key] = _from_torch_layout(value)
  return traverse_util.unflatten_dict(
      {k: jnp.asarray(v, jnp.float32) for k, v in flat.items()})
