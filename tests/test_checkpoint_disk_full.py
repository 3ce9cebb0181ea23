"""A full disk stops training with one line, keeps the last checkpoint, and resumes later.

Before this, a checkpoint that could not be written (``No space left on device``) ended
training with three tracebacks and a screen of ``RuntimeError: Event loop is closed``.
Now the free space is checked against the size of the last checkpoint before each save,
and a write that fails anyway (the first checkpoint, or a race) is turned into the same
one-line error.
"""

import errno
import os
import shutil

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from configs import vae_digits
from experiments import _cli
from latentjax import training
from tests._helpers import smoke_config

# What orbax raises when tensorstore runs out of space in its background writer.
_TENSORSTORE_ENOSPC = (
    'RESOURCE_EXHAUSTED: Error writing "params.decoder.bias/0" in OCDBT database at local '
    'file "{root}/8.orbax-checkpoint-tmp/state.orbax-checkpoint-tmp/ocdbt.process_0/": '
    'Failed writing: "{root}/8.orbax-checkpoint-tmp/state.orbax-checkpoint-tmp/'
    'ocdbt.process_0/d/57c49ded": Failed to write 1654784 bytes to file 4: No space left on '
    "device [os_error_code='28']")


def _config(data_dir):
  return smoke_config(vae_digits, data_dir)


def _size(path) -> int:
  return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path)
             for f in files)


def _assert_same_state(workdir, want):
  jax.tree.map(np.testing.assert_array_equal,
               jax.device_get(training.load_run(workdir).state.arrays()),
               jax.device_get(training.load_run(want).state.arrays()))


def _check_message(message, root, *, free, need, kept):
  assert "\n" not in message
  assert root in message
  assert f"({free} bytes)" in message and f"({need} bytes)" in message
  assert f"step {kept}" in message and "kept" in message
  assert "resume" in message


def test_checkpoint_that_cannot_fit_stops_before_writing_and_the_run_resumes(
    tfds_data_dir, vae_smoke_run, tmp_path, monkeypatch):
  workdir = str(tmp_path / "run")
  root = training.checkpoint_dir(workdir)
  training.train(_config(tfds_data_dir), workdir, until_step=4)
  need = _size(os.path.join(root, "4"))
  disk_usage = shutil.disk_usage

  def nearly_full(path):
    if os.path.abspath(path).startswith(os.path.abspath(workdir)):
      return shutil._ntuple_diskusage(10**9, 10**9 - 1000, 1000)  # noqa: SLF001
    return disk_usage(path)

  monkeypatch.setattr(shutil, "disk_usage", nearly_full)
  with pytest.raises(training.CheckpointError) as info:
    training.train(_config(tfds_data_dir), workdir)
  _check_message(str(info.value), root, free=1000, need=need, kept=4)
  assert "step 8" in str(info.value)
  assert os.listdir(root) == ["4"]  # nothing of step 8 was started
  monkeypatch.undo()
  training.train(_config(tfds_data_dir), workdir)  # once there is space: resumes exactly
  _assert_same_state(workdir, vae_smoke_run)


@pytest.mark.parametrize("where", ["save", "background"])
def test_no_space_while_writing_is_one_line_and_keeps_the_last_checkpoint(
    where, tfds_data_dir, vae_smoke_run, tmp_path, monkeypatch):
  workdir = str(tmp_path / "run")
  root = training.checkpoint_dir(workdir)
  training.train(_config(tfds_data_dir), workdir, until_step=4)
  need = _size(os.path.join(root, "4"))
  armed = []
  wait = ocp.CheckpointManager.wait_until_finished

  def failing_save(self, step, *args, **kwargs):
    if where == "save":  # the write fails at once
      raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(root, f"{step}"))
    armed.append(step)  # the write "starts" and fails in orbax's background thread
    return True

  def failing_wait(self):
    if armed:
      armed.clear()
      raise ValueError(_TENSORSTORE_ENOSPC.format(root=root))
    return wait(self)

  monkeypatch.setattr(ocp.CheckpointManager, "save", failing_save)
  monkeypatch.setattr(ocp.CheckpointManager, "wait_until_finished", failing_wait)
  free = shutil.disk_usage(root).free
  with pytest.raises(training.CheckpointError) as info:
    training.train(_config(tfds_data_dir), workdir)
  message = str(info.value)
  assert "step 8" in message and "No space left on device" in message
  free_in_message = int(message.split(" bytes) free")[0].rsplit("(", 1)[1])
  assert abs(free_in_message - free) < 10**8  # what the disk had then
  _check_message(message, root, free=free_in_message, need=need, kept=4)
  monkeypatch.undo()
  assert training.Checkpointer(workdir, read_only=True).all_steps() == [4]
  training.train(_config(tfds_data_dir), workdir)
  _assert_same_state(workdir, vae_smoke_run)


def test_no_space_for_the_first_checkpoint_is_printed_by_the_cli_as_one_line(
    tmp_path, monkeypatch, capsys):
  def failing_save(self, step, *args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

  monkeypatch.setattr(ocp.CheckpointManager, "save", failing_save)
  ckpt = training.Checkpointer(str(tmp_path))
  arrays = {"w": np.zeros((256, 256), np.float32)}
  try:
    with pytest.raises(training.CheckpointError) as info:
      ckpt.save(1, arrays, {"step": 1})
  finally:
    ckpt.close()
  message = str(info.value)
  assert "\n" not in message and training.checkpoint_dir(str(tmp_path)) in message
  assert f"({arrays['w'].nbytes} bytes" in message  # what the state's arrays take
  assert "no complete checkpoint" in message

  def run():
    raise info.value

  with pytest.raises(SystemExit) as exit_info:
    _cli.run_or_exit(run)
  assert exit_info.value.code == 1
  assert capsys.readouterr().err == f"error: {message}\n"
