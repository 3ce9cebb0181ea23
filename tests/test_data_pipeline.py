"""`latentjax.data.load`: determinism, exact resume, epochs, evaluation passes, sharding."""

import collections
import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow_datasets as tfds

from latentjax import data

NAME, SPLIT, BATCH = "digits", "train", 128  # 1,497 examples: 11 batches per epoch
NUM_REF = 30  # batches of the reference stream, across two epoch boundaries


def _take(it, n):
  return [next(it) for _ in range(n)]


def _digest(batches):
  h = hashlib.sha256()
  for b in batches:
    for k in sorted(b):
      h.update(k.encode())
      h.update(np.ascontiguousarray(b[k]).tobytes())
  return h.hexdigest()


def _assert_same(a, b):
  assert len(a) == len(b)
  for x, y in zip(a, b, strict=True):
    assert x.keys() == y.keys()
    for k in x:
      np.testing.assert_array_equal(x[k], y[k])


def _rows(batches):
  """Multiset of examples (all keys), to compare contents regardless of order."""
  return collections.Counter(
      tuple(b[k][i].tobytes() for k in sorted(b))
      for b in batches for i in range(len(b["image"])))


@pytest.fixture(scope="module")
def reference(tfds_data_dir):
  it = data.load(NAME, SPLIT, batch_size=BATCH, seed=0, data_dir=tfds_data_dir)
  return it, _take(it, NUM_REF)


def test_iterator_attributes_and_batches(reference):
  it, ref = reference
  assert it.batches_per_epoch == 11 and it.num_examples == 1497 and it.start_step == 0
  assert it.shuffle_buffer_size == 1497 and it.spec == data.get_spec(NAME)
  assert iter(it) is it
  b = ref[0]
  assert b["image"].shape == (BATCH, 8, 8, 1) and b["image"].dtype == np.float32
  assert b["label"].shape == (BATCH,) and b["label"].dtype == np.int32
  assert 0.0 <= b["image"].min() and b["image"].max() <= 1.0


def test_same_seed_same_batches_other_seed_other_order(reference, tfds_data_dir):
  _, ref = reference
  again = data.load(NAME, SPLIT, batch_size=BATCH, seed=0, data_dir=tfds_data_dir)
  _assert_same(_take(again, 15), ref[:15])
  other = _take(data.load(NAME, SPLIT, batch_size=BATCH, seed=1, data_dir=tfds_data_dir), 2)
  assert not np.array_equal(other[0]["label"], ref[0]["label"])
  assert not np.array_equal(other[1]["image"], ref[1]["image"])


@pytest.mark.parametrize("start", [1, 5, 10, 11, 12, 21, 22, 27])
def test_resume_equals_skipping(reference, tfds_data_dir, start):
  _, ref = reference
  it = data.load(NAME, SPLIT, batch_size=BATCH, seed=0, start_step=start,
                 data_dir=tfds_data_dir)
  n = min(4, NUM_REF - start)
  _assert_same(_take(it, n), ref[start:start + n])


@pytest.mark.parametrize("name,batch,buffer",
                         [("digits", 499, None), ("sprites/16_lite", 1000, 64)])
def test_epochs_are_permutations_and_resume_holds(tfds_data_dir, name, batch, buffer):
  """Each epoch covers the split once (a full or windowed shuffle), in a new order."""
  split = data.get_spec(name).train_split
  load = lambda **kw: data.load(name, split, batch_size=batch, seed=3,
                                shuffle_buffer_size=buffer, data_dir=tfds_data_dir, **kw)
  it = load()
  per = it.batches_per_epoch
  stream = _take(it, 2 * per + 1)
  ordered = list(data.load(name, split, batch_size=batch, shuffle=False, num_epochs=1,
                           drop_remainder=False, data_dir=tfds_data_dir))
  if per * batch == it.num_examples:  # nothing dropped: exactly the split, twice
    assert _rows(stream[:per]) == _rows(stream[per:2 * per]) == _rows(ordered)
  else:
    assert set(_rows(stream[:per])) <= set(_rows(ordered))
  assert not np.array_equal(stream[0]["image"], stream[per]["image"])
  assert not np.array_equal(stream[0]["image"], ordered[0]["image"][:batch])
  _assert_same(_take(load(start_step=per - 1), 3), stream[per - 1:per + 2])


def test_evaluation_pass_is_ordered_and_complete(tfds_data_dir):
  kw = dict(batch_size=BATCH, shuffle=False, num_epochs=1, drop_remainder=False,
            data_dir=tfds_data_dir)
  first, second = list(data.load(NAME, SPLIT, **kw)), list(data.load(NAME, SPLIT, seed=7, **kw))
  assert [len(b["label"]) for b in first] == [128] * 11 + [89]
  _assert_same(first, second)
  resumed = list(data.load(NAME, SPLIT, start_step=10, **kw))
  _assert_same(resumed, first[10:])


