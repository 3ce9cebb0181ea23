"""Inception-v3 pool3 features for FID, from a local weights file.

    feats = metrics.inception_feature_fn("pt_inception-2015-12-05.npz")
    fid = metrics.fid_from_features(feats(real_images), feats(generated_images))

``real_images`` and ``generated_images`` are [N, H, W, C] in [0, 1] (C = 1 or 3). The
weights file, and how to turn the PyTorch ``.pth`` into an ``.npz``, are described in
``latentjax.models.load_inception_params``. JAX and Flax are imported when a feature
function is built, so importing ``latentjax.metrics`` stays NumPy-only.
"""

import os
from collections.abc import Callable, Mapping

import numpy as np

from latentjax._batching import apply_in_batches


def _check_images(images) -> np.ndarray:
  try:
    arr = np.asarray(images)
  except (TypeError, ValueError) as err:
    raise TypeError(f"`images` must be a numeric array [N, H, W, C], got "
                    f"{type(images).__name__}") from err
  if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
          or arr.dtype == np.bool_):
    raise TypeError(f"`images` must be a numeric array [N, H, W, C], got dtype {arr.dtype}")
  if arr.ndim != 4 or arr.shape[-1] not in (1, 3):
    raise ValueError(f"`images` must be [N, H, W, C] with C = 1 or 3, got shape {arr.shape}")
  if arr.shape[0] < 1:
    raise ValueError(f"`images` must hold N >= 1 images, got shape {arr.shape}")
  arr = arr.astype(np.float32)
  if not np.all(np.isfinite(arr)):
    raise ValueError("`images` must be finite, got NaN or inf values")
  lo, hi = float(arr.min()), float(arr.max())
  if lo < 0.0 or hi > 1.0:
    raise ValueError(f"`images` must lie in [0, 1], got values in [{lo}, {hi}] "
                     "(divide uint8 images by 255; map [-1, 1] images with (x + 1) / 2)")
  return arr


def inception_feature_fn(path: str | os.PathLike | Mapping, *,
                         batch_size: int = 50) -> Callable[[np.ndarray], np.ndarray]:
  """A function from images to the 2048-d Inception-v3 pool3 features used by FID.

  The weights are loaded once. Each call splits the images into batches of
  ``min(batch_size, N)``, pads the last one to that size with black images (their
  features are dropped), resizes them to 299 x 299 and runs the jitted network, so a
  given image shape compiles once however many images there are. BatchNorm uses the
  stored statistics: an image's features do not depend on the rest of its batch.

  Args:
    path: the weights file (``.npz`` or ``.pth``, see
      ``latentjax.models.load_inception_params``), or the variables that function
      returned.
    batch_size: images per network call, >= 1.

  Returns:
    ``feature_fn(images)``: images [N, H, W, C] in [0, 1], C = 1 (replicated to RGB) or
    3, N >= 1 -> float32 NumPy [N, 2048].

  Raises:
    ValueError: ``batch_size`` < 1; and the errors of ``load_inception_params``. The
      returned function raises ValueError for a wrong shape, N = 0, non-finite values
      or values outside [0, 1] (naming the range found).

  Example:
    >>> feats = inception_feature_fn("pt_inception-2015-12-05.npz", batch_size=100)
    >>> feats(np.zeros((10, 32, 32, 3), np.float32)).shape
    (10, 2048)
  """
  if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
    raise ValueError(f"`batch_size` must be an int >= 1, got {batch_size!r}")
  if batch_size < 1:
    raise ValueError(f"`batch_size` must be >= 1, got {batch_size}")
  import jax

  from latentjax.models._inception import (
      InceptionV3,
      load_inception_params,
      resize_for_inception,
  )

  variables = path if isinstance(path, Mapping) else load_inception_params(path)
  variables = jax.device_put(variables)
  model = InceptionV3()
  forward = jax.jit(lambda v, x: model.apply(v, resize_for_inception(x)))

  def feature_fn(images) -> np.ndarray:
    arr = _check_images(images)
    return apply_in_batches(lambda x: forward(variables, x), arr,
                            batch_size).astype(np.float32)

  return feature_fn
