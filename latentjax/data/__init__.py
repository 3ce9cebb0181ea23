"""Input pipelines (TFDS + tf.data) and offline TFDS builders for the built-in datasets.

One entry point, `load`, gives deterministic, exactly resumable numpy batches; `get_spec`
describes a dataset (input key, per-example shape, classes, splits) before any data is
read, so models can be built first:

    from latentjax import data
    spec = data.get_spec("digits")                 # input_shape (8, 8, 1), 10 classes
    it = data.load("digits", spec.train_split, batch_size=128, seed=0, start_step=step)
    batch = next(it)   # {"image": float32 [128, 8, 8, 1] in [0, 1], "label": int32 [128]}

Importing this package registers the built-in TFDS builders ``digits``, ``sprites`` and
``toy2d`` (no network needed), so ``tfds.load("digits")`` and
``tfds build --imports latentjax.data digits`` find them too. Importing builds and reads
nothing; TensorFlow is hidden from GPUs at the first `load`.
"""

# Builder modules are imported for their side effect: registering with TFDS.
from latentjax.data import _digits, _sprites, _toy2d  # noqa: F401
from latentjax.data._digits import digits_split_indices
from latentjax.data._pipeline import DataIterator, load, split_size
from latentjax.data._prepare import DatasetNotAvailableError
from latentjax.data._preprocess import CELEB_A_ATTRIBUTES
from latentjax.data._spec import DatasetSpec, get_spec, known_datasets
from latentjax.data._sprites_render import (
    FACTOR_NAMES as SPRITES_FACTOR_NAMES,
)
from latentjax.data._sprites_render import (
    SHAPE_NAMES as SPRITES_SHAPE_NAMES,
)
from latentjax.data._sprites_render import (
    render_sprites,
    render_sprites_from_labels,
    sprites_factor_labels,
    sprites_factor_sizes,
    sprites_factor_values,
    sprites_grid_labels,
)
from latentjax.data._toy2d import toy2d_modes, toy2d_sample, toy2d_stddev

__all__ = [
    "CELEB_A_ATTRIBUTES",
    "SPRITES_FACTOR_NAMES",
    "SPRITES_SHAPE_NAMES",
    "DataIterator",
    "DatasetNotAvailableError",
    "DatasetSpec",
    "digits_split_indices",
    "get_spec",
    "known_datasets",
    "load",
    "render_sprites",
    "render_sprites_from_labels",
    "sprites_factor_labels",
    "sprites_factor_sizes",
    "sprites_factor_values",
    "sprites_grid_labels",
    "split_size",
    "toy2d_modes",
    "toy2d_sample",
    "toy2d_stddev",
]
