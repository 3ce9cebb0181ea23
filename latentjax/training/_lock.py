"""One training run per workdir: an exclusive lock that the training loop holds.

    with WorkdirLock(workdir):       # WorkdirInUseError if another run holds it
      ...                            # the run writes checkpoints, metrics, config.json

The lock is the file ``<workdir>/train.lock``, locked with
``flock(LOCK_EX | LOCK_NB)``. Its content is a JSON record of the holder,
``{"host", "pid", "started"}``, which is what a refused run's error names. Only
training takes it: readers (``load_run``, evaluation, the report) never open the file,
so they are neither refused nor kept waiting.

Why it is safe:

- **Atomic.** Whether the lock is granted is decided by the kernel in one call: one
  open file description at a time holds an exclusive ``flock`` on a file. Two runs
  that start together cannot both get it; this holds within one process too (each
  `WorkdirLock` opens the file afresh).
- **Never stale.** The kernel drops the lock when its holder's process ends, however it
  ends: a normal exit, an exception, SIGTERM, SIGKILL, an OOM kill. The file it leaves
  behind still names the dead process but is not locked, so the next run takes it at
  once, without a flag and without guessing from pids (a pid reused by an unrelated
  process cannot make a dead run look alive).
- **Released without a race.** `release` removes the file while still holding the
  lock, then closes it. A run that opened the file just before, and gets the lock
  once it is closed, sees that the file it locked is no longer the one at the path
  (the inodes differ) and starts again with the path's file.
- **Network filesystems.** The Linux NFS client (kernel 2.6.12 and later) sends
  ``flock`` to the server as a lock of the whole file, so runs on different hosts
  exclude each other too; a lock of a host that crashed is dropped by the server when
  its lease ends (NFSv4) or when the host comes back (NFSv3). Two caveats: mounted with
  ``nolock`` or ``local_lock=flock`` (Lustre: ``localflock``), the lock only excludes
  runs on the same host; and there, as NFS locks belong to a process, two runs started
  in one Python process are not told apart. A filesystem that has no locks at all
  (``flock`` fails with ENOLCK, EOPNOTSUPP or ENOSYS) gets a warning, and the run
  goes on unlocked.

Multi-process runs take it in process 0 only (see ``training._loop``): all processes
share one workdir, so each taking the lock would let one through and refuse the rest.
"""

import errno
import fcntl
import json
import os
import socket
import time

from absl import logging

LOCK_FILE = "train.lock"
_UNSUPPORTED = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL)


class WorkdirInUseError(RuntimeError):
  """Another training run holds the workdir; the message names it and what to do."""


def _holder_text(fd: int) -> str:
  """The lock file's record of its holder, as ``host H, pid P, started T``."""
  raw = os.pread(fd, 4096, 0)
  try:
    record = json.loads(raw)
    return f"host {record['host']}, pid {record['pid']}, started {record['started']}"
  except (ValueError, KeyError, TypeError):
    return "a run that is just starting and has not yet written who it is"


class WorkdirLock:
  """Holds ``<workdir>/train.lock`` from `acquire` (or ``with``) until `release`.

  Args:
    workdir: the run folder; created when missing (and removed again by `release` if it
      is then still empty).

  Raises (from `acquire`):
    WorkdirInUseError: when another run holds the lock, naming its host, pid and start
      time, and what to do.

  Example:
    >>> with WorkdirLock("runs/vae"):   # doctest: +SKIP
    ...   train_the_run()
  """

  def __init__(self, workdir: str):
    self._workdir = os.path.abspath(workdir)
    self.path = os.path.join(self._workdir, LOCK_FILE)
    self._fd = None
    self._made_workdir = False

  def acquire(self) -> "WorkdirLock":
    if not os.path.isdir(self._workdir):
      os.makedirs(self._workdir, exist_ok=True)
      self._made_workdir = True
    while True:
      fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
      try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      except BlockingIOError:
        holder = _holder_text(fd)
        os.close(fd)
        self._remove_made_workdir()
        raise WorkdirInUseError(
            f"{self._workdir} is in use by another training run ({holder}); wait for it "
            f"to end or stop it, or train in another --workdir. (A run that has ended "
            f"releases it by itself; if that run is on another host and surely gone, "
            f"delete {self.path}.)") from None
      except OSError as e:
        if e.errno not in _UNSUPPORTED:
          os.close(fd)
          raise
        logging.warning("The filesystem of %s has no file locks (%s): a second training "
                        "of this workdir would not be refused.", self._workdir, e)
      if self._is_path_of(fd):
        break
      os.close(fd)  # locked a file its holder had just removed: try the path's file again
    record = {"host": socket.gethostname(), "pid": os.getpid(),
              "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(record).encode(), 0)
    os.fsync(fd)
    self._fd = fd
    return self

  def _is_path_of(self, fd: int) -> bool:
    try:
      on_path = os.stat(self.path)
    except FileNotFoundError:
      return False
    mine = os.fstat(fd)
    return (mine.st_dev, mine.st_ino) == (on_path.st_dev, on_path.st_ino)

  def release(self) -> None:
    """Removes the lock file and lets the lock go (a no-op when not held)."""
    if self._fd is None:
      return
    try:
      os.unlink(self.path)
    except FileNotFoundError:
      pass
    finally:
      os.close(self._fd)
      self._fd = None
    self._remove_made_workdir()

  def _remove_made_workdir(self) -> None:
    if self._made_workdir:
      try:
        os.rmdir(self._workdir)  # only if nothing else was written there
      except OSError:
        pass
      self._made_workdir = False

  def __enter__(self) -> "WorkdirLock":
    return self.acquire()

  def __exit__(self, *exc) -> None:
    self.release()
