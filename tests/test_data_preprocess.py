"""Preprocessing of the real TFDS datasets, on synthetic examples with their feature specs."""

import numpy as np
import pytest
import tensorflow as tf

from latentjax import data
from latentjax.data._preprocess import make_preprocessing


def _batch(example_fn, batch_fn, examples):
  """Runs the two stages as the pipeline does: per example, then on the stacked batch."""
  out = [example_fn(ex) for ex in examples]
  return {k: v.numpy() for k, v in batch_fn({k: tf.stack([o[k] for o in out])
                                             for k in out[0]}).items()}


def _factor_example(factors, image):
  ex = {"image": tf.constant(image)}
  for i, f in enumerate(factors):
    ex[f"label_{f}"] = tf.constant(i, tf.int64)
    ex[f"value_{f}"] = tf.constant(0.5 * i, tf.float32)
  return ex


@pytest.mark.parametrize("name,shape", [("mnist", (28, 28, 1)), ("fashion_mnist", (28, 28, 1)),
                                        ("cifar10", (32, 32, 3))])
def test_classification_images_scale_to_unit_range(name, shape):
  spec, example_fn, batch_fn = make_preprocessing(name, None)
  image = np.full(shape, 255, np.uint8)
  image[0, 0] = 0
  ex = {"image": tf.constant(image), "label": tf.constant(7, tf.int64), "id": tf.constant("x")}
  out = _batch(example_fn, batch_fn, [ex, ex])
  assert set(out) == {"image", "label"}
  assert out["image"].shape == (2, *spec.input_shape) and out["image"].dtype == np.float32
  assert (out["image"].min(), out["image"].max()) == (0.0, 1.0)
  assert out["label"].dtype == np.int32 and list(out["label"]) == [7, 7]


def test_dsprites_images_stored_as_zero_one_stay_binary():
  spec, example_fn, batch_fn = make_preprocessing("dsprites", None)
  image = np.zeros((64, 64, 1), np.uint8)
  image[10:20, 10:20] = 1  # dSprites stores {0, 1}, not {0, 255}
  ex = _factor_example(spec.factor_names, image)
  ex["id"] = tf.constant("000001")  # dsprites 2.1.0 adds a string id: dropped
  out = _batch(example_fn, batch_fn, [ex])
  assert set(out) == {"image", *spec.extra_keys}
  assert set(np.unique(out["image"])) == {0.0, 1.0} and out["image"].sum() == 100
  assert out["label_orientation"].dtype == np.int32 and out["label_orientation"][0] == 2
  assert out["value_x_position"].dtype == np.float32 and out["value_x_position"][0] == 1.5


def test_shapes3d_keys_and_scaling():
  spec, example_fn, batch_fn = make_preprocessing("shapes3d", None)
  ex = _factor_example(spec.factor_names, np.full((64, 64, 3), 51, np.uint8))
  out = _batch(example_fn, batch_fn, [ex])
  assert set(out) == {"image", *spec.extra_keys}
  assert {f"label_{f}" for f in ("floor_hue", "wall_hue", "object_hue", "scale", "shape",
                                 "orientation")} <= set(out)
  np.testing.assert_allclose(out["image"], 0.2, rtol=1e-6)


@pytest.mark.parametrize("size", [None, 32])
def test_celeb_a_centre_crop_resize_and_attributes(size):
  spec, example_fn, batch_fn = make_preprocessing("celeb_a", size)
  side = size or 64
  assert spec.input_shape == (side, side, 3)
  image = np.zeros((218, 178, 3), np.uint8)
  image[39:179, 19:159] = 255  # exactly the central 140x140 crop is white
  attributes = {a: tf.constant(i % 3 == 0) for i, a in enumerate(data.CELEB_A_ATTRIBUTES)}
  ex = {"image": tf.constant(image), "attributes": attributes,
        "landmarks": {"nose_x": tf.constant(1, tf.int64)},
        "identity": {"Identity_No": tf.constant(3, tf.int64)}}
  out = _batch(example_fn, batch_fn, [ex])
  assert set(out) == {"image", "attributes"}
  assert out["image"].shape == (1, side, side, 3) and out["image"].dtype == np.float32
  np.testing.assert_allclose(out["image"], 1.0)
  assert out["attributes"].shape == (1, 40) and out["attributes"].dtype == np.int32
  np.testing.assert_array_equal(out["attributes"][0], [int(i % 3 == 0) for i in range(40)])
  assert data.CELEB_A_ATTRIBUTES.index("Smiling") == 31


def test_toy2d_points():
  spec, example_fn, batch_fn = make_preprocessing("toy2d/grid25", None)
  ex = {"point": tf.constant([1.0, -2.0]), "label": tf.constant(24, tf.int64)}
  out = _batch(example_fn, batch_fn, [ex])
  assert out["point"].dtype == np.float32 and out["point"].shape == (1, 2)
  assert out["label"].dtype == np.int32 and spec.num_classes == 25


def test_resizing_binary_sprites_keeps_grey_levels():
  _, example_fn, batch_fn = make_preprocessing("sprites/16_lite", 8)
  image = np.zeros((16, 16, 1), np.uint8)
  image[0:3, 0:3] = 1
  out = _batch(example_fn, batch_fn, [_factor_example(data.SPRITES_FACTOR_NAMES, image)])
  assert out["image"].shape == (1, 8, 8, 1)
  assert out["image"].max() == 1.0 and 0.0 < out["image"][0, 1, 1, 0] < 1.0
