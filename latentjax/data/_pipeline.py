"""`load`: deterministic, exactly resumable TFDS + tf.data input pipelines.

The stream of batches is a pure function of (name, split, batch_size, seed, step) and
the process's share of the data, so a run killed at any point resumes exactly from the
global step alone:

    it = load("digits", "train", batch_size=128, seed=0, start_step=step)
    batch = next(it)   # {"image": float32 [128, 8, 8, 1] in [0, 1], "label": int32 [128]}

How: the split is read in a fixed order; epoch ``e`` is shuffled with a seed derived from
``(seed, e)`` and cut into ``batches_per_epoch`` batches (never straddling epochs), so
``start_step = s`` starts at epoch ``s // batches_per_epoch`` and skips
``s % batches_per_epoch`` batches of it. The shuffle is tf.data's buffer shuffle: a
uniform permutation of the epoch when the buffer holds the whole split (the default when
the split fits in about 512 MiB), a windowed shuffle of that many examples otherwise.
Small splits are decoded once and cached in memory; larger image splits go through the
shuffle buffer and the resume skip with their images still PNG/JPEG-encoded and are
decoded after, so skipping costs no decoding.
"""

from __future__ import annotations

import operator
import os

import jax
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds

from latentjax._names import did_you_mean
from latentjax.data._prepare import hide_tf_from_accelerators, prepare_builder
from latentjax.data._preprocess import example_nbytes, make_preprocessing
from latentjax.data._spec import DatasetSpec, get_spec

BUFFER_BUDGET_BYTES = 512 * 2**20  # default shuffle buffer and in-memory cache limit
_FOREVER = 2**62  # epochs of a num_epochs=None stream
_TENSOR_OVERHEAD_BYTES = 160  # measured memory cost of one tf.Tensor in a tf.data buffer


class DataIterator:
  """Iterator over numpy batches, with what a training loop wants to know about them.

  Attributes:
    spec: the dataset's `DatasetSpec`.
    split: the TFDS split read by this process (after the per-process split).
    num_examples: examples in that split.
    batches_per_epoch: batches per pass over it.
    start_step: index, in the uninterrupted stream, of the first batch.
    shuffle_buffer_size: examples in the shuffle buffer (0 when not shuffling).
    dataset: the underlying ``tf.data.Dataset`` of batches (TF tensors).
  """

  def __init__(self, dataset: tf.data.Dataset, *, spec: DatasetSpec, split, num_examples: int,
               batches_per_epoch: int, start_step: int, shuffle_buffer_size: int):
    self.dataset = dataset
    self.spec = spec
    self.split = split
    self.num_examples = num_examples
    self.batches_per_epoch = batches_per_epoch
    self.start_step = start_step
    self.shuffle_buffer_size = shuffle_buffer_size
    self._iterator = None

  def __iter__(self):
    return self

  def __next__(self) -> dict[str, np.ndarray]:
    if self._iterator is None:
      self._iterator = self.dataset.as_numpy_iterator()
    return next(self._iterator)

  def __repr__(self):
    return (f"DataIterator({self.spec.name!r}, split={self.split!r}, "
            f"num_examples={self.num_examples}, batches_per_epoch={self.batches_per_epoch}, "
            f"start_step={self.start_step})")


def _count(name: str, value, minimum: int, *, allow_none: bool = False) -> int | None:
  """Validates an integer argument; raises ValueError/TypeError naming it."""
  if value is None and allow_none:
    return None
  if isinstance(value, bool):
    raise TypeError(f"`{name}` must be an int, got {value!r}")
  try:
    value = operator.index(value)
  except TypeError:
    raise TypeError(f"`{name}` must be an int, got {value!r}") from None
  if value < minimum:
    raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
  return value


def _epoch_seed(seed: int, epoch: tf.Tensor) -> tf.Tensor:
  """A well-mixed int64 shuffle seed for an epoch, a pure function of (seed, epoch)."""
  key = tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)])
  return tf.random.stateless_uniform([], seed=key, minval=None, maxval=None, dtype=tf.int64)


def _options() -> tf.data.Options:
  options = tf.data.Options()
  options.deterministic = True
  return options


