"""Metric logging: a JSON-lines file and TensorBoard event files in the run folder.

``metrics.jsonl`` gets one line per log event: ``{"step": 100, "split": "train",
"loss": ..., ...}``. TensorBoard events go to ``<workdir>/tensorboard/<split>``.
Logging is called every ``log_every_steps``, never per step, so training does not
block on the device.
"""

import json
import math
import os
from collections.abc import Mapping

from latentjax._metrics_log import read_records


def _drop_partial_last_line(path: str) -> None:
  """Cuts a last line left unfinished by a killed run, so appending starts on a new line."""
  if not os.path.exists(path):
    return
  with open(path, "rb+") as f:
    data = f.read()
    if data and not data.endswith(b"\n"):
      f.truncate(data.rfind(b"\n") + 1)


class MetricWriter:
  """Writes scalar metrics to ``<workdir>/metrics.jsonl`` and TensorBoard.

  Args:
    workdir: the run folder.
    tensorboard: also write TensorBoard event files (needs TensorFlow).
    enabled: False makes every write a no-op (processes other than the first of a
      multi-host run).
  """

  def __init__(self, workdir: str, *, tensorboard: bool = True, enabled: bool = True):
    self._enabled = enabled
    os.makedirs(workdir, exist_ok=True)
    self._path = os.path.join(workdir, "metrics.jsonl")
    self._tb_root = os.path.join(workdir, "tensorboard") if tensorboard else None
    self._tb_writers = {}
    if enabled:
      _drop_partial_last_line(self._path)

  @property
  def path(self) -> str:
    return self._path

  def write(self, step: int, metrics: Mapping[str, float], split: str = "train") -> None:
    """Appends one record; non-finite values are written as strings ("nan", "inf")."""
    if not self._enabled:
      return
    record = {"step": int(step), "split": split}
    for k, v in metrics.items():
      v = float(v)
      record[k] = v if math.isfinite(v) else str(v)
    with open(self._path, "a") as f:
      f.write(json.dumps(record) + "\n")
    if self._tb_root is not None:
      writer = self._tb_writer(split)
      import tensorflow as tf

      with writer.as_default(step=int(step)):
        for k, v in metrics.items():
          tf.summary.scalar(k, float(v))
      writer.flush()

  def _tb_writer(self, split: str):
    if split not in self._tb_writers:
      import tensorflow as tf

      self._tb_writers[split] = tf.summary.create_file_writer(
          os.path.join(self._tb_root, split))
    return self._tb_writers[split]

  def close(self) -> None:
    for w in self._tb_writers.values():
      w.close()
    self._tb_writers.clear()


def read_metrics(workdir: str, split: str | None = None) -> list[dict]:
  """Reads ``<workdir>/metrics.jsonl`` back as a list of records (optionally one split).

  A thin name over the one reader of the log (``latentjax._metrics_log.read_records``):
  a step logged twice (a resumed run re-logs steps) keeps the latest values, a truncated
  last line (a run killed mid-write) is ignored, and any other bad line raises.

  Args:
    workdir: the run folder.
    split: keep only this split (``"train"``, ``"eval"``); None keeps all.

  Returns:
    One record per (split, step), sorted by step then split; ``[]`` without a log.

  Raises:
    ValueError: on a malformed line in the middle of the log (naming the line number).
  """
  return read_records(os.path.join(workdir, "metrics.jsonl"), split=split)
