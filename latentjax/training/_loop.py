"""The training loop: one loop for every family, with logging, checkpoints and resume.

    from latentjax import training
    training.train_and_evaluate(config, workdir="runs/vae")

Resume is automatic: when ``<workdir>/checkpoints`` holds a checkpoint, the run
restores it (parameters, optimizer and EMA state, step) and restarts the input
pipeline at the next unseen batch, so an interrupted run finishes with exactly the
state an uninterrupted one would have. Finiteness is checked each time metrics are
fetched from the device (every ``log_every_steps`` and before every checkpoint);
a non-finite metric stops training with ``NonFiniteLossError`` and no checkpoint
with non-finite values is ever written.

One training at a time owns a workdir: ``train`` holds ``<workdir>/train.lock`` (see
``training._lock``) from before it reads the folder for resuming until its last
checkpoint is written, and a second training of the folder stops at once with
``WorkdirInUseError``. In a multi-process run process 0 alone takes the lock and tells
the others the outcome, so they all stop alike; the others never touch the lock file.
Readers never take it.
"""

import contextlib
import functools
import math
import os
import time

import jax
import numpy as np
import tqdm

from latentjax.training._checkpoint import Checkpointer, abstract_like, checkpoint_dir
from latentjax.training._config import ConfigError, ExperimentConfig, check_devices
from latentjax.training._distributed import barrier, first_process_text
from latentjax.training._experiment import build_experiment, init_state, make_step
from latentjax.training._host_memory import keep_freed_host_memory
from latentjax.training._keys import EVAL_KEY, INIT_KEY, TRAIN_KEY
from latentjax.training._lock import WorkdirInUseError, WorkdirLock
from latentjax.training._logging import MetricWriter
from latentjax.training._parallel import compile_step, step_compiler_options
from latentjax.training._profile import StepProfiler, check_profile_steps
from latentjax.training._resume import check_resume, write_config


class NonFiniteLossError(RuntimeError):
  """Training produced a non-finite metric; the message names the step and metric."""


# The bar's own rate and ETA (tqdm's average over every update, compilation included)
# are left out: the text shows the rate of the last logging window and the ETA from it.
_BAR_FORMAT = "{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


def progress_text(metrics: dict, keys: tuple[str, ...], steps_left: int) -> str:
  """The progress bar's text: ``"d_loss=1.38, g_loss=0.693, 212 step/s, ETA 0:04"``.

  Args:
    metrics: the last logging window's means, with ``steps_per_sec``.
    keys: the family's ``progress_metrics``; those missing from ``metrics`` are skipped.
    steps_left: training steps still to run.
  """
  parts = [f"{k}={metrics[k]:.4g}" for k in keys if k in metrics]
  rate = metrics["steps_per_sec"]
  parts.append(f"{rate:.3g} step/s")
  seconds = int(round(steps_left / rate)) if rate > 0 else 0
  parts.append(f"ETA {seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
               if seconds >= 3600 else f"ETA {seconds // 60}:{seconds % 60:02d}")
  return ", ".join(parts)


def _first_non_finite(records):
  for step, metrics in records:
    for name, value in metrics.items():
      if not math.isfinite(float(value)):
        return step, name, float(value)
  return None


def _local_value(x) -> np.ndarray:
  """This process's copy of a replicated array (multi-host arrays are not fully addressable)."""
  return np.asarray(x.addressable_data(0)) if isinstance(x, jax.Array) else np.asarray(x)


@jax.jit
def _finite_flags(tree):
  return [jax.numpy.isfinite(x).all() for x in jax.tree.leaves(tree)]


def _all_finite(tree) -> bool:
  return all(bool(_local_value(flag)) for flag in _finite_flags(tree))


def has_checkpoint(workdir: str) -> bool:
  """Whether ``workdir`` holds a complete checkpoint (looked at read-only)."""
  if not os.path.isdir(checkpoint_dir(workdir)):
    return False
  ckpt = Checkpointer(workdir, read_only=True)
  try:
    return ckpt.latest_step() is not None
  finally:
    ckpt.close()


