"""Multi-process runs on JAX's own distributed runtime (no home-made collectives).

    from latentjax import training
    training.initialize_distributed("localhost:12345", num_processes=2, process_id=0)
    training.train_and_evaluate(config, workdir)          # in every process

``initialize_distributed`` wraps ``jax.distributed.initialize``: with no address,
process count or id it auto-detects them (Cloud TPU VMs, SLURM, Open MPI); on CPU it
selects gloo collectives, so several processes on one machine (or on CPU hosts) train
together. It sets a bounded heartbeat: when a process dies, the coordination service
notices within ``heartbeat_timeout_seconds`` and the others stop instead of waiting.

The helpers below are no-ops in a single-process run: ``barrier`` (every process
waits until all reach it), ``sum_over_processes`` (the sum of each process's
float values, the same in every process) and ``first_process_text`` (process 0's
text, in every process).
"""

import re

import jax
import numpy as np

DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 30
DEFAULT_INITIALIZATION_TIMEOUT_SECONDS = 300

# Messages of the distributed runtime once a peer process is gone (coordination service,
# gloo collectives, barriers) -- a peer failure, not a bug of this process.
_PEER_FAILURE = re.compile(
    r"coordination service|heartbeat|barrier|gloo|distributed runtime|"
    r"connection (reset|refused|closed)|socket closed|unavailable|deadline exceeded|"
    r"task .*(died|disconnected|failed)|shutdown|peer", re.IGNORECASE)


# How the runtime's errors begin: an absl status code ("UNKNOWN: ...", "UNAVAILABLE: ...").
_STATUS_PREFIX = re.compile(r"[A-Z][A-Z_]+: ")


class DistributedError(RuntimeError):
  """A multi-process run cannot go on: a peer process died or cannot be reached."""


def _check_address(address: str) -> None:
  host, sep, port = address.rpartition(":")
  if not isinstance(address, str) or not sep or not host or not port.isdigit() or not (
      0 < int(port) < 65536):
    raise ValueError(
        f"`coordinator_address` must be 'host:port' with a port in 1-65535, got {address!r}")


def _check_int(name: str, value, minimum: int) -> int:
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise ValueError(f"`{name}` must be an int, got {value!r}")
  if value < minimum:
    raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
  return int(value)


def check_distributed_args(coordinator_address: str | None, num_processes: int | None,
                           process_id: int | None) -> None:
  """Checks the arguments of `initialize_distributed` (all None: auto-detection).

  Raises:
    ValueError: naming the argument: an address without a host or port,
      ``num_processes < 1``, ``process_id`` outside ``[0, num_processes)``, or only
      some of the three given (give all three, or none for auto-detection).

  Example:
    >>> check_distributed_args("localhost:12345", 2, 1)   # fine
    >>> check_distributed_args("localhost:12345", 2, 2)
    Traceback (most recent call last):
    ValueError: `process_id` must be in [0, num_processes=2), got 2
  """
  given = {"coordinator_address": coordinator_address, "num_processes": num_processes,
           "process_id": process_id}
  missing = [k for k, v in given.items() if v is None]
  if missing and len(missing) < 3:
    raise ValueError(
        f"give all of `coordinator_address`, `num_processes` and `process_id`, or none "
        f"(auto-detection); missing: {', '.join(f'`{k}`' for k in missing)}")
  if not missing:
    _check_address(coordinator_address)
    n = _check_int("num_processes", num_processes, 1)
    i = _check_int("process_id", process_id, 0)
    if i >= n:
      raise ValueError(f"`process_id` must be in [0, num_processes={n}), got {i}")


def initialize_distributed(coordinator_address: str | None = None,
                           num_processes: int | None = None, process_id: int | None = None,
                           *, heartbeat_timeout_seconds: int = DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
                           initialization_timeout_seconds: int =
                           DEFAULT_INITIALIZATION_TIMEOUT_SECONDS) -> None:
  """Joins this process to a multi-process run; call it first, before any JAX computation.

  Args:
    coordinator_address: ``"host:port"`` of process 0 (which serves the coordination
      service there); None with the other two None: auto-detected (TPU VM, SLURM, MPI).
    num_processes: the number of processes of the run (>= 1).
    process_id: this process's index, in ``[0, num_processes)``.
    heartbeat_timeout_seconds: a process silent this long is taken as dead, and the
      others stop with an error (bounds how long a peer's death can go unnoticed).
    initialization_timeout_seconds: how long to wait for every process to join.

  Raises:
    ValueError: for bad arguments, naming the argument (see `check_distributed_args`).
    DistributedError: when the processes cannot connect.

  Example:
    >>> initialize_distributed("localhost:12345", num_processes=2, process_id=0)  # doctest: +SKIP
  """
  check_distributed_args(coordinator_address, num_processes, process_id)
  _check_int("heartbeat_timeout_seconds", heartbeat_timeout_seconds, 1)
  _check_int("initialization_timeout_seconds", initialization_timeout_seconds, 1)
  # CPU processes exchange gradients through gloo over TCP; it must be chosen before the
  # CPU backend starts. Harmless where the run uses accelerators.
  if jax.config.jax_cpu_collectives_implementation is None:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
  try:
    jax.distributed.initialize(
        coordinator_address, num_processes, process_id,
        heartbeat_timeout_seconds=heartbeat_timeout_seconds,
        initialization_timeout=initialization_timeout_seconds)
  except (RuntimeError, jax.errors.JaxRuntimeError) as e:
    where = coordinator_address or "the auto-detected coordinator"
    raise DistributedError(
        f"could not join the multi-process run at {where}: {_first_line(e)}") from None


