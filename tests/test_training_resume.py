"""Resuming a run: exactly, over every optimizer and schedule option; never a mismatched or
damaged run resumed silently; readers that never touch what a writer is writing.

Each interrupted run uses the *same* config as the uninterrupted one and stops with
``until_step``, as a preempted job does, so schedules that depend on ``num_steps`` are
resumed for real.
"""

import json
import os
import shutil

import jax
import numpy as np
import pytest

from configs import vae_digits
from latentjax import training
from tests._helpers import smoke_config


def _config(data_dir, **sections):
  return smoke_config(vae_digits, data_dir, **sections)


def _arrays(workdir, step=None):
  return jax.device_get(training.load_run(workdir, step=step).state.arrays())


def _assert_equal(a, b):
  jax.tree.map(np.testing.assert_array_equal, a, b)


@pytest.mark.parametrize("options", [
    # Warm-up then cosine decay to zero, AdamW with weight decay, clipping, evaluation
    # during training: every piece of state or schedule that a resume could get wrong.
    {"optim": {"name": "adamw", "schedule": "cosine", "warmup_steps": 3,
               "weight_decay": 1e-2, "grad_clip_norm": 1.0},
     "train": {"eval_every_steps": 4}},
    {"optim": {"name": "sgd", "b1": 0.9, "schedule": "cosine", "learning_rate": 0.05},
     "train": {"parallel": "pmap", "num_devices": 2}},
], ids=["adamw_cosine_warmup_clip_eval", "sgd_momentum_cosine_pmap"])
def test_interrupted_run_with_step_dependent_schedule_resumes_exactly(
    options, tfds_data_dir, tmp_path):
  whole, split = str(tmp_path / "whole"), str(tmp_path / "split")
  training.train(_config(tfds_data_dir, **options), whole)
  training.train(_config(tfds_data_dir, **options), split, until_step=4)
  assert training.Checkpointer(split, read_only=True).all_steps() == [4]
  training.train(_config(tfds_data_dir, **options), split)
  a, b = _arrays(whole), _arrays(split)
  assert int(a["step"]) == int(b["step"]) == 8
  _assert_equal(a, b)  # params, EMA, optimizer state (schedule count), step
  if options["train"].get("eval_every_steps"):
    evals = training.read_metrics(split, split="eval")
    assert [r["step"] for r in evals] == [4, 8]


def test_resume_with_a_different_config_stops_and_keeps_the_saved_one(tfds_data_dir, tmp_path):
  workdir = str(tmp_path)
  config = _config(tfds_data_dir, optim={"schedule": "cosine"})
  training.train(config, workdir, until_step=4)
  with open(os.path.join(workdir, "config.json")) as f:
    saved = f.read()
  changed = _config(tfds_data_dir, optim={"schedule": "cosine"},
                    data={"batch_size": 32}, train={"num_steps": 16})
  with pytest.raises(training.ConfigError) as info:
    training.train(changed, workdir)
  message = str(info.value)
  assert "config.data.batch_size: 16 in the run, 32 now" in message
  assert "config.train.num_steps: 8 in the run, 16 now" in message  # a cosine schedule
  assert "--allow_config_change" in message and "another --workdir" in message
  with open(os.path.join(workdir, "config.json")) as f:
    assert f.read() == saved  # the original config survives
  assert training.Checkpointer(workdir, read_only=True).all_steps() == [4]


def test_keys_that_do_not_change_the_run_may_differ(tfds_data_dir, tmp_path):
  workdir = str(tmp_path)
  training.train(_config(tfds_data_dir), workdir, until_step=4)
  # Constant schedule: extending num_steps is the same run, trained longer.
  longer = _config(tfds_data_dir, train={"num_steps": 12, "log_every_steps": 2},
                   eval={"num_examples": 32})
  training.train(longer, workdir)
  assert training.Checkpointer(workdir, read_only=True).latest_step() == 12
  assert training.read_config(workdir).train.num_steps == 12


def test_allowed_config_change_archives_the_old_config(tfds_data_dir, tmp_path):
  workdir = str(tmp_path)
  training.train(_config(tfds_data_dir), workdir, until_step=4)
  changed = _config(tfds_data_dir, optim={"learning_rate": 5e-4})
  training.train(changed, workdir, allow_config_change=True)
  with open(os.path.join(workdir, "config_history", "step_4.json")) as f:
    assert json.load(f)["optim"]["learning_rate"] == 1e-3
  assert training.read_config(workdir).optim.learning_rate == 5e-4


