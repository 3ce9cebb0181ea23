"""Multi-process training on JAX's distributed runtime: two real processes on localhost.

The end-to-end tests start ``python -m experiments.train`` twice (process 0 and 1, one
CPU device each, gloo collectives) and compare with one process of two devices, the same
global batch: identical losses, parameters and evaluation; only process 0 logs; a
checkpoint both wrote resumes exactly; a killed peer ends the other promptly. Each
subprocess sets its own XLA_FLAGS (the test process has four fake devices).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from experiments import _cli
from latentjax import data, training
from tests._helpers import REPO, run_module

_TOL = dict(rtol=2e-5, atol=1e-6)


# --------------------------------------------------------------------------- arguments

@pytest.mark.parametrize("args, needle", [
    (("localhost", 2, 0), "coordinator_address"),
    (("localhost:", 2, 0), "coordinator_address"),
    ((":1234", 2, 0), "coordinator_address"),
    (("localhost:99999", 2, 0), "coordinator_address"),
    (("localhost:1234", 0, 0), "num_processes"),
    (("localhost:1234", 2, 2), "process_id"),
    (("localhost:1234", 2, -1), "process_id"),
    (("localhost:1234", 2.0, 0), "num_processes"),
    (("localhost:1234", None, 0), "num_processes"),
    ((None, 2, None), "coordinator_address"),
])
def test_bad_distributed_arguments_name_the_argument(args, needle):
  with pytest.raises(ValueError, match=needle):
    training.check_distributed_args(*args)


def test_good_arguments_and_auto_detection_pass():
  training.check_distributed_args("localhost:1234", 2, 1)
  training.check_distributed_args("10.0.0.2:8476", 1, 0)
  training.check_distributed_args(None, None, None)


def test_initialize_distributed_checks_before_starting_anything():
  with pytest.raises(ValueError, match="process_id"):
    training.initialize_distributed("localhost:1234", 2, 5)
  with pytest.raises(ValueError, match="heartbeat_timeout_seconds"):
    training.initialize_distributed("localhost:1234", 2, 0, heartbeat_timeout_seconds=0)


@pytest.mark.parametrize("multihost, given, expected", [
    (False, (None, None, None), False),
    (True, (None, None, None), True),  # auto-detection (TPU VMs, SLURM, MPI)
    (False, ("localhost:1234", 2, 0), True),
    (True, ("localhost:1234", 2, 0), True),
    (False, ("localhost:1234", None, None), True),  # then a partial set is an error
    (False, (None, 2, None), True),
    (False, (None, None, 0), True),
])
def test_process_flags_without_multihost_mean_a_multi_process_run(multihost, given, expected):
  assert _cli.joins_multi_process_run(multihost, *given) is expected


@pytest.mark.parametrize("flags, message", [
    (("--coordinator_address=localhost:1", "--num_processes=2", "--process_id=2"),
     "error: --process_id must be in [0, num_processes=2), got 2"),
    (("--num_processes=2",), "error: give all of --coordinator_address, --num_processes and "
                             "--process_id, or none"),
])
def test_process_flags_alone_are_checked_as_a_multi_process_run(flags, message):
  proc = run_module("experiments.train", "--config=configs/vae_digits.py:smoke",
                    "--workdir=/nonexistent", *flags, timeout=120)
  assert proc.returncode == 1, proc.stderr[-2000:]
  errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
  assert len(errors) == 1 and errors[0].startswith(message), errors


def test_single_process_helpers_are_identities():
  training.barrier("nothing_to_wait_for")
  assert training.sum_over_processes({"a": 1.5, "n": 3}) == {"a": 1.5, "n": 3.0}


def test_cli_rejects_bad_process_id_in_one_line():
  proc = run_module("experiments.train", "--config=configs/vae_digits.py:smoke",
                    "--workdir=/nonexistent", "--multihost", "--coordinator_address=localhost:1",
                    "--num_processes=2", "--process_id=2", timeout=120)
  assert proc.returncode == 1, proc.stderr[-2000:]
  assert "Traceback" not in proc.stderr
  errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
  assert errors == ["error: --process_id must be in [0, num_processes=2), got 2"], errors


def test_process_shares_of_batches_make_the_global_batch(tfds_data_dir):
  """process_share='batches': the shares of 3 processes, stacked, are one process's batches."""
  kw = dict(shuffle=True, seed=3, start_step=5, data_dir=tfds_data_dir)
  whole = data.load("digits", "train", batch_size=12, **kw)
  shares = [data.load("digits", "train", batch_size=4, process_index=i, process_count=3,
                      process_share="batches", **kw) for i in range(3)]
  for _ in range(2):
    expected = next(whole)
    parts = [next(s) for s in shares]
    for k in expected:
      np.testing.assert_array_equal(np.concatenate([p[k] for p in parts]), expected[k])
  with pytest.raises(ValueError, match="process_share"):
    data.load("digits", "train", batch_size=4, process_share="rows", data_dir=tfds_data_dir)


# --------------------------------------------------------------------------- two processes

def _free_port() -> int:
  with socket.socket() as s:
    s.bind(("localhost", 0))
    return s.getsockname()[1]


def _env(num_devices: int) -> dict:
  env = dict(os.environ, JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="",
             XLA_FLAGS=f"--xla_force_host_platform_device_count={num_devices}")
  env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
  return env


def _command(config, workdir, data_dir, *extra):
  return [sys.executable, "-m", "experiments.train", f"--config={config}",
          f"--workdir={workdir}", f"--config.data.data_dir={data_dir}", *extra]


