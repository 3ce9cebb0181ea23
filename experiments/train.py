r"""Trains a model from a config file, then evaluates it.

    python -m experiments.train --config=configs/vae_digits.py --workdir=runs/vae
    python -m experiments.train --config=configs/vae_digits.py:smoke --workdir=/tmp/smoke \
        --config.train.num_steps=200

Re-running with the same --workdir resumes from its latest checkpoint, after checking that
the config describes the same run as the saved config.json (a difference in a key that
changes the run stops with the keys listed; --allow_config_change resumes anyway). Outputs in
the workdir: config.json, checkpoints/, metrics.jsonl, tensorboard/, metrics.json,
samples.png, reconstructions.png; with --profile_steps=A:B also profile/, a JAX profiler
trace of training steps A..B (tensorboard --logdir=<workdir>/profile).

Multi-process runs (see README, "Multi-process training"): every process runs the same
command. On Cloud TPU VMs and under SLURM or Open MPI, --multihost alone: the processes
find each other by themselves. Elsewhere give --coordinator_address=HOST:PORT (process
0's), --num_processes and --process_id (0 .. num_processes - 1), which by themselves make
the run multi-process (--multihost may be added, and changes nothing):

    python -m experiments.train --config=... --workdir=runs/x \
        --coordinator_address=localhost:12345 --num_processes=2 --process_id=0   # and =1
"""

import re

from absl import app, flags
from ml_collections import config_flags

from experiments import _cli

_CONFIG = config_flags.DEFINE_config_file("config", None, _cli.config_help(),
                                          lock_config=True)
_WORKDIR = flags.DEFINE_string("workdir", None, "Run folder (checkpoints, metrics, images).")
_EVAL = flags.DEFINE_bool("eval", True, "Evaluate after training.")
_ALLOW_CHANGE = flags.DEFINE_bool(
    "allow_config_change", False,
    "Resume a run even though the config differs from its config.json in keys that "
    "change the run (the old config is kept in <workdir>/config_history/).")
_MULTIHOST = flags.DEFINE_bool(
    "multihost", False,
    "Join a multi-process run first (jax.distributed.initialize); without "
    "--coordinator_address, --num_processes and --process_id they are auto-detected on "
    "TPU VMs / SLURM / MPI.")
_COORDINATOR = flags.DEFINE_string(
    "coordinator_address", None,
    "HOST:PORT of process 0 of a multi-process run; with --num_processes and --process_id "
    "(give all three) it makes the run multi-process, --multihost or not.")
_NUM_PROCESSES = flags.DEFINE_integer(
    "num_processes", None, "The number of processes of a multi-process run (see "
    "--coordinator_address).")
_PROCESS_ID = flags.DEFINE_integer(
    "process_id", None, "This process's index in a multi-process run, from 0 (see "
    "--coordinator_address).")
_PROFILE_STEPS = flags.DEFINE_string(
    "profile_steps", None,
    "A:B: write a JAX profiler trace of training steps A..B (1 <= A <= B <= num_steps) "
    "into <workdir>/profile/ (tensorboard --logdir=<workdir>/profile).")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  import jax

  from latentjax import training

  dist = (_COORDINATOR.value, _NUM_PROCESSES.value, _PROCESS_ID.value)
  profile_steps = None
  if _PROFILE_STEPS.value is not None:
    try:
      profile_steps = training.check_profile_steps(
          training.parse_profile_steps(_PROFILE_STEPS.value), _CONFIG.value.train.num_steps)
    except ValueError as e:
      raise app.UsageError(f"--profile_steps: {e}") from None
  if _cli.joins_multi_process_run(_MULTIHOST.value, *dist):
    try:
      training.initialize_distributed(*dist)
    except (ValueError, training.DistributedError) as e:
      _cli.fail(re.sub(r"`(\w+)`", r"--\1", str(e)))
  fn = training.train_and_evaluate if _EVAL.value else training.train
  result = _cli.run_or_exit(fn, _CONFIG.value, _WORKDIR.value,
                            allow_config_change=_ALLOW_CHANGE.value,
                            profile_steps=profile_steps)
  if _EVAL.value and jax.process_index() == 0:
    _cli.print_summary(_WORKDIR.value, result)


if __name__ == "__main__":
  _cli.main(main)
