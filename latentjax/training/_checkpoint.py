"""Checkpoints: the only module that talks to orbax.

A checkpoint holds the ``TrainState`` arrays and a small JSON record (the step and
the number of input batches consumed, which is how the input pipeline resumes at
the right place). Orbax writes each step to a temporary directory and renames it when
complete, so a run killed mid-save leaves the previous checkpoint intact; unfinished
directories are ignored on restore.

Two modes: a *writer* (the training loop) may clean up unfinished directories and
delete old steps; a *reader* (``read_only=True``: ``load_run``, evaluation, reports)
never writes or deletes anything, so reading a run while it trains is safe. A
checkpoint that fails to restore (a truncated file, half-written JSON) is named, and
the newest intact one is used instead (``restore_intact``); nothing ever starts from
scratch silently.

A writer checks, before each save, that the disk has room for a checkpoint as large as
the last one, and stops with `CheckpointSpaceError` (one line: the path, the free and
the needed bytes, the step kept) instead of starting a write that cannot finish. A
write that fails anyway for want of space (the first checkpoint, or a disk filled by
something else meanwhile) ends in the same error, wherever orbax reports it (the save
itself, or the background write, at the next save, `wait` or `close`); orbax's own
logs and asyncio noise about that failure are dropped, as the error says it all.
"""

import contextlib
import os
import shutil
from typing import Any

import jax
import orbax.checkpoint as ocp
from absl import logging

from latentjax.training._checkpoint_space import (
    NO_SPACE,
    NoSpaceReportFilter,
    dir_bytes,
    free_bytes,
    is_no_space,
    space_message,
)

_STATE = "state"
_META = "meta"
DAMAGED_DIR = "damaged_checkpoints"


class CheckpointError(RuntimeError):
  """No checkpoint of a run could be restored (the message names each damaged step), or
  one could not be written (`CheckpointSpaceError`)."""


class CheckpointSpaceError(CheckpointError):
  """A checkpoint does not fit on its disk; the message says what is free, what it needs
  and which checkpoint is kept."""


@contextlib.contextmanager
def _quiet():
  level = logging.get_verbosity()
  logging.set_verbosity(logging.ERROR)
  try:
    yield
  finally:
    logging.set_verbosity(level)


def checkpoint_dir(workdir: str) -> str:
  return os.path.join(os.path.abspath(workdir), "checkpoints")


