"""The offline TFDS builders (digits, sprites, toy2d) through `latentjax.data.load`.

Every dataset is built once per test session in the `tfds_data_dir` fixture.
"""

import collections

import numpy as np
import pytest
import tensorflow_datasets as tfds

from latentjax import data


def _all(name, split, data_dir, batch_size=4096):
  """One ordered pass over a split, concatenated: {key: array [N, ...]}."""
  it = data.load(name, split, batch_size=batch_size, shuffle=False, num_epochs=1,
                 drop_remainder=False, data_dir=data_dir)
  batches = list(it)
  return {k: np.concatenate([b[k] for b in batches]) for k in batches[0]}


def _rows(images, labels):
  return collections.Counter(
      (np.round(i * 255).astype(np.uint8).tobytes(), int(y))
      for i, y in zip(images, labels, strict=True))


def test_digits(tfds_data_dir):
  from sklearn.datasets import load_digits

  digits = load_digits()
  expected = np.round(digits.images * 255 / 16).astype(np.uint8)[..., None] / 255.0
  indices = data.digits_split_indices()
  for split, n in (("train", 1497), ("test", 300)):
    out = _all("digits", split, tfds_data_dir)
    assert set(out) == {"image", "label"}
    assert out["image"].shape == (n, 8, 8, 1) and out["image"].dtype == np.float32
    assert out["label"].shape == (n,) and out["label"].dtype == np.int32
    assert out["image"].min() == 0.0 and out["image"].max() == 1.0
    assert _rows(out["image"], out["label"]) == _rows(
        expected[indices[split]], digits.target[indices[split]])
    counts = np.bincount(out["label"], minlength=10)
    if split == "test":
      np.testing.assert_array_equal(counts, 30)  # stratified: 30 per class
  assert len(np.intersect1d(indices["train"], indices["test"])) == 0


@pytest.mark.parametrize("config", ["ring8", "grid25"])
def test_toy2d_points_sit_on_their_modes(config, tfds_data_dir):
  modes, sigma = data.toy2d_modes(config), data.toy2d_stddev(config)
  assert modes.shape == ((8, 2) if config == "ring8" else (25, 2))
  for split, n in (("train", 50_000), ("test", 10_000)):
    if config == "ring8":  # through TFDS and the pipeline
      out = _all(f"toy2d/{config}", split, tfds_data_dir, batch_size=10_000)
      assert set(out) == {"point", "label"}
      points, labels = out["point"], out["label"]
      assert points.dtype == np.float32 and labels.dtype == np.int32
    else:  # the generator the builder stores, without building
      points, labels = data.toy2d_sample(config, split)
    assert points.shape == (n, 2) and labels.shape == (n,)
    distance = np.linalg.norm(points - modes[labels], axis=1)
    assert distance.max() < 6 * sigma  # P(r > 6 sigma) = exp(-18) per point
    np.testing.assert_allclose(distance.std(), sigma * np.sqrt(2 - np.pi / 2), rtol=0.05)
    nearest = np.argmin(np.linalg.norm(points[:, None] - modes[None], axis=2), axis=1)
    np.testing.assert_array_equal(nearest, labels)
    counts = np.bincount(labels, minlength=len(modes))
    assert counts.min() > 0.8 * n / len(modes)  # every mode present, roughly equal weight


def test_toy2d_modes_layout():
  ring = data.toy2d_modes("toy2d/ring8")
  np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0, rtol=1e-6)
  np.testing.assert_allclose(ring[2], [0.0, 2.0], atol=1e-6)
  grid = data.toy2d_modes("grid25")
  np.testing.assert_array_equal(np.unique(grid[:, 0]), [-4, -2, 0, 2, 4])
  np.testing.assert_array_equal(grid[7], [-2.0, 0.0])  # label 5 i + j -> (-4 + 2i, -4 + 2j)
  assert (data.toy2d_stddev("ring8"), data.toy2d_stddev("grid25")) == (0.02, 0.05)
  with pytest.raises(ValueError, match="Unknown toy2d config 'ring9'"):
    data.toy2d_modes("ring9")


def test_sprites_features_match_tfds_dsprites(tfds_data_dir):
  data.load("sprites/16_lite", "train", batch_size=8, data_dir=tfds_data_dir)  # builds
  ours = tfds.builder("sprites/16_lite", data_dir=tfds_data_dir)
  theirs = tfds.builder("dsprites", data_dir=tfds_data_dir)  # code only, no data
  assert set(ours.info.features) == set(theirs.info.features)
  for key, feature in theirs.info.features.items():
    mine = ours.info.features[key]
    assert type(mine) is type(feature), key
    assert mine.np_dtype == feature.np_dtype, key
    if isinstance(feature, tfds.features.ClassLabel):
      assert mine.num_classes == feature.num_classes, key
  assert ours.info.features["image"].shape == (16, 16, 1)
  assert list(ours.info.splits) == ["train"]  # dsprites too has only "train"
  assert ours.info.splits["train"].num_examples == 11_520
  raw = next(iter(tfds.as_numpy(ours.as_dataset(split="train", batch_size=512))))
  assert set(np.unique(raw["image"])) == {0, 1}  # stored as {0, 1}, like dSprites


def test_sprites_batches_and_factor_labels_match_images(tfds_data_dir):
  spec = data.get_spec("sprites/16_lite")
  train = _all(spec.name, spec.train_split, tfds_data_dir)
  test = _all(spec.name, spec.test_split, tfds_data_dir)
  assert len(train["image"]) == 10_368 and len(test["image"]) == 1_152
  assert set(train) == {"image", *spec.extra_keys}
  assert train["image"].shape[1:] == spec.input_shape and train["image"].dtype == np.float32
  assert set(np.unique(train["image"])) == {0.0, 1.0}
  labels = np.stack([np.concatenate([train[f"label_{k}"], test[f"label_{k}"]])
                     for k in spec.factor_names], axis=1)
  assert labels.dtype == np.int32
  np.testing.assert_array_equal(  # every grid point exactly once across the two splits
      np.unique(labels, axis=0), data.sprites_grid_labels("16_lite"))
  values = data.sprites_factor_values("64")
  for k in spec.factor_names:
    assert train[f"value_{k}"].dtype == np.float32
    np.testing.assert_array_equal(train[f"value_{k}"], values[k][train[f"label_{k}"]])
  rendered = data.render_sprites_from_labels(
      *(train[f"label_{k}"] for k in spec.factor_names), resolution=16)
  np.testing.assert_array_equal(train["image"], rendered)
