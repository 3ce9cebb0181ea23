"""The ``sprites`` TFDS builder: a procedural dSprites rendered locally, no network.

Features, feature names and value conventions are those of TFDS ``dsprites`` (v2.0.0),
so code written for one runs on the other:

  ``image``              uint8 (R, R, 1) with values {0, 1} (not 0/255, as dSprites)
  ``label_shape``        ClassLabel(3)   ``value_shape``        float32 1., 2., 3.
  ``label_scale``        ClassLabel(6)   ``value_scale``        float32 in [0.5, 1]
  ``label_orientation``  ClassLabel(40)  ``value_orientation``  float32 in [0, 2 pi)
  ``label_x_position``   ClassLabel(32)  ``value_x_position``   float32 in [0, 1]
  ``label_y_position``   ClassLabel(32)  ``value_y_position``   float32 in [0, 1]

Labels are always indices into the full 3 x 6 x 40 x 32 x 32 grid, also in the subsampled
configs. Configs (``tfds.load("sprites/32_lite")``):

  ``64`` (default)  64x64, the full grid: 737,280 examples (as dSprites)
  ``32``            32x32, the full grid: 737,280 examples
  ``32_lite``       32x32, 3 shapes x 6 scales x 10 orientations x 8 x 8 positions: 11,520
  ``16_lite``       16x16, the same subsample as ``32_lite``: 11,520

Like dSprites there is a single ``train`` split; latentjax trains on ``train[:90%]`` and
evaluates on ``train[90%:]`` (TFDS stores examples in a hashed order, so both are
spread over the whole grid). Images come from `render_sprites`.
"""

from __future__ import annotations

import io

import numpy as np
import tensorflow_datasets as tfds

from latentjax.data import _sprites_render as render

_CONFIG_DESCRIPTIONS = {
    "64": "64x64, full dSprites grid (737,280 examples).",
    "32": "32x32, full dSprites grid (737,280 examples).",
    "32_lite": "32x32, 10 orientations x 8 x 8 positions subsampled evenly (11,520).",
    "16_lite": "16x16, the 32_lite factor subsample (11,520 examples).",
}
_BLOCK = 4096  # examples rendered per call while generating


def _png(image: np.ndarray) -> bytes:
  """PNG bytes of a uint8 [R, R, 1] image: twice as fast as TFDS's own encoder."""
  from PIL import Image

  buffer = io.BytesIO()
  Image.fromarray(image[..., 0]).save(buffer, format="PNG")
  return buffer.getvalue()


class Sprites(tfds.core.GeneratorBasedBuilder):
  """Procedural dSprites with ground-truth factors; resolutions 64, 32 and 16."""

  name = "sprites"
  VERSION = tfds.core.Version("1.0.0")
  RELEASE_NOTES = {"1.0.0": "Initial release."}
  BUILDER_CONFIGS = [
      tfds.core.BuilderConfig(name=name, description=desc)
      for name, desc in _CONFIG_DESCRIPTIONS.items()
  ]
  # No downloads, hence no checksums file: spares TFDS's code-path lookup.
  code_path = None

  def _info(self) -> tfds.core.DatasetInfo:
    r = render.GRIDS[self.builder_config.name].resolution
    labels = {f"label_{k}": tfds.features.ClassLabel(num_classes=n)
              for k, n in zip(render.FACTOR_NAMES, render._FULL_SIZES, strict=True)}
    values = {f"value_{k}": tfds.features.Tensor(shape=(), dtype=np.float32)
              for k in render.FACTOR_NAMES}
    return tfds.core.DatasetInfo(
        builder=self,
        description=(
            "A procedural dSprites: square, ellipse and heart sprites at 6 scales, 40 "
            "orientations and 32 x 32 positions, binary images with values {0, 1}, with "
            "the feature names and conventions of TFDS dsprites."),
        features=tfds.features.FeaturesDict(
            {"image": tfds.features.Image(shape=(r, r, 1)), **labels, **values}),
        homepage="https://github.com/deepmind/dsprites-dataset",
        citation=(
            "@misc{dsprites17, author={Matthey, Loic and Higgins, Irina and Hassabis, "
            "Demis and Lerchner, Alexander}, title={dSprites: Disentanglement testing "
            "Sprites dataset}, year={2017}, howpublished={https://github.com/deepmind/"
            "dsprites-dataset/}}"),
    )

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing to download
    return {"train": self._generate_examples(self.builder_config.name)}

  def _generate_examples(self, config):
    resolution = render.GRIDS[config].resolution
    labels = render.sprites_grid_labels(config)
    values = render.labels_to_values(labels).astype(np.float32)
    for start in range(0, len(labels), _BLOCK):
      lab, val = labels[start:start + _BLOCK], values[start:start + _BLOCK]
      images = render.render_sprites(*val.T, resolution=resolution).astype(np.uint8)
      for i in range(len(lab)):
        example = {"image": _png(images[i])}
        for j, factor in enumerate(render.FACTOR_NAMES):
          example[f"label_{factor}"] = int(lab[i, j])
          example[f"value_{factor}"] = val[i, j]
        yield start + i, example