def load(name: str, split: str, *, batch_size: int, shuffle: bool = True, seed: int = 0,
         start_step: int = 0, num_epochs: int | None = None,
         data_dir: str | os.PathLike | None = None, download: bool = True,
         drop_remainder: bool = True, shuffle_buffer_size: int | None = None,
         prefetch: int | None = None, image_size: int | None = None,
         process_index: int | None = None, process_count: int | None = None,
         process_share: str = "examples") -> DataIterator:
  """Returns an iterator over numpy batches of a dataset split.

  Args:
    name: dataset name, e.g. ``"digits"``, ``"sprites/32_lite"``, ``"mnist"`` (see
      `get_spec`).
    split: TFDS split, slicing allowed: ``"train"``, ``"test"``, ``"train[:90%]"``.
    batch_size: examples per batch in this process (the global batch divided by
      ``jax.process_count()``).
    shuffle: shuffle each epoch (seeded); False reads the split in its stored order.
    seed: shuffling seed; the stream is a pure function of it.
    start_step: number of batches of the uninterrupted stream to skip (the global step
      of a resumed run): ``load(..., start_step=s)`` yields exactly the batches
      ``s, s + 1, ...`` of ``load(..., start_step=0)``.
    num_epochs: passes over the split; None repeats forever.
    data_dir: TFDS data directory; None for ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``.
    download: whether a missing real TFDS dataset may be downloaded. Built-in datasets
      (digits, sprites, toy2d) are generated locally when missing either way.
    drop_remainder: drop each epoch's last incomplete batch (training); with False the
      last batch of an epoch may be smaller (evaluation).
    shuffle_buffer_size: examples in the shuffle buffer; None: the whole split when it
      fits in about 512 MiB (a uniform shuffle), else as many examples as fit (a
      windowed shuffle). Splits too large to cache decoded are buffered with their
      images still encoded, so far more of them fit.
    prefetch: batches to prefetch; None lets tf.data tune it, 0 disables prefetching.
    image_size: resize images to ``image_size x image_size`` (bilinear, antialiased);
      None keeps the native size (celeb_a: centre crop 140, resized to 64).
    process_index: this process's index; None for ``jax.process_index()``.
    process_count: number of processes; None for ``jax.process_count()``.
    process_share: how several processes share the data. ``"examples"``: each reads
      its own even share of the split's examples (``tfds.split_for_jax_process``) and
      batches and shuffles it alone -- the least reading, but the global batches depend
      on the process count. ``"batches"``: every process reads the same stream of global
      batches of ``batch_size * process_count`` examples and keeps rows
      ``[process_index * batch_size, (process_index + 1) * batch_size)`` of each, so
      the global batches (and a run's result) are those of one process reading with
      the global batch size, whatever the process count.

  Returns:
    A `DataIterator` of dicts of numpy arrays: ``image`` float32 [B, H, W, C] in [0, 1]
    (or ``point`` float32 [B, 2] for toy2d), ``label`` int32 [B] where the dataset has
    classes, and the spec's ``extra_keys`` (factors: ``label_*`` int32 [B],
    ``value_*`` float32 [B]; celeb_a: ``attributes`` int32 [B, 40]).

  Raises:
    ValueError: unknown name, config or split; bad argument values; a split smaller
      than one batch with ``drop_remainder=True``.
    DatasetNotAvailableError: the data is absent and cannot be prepared here.

  Example:
    >>> it = load("digits", "test", batch_size=100, shuffle=False, num_epochs=1,
    ...           drop_remainder=False)
    >>> [len(b["label"]) for b in it]
    [100, 100, 100]
  """
  batch_size = _count("batch_size", batch_size, 1)
  start_step = _count("start_step", start_step, 0)
  num_epochs = _count("num_epochs", num_epochs, 1, allow_none=True)
  seed = _count("seed", seed, 0)
  if seed >= 2**63:
    raise ValueError(f"`seed` must be < 2**63, got {seed}")
  shuffle_buffer_size = _count("shuffle_buffer_size", shuffle_buffer_size, 1, allow_none=True)
  prefetch = _count("prefetch", prefetch, 0, allow_none=True)
  spec, example_fn, batch_fn = make_preprocessing(name, image_size)
  if process_share not in ("examples", "batches"):
    raise ValueError(f"`process_share` must be 'examples' or 'batches', got {process_share!r}")

  hide_tf_from_accelerators()
  rows = None
  if process_share == "batches":
    index, count = _process_position(process_index, process_count)
    rows = (index * batch_size, (index + 1) * batch_size)
    batch_size *= count
    if not drop_remainder and count > 1:
      raise ValueError("`process_share`='batches' needs drop_remainder=True with several "
                       "processes (every process must get a full share of every batch)")
    process_count = 1
  split = _process_split(split, process_index, process_count, drop_remainder)
  builder = prepare_builder(spec, data_dir=data_dir, download=download, split=split)
  num_examples = _split_size(builder, spec, split)
  per_epoch = num_examples // batch_size if drop_remainder else -(-num_examples // batch_size)
  if per_epoch == 0:
    raise ValueError(
        f"`batch_size`={batch_size} exceeds the {num_examples} examples of split {split!r} "
        f"of {spec.name!r}; use a smaller batch or drop_remainder=False")

  base, late_fn, nbytes = _examples(builder, spec, split, num_examples, example_fn)
  if not shuffle:
    buffer = 0
  elif shuffle_buffer_size is None:
    buffer = min(num_examples, max(1, BUFFER_BUDGET_BYTES // nbytes))
  else:
    buffer = min(shuffle_buffer_size, num_examples)

  first_epoch, skip_batches = divmod(start_step, per_epoch)

  def epoch_dataset(epoch):
    # Make the shuffle depend on our seeds only, not on a TF global seed set elsewhere:
    # this clears the seed of the graph being traced, not TF's global state.
    tf.compat.v1.get_default_graph().seed = None
    ds = base
    if buffer:
      ds = ds.shuffle(buffer, seed=_epoch_seed(seed, epoch), reshuffle_each_iteration=False)
    skip = tf.where(epoch == first_epoch, tf.constant(skip_batches * batch_size, tf.int64),
                    tf.constant(0, tf.int64))
    ds = ds.skip(skip)
    if late_fn is not None:
      ds = ds.map(late_fn, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.batch(batch_size, drop_remainder=drop_remainder)

  stop = _FOREVER if num_epochs is None else num_epochs
  ds = tf.data.Dataset.range(first_epoch, max(first_epoch, stop)).flat_map(epoch_dataset)
  if rows is not None and rows != (0, batch_size):
    ds = ds.map(lambda b: tf.nest.map_structure(lambda x: x[rows[0]:rows[1]], b))
  ds = ds.map(batch_fn, num_parallel_calls=tf.data.AUTOTUNE).with_options(_options())
  if prefetch != 0:
    ds = ds.prefetch(tf.data.AUTOTUNE if prefetch is None else prefetch)
  return DataIterator(ds, spec=spec, split=split, num_examples=num_examples,
                      batches_per_epoch=per_epoch, start_step=start_step,
                      shuffle_buffer_size=buffer)


def _split_size(builder, spec: DatasetSpec, split) -> int:
  """Examples in ``split``; raises ValueError naming the split and the available ones.

  From the dataset's metadata when it is prepared; otherwise (TFDS serving it without
  files, as under ``tfds.testing.mock_data``) from the cardinality TFDS reports.
  """
  try:
    return int(builder.info.splits[split].num_examples)
  except (KeyError, ValueError, TypeError) as e:
    reason = e
  if not builder.is_prepared():
    try:
      count = int(builder.as_dataset(split=split, shuffle_files=False).cardinality())
    except Exception as e:  # noqa: BLE001 - whatever TFDS raises for a split it cannot serve
      reason = e
    else:
      if count >= 0:
        return count
  available = sorted(builder.info.splits)
  base = split.split("[", 1)[0]
  # A name TFDS does not know is said once, with the names it knows; a known name with a
  # bad slice keeps TFDS's reason.
  why = f": {reason}" if base in available else did_you_mean(base, available)
  raise ValueError(
      f"Unknown split {split!r} for dataset {spec.name!r}{why}; available: "
      f"{', '.join(available) or 'none listed'} (TFDS slicing such as "
      f"'train[:90%]' is accepted)") from None


def split_size(name: str, split: str, *, data_dir: str | os.PathLike | None = None,
               download: bool = True) -> int:
  """The number of examples in a split, preparing the dataset if needed.

  Lets a training run check its splits and batch sizes before compiling anything.

  Args:
    name: dataset name (see `get_spec`).
    split: TFDS split, slicing allowed.
    data_dir: TFDS data directory (None: TFDS's default).
    download: whether a missing real TFDS dataset may be downloaded.

  Returns:
    The example count of ``split`` (of the whole split, not a process's share).

  Raises:
    ValueError: for an unknown dataset or split.
    DatasetNotAvailableError: the data is absent and cannot be prepared here.
  """
  spec = get_spec(name)
  if not isinstance(split, str) or not split:
    raise ValueError(f"`split` must be a non-empty str such as 'train', got {split!r}")
  hide_tf_from_accelerators()
  builder = prepare_builder(spec, data_dir=data_dir, download=download, split=split)
  return _split_size(builder, spec, split)


def _examples(builder, spec: DatasetSpec, split, num_examples: int, example_fn):
  """The split's examples in stored order, and what remains to do after shuffling.

  Small splits (decoded examples within `BUFFER_BUDGET_BYTES`) are decoded, preprocessed
  and cached in memory. Larger image splits keep their images encoded (PNG/JPEG bytes)
  through the shuffle buffer and the resume skip, and are decoded after: a much larger
  buffer fits, and skipping examples costs no decoding.

  Returns:
    (dataset, per-example function to map after shuffling or None, approximate bytes
    one example takes in a shuffle buffer).
  """
  read_config = tfds.ReadConfig(options=_options(), try_autocache=False, skip_prefetch=True)
  num_tensors = len(tf.nest.flatten(builder.info.features.get_tensor_info()))
  overhead = _TENSOR_OVERHEAD_BYTES * num_tensors
  decoded = example_nbytes(spec) + overhead
  if num_examples * decoded <= BUFFER_BUDGET_BYTES or spec.input_key != "image":
    base = builder.as_dataset(split=split, shuffle_files=False, read_config=read_config)
    base = base.map(example_fn, num_parallel_calls=tf.data.AUTOTUNE)
    if num_examples * decoded <= BUFFER_BUDGET_BYTES:
      base = _in_memory(base, num_examples)
    return base, None, decoded
  image = builder.info.features["image"]
  base = builder.as_dataset(split=split, shuffle_files=False, read_config=read_config,
                            decoders={"image": tfds.decode.SkipDecoding()})
  total = sum(s.num_examples for s in builder.info.splits.values())
  encoded = int(builder.info.dataset_size or 0) // max(total, 1) + overhead
  late_fn = lambda ex: example_fn({**ex, "image": image.decode_example(ex["image"])})
  return base, late_fn, min(encoded, decoded) if encoded > overhead else decoded


def _in_memory(ds: tf.data.Dataset, num_examples: int) -> tf.data.Dataset:
  """The same examples in the same order, decoded once and held in memory.

  One pass reads the whole split into arrays, so no iterator is ever left holding a
  partly filled cache (as ``Dataset.cache()`` would be when training stops mid-epoch).
  """
  if num_examples == 0:
    return ds
  arrays = next(iter(ds.batch(num_examples).take(1)))
  return tf.data.Dataset.from_tensor_slices(arrays)


def _process_position(process_index: int | None, process_count: int | None
                      ) -> tuple[int, int]:
  """``(index, count)`` of this process, checked (None: JAX's)."""
  count = jax.process_count() if process_count is None else _count("process_count",
                                                                     process_count, 1)
  index = jax.process_index() if process_index is None else _count("process_index",
                                                                     process_index, 0)
  if index >= count:
    raise ValueError(f"`process_index`={index} must be < `process_count`={count}")
  return index, count


def _process_split(split: str, process_index: int | None, process_count: int | None,
                   drop_remainder: bool):
  """This process's share of `split` (the split itself for a single process)."""
  if not isinstance(split, str) or not split:
    raise ValueError(f"`split` must be a non-empty str such as 'train', got {split!r}")
  count = jax.process_count() if process_count is None else _count("process_count",
                                                                     process_count, 1)
  if count == 1:
    return split
  index = jax.process_index() if process_index is None else _count("process_index",
                                                                     process_index, 0)
  if index >= count:
    raise ValueError(f"`process_index`={index} must be < `process_count`={count}")
  return tfds.split_for_jax_process(split, process_index=index, process_count=count,
                                    drop_remainder=drop_remainder)
