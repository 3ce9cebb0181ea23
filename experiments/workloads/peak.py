"""The machine's float32 matmul peak that the benchmark's ``fraction_of_matmul_peak`` divides by.

    timings = matmul_timings()          # {(size, options name): [seconds of each call]}
    peak = peak_gflops(timings)         # the best rate among them, GFLOP/s
    peak = matmul_peak_gflops()         # the same, measured once per process

What the peak is, so that a fraction of it means something:

* **The best of the kernels the workloads run.** Square float32 matmuls ``C = A @ B``
  (distinct random A and B, ``Precision.HIGHEST``, 2 n^3 FLOPs) of several sizes, each
  compiled with every set of XLA compiler options a workload compiles its step with
  (none; and on CPU ``models.conv_compiler_options("fast")``, which routes dots to
  Eigen's kernels rather than YNNPACK's). One size does not do: on a quiet 2-core
  machine a 256 matmul ran at 80-126 GFLOP/s where 1024 ran at 216, and on a loaded one
  (other processes taking turns on the cores) 2048 fell to 40 while 256 kept 80-160.
* **The workload's threads.** It is measured in the process that runs the workloads,
  after the same process-wide settings (``keep_freed_host_memory``): XLA's intra-op
  thread pool, the device and the host-memory behaviour are the workloads' own.
* **Best of repeats, in rounds.** Each (size, options) matmul is called once to compile
  and warm up, then ``repeats`` times, one call of each per round, so every entry is
  sampled across the whole measurement and a quiet moment is not given to one entry
  only; an entry's rate is its fastest call, and the peak the fastest entry.

Why a workload cannot beat it by construction: the workloads report a *median* over
timed windows (``median_time``, ``compare_conv_impls``), and a median of calls of a
matmul is never faster than the fastest call of that matmul, which the peak is at most.
So a workload whose whole work is one of these matmuls, run under the same conditions,
reports a fraction of at most 1, and nothing is clipped. What can still give more is
a machine that became faster between the two measurements (the fraction is then not
meaningful either), or work of a shape or kernel faster than all of these squares,
which would mean the list of sizes is missing the machine's best case.
"""

import functools
import time

MATMUL_PEAK_SIZES = (256, 512, 1024, 2048)
MATMUL_PEAK_REPEATS = 5


def compiler_option_sets() -> dict[str, dict]:
  """Name -> the XLA compiler options of each way the workloads compile their steps.

  ``"default"`` (no options: the geodesic, pipeline and ``xla``-convolution steps) and,
  where it differs (on CPU), ``"fast"``: ``models.conv_compiler_options("fast")``, the
  options of every step built with the fast convolutions.
  """
  from latentjax import models

  sets = {"default": {}}
  fast = models.conv_compiler_options("fast")
  if fast:
    sets["fast"] = fast
  return sets


def matmul_timings(sizes=MATMUL_PEAK_SIZES, repeats: int = MATMUL_PEAK_REPEATS,
                   option_sets: dict[str, dict] | None = None) -> dict[tuple, list[float]]:
  """Wall seconds of timed float32 matmul calls, per size and compiler-option set.

  Args:
    sizes: square sizes n (A, B, C all [n, n]), each > 0.
    repeats: timed calls of each matmul (>= 1), made in rounds (see the module docstring).
    option_sets: name -> compiler options (default: ``compiler_option_sets()``).

  Returns:
    ``{(n, name): [seconds of each call]}``, in the order of ``sizes`` and the sets.

  Raises:
    ValueError: for an empty or non-positive ``sizes`` or ``repeats < 1``.
  """
  import jax
  import jax.numpy as jnp

  sizes = tuple(sizes)
  if not sizes or any(not (isinstance(n, int) and n > 0) for n in sizes):
    raise ValueError(f"`sizes` must be positive ints, got {sizes!r}")
  if repeats < 1:
    raise ValueError(f"`repeats` must be >= 1, got {repeats}")
  option_sets = compiler_option_sets() if option_sets is None else option_sets
  matmul = jax.jit(lambda a, b: jnp.matmul(a, b, precision=jax.lax.Precision.HIGHEST))
  calls = {}
  for n in sizes:
    k1, k2 = jax.random.split(jax.random.fold_in(jax.random.PRNGKey(0), n))
    a = jax.random.normal(k1, (n, n), jnp.float32)
    b = jax.random.normal(k2, (n, n), jnp.float32)
    for name, options in option_sets.items():
      compiled = matmul.lower(a, b).compile(dict(options) or None)
      compiled(a, b).block_until_ready()  # warm-up
      calls[(n, name)] = functools.partial(compiled, a, b)
  timings = {k: [] for k in calls}
  for _ in range(repeats):
    for k, call in calls.items():
      begin = time.perf_counter()
      call().block_until_ready()
      timings[k].append(time.perf_counter() - begin)
  return timings


def peak_gflops(timings: dict[tuple, list[float]]) -> float:
  """The best rate of ``matmul_timings``' output: max over entries of 2 n^3 / fastest call.

  Args:
    timings: ``{(n, name): [seconds, ...]}``, at least one entry, each non-empty.

  Returns:
    GFLOP/s.

  Raises:
    ValueError: for no entries, or an entry without calls.
  """
  if not timings or not all(timings.values()):
    raise ValueError("`timings` must hold at least one entry, each with a call")
  return max(2.0 * n**3 / min(seconds) / 1e9 for (n, _), seconds in timings.items())


@functools.cache
def matmul_peak_gflops(sizes=MATMUL_PEAK_SIZES, repeats: int = MATMUL_PEAK_REPEATS) -> float:
  """``peak_gflops(matmul_timings(sizes, repeats))``, measured once per process and arguments."""
  return peak_gflops(matmul_timings(tuple(sizes), repeats))