def check_data(exp) -> None:
  """Checks the splits and batch sizes against the data, before anything compiles.

  Raises:
    ConfigError: naming ``config.data.train_split``, ``config.data.eval_split`` or
      ``config.data.batch_size`` and the value.
    latentjax.data.DatasetNotAvailableError: when the dataset is absent.
  """
  from latentjax import data

  d = exp.cfg.data
  sizes = {}
  for key, split in (("train_split", exp.train_split), ("eval_split", exp.eval_split)):
    try:
      sizes[key] = data.split_size(d.name, split, data_dir=d.data_dir or None,
                                   download=d.download)
    except ValueError as e:
      raise ConfigError(f"config.data.{key}={split!r}: {e}") from None
  if d.batch_size > sizes["train_split"]:
    raise ConfigError(
        f"config.data.batch_size={d.batch_size} exceeds the {sizes['train_split']} examples "
        f"of the training split {exp.train_split!r} of {d.name!r}")
  if sizes["eval_split"] == 0:
    raise ConfigError(f"config.data.eval_split={exp.eval_split!r} of {d.name!r} is empty")


def _check_data_once(exp) -> None:
  """`check_data`, with process 0 first: only it prepares (builds or downloads) datasets.

  The other processes wait at a barrier and then find the data prepared (a shared data
  directory), or prepare their own copy (a host-local one) one after another. A failure
  of process 0 is raised after the barrier, so no process is left waiting.
  """
  if jax.process_count() == 1:
    check_data(exp)
    return
  error = None
  if jax.process_index() == 0:
    try:
      check_data(exp)
    except Exception as e:  # noqa: BLE001 - re-raised below, once the others can go on
      error = e
  barrier("latentjax_data_prepared")
  if error is not None:
    raise error
  if jax.process_index() != 0:
    check_data(exp)


@contextlib.contextmanager
def _workdir_lock(workdir: str):
  """Holds the workdir's lock for the block: in process 0, for all processes of a run.

  Process 0 takes the lock and every process learns the outcome (a collective, so no
  process waits for a run that will not start). The other processes never open the lock
  file: on the shared workdir each taking it would let one through and refuse the rest.

  Raises:
    WorkdirInUseError: in every process, when another run holds the workdir.
  """
  lock = WorkdirLock(workdir)
  if jax.process_count() == 1:
    with lock:
      yield
    return
  error = None
  if jax.process_index() == 0:
    try:
      lock.acquire()
    except (WorkdirInUseError, OSError) as e:
      error = e
  text = first_process_text("" if error is None else (
      str(error) if isinstance(error, WorkdirInUseError)
      else f"process 0 could not lock {workdir}: {error}"))
  if error is not None:
    raise error
  if text:
    raise WorkdirInUseError(text)
  try:
    yield
  finally:
    lock.release()  # a no-op outside process 0


def _quality_of_state(config, exp, state, step: int, workdir: str, key, feature_net) -> dict:
  """The numeric entries of ``quality_metrics`` for a training state (logged as eval)."""
  from latentjax.training._quality import quality_metrics
  from latentjax.training._run import Run

  run = Run(workdir=workdir, config=config, exp=exp, state=state, step=step)
  out = quality_metrics(run, key, feature_net)
  return {k: float(v) for k, v in out.items()
          if isinstance(v, (int, float)) and not isinstance(v, bool) and v is not None}