def _first_line(e: BaseException) -> str:
  lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
  return (lines[0] if lines else type(e).__name__)[:300]


def is_peer_failure(e: BaseException) -> bool:
  """Whether ``e`` is the distributed runtime reporting a lost peer (multi-process only).

  Args:
    e: an exception raised by a computation or a barrier of a multi-process run (a
      gloo collective that lost its peer, a coordination-service error).

  Returns:
    False in a single-process run and for any other error.

  Example:
    >>> try:
    ...   training.train(config, workdir)
    ... except RuntimeError as e:
    ...   if is_peer_failure(e): print(peer_failure_message(e))  # doctest: +SKIP
  """
  # A computation run inline in the calling thread (see `keep_freed_host_memory`) raises
  # the runtime's status as a ValueError ("UNKNOWN: Gloo all-reduce failed ...").
  runtime_error = isinstance(e, (RuntimeError, jax.errors.JaxRuntimeError)) or (
      isinstance(e, ValueError) and bool(_STATUS_PREFIX.match(str(e))))
  return (jax.process_count() > 1 and runtime_error and not isinstance(e, DistributedError)
          and bool(_PEER_FAILURE.search(str(e))))


def peer_failure_message(e: BaseException) -> str:
  """One line saying the run stopped because another process failed, with the cause.

  Args:
    e: the error `is_peer_failure` accepted.

  Returns:
    ``"process P of N stopped: another process of this multi-process run died or
    became unreachable (<first line of e>)"``.
  """
  return (f"process {jax.process_index()} of {jax.process_count()} stopped: another process "
          f"of this multi-process run died or became unreachable ({_first_line(e)})")


def barrier(name: str) -> None:
  """Waits until every process reaches the barrier ``name``; a no-op for one process.

  Args:
    name: the barrier's name, the same string in every process.

  Example:
    >>> barrier("dataset_prepared")   # after process 0 has built the data
  """
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils

    multihost_utils.sync_global_devices(name)


def sum_over_processes(values: dict[str, float]) -> dict[str, float]:
  """The sum over processes of each value (every process passes the same keys).

  Args:
    values: name -> float (e.g. a per-process sum and count).

  Returns:
    name -> float64 sum over all processes, the same in every process.

  Example:
    >>> sum_over_processes({"sum": 3.0, "count": 2})   # one process
    {'count': 2.0, 'sum': 3.0}
  """
  if jax.process_count() == 1:
    return {k: float(values[k]) for k in sorted(values)}
  from jax.experimental import multihost_utils

  keys = sorted(values)
  local = np.asarray([values[k] for k in keys], np.float64)
  # float64 would be cut to float32 without x64: send each value as two float32 halves.
  hi = local.astype(np.float32)
  lo = (local - hi.astype(np.float64)).astype(np.float32)
  gathered = np.asarray(multihost_utils.process_allgather(np.stack([hi, lo])), np.float64)
  total = gathered.sum(axis=(0, 1))
  return {k: float(v) for k, v in zip(keys, total, strict=True)}


_TEXT_BYTES = 4096


def first_process_text(text: str) -> str:
  """Process 0's ``text``, in every process (``text`` itself in a single-process run).

  Args:
    text: this process's text; only process 0's is used (cut to 4096 UTF-8 bytes).

  Returns:
    Process 0's ``text``, the same in every process.
  """
  if jax.process_count() == 1:
    return text
  from jax.experimental import multihost_utils

  data = np.zeros(_TEXT_BYTES, np.uint8)
  if jax.process_index() == 0:
    raw = text.encode()[:_TEXT_BYTES]
    data[:len(raw)] = np.frombuffer(raw, np.uint8)
  out = np.asarray(multihost_utils.broadcast_one_to_all(data), np.uint8)
  return out.tobytes().rstrip(b"\0").decode(errors="replace")
