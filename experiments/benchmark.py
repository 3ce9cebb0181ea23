r"""Benchmarks the fixed workloads of BENCHMARKS.md; prints JSON and a table.

    python -m experiments.benchmark --workloads=geodesic
    python -m experiments.benchmark --workloads=geodesic --smoke --output=/tmp/bench.json
    python -m experiments.benchmark --workloads=convvae32,convlayers --conv_impl=xla,fast
    python -m experiments.benchmark --workloads=dcgan32 --conv_impl=xla,fast
    python -m experiments.benchmark --workloads=unet32 --conv_impl=xla,fast
    python -m experiments.benchmark --workloads=metrics --metrics_num_points=20000
    python -m experiments.benchmark --workloads=convvae32,unet32 --compute_dtype=float32,bfloat16
    python -m experiments.benchmark --workloads=dcgan32 --profile --profile_dir=/tmp/prof

Each workload is a function registered under its name with ``@register("name")``; it
receives ``configs/bench_<name>.py``'s ``get_config()`` (``get_config("smoke")`` with
``--smoke``) and returns a flat dict of figures. Shared figures (device, JAX version,
the machine's float32 matmul peak: the best of square matmuls of several sizes with the
workloads' compiler options, see ``workloads.peak``) are measured once per run, the same
with ``--smoke``. An unknown name lists the
registered ones. ``--conv_impl`` (a comma list of "auto", "xla", "fast") sets the
convolution implementations of every workload whose config has ``conv_impls``; each
such workload reports them side by side, timed alternately, with their ratio.
``--compute_dtype`` (a comma list of "float32", "bfloat16") does the same for the dtype
the networks compute in (parameters, optimizer state and losses stay float32): every
implementation in every dtype, with ``bfloat16_over_float32`` speed ratios; for
``convlayers`` it is the dtype of the layers' inputs and kernels. ``--profile`` writes a
``jax.profiler`` trace per workload into ``<profile_dir>/<workload>/`` (TensorBoard's
profile plugin reads it): of the timed windows for ``convvae32``, ``dcgan32`` and
``unet32`` (compilation and warm-up left out), of the whole workload for the others.
``--metrics_num_points`` sets the size of both feature sets of the ``metrics`` workload.
"""

import functools
import importlib
import json
import os
import resource
import sys
import time
from collections.abc import Callable

from absl import app, flags

from experiments import _cli, workloads
from experiments.workloads.peak import matmul_peak_gflops

_WORKLOADS = flags.DEFINE_list(
    "workloads", None, "Comma-separated workloads to run (default: all registered).")
_SMOKE = flags.DEFINE_bool("smoke", False, "Run each workload's tiny `smoke` config.")
_OUTPUT = flags.DEFINE_string("output", None, "Also write the JSON results to this path.")
_CONV_IMPL = flags.DEFINE_list(
    "conv_impl", None,
    "Convolution implementations (auto, xla, fast) for the conv workloads, compared side "
    "by side (default: each workload's config).")
_COMPUTE_DTYPE = flags.DEFINE_list(
    "compute_dtype", None,
    "Compute dtypes (float32, bfloat16) of the conv / model workloads, compared side by side "
    "(default: float32; convlayers: its config's dtype).")
_PROFILE = flags.DEFINE_bool(
    "profile", False, "Write a JAX profiler trace of each workload into --profile_dir.")
_PROFILE_DIR = flags.DEFINE_string(
    "profile_dir", None, "Where --profile writes its traces (one folder per workload).")
_METRICS_NUM_POINTS = flags.DEFINE_integer(
    "metrics_num_points", None,
    "Points in each feature set of the `metrics` workload (default: its config's 50,000).")

WORKLOADS: dict[str, Callable] = {}


def register(name: str):
  """Decorator adding ``fn(config) -> dict`` to the registry under ``name``."""

  def wrap(fn):
    WORKLOADS[name] = fn
    return fn

  return wrap