def train(config, workdir: str, *, until_step: int | None = None,
          allow_config_change: bool = False,
          profile_steps: tuple[int, int] | None = None) -> dict:
  """Trains the model a config describes, resuming from ``workdir`` if possible.

  Everything that can be checked without compiling is checked first: the config's keys,
  types and ranges; then ``workdir`` is locked for this run (the first thing written
  there: ``train.lock``, removed when training ends, however it ends); then the
  dataset's splits and the batch size, and, when ``workdir`` already holds a checkpoint,
  that ``config`` describes the same run as its saved ``config.json`` (nothing else in
  the folder is touched before that). It calls ``keep_freed_host_memory()`` first, so
  each step reuses its host buffers.

  Args:
    config: an ``ml_collections.ConfigDict`` (see ``configs/``).
    workdir: the run folder (checkpoints, metrics, config.json).
    until_step: stop (with a checkpoint) once this step is reached, as a job that is
      preempted there would; the same call without it finishes the run. None: train to
      ``config.train.num_steps``.
    allow_config_change: resume even though keys that change the run differ from the
      saved config; the old ``config.json`` is archived in ``config_history/``.
    profile_steps: ``(a, b)``: write a ``jax.profiler`` trace of steps a..b (inclusive,
      ``1 <= a <= b <= train.num_steps``) into ``<workdir>/profile/`` (TensorBoard's
      profile plugin reads it). None: no trace.

  Returns:
    The last logged training metrics.

  Raises:
    ValueError: for a bad config, a config that does not match the run it would resume,
      or unusable splits (all before anything is compiled).
    NonFiniteLossError: when a metric becomes NaN or infinite.
    WorkdirInUseError: when another training holds ``workdir`` (naming its host, pid and
      start time).
    latentjax.training.CheckpointError: when no checkpoint of the run can be restored,
      or (``CheckpointSpaceError``) a checkpoint does not fit on the disk.
    latentjax.data.DatasetNotAvailableError: when the dataset is absent.
  """
  cfg = ExperimentConfig.from_config(config)  # before importing the data (TensorFlow)
  if until_step is not None and not 1 <= until_step:
    raise ValueError(f"`until_step` must be >= 1, got {until_step}")
  profile_steps = check_profile_steps(profile_steps, cfg.train.num_steps)
  keep_freed_host_memory()
  exp = build_experiment(cfg)
  num_devices = check_devices(cfg, jax.device_count(), jax.process_count())
  with _workdir_lock(workdir):
    return _train_locked(config, cfg, exp, workdir, jax.devices()[:num_devices],
                         until_step=until_step, allow_config_change=allow_config_change,
                         profile_steps=profile_steps)


