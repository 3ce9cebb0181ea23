"""Per-dataset preprocessing: TFDS features in, latentjax batch keys and ranges out.

Two stages, so that the shuffle buffer and cache hold compact uint8 examples:
`example_fn` runs on single examples before shuffling (selects keys, crops/resizes,
stays uint8) and `batch_fn` runs on batches (pixels to float32 in [0, 1], labels to
int32). Images are HWC, float32 in [0, 1] after `batch_fn`, whatever the stored range
(uint8 0..255 for most datasets, {0, 1} for dsprites and sprites).
"""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf

from latentjax.data._spec import DatasetSpec, get_spec, preprocessing_kind

#: The 40 celeb_a attributes, in the order of ``batch["attributes"][:, i]`` (TFDS order).
CELEB_A_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs",
    "Big_Lips", "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair",
    "Bushy_Eyebrows", "Chubby", "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair",
    "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open", "Mustache",
    "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings",
    "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)
CELEB_A_CROP = 140  # centre crop of the 218x178 aligned faces, before resizing

Features = dict[str, tf.Tensor]


def _resize_uint8(image: tf.Tensor, size: int, scale: float) -> tf.Tensor:
  """Resizes one HWC uint8 image (values * scale in [0, 1]) to uint8 0..255 at size x size."""
  x = tf.cast(image, tf.float32) * scale
  x = tf.image.resize(x, (size, size), method="bilinear", antialias=True)
  return tf.cast(tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0), tf.uint8)


def _celeb_a_image(image: tf.Tensor, size: int) -> tf.Tensor:
  """218x178 face -> central 140x140 crop -> size x size (the common GAN/VAE recipe)."""
  h, w = 218, 178
  image = tf.image.crop_to_bounding_box(
      image, (h - CELEB_A_CROP) // 2, (w - CELEB_A_CROP) // 2, CELEB_A_CROP, CELEB_A_CROP)
  return _resize_uint8(image, size, 1.0 / 255.0)


def make_preprocessing(name: str, image_size: int | None
                       ) -> tuple[DatasetSpec, Callable[[Features], Features],
                                  Callable[[Features], Features]]:
  """Returns (spec, example_fn, batch_fn) for a dataset name.

  Args:
    name: a dataset name accepted by `get_spec`.
    image_size: side to resize images to; None keeps the native size (celeb_a: 64).

  Returns:
    The spec, the per-example function (uint8 images) and the per-batch function
    (float32 [B, H, W, C] images in [0, 1], int32 labels, float32 factor values).
  """
  spec = get_spec(name, image_size=image_size)
  kind, scale = preprocessing_kind(name)
  keep = (spec.input_key, *((spec.label_key,) if spec.label_key else ()), *spec.extra_keys)

  def example_fn(ex: Features) -> Features:
    out = {k: ex[k] for k in keep if k != "attributes"}
    if kind == "celeb_a":
      out["image"] = _celeb_a_image(ex["image"], spec.input_shape[0])
      out["attributes"] = tf.stack([ex["attributes"][a] for a in CELEB_A_ATTRIBUTES])
    elif image_size is not None:
      out["image"] = _resize_uint8(ex["image"], image_size, scale)
    return out

  pixel_scale = 1.0 / 255.0 if (kind == "celeb_a" or image_size is not None) else scale

  def batch_fn(batch: Features) -> Features:
    out = {}
    for k, v in batch.items():
      if k == "image":
        out[k] = tf.cast(v, tf.float32) * pixel_scale
      elif k == "point" or k.startswith("value_"):
        out[k] = tf.cast(v, tf.float32)
      else:  # label, label_*, attributes
        out[k] = tf.cast(v, tf.int32)
    return out

  return spec, example_fn, batch_fn


def example_nbytes(spec: DatasetSpec) -> int:
  """Approximate bytes of one preprocessed example (uint8 pixels, 4-byte scalars)."""
  inputs = 1
  for d in spec.input_shape:
    inputs *= d
  if spec.input_key != "image":
    inputs *= 4
  return inputs + 4 * (1 + len(spec.extra_keys)) + (40 if "attributes" in spec.extra_keys
                                                    else 0)
