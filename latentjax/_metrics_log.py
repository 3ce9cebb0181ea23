"""The one reader of ``metrics.jsonl``, the training log, for training, viz and explore.

``training.MetricWriter`` appends one JSON object per log event::

    {"step": 100, "split": "train", "loss": 0.41, "steps_per_sec": 812.0}
    {"step": 100, "split": "eval", "elbo": -95.2}

Non-finite values are written as the strings ``"nan"``, ``"inf"``, ``"-inf"``. Logs
without a ``split`` field (``{"step": 100, "train/loss": 0.41}``, as written by
``viz.write_metrics_jsonl``) are read too. The rules, the same for every caller:

* splits are kept apart: a record's metrics are named ``"<split>/<name>"``
  (``"train/loss"``, ``"eval/loss"``) and nested objects are flattened with ``"/"``;
* a step logged again (a resumed run re-logs the steps after its last checkpoint) keeps
  the latest value;
* a truncated last line (a run killed mid-write: no closing newline) is ignored, while a
  bad line anywhere else raises ``ValueError`` naming the file and line number.

Only the standard library and NumPy are used, so ``viz`` can read logs without the
training stack (TensorFlow, orbax).

    records = read_records("runs/vae/metrics.jsonl", split="train")   # list of dicts
    series = read_series("runs/vae/metrics.jsonl")  # "train/loss" -> (steps, values)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping

import numpy as np

__all__ = ["read_records", "read_series"]

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def _parse(path) -> list[dict]:
  """Valid records in file order; see the module docstring for the rules."""
  with open(path, encoding="utf-8") as f:
    lines = f.read().split("\n")
  # After the last "\n" comes "" for a complete file, or an unfinished line.
  last = len(lines) - 1
  records = []
  for lineno, line in enumerate(lines, start=1):
    if not line.strip():
      continue
    try:
      record = json.loads(line)
    except json.JSONDecodeError as e:
      if lineno - 1 == last:  # no newline after it: cut short while being written
        continue
      raise ValueError(f"{os.fspath(path)}:{lineno}: not valid JSON ({e.msg})") from None
    if (not isinstance(record, dict) or isinstance(record.get("step"), bool)
        or not isinstance(record.get("step"), (int, float))):
      raise ValueError(f"{os.fspath(path)}:{lineno}: expected an object with a numeric 'step'")
    split = record.get("split")
    if split is not None and not isinstance(split, str):
      raise ValueError(f"{os.fspath(path)}:{lineno}: 'split' must be a string, got {split!r}")
    records.append(record)
  return records


def read_records(path, split: str | None = None) -> list[dict]:
  """Reads a metrics log as records, one per (split, step), sorted by step then split.

  Args:
    path: the ``metrics.jsonl`` file.
    split: keep only records of this split (``"train"``, ``"eval"``); None keeps all.

  Returns:
    Records as written (``"step"`` as int), a step logged twice merged into one record in
    which later values win. A missing file gives ``[]``.

  Raises:
    ValueError: on a malformed line other than a truncated last one (with its number).
  """
  if not os.path.exists(path):
    return []
  merged: dict[tuple[str, int], dict] = {}
  for record in _parse(path):
    if split is not None and record.get("split") != split:
      continue
    key = (record.get("split") or "", int(record["step"]))
    merged[key] = {**merged.get(key, {}), **record, "step": key[1]}
  return [merged[k] for k in sorted(merged, key=lambda k: (k[1], k[0]))]


def _flatten(record: Mapping, prefix: str) -> dict[str, float]:
  out = {}
  for key, value in record.items():
    name = f"{prefix}{key}"
    if isinstance(value, Mapping):
      out.update(_flatten(value, f"{name}/"))
    elif isinstance(value, str) and value in _NON_FINITE:
      out[name] = _NON_FINITE[value]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
      out[name] = float(value)
  return out


def read_series(path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """Reads a metrics log as series: ``"<split>/<metric>" -> (steps, values)``.

  Args:
    path: the ``metrics.jsonl`` file.

  Returns:
    dict name -> (steps int64 [K], values float64 [K]), sorted by step, one value per
    step (the latest logged); names are prefixed with the record's split when it has
    one. Non-numeric fields are skipped; ``"nan"`` / ``"inf"`` strings become floats.

  Raises:
    FileNotFoundError: if the file does not exist.
    ValueError: on a malformed line other than a truncated last one (with its number).
  """
  if not os.path.exists(path):
    raise FileNotFoundError(f"no metrics log at {os.fspath(path)}")
  points: dict[str, dict[int, float]] = {}
  for record in _parse(path):
    split = record.get("split")
    prefix = f"{split}/" if split else ""
    fields = {k: v for k, v in record.items() if k not in ("step", "split")}
    for name, value in _flatten(fields, prefix).items():
      points.setdefault(name, {})[int(record["step"])] = value
  out = {}
  for name, by_step in points.items():
    steps = sorted(by_step)
    out[name] = (np.asarray(steps, np.int64),
                 np.asarray([by_step[s] for s in steps], np.float64))
  return out
