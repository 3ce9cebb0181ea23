"""One reader of ``metrics.jsonl`` for training, viz and explore, with the same rules."""

import json

import numpy as np
import pytest

from latentjax import viz
from latentjax.explore import _summary
from latentjax.training import _logging


def _write(path, records, tail=""):
  path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
  return path


def _log(tmp_path, tail=""):
  """A log as the trainer writes it: train and eval records at the same steps."""
  records = []
  for step in (100, 200):
    records.append({"step": step, "split": "train", "loss": 1.0 / step, "steps_per_sec": 9.0})
    records.append({"step": step, "split": "eval", "loss": 2.0 / step})
  return _write(tmp_path / "metrics.jsonl", records, tail)


def test_loss_curves_keeps_train_and_eval_loss_at_the_same_steps_apart(tmp_path):
  log = _log(tmp_path)
  history = viz.read_metrics_jsonl(log)
  np.testing.assert_array_equal(history["train/loss"][0], [100, 200])
  np.testing.assert_allclose(history["train/loss"][1], [0.01, 0.005])
  np.testing.assert_allclose(history["eval/loss"][1], [0.02, 0.01])
  fig = viz.loss_curves(log, metrics=["train/loss", "eval/loss"])
  lines = fig.axes[0].get_lines()
  assert fig.axes[0].get_title() == "loss"
  assert sorted(line.get_label() for line in lines) == ["eval", "train"]
  assert all(len(line.get_xdata()) == 2 for line in lines)
  assert set(_summary.training_history(str(tmp_path))) == {"train/loss", "eval/loss"}


def test_relogged_step_keeps_the_later_value_once(tmp_path):
  # A resumed run logs steps 200 again after its checkpoint at step 100.
  log = _write(tmp_path / "metrics.jsonl", [
      {"step": 100, "split": "train", "loss": 3.0},
      {"step": 200, "split": "train", "loss": 2.0},
      {"step": 200, "split": "train", "loss": 1.5},
      {"step": 300, "split": "train", "loss": 1.0},
  ])
  steps, values = viz.read_metrics_jsonl(log)["train/loss"]
  assert steps.tolist() == [100, 200, 300] and values.tolist() == [3.0, 1.5, 1.0]
  assert [r["loss"] for r in _logging.read_metrics(str(tmp_path), split="train")] == [
      3.0, 1.5, 1.0]
  assert _summary.training_history(str(tmp_path))["train/loss"][1].tolist() == [3.0, 1.5, 1.0]
  fig = viz.loss_curves(log)
  assert fig.axes[0].get_lines()[0].get_xdata().tolist() == [100, 200, 300]


def test_truncated_last_line_is_ignored(tmp_path):
  _log(tmp_path, tail='{"step": 300, "split": "train", "lo')  # killed mid-write
  history = viz.read_metrics_jsonl(tmp_path / "metrics.jsonl")
  assert history["train/loss"][0].tolist() == [100, 200]
  assert [r["step"] for r in _logging.read_metrics(str(tmp_path), split="train")] == [100, 200]
  assert _summary.training_history(str(tmp_path))["eval/loss"][0].tolist() == [100, 200]


def test_corrupt_line_in_the_middle_raises_with_its_number(tmp_path):
  log = tmp_path / "metrics.jsonl"
  log.write_text('{"step": 1, "split": "train", "loss": 1.0}\n{"step": 2, "spl\n'
                 '{"step": 3, "split": "train", "loss": 0.5}\n')
  with pytest.raises(ValueError, match=r"metrics.jsonl:2: not valid JSON"):
    viz.read_metrics_jsonl(log)
  with pytest.raises(ValueError, match=r"metrics.jsonl:2: not valid JSON"):
    _logging.read_metrics(str(tmp_path))
  # A complete (newline-terminated) bad last line is corruption too, not truncation.
  log.write_text('{"step": 1, "loss": 1.0}\n{"step": 2, "lo\n')
  with pytest.raises(ValueError, match=r"metrics.jsonl:2: not valid JSON"):
    viz.read_metrics_jsonl(log)


def test_the_trainers_writer_round_trips_through_every_reader(tmp_path):
  writer = _logging.MetricWriter(str(tmp_path), tensorboard=False)
  writer.write(10, {"loss": 0.5, "kl": float("nan")}, split="train")
  writer.write(10, {"elbo": -90.0}, split="eval")
  history = viz.read_metrics_jsonl(writer.path)
  assert sorted(history) == ["eval/elbo", "train/kl", "train/loss"]
  assert np.isnan(history["train/kl"][1][0])
  records = _logging.read_metrics(str(tmp_path))
  assert [(r["split"], r["step"]) for r in records] == [("eval", 10), ("train", 10)]
  assert _summary.training_history(str(tmp_path)).keys() == {"train/loss", "eval/elbo"}


def test_resumed_writer_does_not_glue_a_record_to_a_truncated_line(tmp_path):
  """A run killed mid-write leaves half a line; the resumed run's records stay readable."""
  from latentjax import training

  path = tmp_path / "metrics.jsonl"
  path.write_text('{"step": 4, "split": "train", "loss": 1.0}\n{"step": 8, "split": "tr')
  writer = training.MetricWriter(str(tmp_path), tensorboard=False)
  writer.write(8, {"loss": 0.5})
  writer.close()
  records = training.read_metrics(str(tmp_path), split="train")
  assert [(r["step"], r["loss"]) for r in records] == [(4, 1.0), (8, 0.5)]
