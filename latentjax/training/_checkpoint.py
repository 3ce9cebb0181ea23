"""Checkpoints: the only module that talks to orbax.

A checkpoint holds the ``TrainState`` arrays and a small JSON record (the step and
the number of input batches consumed, which is how the input pipeline resumes at
the right place). Orbax writes each step to a temporary directory and renames it when
complete, so a run killed mid-save leaves the previous checkpoint intact; unfinished
directories are ignored on restore.
"""

import os
from typing import Any

import jax
import orbax.checkpoint as ocp

_STATE = "state"
_META = "meta"


def checkpoint_dir(workdir: str) -> str:
  return os.path.join(os.path.abspath(workdir), "checkpoints")


class Checkpointer:
  """Saves and restores a run's state under ``<workdir>/checkpoints``.

  Args:
    workdir: the run folder.
    keep: how many of the latest checkpoints to keep.
    asynchronous: write in a background thread (``wait()`` blocks until done).
  """

  def __init__(self, workdir: str, *, keep: int = 3, asynchronous: bool = True):
    options = ocp.CheckpointManagerOptions(
        max_to_keep=keep, create=True, enable_async_checkpointing=asynchronous,
        cleanup_tmp_directories=True)
    self._manager = ocp.CheckpointManager(checkpoint_dir(workdir), options=options,
                                          item_names=(_STATE, _META))

  def latest_step(self) -> int | None:
    """The step of the newest complete checkpoint, or None."""
    return self._manager.latest_step()

  def all_steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def save(self, step: int, arrays: Any, meta: dict) -> None:
    """Writes ``arrays`` (a pytree of arrays) and ``meta`` (JSON-able) as ``step``."""
    self._manager.save(
        step, args=ocp.args.Composite(**{_STATE: ocp.args.StandardSave(arrays),
                                         _META: ocp.args.JsonSave(meta)}), force=True)

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
    return out[_STATE], dict(out[_META])

  def wait(self) -> None:
    self._manager.wait_until_finished()

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def abstract_like(tree: Any, sharding: jax.sharding.Sharding) -> Any:
  """ShapeDtypeStructs of ``tree``'s leaves, all placed with ``sharding``."""
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree)