def _train_locked(config, cfg, exp, workdir, devices, *, until_step, allow_config_change,
                  profile_steps) -> dict:
  """`train` from the resume check on, while this run holds ``workdir``'s lock."""
  resuming = has_checkpoint(workdir)
  check_resume(config, workdir, has_checkpoint=resuming, allow_changes=allow_config_change)
  _check_data_once(exp)
  feature_net = None
  if cfg.eval.quality_every_steps:  # a missing feature network fails before compiling
    from latentjax.training._evaluate import resolve_feature_network

    feature_net = resolve_feature_network(exp, required=True)
  last_step = min(cfg.train.num_steps, until_step or cfg.train.num_steps)

  compiled = compile_step(lambda axis_name: make_step(exp, axis_name),
                          mode=cfg.train.parallel, devices=devices,
                          compiler_options=step_compiler_options(cfg))
  base_key = jax.random.PRNGKey(cfg.seed)
  # One compiled program, not one per initialiser and layer shape.
  state = jax.jit(functools.partial(init_state, exp))(jax.random.fold_in(base_key, INIT_KEY))
  barrier("latentjax_train_checked")  # every process has read the workdir before it changes
  ckpt = Checkpointer(workdir, keep=cfg.train.keep_checkpoints)
  start = 0
  if ckpt.latest_step() is not None:
    arrays, meta = ckpt.restore_intact(abstract_like(state.arrays(), compiled.state_sharding))
    state = state.with_arrays(arrays)
    start = int(meta["step"])
  if jax.process_index() == 0:
    write_config(config, workdir, resumed_step=start if resuming else None)
  placed = compiled.put_state(state)
  del state

  from latentjax import data

  batches = data.load(
      cfg.data.name, exp.train_split, batch_size=cfg.data.batch_size // jax.process_count(),
      shuffle=True, seed=cfg.seed, start_step=start, data_dir=cfg.data.data_dir or None,
      download=cfg.data.download, shuffle_buffer_size=cfg.data.shuffle_buffer_size or None,
      process_share="batches")
  train_key = jax.random.fold_in(base_key, TRAIN_KEY)
  lead = jax.process_index() == 0  # one process logs for all
  writer = MetricWriter(workdir, enabled=lead)
  if lead and start >= last_step:
    print(f"{workdir}: already trained to step {start} of {cfg.train.num_steps}, nothing "
          "to train", flush=True)
  progress = tqdm.tqdm(total=cfg.train.num_steps, initial=start, unit="step",
                       bar_format=_BAR_FORMAT, dynamic_ncols=True,
                       disable=not (cfg.train.progress_bar and lead) or start >= last_step)
  shown = exp.family_impl.progress_metrics(exp)
  pending, last = [], {}
  last_good_ckpt = ckpt.latest_step()
  window_start, window_t0 = start, time.perf_counter()
  tc = cfg.train
  profiler = StepProfiler(workdir, profile_steps, first_step=start + 1)
  try:
    for step in range(start + 1, last_step + 1):
      profiler.before(step)
      batch = compiled.put_batch(next(batches))
      placed, metrics = compiled.step(placed, batch, train_key)
      profiler.after(step, (placed, metrics))
      pending.append((step, metrics))
      is_ckpt = step % tc.checkpoint_every_steps == 0 or step == last_step
      is_eval = tc.eval_every_steps and step % tc.eval_every_steps == 0
      q = cfg.eval.quality_every_steps
      is_quality = q and step % q == 0
      if not (step % tc.log_every_steps == 0 or is_ckpt or is_eval or is_quality):
        continue
      records = [(s, {k: float(_local_value(v)) for k, v in m.items()}) for s, m in pending]
      pending = []
      bad = _first_non_finite(records)
      if bad is not None:
        s, name, value = bad
        ckpt.wait()
        where = (f"step {last_good_ckpt} in {os.path.join(os.path.abspath(workdir), 'checkpoints')}"
                 if last_good_ckpt is not None else "none (no checkpoint was written)")
        raise NonFiniteLossError(
            f"Training stopped: metric {name!r} became non-finite ({value}) at step {s} "
            f"(steps {window_start + 1}-{step} were checked in this window). Nothing after the "
            f"last good checkpoint was saved; last good checkpoint: {where}.")
      elapsed = time.perf_counter() - window_t0
      last = {k: float(np.mean([m[k] for _, m in records])) for k in records[-1][1]}
      last["steps_per_sec"] = (step - window_start) / max(elapsed, 1e-9)
      writer.write(step, last, split="train")
      progress.update(step - window_start)
      progress.set_postfix_str(progress_text(last, shown, last_step - step), refresh=False)
      if is_ckpt:
        host = compiled.get_state(placed)
        if not _all_finite(host.arrays()):
          raise NonFiniteLossError(
              f"Training stopped: parameters became non-finite by step {step}; last good "
              f"checkpoint: step {last_good_ckpt}.")
        ckpt.save(step, host.arrays(), {"step": step, "batches_consumed": step,
                                        "global_batch_size": cfg.data.batch_size})
        last_good_ckpt = step
      if is_eval:
        host = compiled.get_state(placed)
        writer.write(step, exp.family_impl.evaluate_state(
            exp, host, jax.random.fold_in(base_key, EVAL_KEY)), split="eval")
      if is_quality:
        writer.write(step, _quality_of_state(config, exp, compiled.get_state(placed), step,
                                             workdir, base_key, feature_net), split="eval")
      window_start, window_t0 = step, time.perf_counter()
  finally:
    profiler.stop()
    progress.close()
    writer.close()
    ckpt.close()
  return last