def _damage(workdir, step):
  """Truncates every file of a checkpoint step's array data, as a crash mid-copy would."""
  root = os.path.join(training.checkpoint_dir(workdir), str(step), "state")
  damaged = 0
  for dirpath, _, files in os.walk(root):
    for name in files:
      path = os.path.join(dirpath, name)
      if os.path.getsize(path) > 8:
        with open(path, "r+b") as f:
          f.truncate(os.path.getsize(path) // 3)
        damaged += 1
  assert damaged


def test_damaged_latest_checkpoint_falls_back_to_the_newest_intact_one(
    tfds_data_dir, vae_smoke_run, tmp_path, caplog):
  workdir, whole = str(tmp_path / "run"), vae_smoke_run  # whole: the same config, undamaged
  training.train(_config(tfds_data_dir), workdir)  # checkpoints at 4 and 8
  _damage(workdir, 8)
  with caplog.at_level("WARNING"):
    run = training.load_run(workdir)  # a reader: falls back, moves nothing
  assert run.step == 4
  assert "step 8" in caplog.text and "damaged" in caplog.text
  assert os.path.isdir(os.path.join(training.checkpoint_dir(workdir), "8"))
  # The writer resumes from step 4, sets step 8 aside, and ends where the whole run did.
  training.train(_config(tfds_data_dir), workdir)
  assert os.path.isdir(os.path.join(workdir, "damaged_checkpoints", "8"))
  _assert_equal(_arrays(whole), _arrays(workdir))


def test_all_checkpoints_damaged_is_an_error_not_a_fresh_start(tfds_data_dir, tmp_path):
  workdir = str(tmp_path)
  training.train(_config(tfds_data_dir), workdir, until_step=4)
  meta = os.path.join(training.checkpoint_dir(workdir), "4", "meta", "metadata")
  with open(meta, "w") as f:
    f.write('{"step": 4, "batches')  # half-written JSON
  with pytest.raises(training.CheckpointError,
                     match=r"no checkpoint in .* can be restored; damaged: step 4 "):
    training.train(_config(tfds_data_dir), workdir)
  assert training.read_metrics(workdir, split="train")[-1]["step"] == 4  # nothing retrained


def test_reading_a_run_never_deletes_a_checkpoint_being_written(tfds_data_dir, tmp_path):
  workdir = str(tmp_path)
  training.train(_config(tfds_data_dir), workdir, until_step=4)
  root = training.checkpoint_dir(workdir)
  # What orbax leaves while it writes step 8: a temporary directory.
  in_flight = os.path.join(root, "8.orbax-checkpoint-tmp-1234")
  shutil.copytree(os.path.join(root, "4"), in_flight)
  assert training.load_run(workdir).step == 4
  training.evaluate(workdir, write_images=False)
  assert os.path.isdir(in_flight)


def test_a_run_saved_before_newer_config_keys_still_loads_and_resumes(tfds_data_dir, tmp_path):
  """config.json files written before a key existed are read with the old behaviour."""
  workdir = str(tmp_path)
  config = _config(tfds_data_dir, objective={"binarize": False})
  training.train(config, workdir, until_step=4)
  path = os.path.join(workdir, "config.json")
  with open(path) as f:
    saved = json.load(f)
  for dotted in training.ADDED_KEYS:
    section, key = dotted.split(".")
    del saved[section][key]
  with open(path, "w") as f:
    json.dump(saved, f)
  assert training.load_run(workdir).step == 4
  training.train(config, workdir)  # the same run: resumes without complaint
  assert training.Checkpointer(workdir, read_only=True).latest_step() == 8


def test_a_writer_removes_unfinished_checkpoints_before_it_returns(tmp_path):
  # orbax does this in a background thread; the training loop then opens its data
  # pipelines, which must not overlap that file-system work (under tfds.testing.mock_data
  # the file system is patched while a pipeline opens, and the thread failed the run).
  from latentjax.training._checkpoint import Checkpointer, checkpoint_dir
  leftover = os.path.join(checkpoint_dir(str(tmp_path)), "7.orbax-checkpoint-tmp-123")
  os.makedirs(os.path.join(leftover, "state"))
  ckpt = Checkpointer(str(tmp_path))
  try:
    assert not os.path.exists(leftover)
  finally:
    ckpt.close()