class Checkpointer:
  """Saves and restores a run's state under ``<workdir>/checkpoints``.

  Args:
    workdir: the run folder.
    keep: how many of the latest checkpoints to keep (writers only).
    asynchronous: write in a background thread (``wait()`` blocks until done).
    read_only: open as a reader: nothing is created, cleaned up, saved or deleted.
  """

  def __init__(self, workdir: str, *, keep: int = 3, asynchronous: bool = True,
               read_only: bool = False):
    self._workdir = workdir
    self._read_only = read_only
    self._pending = None  # (step, bytes needed, what that estimate is) of a save in flight
    self._noise = None
    if read_only:
      options = ocp.CheckpointManagerOptions(
          read_only=True, create=False, save_interval_steps=0, max_to_keep=None,
          enable_async_checkpointing=False)
    else:
      options = ocp.CheckpointManagerOptions(
          max_to_keep=keep, create=True, enable_async_checkpointing=asynchronous,
          cleanup_tmp_directories=True)
    with _quiet() if read_only else contextlib.nullcontext():  # orbax warns "read only"
      self._manager = ocp.CheckpointManager(checkpoint_dir(workdir), options=options,
                                            item_names=(_STATE, _META))
    if not read_only:
      # orbax deletes unfinished (temporary) checkpoints of an earlier process in a
      # background thread and only waits for it at the first save. Wait now, so that this
      # file-system work never overlaps whatever the caller does next (data pipelines that
      # open files, or file-system mocks such as ``tfds.testing.mock_data``).
      self._manager._maybe_await_cleanup_tmp_directory()  # noqa: SLF001
      self._noise = NoSpaceReportFilter()
      self._noise.install()

  def latest_step(self) -> int | None:
    """The step of the newest complete checkpoint, or None."""
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def save(self, step: int, arrays: Any, meta: dict) -> None:
    """Writes ``arrays`` (a pytree of arrays) and ``meta`` (JSON-able) as ``step``.

    Waits for the previous save first, then checks that a checkpoint as large as the
    last one fits on the disk (in every process of a multi-process run) before writing.

    Raises:
      CheckpointSpaceError: when this checkpoint would not fit, or the disk filled up
        while writing it or the previous one (nothing is left half-written under the
        step's name; the last complete checkpoint is kept).
    """
    if self._read_only:
      raise RuntimeError("this Checkpointer was opened read-only")
    self.wait()
    need, need_of = self._need(arrays)
    if self.latest_step() is not None:
      self._check_space(step, need, need_of)
    try:
      self._manager.save(
          step, args=ocp.args.Composite(**{_STATE: ocp.args.StandardSave(arrays),
                                           _META: ocp.args.JsonSave(meta)}), force=True)
    except Exception as e:
      if is_no_space(e):
        raise self._space_error(step, need, need_of, NO_SPACE) from None
      raise
    self._pending = (step, need, need_of)

  def _need(self, arrays: Any) -> tuple[int, str]:
    """Bytes a checkpoint needs: the size of the last one, or else the arrays' bytes."""
    last = self.latest_step()
    if last is not None:
      return dir_bytes(os.path.join(checkpoint_dir(self._workdir), str(last))), (
          f"the size of step {last}")
    nbytes = sum(int(getattr(x, "nbytes", 0)) for x in jax.tree.leaves(arrays))
    return nbytes, "the state's arrays, uncompressed"

  def _check_space(self, step: int, need: int, need_of: str) -> None:
    from latentjax.training._distributed import sum_over_processes

    free = free_bytes(checkpoint_dir(self._workdir))
    count, me = jax.process_count(), jax.process_index()
    # Every process decides alike (on every process's disk), so that none goes on into a
    # save the others have left.
    totals = sum_over_processes({**{f"free_{i}": free if i == me else 0 for i in range(count)},
                                 **{f"need_{i}": need if i == me else 0 for i in range(count)}})
    short = [i for i in range(count) if totals[f"free_{i}"] < totals[f"need_{i}"]]
    if short:
      i = me if me in short else short[0]
      where = "" if count == 1 else f" (on the disk of process {i} of {count})"
      raise CheckpointSpaceError(space_message(
          checkpoint_dir(self._workdir), step, free=int(totals[f"free_{i}"]),
          need=int(totals[f"need_{i}"]), need_of=need_of, kept=self.latest_step(),
          cause=f"not enough space{where}"))

  def _space_error(self, step: int, need: int, need_of: str, cause: str) -> CheckpointSpaceError:
    if self._noise is not None:
      self._noise.ran_out_of_space = True
    root = checkpoint_dir(self._workdir)
    with contextlib.suppress(Exception):
      self._manager.reload()  # orbax's view of the steps, after the failed write
    try:
      free = free_bytes(root)
    except OSError:
      free = 0
    return CheckpointSpaceError(space_message(root, step, free=free, need=need,
                                               need_of=need_of, kept=self.latest_step(),
                                               cause=cause))

  def restore(self, abstract_arrays: Any, step: int | None = None) -> tuple[Any, dict]:
    """Restores ``(arrays, meta)`` of ``step`` (default: latest) into the target's structure.

    Args:
      abstract_arrays: a pytree of ``jax.ShapeDtypeStruct`` (with shardings) or arrays
        giving the structure, shapes, dtypes and placement to restore into.
      step: the checkpoint step; None for the latest.

    Raises:
      FileNotFoundError: when there is no checkpoint.
    """
    step = self.latest_step() if step is None else step
    if step is None:
      raise FileNotFoundError("no checkpoint to restore")
    out = self._manager.restore(
        step, args=ocp.args.Composite(**{_STATE: ocp.args.StandardRestore(abstract_arrays),
                                         _META: ocp.args.JsonRestore()}))
    meta = out[_META]
    if not isinstance(meta, dict) or "step" not in meta:
      raise ValueError(f"its {_META!r} record is {meta!r}, not a dict with a 'step'")
    return out[_STATE], dict(meta)

  def restore_intact(self, abstract_arrays: Any) -> tuple[Any, dict]:
    """Restores the newest checkpoint that reads back whole, newest first.

    Each damaged step is named in a warning, and the step finally used is said too. A
    writer moves damaged steps to ``<workdir>/damaged_checkpoints/<step>`` (kept, not
    deleted), so that saving that step again later cannot collide with them; a reader
    leaves them where they are.

    Raises:
      FileNotFoundError: when there is no checkpoint at all.
      CheckpointError: when every checkpoint is damaged (the message lists why).
    """
    steps = sorted(self.all_steps(), reverse=True)
    if not steps:
      raise FileNotFoundError("no checkpoint to restore")
    damaged = []
    for step in steps:
      try:
        arrays, meta = self.restore(abstract_arrays, step)
      except Exception as e:  # noqa: BLE001 - any failure to read a step means it is damaged
        reason = f"{type(e).__name__}: {e}".splitlines()[0][:300]
        damaged.append(f"step {step} ({reason})")
        logging.warning("Checkpoint step %d in %s is damaged and cannot be restored: %s",
                        step, checkpoint_dir(self._workdir), reason)
        continue
      if damaged:
        logging.warning("Restored step %d, the newest intact checkpoint in %s (damaged: %s)",
                        step, checkpoint_dir(self._workdir), "; ".join(damaged))
        self._set_aside([s for s in steps if s > step])
      return arrays, meta
    raise CheckpointError(
        f"no checkpoint in {checkpoint_dir(self._workdir)} can be restored; damaged: "
        f"{'; '.join(damaged)}. Move that folder away to start the run afresh, or use "
        f"another --workdir.")

  def _set_aside(self, steps: list[int]) -> None:
    if self._read_only or jax.process_index() != 0:
      return
    target = os.path.join(os.path.abspath(self._workdir), DAMAGED_DIR)
    os.makedirs(target, exist_ok=True)
    for step in steps:
      source = os.path.join(checkpoint_dir(self._workdir), str(step))
      if os.path.isdir(source):
        dest = os.path.join(target, str(step))
        suffix = 0
        while os.path.exists(dest):
          suffix += 1
          dest = os.path.join(target, f"{step}.{suffix}")
        shutil.move(source, dest)
        logging.warning("Moved damaged checkpoint step %d to %s", step, dest)
    self._manager.reload()

  def wait(self) -> None:
    """Blocks until the save in flight is written.

    Raises:
      CheckpointSpaceError: when that save ran out of disk space.
    """
    pending, self._pending = self._pending, None
    try:
      self._manager.wait_until_finished()
    except Exception as e:
      if pending is not None and is_no_space(e):
        raise self._space_error(*pending, NO_SPACE) from None
      raise

  def close(self) -> None:
    """Waits for the save in flight, then closes orbax's manager (always)."""
    try:
      self.wait()
    finally:
      try:
        self._manager.close()
      finally:
        if self._noise is not None:
          self._noise.remove()


def abstract_like(tree: Any, sharding: jax.sharding.Sharding) -> Any:
  """ShapeDtypeStructs of ``tree``'s leaves, all placed with ``sharding``."""
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree)