def _check_names(names):
  unknown = [n for n in names if n not in WORKLOADS]
  if unknown:
    raise ValueError(
        f"Unknown workload {unknown[0]!r}; registered: {', '.join(sorted(WORKLOADS))}")


def load_config(name: str, smoke: bool = False):
  """``configs/bench_<name>.py``'s ``get_config`` (``"smoke"`` shrinks it)."""
  return importlib.import_module(f"configs.bench_{name}").get_config("smoke" if smoke else None)


def wall_times(fn: Callable, repeats: int) -> list[float]:
  """Sorted wall times in seconds of ``repeats`` calls of ``fn()`` (which must block)."""
  times = []
  for _ in range(max(repeats, 1)):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return sorted(times)


def median_time(fn: Callable, repeats: int) -> float:
  """Median wall time in seconds of ``fn()`` (which must block until done)."""
  times = wall_times(fn, repeats)
  return times[len(times) // 2]


def peak_host_memory_mib() -> float:
  return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --------------------------------------------------------------------------- geodesic


def _mlp_apply(params, z):
  """The benchmark decoder for one code: tanh hidden layers, sigmoid output."""
  import jax
  import jax.numpy as jnp

  for i, (w, b) in enumerate(params):
    z = z @ w + b
    z = jnp.tanh(z) if i < len(params) - 1 else jax.nn.sigmoid(z)
  return z


def _geodesic_setup(config):
  import jax
  import jax.numpy as jnp

  sizes = (config.model.latent_dim, *config.model.hidden_dims, config.model.output_dim)
  keys = jax.random.split(jax.random.PRNGKey(config.model.seed), len(sizes) - 1)
  init = jax.nn.initializers.lecun_normal()
  params = [(init(k, (m, n), jnp.float32), jnp.zeros((n,), jnp.float32))
            for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)]
  z0, z1 = jax.random.normal(jax.random.PRNGKey(config.data.seed),
                             (2, config.data.num_pairs, config.model.latent_dim))
  # Counted on the decoder's own weights: one multiply-add per kernel entry per code.
  macs = sum(int(w.size) for w, _ in params)
  num_params = sum(int(x.size) for x in jax.tree.leaves(params))
  return functools.partial(_mlp_apply, params), z0, z1, macs, num_params


def geodesic_model_flops(num_pairs: int, num_points: int, macs: int) -> float:
  """Model FLOPs of one solver iteration (BENCHMARKS.md): 2 per multiply-add, forward
  and input-gradient backward, at all points of all curves."""
  return 4.0 * num_pairs * num_points * macs


def geodesic_checksums(config) -> dict:
  """The figures BENCHMARKS.md lists for the geodesic workload, from its real decoder."""
  _, z0, _, macs, num_params = _geodesic_setup(config)
  return {"decoder_params": num_params, "decoder_macs": macs,
          "model_gflop_per_iteration": geodesic_model_flops(
              z0.shape[0], config.geodesic.num_points, macs) / 1e9}


def _baseline_seconds(decoder, z0, z1, target, config):
  """Per-curve baseline: Python loop of jitted Adam steps on one curve's raw points."""
  import jax
  import jax.numpy as jnp
  import optax

  from latentjax import latent_ops as lo

  g, b = config.geodesic, config.baseline
  opt = optax.adam(b.learning_rate)

  def loss(inner, a, e):
    x = jax.vmap(decoder)(jnp.concatenate([a[None], inner, e[None]]))
    sq = jnp.sum(jnp.square(x[1:] - x[:-1]), axis=-1)
    return (g.num_points - 1) * jnp.sum(sq), jnp.sum(jnp.sqrt(sq))

  @jax.jit
  def step(inner, state, a, e):
    (_, length), grad = jax.value_and_grad(loss, has_aux=True)(inner, a, e)
    updates, state = opt.update(grad, state, inner)
    return optax.apply_updates(inner, updates), state, length

  total, iters = 0.0, []
  for i in range(b.num_curves):
    inner = lo.interpolate(z0[i], z1[i], g.num_points)[1:-1]
    state = opt.init(inner)
    jax.block_until_ready(step(inner, state, z0[i], z1[i]))  # compile outside the clock
    start, count = time.perf_counter(), 0
    while count < b.max_iters:
      inner, state, length = step(inner, state, z0[i], z1[i])
      count += 1
      if float(length) <= (1 + g.tolerance) * float(target[i]):  # chord length: optimistic
        break
    total += time.perf_counter() - start
    iters.append(count)
  return total, iters


