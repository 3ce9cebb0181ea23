"""Static facts about every dataset latentjax knows, available before any data is read.

The trainer builds its model from a `DatasetSpec` (input key, per-example shape, number
of classes) before it touches the data, so everything here is pure Python: no
TensorFlow, no file system.

    spec = get_spec("sprites/32_lite")
    spec.input_shape   # (32, 32, 1)
    spec.train_split   # "train[:90%]"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from latentjax._names import did_you_mean
from latentjax.data._sprites_render import FACTOR_NAMES as SPRITES_FACTOR_NAMES
from latentjax.data._sprites_render import GRIDS as SPRITES_GRIDS

#: Default side of celeb_a images after the centre crop and resize.
CELEB_A_DEFAULT_SIZE = 64

_SPRITES_FACTORS = tuple(zip(SPRITES_FACTOR_NAMES, (3, 6, 40, 32, 32), strict=True))
_SHAPES3D_FACTORS = (("floor_hue", 10), ("wall_hue", 10), ("object_hue", 10), ("scale", 8),
                     ("shape", 4), ("orientation", 15))


def _factor_keys(factors) -> tuple[str, ...]:
  return tuple(f"{p}_{f}" for p in ("label", "value") for f, _ in factors)



@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """What a model needs to know about a dataset, without reading it.

  Attributes:
    name: canonical latentjax name, with its config where it has one
      (``"digits"``, ``"sprites/32_lite"``, ``"toy2d/ring8"``).
    tfds_name: the name TFDS knows it by (``tfds.builder(tfds_name)``).
    input_key: batch key of the model input: ``"image"`` or ``"point"``.
    input_shape: per-example shape of ``batch[input_key]`` after preprocessing,
      e.g. ``(8, 8, 1)`` (images are HWC) or ``(2,)``.
    num_classes: number of classes of ``batch[label_key]``; 0 if there is no label.
    label_key: ``"label"``, or None when the dataset has no class label.
    train_split: TFDS split (slicing allowed) to train on.
    test_split: TFDS split to evaluate on.
    builtin: True when latentjax builds the data locally, with no network.
    extra_keys: further batch keys (ground-truth factors, attributes), sorted.
    value_range: range of the input values, ``(0.0, 1.0)`` for images; None for
      points.
    factor_names: for factor datasets (sprites, dsprites, shapes3d), the ground-truth
      factors, in generative order: the batch holds ``label_<f>`` (int32 class) and
      ``value_<f>`` (float32 value) for each; ``()`` otherwise.
    factor_sizes: number of classes of each factor in the full grid, aligned with
      `factor_names`.
  """

  name: str
  tfds_name: str
  input_key: str
  input_shape: tuple[int, ...]
  num_classes: int
  label_key: str | None
  train_split: str
  test_split: str
  builtin: bool
  extra_keys: tuple[str, ...] = ()
  value_range: tuple[float, float] | None = (0.0, 1.0)
  factor_names: tuple[str, ...] = ()
  factor_sizes: tuple[int, ...] = ()


@dataclasses.dataclass(frozen=True)
class _Entry:
  """Registry row; `kind` selects the preprocessing in `_preprocess.py`."""

  kind: str  # "classification" | "factors" | "celeb_a" | "points"
  input_shapes: Mapping[str | None, tuple[int, ...]]  # config (None: no configs)
  default_config: str | None = None
  num_classes: int = 0
  train_split: str = "train"
  test_split: str = "test"
  builtin: bool = False
  extra_keys: tuple[str, ...] = ()
  image_scale: float = 1.0 / 255.0  # multiplies the stored uint8 values
  factors: tuple[tuple[str, int], ...] = ()  # (factor name, number of classes)


_REGISTRY: dict[str, _Entry] = {
    "digits": _Entry("classification", {None: (8, 8, 1)}, num_classes=10, builtin=True),
    "mnist": _Entry("classification", {None: (28, 28, 1)}, num_classes=10),
    "fashion_mnist": _Entry("classification", {None: (28, 28, 1)}, num_classes=10),
    "cifar10": _Entry("classification", {None: (32, 32, 3)}, num_classes=10),
    "celeb_a": _Entry(
        "celeb_a", {None: (CELEB_A_DEFAULT_SIZE, CELEB_A_DEFAULT_SIZE, 3)},
        extra_keys=("attributes",)),
    "sprites": _Entry(
        "factors",
        {c: (g.resolution, g.resolution, 1) for c, g in SPRITES_GRIDS.items()},
        default_config="64", train_split="train[:90%]", test_split="train[90%:]",
        builtin=True, extra_keys=_factor_keys(_SPRITES_FACTORS), image_scale=1.0,
        factors=_SPRITES_FACTORS),
    "dsprites": _Entry(
        "factors", {None: (64, 64, 1)}, train_split="train[:90%]", test_split="train[90%:]",
        extra_keys=_factor_keys(_SPRITES_FACTORS), image_scale=1.0, factors=_SPRITES_FACTORS),
    "shapes3d": _Entry(
        "factors", {None: (64, 64, 3)}, train_split="train[:90%]", test_split="train[90%:]",
        extra_keys=_factor_keys(_SHAPES3D_FACTORS), factors=_SHAPES3D_FACTORS),
    "toy2d": _Entry(
        "points", {"ring8": (2,), "grid25": (2,)}, default_config="ring8", builtin=True),
}

_TOY2D_CLASSES = {"ring8": 8, "grid25": 25}


def known_datasets() -> tuple[str, ...]:
  """Sorted base names accepted by `get_spec` and `load` (configs go after a ``/``)."""
  return tuple(sorted(_REGISTRY))


def known_dataset_names() -> tuple[str, ...]:
  """Every name `get_spec` accepts: base names and each ``base/config`` (sorted)."""
  names = []
  for base in known_datasets():
    names.append(base)
    names += [f"{base}/{c}" for c in sorted(c for c in _REGISTRY[base].input_shapes if c)]
  return tuple(names)


def _entry(name: str) -> tuple[str, str | None, _Entry]:
  """Splits ``"base/config"`` and validates both parts; returns (base, config, entry)."""
  if not isinstance(name, str):
    raise TypeError(f"`name` must be a str, got {type(name).__name__}: {name!r}")
  base, _, config = name.partition("/")
  if base not in _REGISTRY:
    names = known_dataset_names()
    raise ValueError(f"Unknown dataset {name!r}{did_you_mean(name, names)}; known: "
                     f"{', '.join(names)}")
  entry = _REGISTRY[base]
  configs = sorted(c for c in entry.input_shapes if c is not None)
  if not config:
    return base, entry.default_config, entry
  if config not in entry.input_shapes:
    known = ", ".join(configs) if configs else "none (it takes no config)"
    raise ValueError(f"Unknown config {config!r} for dataset {base!r}"
                     f"{did_you_mean(config, configs)}; known: {known}")
  return base, config, entry


def get_spec(name: str, *, image_size: int | None = None) -> DatasetSpec:
  """Returns the `DatasetSpec` of a dataset name, without reading any data.

  Args:
    name: a known name, optionally with a TFDS config: ``"mnist"``, ``"sprites/32_lite"``,
      ``"toy2d/grid25"``. Without a config the default one is used (``sprites/64``,
      ``toy2d/ring8``).
    image_size: if given, images are resized to ``image_size x image_size`` (for
      celeb_a: the side after the centre crop, default 64). Must match the value
      passed to `load`.

  Returns:
    The dataset's frozen `DatasetSpec`.

  Raises:
    ValueError: for an unknown name or config (the message lists the known ones), or
      an ``image_size`` on a dataset without images.

  Example:
    >>> get_spec("digits").input_shape
    (8, 8, 1)
  """
  base, config, entry = _entry(name)
  shape = entry.input_shapes[config]
  if image_size is not None:
    if entry.kind == "points":
      raise ValueError(f"`image_size` does not apply to {base!r}, which has no images")
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
      raise ValueError(f"`image_size` must be a positive int or None, got {image_size!r}")
    shape = (image_size, image_size, shape[-1])
  full = f"{base}/{config}" if config else base
  num_classes = _TOY2D_CLASSES[config] if base == "toy2d" else entry.num_classes
  return DatasetSpec(
      name=full,
      tfds_name=full,
      input_key="point" if entry.kind == "points" else "image",
      input_shape=tuple(shape),
      num_classes=num_classes,
      label_key="label" if num_classes else None,
      train_split=entry.train_split,
      test_split=entry.test_split,
      builtin=entry.builtin,
      extra_keys=tuple(sorted(entry.extra_keys)),
      value_range=None if entry.kind == "points" else (0.0, 1.0),
      factor_names=tuple(f for f, _ in entry.factors),
      factor_sizes=tuple(n for _, n in entry.factors),
  )


def preprocessing_kind(name: str) -> tuple[str, float]:
  """Internal: (preprocessing kind, factor turning stored uint8 pixels into [0, 1])."""
  _, _, entry = _entry(name)
  return entry.kind, entry.image_scale
