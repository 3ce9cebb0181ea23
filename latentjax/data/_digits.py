"""The ``digits`` TFDS builder: scikit-learn's 1,797 bundled 8x8 handwritten digits.

The data ship inside scikit-learn (``sklearn.datasets.load_digits``), so building needs
no network. Registered with TFDS when ``latentjax.data`` is imported:

    import latentjax.data, tensorflow_datasets as tfds
    ds = tfds.load("digits", split="train")

Pixels are stored as uint8 ``round(v * 255 / 16)`` from scikit-learn's 0..16 counts,
shape (8, 8, 1). The split is stratified and seeded (numpy's frozen legacy
``RandomState(0)``): in each class, the examples are permuted and the first 30 go to
``test``, giving 1,497 ``train`` / 300 ``test`` examples (30 test digits per class).
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

NUM_TEST_PER_CLASS = 30
SPLIT_SEED = 0


def digits_split_indices() -> dict[str, np.ndarray]:
  """Indices into ``load_digits()`` of each split, sorted: ``{"train": [1497], "test": [300]}``."""
  from sklearn.datasets import load_digits  # bundled CSV, no download

  labels = load_digits().target
  rng = np.random.RandomState(SPLIT_SEED)
  test = []
  for c in range(10):
    members = np.flatnonzero(labels == c)
    test.append(members[rng.permutation(len(members))[:NUM_TEST_PER_CLASS]])
  test = np.sort(np.concatenate(test))
  train = np.setdiff1d(np.arange(len(labels)), test)
  return {"train": train, "test": test}


class Digits(tfds.core.GeneratorBasedBuilder):
  """scikit-learn's 8x8 handwritten digits (UCI optdigits test set), 10 classes."""

  name = "digits"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release: 1,497 train / 300 test, stratified."}
  # No downloads, hence no checksums file: spares TFDS's code-path lookup.
  code_path = None

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            "scikit-learn's 1,797 8x8 handwritten digits (load_digits), pixels rescaled "
            "from 0..16 to 0..255. Stratified seeded split: 1,497 train / 300 test."),
        features=tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(8, 8, 1)),
            "label": tfds.features.ClassLabel(num_classes=10),
        }),
        supervised_keys=("image", "label"),
        homepage="https://scikit-learn.org/stable/datasets/toy_dataset.html#digits-dataset",
        citation=(
            "@misc{optdigits, author={Alpaydin, E. and Kaynak, C.}, title={Optical "
            "Recognition of Handwritten Digits}, year={1998}, howpublished={UCI Machine "
            "Learning Repository}}"),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing to download
    return {split: self._generate_examples(indices)
            for split, indices in digits_split_indices().items()}

  def _generate_examples(self, indices):
    from sklearn.datasets import load_digits

    data = load_digits()
    images = np.round(data.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    for i in indices:
      yield int(i), {"image": images[i], "label": int(data.target[i])}