@register("geodesic")
def geodesic_workload(config) -> dict:
  """Batch of latent geodesics (BENCHMARKS.md `geodesic`)."""
  import jax
  import jax.numpy as jnp
  import numpy as np

  from latentjax import latent_ops as lo

  g, t = config.geodesic, config.timing
  decoder, z0, z1, macs, num_params = _geodesic_setup(config)
  num_pairs, num_points = z0.shape[0], g.num_points
  judge = lambda curves: np.asarray(lo.curve_length(decoder, curves, g.judge_subdivisions))

  def solve(num_steps, rtol):
    res = lo.solve_geodesic(decoder, z0, z1, num_points, num_steps,
                            learning_rate=g.learning_rate, rtol=rtol)
    return jax.block_until_ready(res)

  line_len = judge(lo.interpolate(z0, z1, num_points))
  reference = solve(g.reference_num_steps, g.reference_rtol)
  ref_len = judge(reference.curve)

  def timed(num_steps, rtol):
    start = time.perf_counter()
    res = solve(num_steps, rtol)
    first = time.perf_counter() - start
    times = wall_times(lambda: solve(num_steps, rtol), t.repeats)
    median = times[len(times) // 2]
    return res, median, times[0], max(first - times[0], 0.0)  # compile: first - fastest

  # Steady-state iteration time: subtracting a 0-step call cancels the fixed costs
  # (dispatch, endpoint decodes, candidate judging). The two are timed alternately and
  # the fastest of each kept, the runs least disturbed by other load on the machine.
  w = t.iteration_window
  solve(0, 0.0), solve(w, 0.0)  # compile
  t_0, t_w = [], []
  for _ in range(max(t.repeats, 1)):
    t_0 += wall_times(lambda: solve(0, 0.0), 1)
    t_w += wall_times(lambda: solve(w, 0.0), 1)
  iter_seconds = max(min(t_w) - min(t_0), 1e-9) / w

  needed = None
  for n in g.sweep_num_steps:
    res, seconds, fastest, compile_s = timed(n, 0.0)
    err = np.abs(judge(res.curve) / ref_len - 1)
    if np.all(err <= g.tolerance):
      needed = dict(steps=n, seconds=seconds, fastest=fastest, compile_s=compile_s,
                    max_err=float(err.max()))
      break

  default, default_s, _, _ = timed(g.default_num_steps, g.default_rtol)
  default_err = np.abs(judge(default.curve) / ref_len - 1)

  curves = jnp.stack([lo.interpolate(a, b, num_points) for a, b in zip(z0, z1, strict=True)])
  grad_energy = jax.jit(jax.value_and_grad(lambda c: jnp.sum(lo.curve_energy(decoder, c))))
  cost = grad_energy.lower(curves).compile().cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  xla_flops = float(cost.get("flops", float("nan"))) if cost else float("nan")

  # Model FLOPs (BENCHMARKS.md): 2 per multiply-add, forward + input-gradient backward,
  # at all points of all curves; the solver caches the fixed endpoints' decodes.
  model_flops = geodesic_model_flops(num_pairs, num_points, macs)
  executed_flops = geodesic_model_flops(num_pairs, num_points - 2, macs)
  peak = matmul_peak_gflops()
  out = {
      "num_pairs": num_pairs, "num_points": num_points, "decoder_params": num_params,
      "geodesic_over_straight_mean": float(np.mean(ref_len / line_len)),
      "geodesic_over_straight_min": float(np.min(ref_len / line_len)),
      "geodesic_over_straight_max": float(np.max(ref_len / line_len)),
      "reference_steps": int(np.max(reference.num_steps)),
      "iteration_ms": 1e3 * iter_seconds,
      "curve_iterations_per_s": num_pairs / iter_seconds,
      "model_gflop_per_iteration": model_flops / 1e9,
      "executed_model_gflop_per_iteration": executed_flops / 1e9,
      "xla_gflop_per_iteration": xla_flops / 1e9,
      "achieved_gflops": executed_flops / iter_seconds / 1e9,
      "matmul_peak_gflops": peak,
      "fraction_of_matmul_peak": executed_flops / iter_seconds / 1e9 / peak,
      "default_call_s": default_s,
      "default_call_steps_max": int(np.max(default.num_steps)),
      "default_call_max_err": float(default_err.max()),
      "peak_host_memory_mib": peak_host_memory_mib(),
  }
  if needed is not None:
    out.update({"within_tol_steps": needed["steps"], "within_tol_s": needed["seconds"],
                "within_tol_s_fastest": needed["fastest"],
                "within_tol_compile_s": needed["compile_s"],
                "within_tol_max_err": needed["max_err"]})
  if config.baseline.enabled:
    seconds, iters = _baseline_seconds(decoder, z0, z1, ref_len, config)
    per_curve = seconds / len(iters)
    out.update({"baseline_curves_timed": len(iters),
                "baseline_iters_median": float(np.median(iters)),
                "baseline_s_per_curve": per_curve,
                "baseline_s_all_curves_extrapolated": per_curve * num_pairs})
    if needed is not None:
      out["speedup_vs_baseline"] = per_curve * num_pairs / needed["seconds"]
  return out


# --------------------------------------------------------------------------- others

register("convvae32")(workloads.models.convvae32_workload)
register("dcgan32")(workloads.gan.dcgan32_workload)
register("unet32")(workloads.unet.unet32_workload)
register("convlayers")(workloads.convlayers.convlayers_workload)
register("pipeline")(workloads.models.pipeline_workload)
register("metrics")(workloads.metrics.metrics_workload)


# --------------------------------------------------------------------------- driver


def _check_conv_impls(conv_impls):
  from latentjax import models

  for impl in conv_impls:
    models.resolve_conv_impl(impl)  # ValueError naming the valid ones
  if len(set(conv_impls)) != len(conv_impls):
    raise ValueError(f"`conv_impl` names an implementation twice: {','.join(conv_impls)}")


def _check_compute_dtypes(dtypes):
  from latentjax import models

  for d in dtypes:
    models.check_compute_dtype(d)  # ValueError naming the valid ones
  if len(set(dtypes)) != len(dtypes):
    raise ValueError(f"`compute_dtype` names a dtype twice: {','.join(dtypes)}")


def _run_workload(name, config, compute_dtypes):
  """One workload's figures; ``convlayers`` once per compute dtype, keys suffixed."""
  if not compute_dtypes or "conv_impls" not in config:
    return WORKLOADS[name](config)
  if "dtype" not in config:  # the step workloads compare the dtypes themselves
    config.compute_dtypes = tuple(compute_dtypes)
    return WORKLOADS[name](config)
  out = {}
  for d in compute_dtypes:
    config.dtype = d
    figures = WORKLOADS[name](config)
    out.update(figures if len(compute_dtypes) == 1 else
               {f"{k}_{d}" if isinstance(v, float) else k: v for k, v in figures.items()})
  return out


def run_workloads(names=None, smoke: bool = False, conv_impls=None,
                  metrics_num_points=None, compute_dtypes=None, profile_dir=None) -> dict:
  """Runs the named workloads (all registered ones by default); returns the results.

  Args:
    names: workload names (default: all registered).
    smoke: run each workload's tiny ``smoke`` config.
    conv_impls: convolution implementations ("auto", "xla", "fast") to compare in
      every workload whose config has ``conv_impls`` (default: the config's own).
    metrics_num_points: points in each feature set of the ``metrics`` workload
      (default: its config's).
    compute_dtypes: compute dtypes ("float32", "bfloat16") to compare in every workload
      whose config has ``conv_impls`` (default: float32; convlayers: its config's).
    profile_dir: write a ``jax.profiler`` trace of each workload into
      ``<profile_dir>/<name>/`` (see the module docstring); None: no traces.

  Raises:
    ValueError: for an unknown workload, convolution implementation or compute dtype,
      or a ``metrics_num_points`` below 2.
  """
  import jax

  names = list(names) if names else sorted(WORKLOADS)
  _check_names(names)
  if conv_impls:
    _check_conv_impls(list(conv_impls))
  if compute_dtypes:
    _check_compute_dtypes(list(compute_dtypes))
  if metrics_num_points is not None and metrics_num_points < 2:
    raise ValueError(f"`metrics_num_points` must be >= 2, got {metrics_num_points}")
  results = {
      "device": str(jax.devices()[0].device_kind), "platform": jax.default_backend(),
      "jax": jax.__version__, "smoke": smoke, "workloads": {},
  }
  for name in names:
    config = load_config(name, smoke)
    if conv_impls and "conv_impls" in config:
      config.conv_impls = tuple(conv_impls)
    if name == "metrics" and metrics_num_points is not None:
      config.num_points = int(metrics_num_points)
    trace_dir = os.path.join(profile_dir, name) if profile_dir else None
    if trace_dir and "conv_impls" in config and "dtype" not in config:
      config.profile_dir = trace_dir  # the timed windows only
      figures = _run_workload(name, config, compute_dtypes)
    else:
      with workloads.models.profiled(trace_dir):
        figures = _run_workload(name, config, compute_dtypes)
    for key in [k for k in figures if k.startswith("achieved_gflops")]:
      fraction = "fraction_of_matmul_peak" + key[len("achieved_gflops"):]
      if fraction not in figures:
        figures[fraction] = figures[key] / matmul_peak_gflops()
    results["workloads"][name] = figures
  return results


def format_table(results: dict) -> str:
  """One ``workload  metric  value`` row per figure."""
  rows = [("workload", "metric", "value")]
  for name, figures in results["workloads"].items():
    for metric, value in figures.items():
      text = f"{value:.4g}" if isinstance(value, float) else str(value)
      rows.append((name, metric, text))
  widths = [max(len(r[i]) for r in rows) for i in range(3)]
  return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  from latentjax import training

  # as the training loop does: without it every XLA:CPU step faults its temporary buffer
  # in afresh (a fifth of convvae32's CPU time on 2 cores)
  training.keep_freed_host_memory()
  if _PROFILE.value and not _PROFILE_DIR.value:
    raise app.UsageError("--profile needs --profile_dir (where the traces go)")
  try:
    results = run_workloads(_WORKLOADS.value, smoke=_SMOKE.value, conv_impls=_CONV_IMPL.value,
                            metrics_num_points=_METRICS_NUM_POINTS.value,
                            compute_dtypes=_COMPUTE_DTYPE.value,
                            profile_dir=_PROFILE_DIR.value if _PROFILE.value else None)
  except ValueError as e:
    print(f"error: {e}", file=sys.stderr)
    sys.exit(1)
  text = json.dumps(results, indent=2)
  print(text)
  print(format_table(results))
  if _OUTPUT.value:
    with open(_OUTPUT.value, "w") as f:
      f.write(text + "\n")


if __name__ == "__main__":
  _cli.main(main)
