"""Keep freed host memory in the process, so XLA:CPU steps reuse their buffers.

XLA:CPU allocates each execution's temporary buffer (56 MB for the ``convvae32`` training
step, 115 MB for ``dcgan32``'s) with ``malloc`` and frees it when the step ends. glibc
serves allocations above its mmap threshold (at most 32 MB) with freshly mapped pages and
unmaps them on ``free``, so every step faults its temporary memory in again: about
16,000 page faults and 34 ms of kernel time per ``convvae32`` step on the 2-core machine
this was measured on, a fifth of the step's CPU time.

Three settings stop that:

* mmap off for ``malloc`` and heap trimming disabled: freed memory stays in the heap.
* a 64 MB top pad: glibc gives each thread that allocates its own arena, made of heaps
  of at most 64 MB, and deletes a heap (unmapping it) as soon as all of it is free; the
  pad keeps emptied heaps. Devices of a parallel (sharded, pmap) computation allocate on
  XLA's worker threads.
* computations on one CPU device run inline in the calling thread
  (``jax_cpu_enable_async_dispatch=False``) instead of on a worker thread: the caller's
  heap has no 64 MB bound, while a worker's arena maps anything larger afresh whatever
  the settings above say. JAX reads this when it creates its CPU backend.
"""

import ctypes
import sys

import jax

_M_TRIM_THRESHOLD = -1  # glibc mallopt parameters (malloc.h)
_M_TOP_PAD = -2
_M_MMAP_MAX = -4
_INT_MAX = 2**31 - 1
_TOP_PAD_BYTES = 64 * 2**20  # glibc's largest heap of a thread's arena (64-bit)


def keep_freed_host_memory() -> bool:
  """Make freed host memory stay in the process for the next compiled step to reuse.

  Process-wide and idempotent. The ``malloc`` settings take effect for allocations made
  afterwards; inline execution only if JAX has not yet created its CPU backend (before
  the first computation). So call it first thing (the training loop, ``experiments/*.py``
  and the benchmark do). Memory the process frees is kept until it exits rather than
  returned to the operating system; the peak is unchanged. Results do not change.

  Returns:
    True where the ``malloc`` settings applied (Linux with glibc), False where there is
    no ``mallopt`` (then only inline execution is asked for).
  """
  jax.config.update("jax_cpu_enable_async_dispatch", False)
  if not sys.platform.startswith("linux"):
    return False
  try:
    mallopt = ctypes.CDLL(None).mallopt
  except (OSError, AttributeError):  # not glibc (e.g. musl)
    return False
  mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
  mallopt.restype = ctypes.c_int
  settings = ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _INT_MAX), (_M_TOP_PAD, _TOP_PAD_BYTES))
  return all([bool(mallopt(param, value)) for param, value in settings])