def test_num_epochs_bounds_the_stream(tfds_data_dir):
  kw = dict(batch_size=BATCH, num_epochs=2, data_dir=tfds_data_dir)
  assert len(list(data.load(NAME, SPLIT, **kw))) == 22
  assert len(list(data.load(NAME, SPLIT, start_step=20, **kw))) == 2
  assert list(data.load(NAME, SPLIT, start_step=40, **kw)) == []


def test_per_process_shares_are_disjoint_and_equal(tfds_data_dir):
  kw = dict(batch_size=100, shuffle=False, num_epochs=1, drop_remainder=False,
            data_dir=tfds_data_dir, process_count=2)
  shares = [data.load(NAME, SPLIT, process_index=i, **kw) for i in range(2)]
  assert [s.num_examples for s in shares] == [749, 748]
  rows = [_rows(list(s)) for s in shares]
  assert not set(rows[0]) & set(rows[1])
  whole = _rows(list(data.load(NAME, SPLIT, **{**kw, "process_count": 1})))
  assert rows[0] + rows[1] == whole
  train = data.load(NAME, SPLIT, batch_size=100, process_index=1, process_count=2,
                    data_dir=tfds_data_dir)
  assert train.num_examples == 748 and train.batches_per_epoch == 7
  with pytest.raises(ValueError, match="`process_index`=2 must be < `process_count`=2"):
    data.load(NAME, SPLIT, batch_size=8, process_index=2, process_count=2,
              data_dir=tfds_data_dir)


def test_image_size_resizes(tfds_data_dir):
  it = data.load(NAME, "test", batch_size=10, image_size=16, data_dir=tfds_data_dir)
  image = next(it)["image"]
  assert image.shape == (10, 16, 16, 1) and image.dtype == np.float32
  assert 0.0 <= image.min() and image.max() <= 1.0 and image.max() > 0.5
  assert it.spec.input_shape == (16, 16, 1)


def test_bad_arguments_raise(tfds_data_dir):
  kw = dict(data_dir=tfds_data_dir)
  with pytest.raises(ValueError, match="`batch_size` must be >= 1, got 0"):
    data.load(NAME, SPLIT, batch_size=0, **kw)
  with pytest.raises(TypeError, match="`batch_size` must be an int"):
    data.load(NAME, SPLIT, batch_size=2.5, **kw)
  with pytest.raises(ValueError, match="`start_step` must be >= 0"):
    data.load(NAME, SPLIT, batch_size=8, start_step=-1, **kw)
  with pytest.raises(ValueError, match="`num_epochs` must be >= 1"):
    data.load(NAME, SPLIT, batch_size=8, num_epochs=0, **kw)
  with pytest.raises(ValueError, match="Unknown split 'validation' for dataset 'digits'"):
    data.load(NAME, "validation", batch_size=8, **kw)
  with pytest.raises(ValueError) as info:  # said once, with a suggestion
    data.load(NAME, "trian", batch_size=8, **kw)
  assert str(info.value).startswith(
      "Unknown split 'trian' for dataset 'digits' (did you mean 'train'?); available: test, "
      "train")
  assert str(info.value).count("trian") == 1
  with pytest.raises(ValueError, match="`batch_size`=400 exceeds the 300 examples"):
    data.load(NAME, "test", batch_size=400, **kw)


def test_stream_is_the_same_in_another_process_whatever_tf_global_seed(reference,
                                                                       tfds_data_dir):
  """The order depends on the arguments only: not on the process, nor tf.random.set_seed."""
  _, ref = reference
  code = textwrap.dedent(f"""
      import hashlib, numpy as np, tensorflow as tf
      from latentjax import data
      def digest():
        it = data.load({NAME!r}, {SPLIT!r}, batch_size={BATCH}, seed=0,
                       data_dir={tfds_data_dir!r})
        h = hashlib.sha256()
        for _ in range(15):
          b = next(it)
          for k in sorted(b):
            h.update(k.encode())
            h.update(np.ascontiguousarray(b[k]).tobytes())
        return h.hexdigest()
      print(digest())
      tf.random.set_seed(1234)
      print(digest())
  """)
  env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
  out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                       text=True, timeout=120, env=env)
  assert out.stdout.split() == [_digest(ref[:15])] * 2


def test_large_split_path_gives_the_same_stream(tfds_data_dir, monkeypatch):
  """Splits over the memory budget shuffle encoded images and decode after the skip."""
  from latentjax.data import _pipeline

  name = "sprites/16_lite"
  load = lambda **kw: data.load(name, "train", batch_size=256, seed=5, shuffle_buffer_size=700,
                                data_dir=tfds_data_dir, **kw)
  cached = _take(load(), 3)
  monkeypatch.setattr(_pipeline, "BUFFER_BUDGET_BYTES", 100_000)
  _assert_same(_take(load(), 3), cached)
  _assert_same(_take(load(start_step=1), 2), cached[1:])
  builder = tfds.builder(name, data_dir=tfds_data_dir)
  _, late_fn, nbytes = _pipeline._examples(builder, data.get_spec(name), "train", 11_520,
                                           lambda ex: ex)
  assert late_fn is not None  # decoding happens after shuffling and skipping
  assert nbytes < 16 * 16 + 12 * 160  # buffer sized for encoded images
