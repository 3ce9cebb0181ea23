"""One training per workdir: a second one stops at once, naming the run that holds it.

Before the lock, a second ``train`` on a workdir whose run was still going was accepted:
both wrote checkpoints into one folder and interleaved ``metrics.jsonl``. The holders
below are other programs following the lock's protocol (``<workdir>/train.lock``, held
with ``flock``, holding a JSON record of its holder), as a second terminal would be.
"""

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest

from configs import vae_digits
from latentjax import training
from tests._helpers import REPO, smoke_config

LOCK = "train.lock"
_STARTED = "2030-01-02 03:04:05 UTC"
_HOLDER = textwrap.dedent(f"""
    import fcntl, json, os, socket, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, json.dumps({{"host": socket.gethostname(), "pid": os.getpid(),
                             "started": "{_STARTED}"}}).encode())
    print("locked", flush=True)
    time.sleep(600)
""")


def _config(data_dir):
  return smoke_config(vae_digits, data_dir)


def _start_holder(workdir):
  os.makedirs(workdir, exist_ok=True)
  proc = subprocess.Popen([sys.executable, "-c", _HOLDER, os.path.join(workdir, LOCK)],
                          stdout=subprocess.PIPE, text=True)
  assert proc.stdout.readline() == "locked\n"
  return proc


def _kill(proc):
  proc.send_signal(signal.SIGKILL)
  proc.wait(timeout=30)


def _held(path) -> bool:
  """Whether another open file description holds ``path``'s lock (False without a file)."""
  try:
    fd = os.open(path, os.O_RDONLY)
  except FileNotFoundError:
    return False
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    return True
  finally:
    os.close(fd)
  return False


def _assert_equal(a, b):
  jax.tree.map(np.testing.assert_array_equal, a, b)


def test_training_a_workdir_in_use_stops_with_one_line_naming_the_holder(
    tfds_data_dir, tmp_path):
  workdir = str(tmp_path / "run")
  holder = _start_holder(workdir)
  try:
    with pytest.raises(RuntimeError) as info:
      training.train(_config(tfds_data_dir), workdir)
    message = str(info.value)
    assert isinstance(info.value, training.WorkdirInUseError)
    assert "\n" not in message
    assert f"host {socket.gethostname()}" in message
    assert f"pid {holder.pid}" in message and f"started {_STARTED}" in message
    assert "--workdir" in message and "wait" in message  # the remedy
    assert os.listdir(workdir) == [LOCK]  # nothing else in the folder was touched
    assert _held(os.path.join(workdir, LOCK))  # and the holder keeps its lock
  finally:
    _kill(holder)


def test_lock_of_a_killed_training_is_taken_over_and_the_run_resumes(
    tfds_data_dir, vae_smoke_run, tmp_path):
  workdir = str(tmp_path / "run")
  training.train(_config(tfds_data_dir), workdir, until_step=4)
  holder = _start_holder(workdir)
  # Readers neither take the lock nor wait for it.
  assert training.has_checkpoint(workdir)
  assert training.load_run(workdir).step == 4
  _kill(holder)  # as SIGKILL, preemption or an OOM kill would: the file stays behind
  with open(os.path.join(workdir, LOCK)) as f:
    assert json.load(f)["pid"] == holder.pid
  training.train(_config(tfds_data_dir), workdir)  # no flag needed
  assert not os.path.exists(os.path.join(workdir, LOCK))
  _assert_equal(jax.device_get(training.load_run(workdir).state.arrays()),
                jax.device_get(training.load_run(vae_smoke_run).state.arrays()))


def test_lock_is_held_while_training_and_released_after_the_end_and_after_an_error(
    tfds_data_dir, tmp_path, monkeypatch):
  workdir = str(tmp_path / "run")
  path = os.path.join(workdir, LOCK)
  write = training.MetricWriter.write
  seen = []

  def observe(self, step, metrics, split="train"):
    seen.append((step, _held(path)))
    if step == 4 and interrupt:
      raise KeyboardInterrupt
    return write(self, step, metrics, split)

  monkeypatch.setattr(training.MetricWriter, "write", observe)
  interrupt = True
  with pytest.raises(KeyboardInterrupt):
    training.train(_config(tfds_data_dir), workdir)
  assert seen == [(4, True)]
  assert not os.path.exists(path)
  interrupt = False
  training.train(_config(tfds_data_dir), workdir)  # the lock is free again
  assert seen[1:] == [(4, True), (8, True)]
  assert not os.path.exists(path)


@pytest.mark.slow
def test_second_train_command_on_a_running_workdir_exits_with_one_line(
    tfds_data_dir, tmp_path):
  workdir = str(tmp_path / "run")
  env = dict(os.environ)
  env.pop("XLA_FLAGS", None)
  command = [sys.executable, "-m", "experiments.train", "--config=configs/vae_digits.py:smoke",
             f"--workdir={workdir}", f"--config.data.data_dir={tfds_data_dir}", "--noeval"]
  first = subprocess.Popen([*command, "--config.train.num_steps=1000000",
                            "--config.train.checkpoint_every_steps=1000000"],
                           cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
  try:
    metrics = os.path.join(workdir, "metrics.jsonl")
    deadline = time.monotonic() + 300
    while not (os.path.exists(metrics) and os.path.getsize(metrics)):
      assert first.poll() is None and time.monotonic() < deadline, "training never began"
      time.sleep(0.2)
    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                            timeout=300)
  finally:
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=60)
  assert second.returncode == 1, second.stderr[-3000:]
  assert "Traceback" not in second.stderr, second.stderr[-3000:]
  errors = [ln for ln in second.stderr.splitlines() if ln.startswith("error:")]
  assert len(errors) == 1 and f"pid {first.pid}" in errors[0], second.stderr[-3000:]
