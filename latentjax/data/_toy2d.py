"""The ``toy2d`` TFDS builder: 2-D Gaussian mixtures, the usual mode-collapse benchmarks.

Configs (``tfds.load("toy2d/grid25")``), equal-weight mixtures of isotropic Gaussians:

  ``ring8`` (default)  8 modes at angles 2 pi k / 8 on a circle of radius 2, sigma 0.02
  ``grid25``           25 modes on the grid {-4, -2, 0, 2, 4}^2 (spacing 2), sigma 0.05

Each example is ``{"point": float32 (2,), "label": mode index}``; 50,000 ``train`` and
10,000 ``test`` points drawn with numpy's frozen legacy ``RandomState`` (seed 0 for train,
1 for test, per config): the mode uniformly at random, then the Gaussian noise. The mode
centres are exported for coverage metrics:

    centres = toy2d_modes("ring8")   # float32 (8, 2)
"""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

_STDDEV = {"ring8": 0.02, "grid25": 0.05}
SPLIT_SIZES = {"train": 50_000, "test": 10_000}
_SPLIT_SEEDS = {"train": 0, "test": 1}


def _config(name: str) -> str:
  config = name.partition("/")[2] if name.startswith("toy2d/") else name
  if config == "toy2d":
    config = "ring8"
  if config not in _STDDEV:
    raise ValueError(f"Unknown toy2d config {name!r}; known: {', '.join(sorted(_STDDEV))}")
  return config


def toy2d_modes(name: str = "ring8") -> np.ndarray:
  """Mode centres of a toy2d config, indexed by the ``label`` feature.

  Args:
    name: ``"ring8"``, ``"grid25"`` or the full names ``"toy2d/ring8"``, ``"toy2d/grid25"``.

  Returns:
    float32 [K, 2]: ring8 ``2 (cos 2 pi k / 8, sin 2 pi k / 8)``; grid25 ``(x, y)`` with
    x, y in {-4, -2, 0, 2, 4}, row-major (label ``5 i + j`` has x = -4 + 2 i, y = -4 + 2 j).
  """
  config = _config(name)
  if config == "ring8":
    angles = 2 * np.pi * np.arange(8) / 8
    return (2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)
  axis = np.arange(-4.0, 5.0, 2.0)
  xs, ys = np.meshgrid(axis, axis, indexing="ij")
  return np.stack([xs.reshape(-1), ys.reshape(-1)], axis=1).astype(np.float32)


def toy2d_stddev(name: str = "ring8") -> float:
  """Standard deviation of each mixture component (per coordinate)."""
  return _STDDEV[_config(name)]


def toy2d_sample(name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
  """The exact points a split holds, before TFDS stores them.

  Args:
    name: a toy2d config name (see `toy2d_modes`).
    split: ``"train"`` or ``"test"``.

  Returns:
    (points float32 [N, 2], labels int64 [N]) in generation order.
  """
  if split not in SPLIT_SIZES:
    raise ValueError(f"Unknown toy2d split {split!r}; known: test, train")
  modes = toy2d_modes(name)
  rng = np.random.RandomState(_SPLIT_SEEDS[split])
  labels = rng.randint(len(modes), size=SPLIT_SIZES[split]).astype(np.int64)
  noise = rng.normal(size=(SPLIT_SIZES[split], 2)) * toy2d_stddev(name)
  return (modes[labels] + noise).astype(np.float32), labels


class Toy2d(tfds.core.GeneratorBasedBuilder):
  """Mixtures of 2-D Gaussians on a ring (8 modes) or a grid (25 modes)."""

  name = "toy2d"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [
      tfds.core.BuilderConfig(
          name="ring8", description="8 Gaussians on a circle of radius 2, sigma 0.02."),
      tfds.core.BuilderConfig(
          name="grid25", description="25 Gaussians on {-4,-2,0,2,4}^2, sigma 0.05."),
  ]
  # No downloads, hence no checksums file: spares TFDS's code-path lookup.
  code_path = None

  def _info(self) -> tfds.core.DatasetInfo:
    return tfds.core.DatasetInfo(
        builder=self,
        description="2-D mixtures of Gaussians for mode-coverage experiments.",
        features=tfds.features.FeaturesDict({
            "point": tfds.features.Tensor(shape=(2,), dtype=np.float32),
            "label": tfds.features.ClassLabel(num_classes=len(toy2d_modes(self._config_name))),
        }),
        supervised_keys=("point", "label"),
        homepage="https://arxiv.org/abs/1611.02163",
        citation=(
            "@inproceedings{metz2017unrolled, title={Unrolled Generative Adversarial "
            "Networks}, author={Metz, Luke and Poole, Ben and Pfau, David and "
            "Sohl-Dickstein, Jascha}, booktitle={ICLR}, year={2017}}"),
    )

  @property
  def _config_name(self) -> str:
    return self.builder_config.name

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing to download
    return {split: self._generate_examples(split) for split in SPLIT_SIZES}

  def _generate_examples(self, split):
    points, labels = toy2d_sample(self._config_name, split)
    for i in range(len(labels)):
      yield i, {"point": points[i], "label": int(labels[i])}
