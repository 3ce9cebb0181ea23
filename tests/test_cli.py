"""The entry points as a user runs them: clean errors, and exact resume after SIGKILL."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from latentjax import training
from tests._helpers import REPO, run_module


def _train_args(workdir, data_dir, *extra):
  return ("experiments.train", "--config=configs/vae_digits.py:smoke", f"--workdir={workdir}",
          f"--config.data.data_dir={data_dir}", *extra)


def test_missing_dataset_gives_one_clear_message(tmp_path):
  empty = tmp_path / "empty_tfds"
  empty.mkdir()
  proc = run_module(*_train_args(tmp_path / "run", empty, "--config.data.name=mnist",
                                 "--config.data.download=False"), timeout=300)
  assert proc.returncode == 1
  assert "Traceback" not in proc.stderr
  assert "error:" in proc.stderr and "mnist" in proc.stderr and "tfds build" in proc.stderr


def test_bad_config_exits_with_message(tmp_path):
  proc = run_module(*_train_args(tmp_path / "run", tmp_path, "--config.objective.beta=-2.0"),
                    timeout=300)
  assert proc.returncode == 1
  assert "Traceback" not in proc.stderr
  assert "config.objective.beta must be >= 0, got -2.0" in proc.stderr


@pytest.mark.slow
def test_resume_after_sigkill_is_exact(tfds_data_dir, tmp_path):
  """Kill a real training process mid-run; the restarted run ends bit-identical."""
  extra = ("--config.train.num_steps=1500", "--config.train.checkpoint_every_steps=100",
           "--config.train.log_every_steps=50", "--eval=False")
  whole, killed = tmp_path / "whole", tmp_path / "killed"
  proc = run_module(*_train_args(whole, tfds_data_dir, *extra), timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]

  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)
  child = subprocess.Popen([sys.executable, "-m", *_train_args(killed, tfds_data_dir, *extra)],
                           cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
  ckpt_root = killed / "checkpoints"
  deadline = time.time() + 300
  while time.time() < deadline and child.poll() is None:
    names = os.listdir(ckpt_root) if ckpt_root.exists() else []
    steps = [int(n) for n in names if n.isdigit()]
    if any(200 <= s < 1500 for s in steps):
      break
    time.sleep(0.02)
  assert child.poll() is None, "training finished before it could be killed"
  child.send_signal(signal.SIGKILL)
  child.wait()
  interrupted_at = training.Checkpointer(str(killed)).latest_step()
  assert interrupted_at is not None and interrupted_at < 1500

  proc = run_module(*_train_args(killed, tfds_data_dir, *extra), timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  a = jax.device_get(training.load_run(str(whole)).state.arrays())
  b = jax.device_get(training.load_run(str(killed)).state.arrays())
  assert int(a["step"]) == int(b["step"]) == 1500
  jax.tree.map(np.testing.assert_array_equal, a, b)  # params, EMA, optimizer state