def _start_pair(config, workdir, data_dir, *extra):
  port = _free_port()
  return [subprocess.Popen(
      _command(config, workdir, data_dir, *extra, "--multihost",
               f"--coordinator_address=localhost:{port}", "--num_processes=2",
               f"--process_id={i}"),
      cwd=REPO, env=_env(1), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
      for i in range(2)]


def _run_pair(config, workdir, data_dir, *extra):
  procs = _start_pair(config, workdir, data_dir, *extra)
  outs = [p.communicate(timeout=600) for p in procs]
  for p, (_, err) in zip(procs, outs, strict=True):
    assert p.returncode == 0, err[-3000:]
  # What the program printed (gloo's own connection notice left out).
  return ["".join(ln for ln in out.splitlines(keepends=True) if not ln.startswith("[Gloo]"))
          for out, _ in outs]


def _run_single(config, workdir, data_dir, *extra):
  proc = subprocess.run(_command(config, workdir, data_dir, *extra), cwd=REPO, env=_env(2),
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return proc.stdout


def _records(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  for r in rows:
    r.pop("steps_per_sec", None)
  return rows


def _assert_same_records(got, want):
  assert [(r["step"], r["split"]) for r in got] == [(r["step"], r["split"]) for r in want]
  for g, w in zip(got, want, strict=True):
    assert sorted(g) == sorted(w)
    np.testing.assert_allclose([g[k] for k in sorted(g) if k not in ("step", "split")],
                               [w[k] for k in sorted(w) if k not in ("step", "split")], **_TOL)


def _assert_same_params(got_dir, want_dir):
  got, want = training.load_run(got_dir), training.load_run(want_dir)
  assert got.step == want.step
  leaves_g = jax.tree.leaves(got.state.arrays())
  leaves_w = jax.tree.leaves(want.state.arrays())
  assert len(leaves_g) == len(leaves_w) > 0
  for g, w in zip(leaves_g, leaves_w, strict=True):
    np.testing.assert_allclose(np.asarray(g), np.asarray(w), **_TOL)


def _event_files(workdir):
  return [f for _, _, files in os.walk(os.path.join(workdir, "tensorboard")) for f in files]


@pytest.mark.slow
def test_vae_two_processes_train_resume_and_evaluate_as_one(tfds_data_dir, tmp_path):
  """2 processes x 1 device == 1 process x 2 devices: losses, checkpoint, resume, metrics."""
  config = "configs/vae_digits.py:smoke"
  one, two = str(tmp_path / "one"), str(tmp_path / "two")
  _run_single(config, one, tfds_data_dir)  # 8 steps, checkpoints at 4 and 8, evaluation
  # Both processes write the step-4 checkpoint and stop; both restore it and go on to 8.
  first = _run_pair(config, two, tfds_data_dir, "--config.train.num_steps=4", "--noeval")
  assert training.Checkpointer(two, read_only=True).all_steps() == [4]
  assert not any(first), first  # nothing printed without evaluation
  outs = _run_pair(config, two, tfds_data_dir)
  assert training.Checkpointer(two, read_only=True).all_steps() == [4, 8]
  _assert_same_records(_records(two), _records(one))  # one line per step: process 0 only
  _assert_same_params(two, one)
  assert len(_event_files(two)) == 2  # one TensorBoard writer per invocation, process 0's
  with open(os.path.join(one, "metrics.json")) as f:
    want = json.load(f)
  with open(os.path.join(two, "metrics.json")) as f:
    got = json.load(f)
  assert want["num_examples"] == got["num_examples"] == 64
  for k in ("elbo_nats", "iwae_nats", "kl_nats"):
    np.testing.assert_allclose(got[k], want[k], **_TOL)
  assert "Evaluation on test" in outs[0] and outs[1] == ""  # only process 0 reports
  assert os.path.exists(os.path.join(two, "samples.png"))


@pytest.mark.slow
def test_gan_two_processes_train_as_one(tfds_data_dir, tmp_path):
  config = "configs/dcgan_digits.py:smoke"
  one, two = str(tmp_path / "one"), str(tmp_path / "two")
  _run_single(config, one, tfds_data_dir, "--noeval")
  _run_pair(config, two, tfds_data_dir, "--noeval")
  _assert_same_records(_records(two), _records(one))
  _assert_same_params(two, one)


@pytest.mark.slow
def test_killed_peer_stops_the_other_with_one_error_line(tfds_data_dir, tmp_path):
  workdir = str(tmp_path / "run")
  procs = _start_pair("configs/vae_digits.py:smoke", workdir, tfds_data_dir,
                      "--config.train.num_steps=1000000", "--config.train.log_every_steps=5",
                      "--config.train.checkpoint_every_steps=1000000", "--noeval")
  try:
    metrics = os.path.join(workdir, "metrics.jsonl")
    deadline = time.monotonic() + 300
    while not (os.path.exists(metrics) and os.path.getsize(metrics)):
      assert procs[0].poll() is None and time.monotonic() < deadline, "training never began"
      time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    _, err = procs[0].communicate(timeout=90)
    waited = time.monotonic() - killed_at
  finally:
    for p in procs:
      if p.poll() is None:
        p.kill()
        p.communicate()
  assert procs[0].returncode == 1, err[-3000:]
  assert waited < 60, waited
  errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
  assert len(errors) == 1, err[-3000:]
  assert "another process of this multi-process run died" in errors[0], errors[0]
  assert "Traceback" not in err, err[-3000:]
