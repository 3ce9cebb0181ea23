"""Running out of disk space while checkpointing: the checks, the message, the quiet.

Used by ``training._checkpoint`` (which alone talks to orbax): a writer compares the free
space (`free_bytes`) with the size of the last checkpoint (`dir_bytes`) before each
save, recognises a write that ran out of space however orbax reports it
(`is_no_space`), says so in one line (`space_message`), and keeps the echoes of such a
write off the console (`NoSpaceReportFilter`).
"""

import errno
import gc
import logging
import os
import shutil
import sys

from absl import logging as absl_logging

NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device"
_NOISY_LOGGERS = ("asyncio",)  # and absl's, where orbax logs


def is_no_space(e: BaseException | None) -> bool:
  """Whether ``e`` (or what caused it) is a write that ran out of disk space.

  orbax raises tensorstore's failures as ``ValueError("RESOURCE_EXHAUSTED: ... No space
  left on device [os_error_code='28']")``, Python's own writes as ``OSError(ENOSPC)``.
  """
  seen = set()
  while e is not None and id(e) not in seen:
    seen.add(id(e))
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
      return True
    if NO_SPACE in str(e) or f"os_error_code='{errno.ENOSPC}'" in str(e):
      return True
    e = e.__cause__ or e.__context__
  return False


def dir_bytes(path: str) -> int:
  """The bytes of the files under ``path``."""
  total = 0
  for root, _, files in os.walk(path):
    for name in files:
      try:
        total += os.path.getsize(os.path.join(root, name))
      except OSError:
        pass
  return total


def free_bytes(path: str) -> int:
  """Bytes free to this user on the disk of ``path`` (``shutil.disk_usage``)."""
  return shutil.disk_usage(path).free


def _amount(n: int) -> str:
  return f"{n / 2**20:.1f} MiB ({n} bytes)"


def space_message(root: str, step: int, *, free: int, need: int, need_of: str,
                  kept: int | None, cause: str) -> str:
  """One line: the step that cannot be written where, why, free and needed bytes, the
  step kept and what to do."""
  kept_text = (f"the last complete checkpoint, step {kept}, is kept: free some space and "
               f"re-run the same command to resume from it" if kept is not None else
               "no complete checkpoint is kept (none was written before): free some space "
               "and re-run the same command")
  return (f"checkpoint step {step} cannot be written to {root}: {cause}; {_amount(free)} "
          f"free there, and a checkpoint needs {_amount(need)}, {need_of}; {kept_text}.")


class _DropNoSpaceRecords(logging.Filter):
  """Drops ERROR records of orbax, and of the event loops it abandons, about a write that
  ran out of space."""

  def filter(self, record: logging.LogRecord) -> bool:
    if record.levelno < logging.ERROR or not (
        f"{os.sep}orbax{os.sep}" in record.pathname or record.name == "asyncio"):
      return True
    exc = record.exc_info[1] if record.exc_info else None
    return not (NO_SPACE in record.getMessage() or is_no_space(exc))


def _is_closed_loop_noise(unraisable) -> bool:
  """asyncio's complaint when tensorstore finishes a write whose event loop orbax closed.

  When one fragment of an orbax write fails, orbax ends that write's event loop while
  tensorstore still completes the other fragments; each completion then reports
  ``RuntimeError('Event loop is closed')`` as unraisable (no object). It is harmless
  once the failure itself is raised.
  """
  exc = unraisable.exc_value
  return (isinstance(exc, RuntimeError) and str(exc) == "Event loop is closed"
          and unraisable.object is None)


class NoSpaceReportFilter:
  """Keeps the echoes of a checkpoint write that ran out of space off the console.

  A failed orbax write logs the error, with its traceback, from each of its threads, and
  each abandoned fragment reports "Event loop is closed"; the writer raises one
  `CheckpointSpaceError` that says it all. Only those are dropped (ERROR records of
  orbax and asyncio about running out of space; asyncio's "Event loop is closed"
  unraisables); everything else passes.

  `install` when a writer opens, `remove` when it closes. Once a write has run out of
  space (``ran_out_of_space = True``) `remove` collects the write's abandoned tasks and
  keeps the filters for the rest of the process: orbax does not wait for the threads of
  a save that failed as it started, and they may still be reporting.
  """

  def __init__(self):
    self.ran_out_of_space = False
    self._records = _DropNoSpaceRecords()
    self._hook = self._previous_hook = None

  @staticmethod
  def _loggers():
    return [absl_logging.get_absl_logger(), *map(logging.getLogger, _NOISY_LOGGERS)]

  def install(self) -> None:
    for logger in self._loggers():
      logger.addFilter(self._records)
    previous = sys.unraisablehook

    def hook(unraisable):
      if not _is_closed_loop_noise(unraisable):
        previous(unraisable)

    self._previous_hook, self._hook = previous, hook
    sys.unraisablehook = hook

  def remove(self) -> None:
    if self.ran_out_of_space:
      gc.collect()  # "Task exception was never retrieved", while the filter is on
      return
    for logger in self._loggers():
      logger.removeFilter(self._records)
    if self._hook is not None and sys.unraisablehook is self._hook:  # unless replaced since
      sys.unraisablehook = self._previous_hook
    self._hook = self._previous_hook = None
