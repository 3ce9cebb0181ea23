"""Ground-truth factor samplers, and codes of sampled observations, for disentanglement scores.

A `FactorSampler` has a finite grid of factors (``factor_sizes``), samples factor labels
and renders (or looks up) the observation of any labels::

    sampler = sprites_sampler("32_lite")             # procedural dSprites, 3x6x10x8x8
    codes, factors = sample_codes_and_factors(encode, sampler, 10_000, seed=0)
    sampler = array_sampler(images, labels)          # e.g. a dataset held in memory
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from latentjax._batching import apply_in_batches


@runtime_checkable
class FactorSampler(Protocol):
  """Ground-truth data on a finite factor grid.

  Attributes:
    factor_sizes: number of values of each factor; labels of factor j are ints in
      ``[0, factor_sizes[j])``.
  """

  factor_sizes: tuple[int, ...]

  def sample_factors(self, num: int, rng: np.random.Generator) -> np.ndarray:
    """int64 [num, F] labels, each factor uniform over its values."""

  def observations(self, factors: np.ndarray) -> np.ndarray:
    """float32 [num, H, W, C] observations of int [num, F] labels."""


class GridSampler:
  """A `FactorSampler` from factor sizes and a function rendering labels.

  Args:
    factor_sizes: values per factor, each >= 1.
    render: int64 [num, F] labels -> [num, H, W, C] observations.

  Example:
    >>> s = GridSampler((2, 3), lambda f: f.reshape(-1, 1, 1, 2).astype(np.float32))
    >>> s.observations(s.sample_factors(4, np.random.default_rng(0))).shape
    (4, 1, 1, 2)
  """

  def __init__(self, factor_sizes, render: Callable[[np.ndarray], np.ndarray]):
    sizes = tuple(int(s) for s in factor_sizes)
    if not sizes or any(s < 1 for s in sizes):
      raise ValueError(f"`factor_sizes` must be a non-empty tuple of ints >= 1, got "
                       f"{factor_sizes!r}")
    self.factor_sizes = sizes
    self._render = render

  def sample_factors(self, num: int, rng: np.random.Generator) -> np.ndarray:
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 0:
      raise ValueError(f"`num` must be an int >= 0, got {num!r}")
    high = np.asarray(self.factor_sizes, np.int64)
    return rng.integers(0, high[None, :], size=(int(num), len(high)), dtype=np.int64)

  def observations(self, factors) -> np.ndarray:
    factors = check_factors(factors, self.factor_sizes)
    return np.asarray(self._render(factors), np.float32)


def check_factors(factors, factor_sizes: tuple[int, ...]) -> np.ndarray:
  """int64 [num, F] labels within ``factor_sizes``, or a ValueError naming ``factors``."""
  arr = np.asarray(factors)
  if arr.ndim != 2 or arr.shape[1] != len(factor_sizes):
    raise ValueError(f"`factors` must be [num, {len(factor_sizes)}] ints, got shape {arr.shape}")
  if arr.size and not np.issubdtype(arr.dtype, np.integer):
    raise ValueError(f"`factors` must be ints, got dtype {arr.dtype}")
  arr = arr.astype(np.int64)
  bad = (arr < 0) | (arr >= np.asarray(factor_sizes, np.int64)[None, :])
  if np.any(bad):
    j = int(np.nonzero(bad.any(axis=0))[0][0])
    raise ValueError(f"`factors`[:, {j}] must be in [0, {factor_sizes[j]}), got values "
                     f"{np.unique(arr[bad[:, j], j])}")
  return arr


def sprites_sampler(config: str = "32_lite", resolution: int = 32) -> GridSampler:
  """The procedural dSprites grid of a ``sprites`` config, rendered on demand.

  Factors are shape, scale, orientation, x and y position (that order); label i of a
  factor is the i-th value the config keeps (``sprites_factor_labels(config)``).

  Args:
    config: ``"64"``, ``"32"``, ``"32_lite"`` (3 x 6 x 10 x 8 x 8) or ``"16_lite"``.
    resolution: side of the rendered binary images.

  Returns:
    a `FactorSampler` whose observations are float32 [num, R, R, 1] in {0, 1}.

  Raises:
    ValueError: an unknown config or a resolution < 1.

  Example:
    >>> s = sprites_sampler("32_lite", resolution=16)
    >>> s.factor_sizes, s.observations(np.zeros((2, 5), int)).shape
    ((3, 6, 10, 8, 8), (2, 16, 16, 1))
  """
  # Imported here: the data package brings in TensorFlow, which the metrics do not need.
  from latentjax.data._sprites_render import render_sprites_from_labels, sprites_factor_labels

  labels = sprites_factor_labels(config)
  if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1:
    raise ValueError(f"`resolution` must be a positive int, got {resolution!r}")
  names = list(labels)
  table = [labels[k] for k in names]

  def render(factors: np.ndarray) -> np.ndarray:
    full = {f"label_{k}": table[j][factors[:, j]] for j, k in enumerate(names)}
    return render_sprites_from_labels(**full, resolution=resolution)

  return GridSampler(tuple(len(t) for t in table), render)


def array_sampler(images, factor_labels) -> GridSampler:
  """A dataset held as arrays covering its whole factor grid once (dSprites, Shapes3D...).

  The values of factor j are the sorted distinct values of ``factor_labels[:, j]``;
  label i stands for the i-th of them. Every combination must occur exactly once.
  The images are not copied; observations are cast to float32 without rescaling
  (scale uint8 images in the representation function if needed).

  Args:
    images: [N, H, W, C] observations.
    factor_labels: [N, F] ints, the factors of each image.

  Returns:
    a `FactorSampler` with ``factor_sizes`` the numbers of distinct values.

  Raises:
    ValueError: wrong ranks, different N, non-integer labels, or labels that do not
      cover the grid exactly once.

  Example:
    >>> lab = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> s = array_sampler(np.arange(4.0).reshape(4, 1, 1, 1), lab)
    >>> s.observations(np.array([[1, 0]]))[:, 0, 0, 0].tolist()
    [2.0]
  """
  images = np.asarray(images)
  labels = np.asarray(factor_labels)
  if images.ndim != 4:
    raise ValueError(f"`images` must be [N, H, W, C], got shape {images.shape}")
  if labels.ndim != 2 or labels.shape[0] != images.shape[0] or labels.shape[1] < 1:
    raise ValueError(f"`factor_labels` must be [N, F] with N = {images.shape[0]} (as "
                     f"`images`), got shape {labels.shape}")
  if not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f"`factor_labels` must be ints, got dtype {labels.dtype}")
  dense, sizes = [], []
  for column in labels.T:
    values, inverse = np.unique(column, return_inverse=True)
    dense.append(inverse.reshape(-1))
    sizes.append(len(values))
  if math.prod(sizes) != images.shape[0]:
    raise ValueError(f"`factor_labels` must cover the grid {tuple(sizes)} exactly once, got "
                     f"N = {images.shape[0]} rows for {math.prod(sizes)} combinations")
  flat = np.ravel_multi_index(tuple(dense), tuple(sizes))
  row_of = np.full(images.shape[0], -1, np.int64)
  row_of[flat] = np.arange(images.shape[0])
  if np.any(row_of < 0):
    raise ValueError(f"`factor_labels` must cover the grid {tuple(sizes)} exactly once, got "
                     "repeated combinations")

  def render(factors: np.ndarray) -> np.ndarray:
    return images[row_of[np.ravel_multi_index(tuple(factors.T), tuple(sizes))]]

  return GridSampler(tuple(sizes), render)


def check_sampler(sampler) -> tuple[int, ...]:
  sizes = getattr(sampler, "factor_sizes", None)
  if (sizes is None or not callable(getattr(sampler, "sample_factors", None))
      or not callable(getattr(sampler, "observations", None))):
    raise ValueError(f"`sampler` must be a FactorSampler (factor_sizes, sample_factors, "
                     f"observations), got {type(sampler).__name__}")
  return tuple(int(s) for s in sizes)


def encode_factors(representation_fn, sampler, factors: np.ndarray,
                   batch_size: int) -> np.ndarray:
  """float64 [M, K] codes of the observations of [M, F] factors, in equal-sized batches.

  Every call of ``representation_fn`` gets exactly ``min(batch_size, M)`` images (the
  last batch is padded by repetition and the padding's codes dropped), so a jitted
  function compiles once.
  """
  size = min(int(batch_size), factors.shape[0])

  def codes_of(chunk):
    codes = np.asarray(representation_fn(sampler.observations(chunk)), np.float64)
    if codes.ndim != 2 or codes.shape[0] != size:
      raise ValueError(f"`representation_fn` must map [B, H, W, C] images to [B, K] codes "
                       f"(B = {size}), got shape {codes.shape}")
    if not np.all(np.isfinite(codes)):
      raise ValueError("`representation_fn` returned NaN or inf codes")
    return codes

  return apply_in_batches(codes_of, factors, size)


def check_count(name: str, value, minimum: int) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
    raise ValueError(f"`{name}` must be an int >= {minimum}, got {value!r}")
  return int(value)


def sample_codes_and_factors(representation_fn, sampler, num: int, seed,
                             batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
  """Samples factors uniformly on the sampler's grid and encodes their observations.

  Args:
    representation_fn: images [B, H, W, C] -> codes [B, K] (NumPy or JAX arrays), e.g.
      a VAE encoder's mean.
    sampler: a `FactorSampler`.
    num: number of points, >= 1.
    seed: seed of ``np.random.default_rng`` (an int, a SeedSequence or a Generator).
    batch_size: images per call of ``representation_fn``.

  Returns:
    ``(codes float64 [num, K], factors int64 [num, F])``.

  Raises:
    ValueError: a bad sampler, ``num`` or ``batch_size`` < 1, or codes that are not
      [B, K] or not finite.

  Example:
    >>> s = GridSampler((2, 3), lambda f: f.reshape(-1, 1, 1, 2).astype(np.float32))
    >>> c, f = sample_codes_and_factors(lambda x: x.reshape(len(x), -1), s, 5, seed=0)
    >>> bool(np.all(c == f))
    True
  """
  check_sampler(sampler)
  num = check_count("num", num, 1)
  batch_size = check_count("batch_size", batch_size, 1)
  rng = np.random.default_rng(seed)
  factors = np.asarray(sampler.sample_factors(num, rng), np.int64)
  return encode_factors(representation_fn, sampler, factors, batch_size), factors
