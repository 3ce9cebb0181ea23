"""Training-step and input-pipeline workloads of BENCHMARKS.md (registered by benchmark.py).

``convvae32``: one jitted VAE training step (conv encoder/decoder, batch 128, 32x32x3,
Bernoulli likelihood, analytic KL, Adam 1e-3) on synthetic data, for each convolution
implementation asked for (``config.conv_impls``). ``pipeline``: the
``digits`` and ``sprites`` input pipelines alone at batch 128, shuffled and preprocessed.
"""

import math
import resource
import time

import numpy as np


def _median_window_rate(run_window, num_windows: int) -> float:
  """Median over windows of (items per second) returned by ``run_window() -> (items, s)``."""
  rates = []
  for _ in range(num_windows):
    items, seconds = run_window()
    rates.append(items / seconds)
  return float(np.median(rates))


def conv_vae_forward_macs(input_shape, channels, latent_dim) -> list[int]:
  """Multiply-adds per example of each conv/dense layer of the conv VAE, forward, in order.

  Encoder: 4x4 stride-2 convolutions, then Dense to 2 * latent_dim; decoder: Dense to the
  smallest feature map, then 4x4 stride-2 transposed convolutions back to the input.
  A transposed convolution is counted over its input pixels (k*k*cin*cout each), as
  PyTorch's FlopCounterMode counts it.
  """
  h, w, c = input_shape
  macs, cin = [], c
  for cout in channels:
    h, w = math.ceil(h / 2), math.ceil(w / 2)
    macs.append(h * w * cout * 16 * cin)
    cin = cout
  macs.append(h * w * cin * 2 * latent_dim)  # posterior head
  macs.append(latent_dim * h * w * cin)  # decoder projection
  for cout in [*channels[::-1][1:], c]:
    macs.append(h * w * 16 * cin * cout)
    h, w, cin = 2 * h, 2 * w, cout
  return macs


def convvae32_model_flops(config) -> int:
  """Model FLOPs of one training step (BENCHMARKS.md): forward, input gradient and weight
  gradient of every layer, but no input gradient for the first one (the data needs
  none), 2 FLOPs per multiply-add."""
  macs = conv_vae_forward_macs(tuple(config.model.input_shape), tuple(config.model.channels),
                               config.model.latent_dim)
  return 2 * config.batch_size * (3 * sum(macs) - macs[0])


def _convvae32_model(config, conv_impl="xla"):
  from latentjax import models

  m = config.model
  return models.build_model("vae", architecture="conv", latent_dim=m.latent_dim,
                            hidden_dims=(), channels=tuple(m.channels),
                            input_shape=tuple(m.input_shape), conv_impl=conv_impl)


def _init_variables(model, config, key):
  import jax.numpy as jnp

  shape, latent_dim = tuple(config.model.input_shape), config.model.latent_dim
  return model.init(key, jnp.zeros((1, *shape)), jnp.zeros((1, latent_dim)))


def convvae32_checksums(config) -> dict:
  """The figures BENCHMARKS.md lists for convvae32, from the real network and FLOP count.

  Parameters are counted on the abstract initialisation of the workload's model (no
  allocation), so the count is that of the network the workload times.
  """
  import jax

  model = _convvae32_model(config)
  variables = jax.eval_shape(lambda k: _init_variables(model, config, k), jax.random.PRNGKey(0))
  num_params = sum(int(x.size) for x in jax.tree.leaves(variables["params"]))
  return {"parameters": num_params,
          "model_gflop_per_step": convvae32_model_flops(config) / 1e9}


def _convvae32_step(config, conv_impl, compute_dtype="float32"):
  """(compiled step, state, batch, key, parameter count, compile seconds, XLA FLOPs)."""
  import jax
  import optax

  from latentjax import models, objectives, training

  m = config.model
  shape = tuple(m.input_shape)
  model = _convvae32_model(config, conv_impl)
  loss_fn = objectives.make_vae_loss(model, beta=1.0, likelihood=m.likelihood,
                                     input_key="image")
  loss_fn = models.with_compute_dtype(loss_fn, compute_dtype)
  key = jax.random.PRNGKey(0)
  variables = _init_variables(model, config, key)
  state = training.TrainState.create(params=variables["params"],
                                     tx=optax.adam(config.optim.learning_rate))
  num_params = sum(x.size for x in jax.tree.leaves(state.params))
  batch = {"image": jax.random.uniform(key, (config.batch_size, *shape))}
  step = jax.jit(training.make_train_step(loss_fn, ema_decay=0.0), donate_argnums=0,
                 compiler_options=models.conv_compiler_options(conv_impl))

  compiled, state, compile_s, xla_flops = compile_and_warm(
      step, state, (batch, key), config.timing.warmup_steps)
  return compiled, state, batch, key, num_params, compile_s, xla_flops


def _variants(config) -> list[tuple[str, str, str]]:
  """``(impl, compute_dtype, suffix)`` of each timed variant: impls x compute dtypes."""
  from latentjax import models

  impls = [models.resolve_conv_impl(i) for i in config.conv_impls]
  if len(set(impls)) != len(impls):
    raise ValueError(f"`conv_impls` {tuple(config.conv_impls)} name one implementation twice")
  dtypes = list(config.get("compute_dtypes", ("float32",)))
  for d in dtypes:
    models.check_compute_dtype(d)
  if len(set(dtypes)) != len(dtypes):
    raise ValueError(f"`compute_dtypes` {tuple(dtypes)} name one dtype twice")
  out = []
  for impl in impls:
    for d in dtypes:
      parts = ([impl] if len(impls) > 1 else []) + ([d] if len(dtypes) > 1 else [])
      out.append((impl, d, "".join(f"_{p}" for p in parts)))
  return out


class profiled:
  """``with profiled(dir):`` a ``jax.profiler`` trace into ``dir`` (no-op for ""/None)."""

  def __init__(self, directory):
    self.directory = directory

  def __enter__(self):
    if self.directory:
      import jax

      jax.profiler.start_trace(self.directory)

  def __exit__(self, *exc):
    if self.directory:
      import jax

      jax.profiler.stop_trace()


def compare_conv_impls(config, make_run, model_flops: float, head: dict) -> dict:
  """Times one compiled step per implementation in ``config.conv_impls``, alternately.

  With ``config.compute_dtypes`` (e.g. ``("float32", "bfloat16")``) every implementation
  is timed in every compute dtype; ``config.profile_dir`` (when set) receives a
  ``jax.profiler`` trace of the timed windows (compilation and warm-up left out).

  Args:
    config: a workload config with ``batch_size``, ``conv_impls`` and ``timing``
      (``num_windows`` windows of ``window_steps`` steps each).
    make_run: ``make_run(config, impl, compute_dtype) -> (compiled, state, args,
      compile_s, xla_flops)``,
      warmed up, with ``compiled(state, *args) -> (state, metrics)``.
    model_flops: model FLOPs of one step (BENCHMARKS.md's count).
    head: figures to report first (batch size, parameters, ...); read after
      every ``make_run``, which may add to it.

  Returns:
    ``head`` plus examples/s (median and best window), compile seconds, XLA's FLOPs and
    achieved GFLOP/s; unsuffixed with one variant, else suffixed by the implementation
    (when several) and the compute dtype (when several), with ``<last>_over_<first>``
    speed ratios between implementations and between dtypes.

  Raises:
    ValueError: if ``conv_impls`` names one implementation twice, or ``compute_dtypes``
      an unknown or repeated dtype.
  """
  import jax

  t = config.timing
  variants = _variants(config)
  runs = {v: list(make_run(config, v[0], v[1])) for v in variants}
  rates = {v: [] for v in variants}
  with profiled(config.get("profile_dir", "")):
    for _ in range(t.num_windows):
      for v, run in runs.items():
        compiled, state, args = run[:3]
        begin = time.perf_counter()
        for _ in range(t.window_steps):
          state, metrics = compiled(state, *args)
        jax.block_until_ready((state, metrics))
        rates[v].append(t.window_steps * config.batch_size / (time.perf_counter() - begin))
        run[1] = state
  out = dict(head)
  out["model_gflop_per_step"] = model_flops / 1e9
  for v in variants:
    suffix = v[2]
    examples_per_s = float(np.median(rates[v]))
    out[f"examples_per_s{suffix}"] = examples_per_s
    out[f"examples_per_s_best{suffix}"] = float(np.max(rates[v]))
    out[f"compile_s{suffix}"] = runs[v][3]
    out[f"xla_gflop_per_step{suffix}"] = runs[v][4] / 1e9
    out[f"achieved_gflops{suffix}"] = model_flops * examples_per_s / config.batch_size / 1e9
  impls = list(dict.fromkeys(v[0] for v in variants))
  dtypes = list(dict.fromkeys(v[1] for v in variants))
  rate = {(v[0], v[1]): out[f"examples_per_s{v[2]}"] for v in variants}
  _add_ratios(out, "conv_impl", impls, dtypes, lambda impl, d: rate[(impl, d)])
  _add_ratios(out, "compute_dtype", dtypes, impls, lambda d, impl: rate[(impl, d)])
  out["peak_host_memory_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
  return out


def _add_ratios(out: dict, name: str, values: list, others: list, rate_of) -> None:
  """``out[name]`` for one value; else ``<last>_over_<first>[_<other>]`` speed ratios."""
  if len(values) == 1:
    out[name] = values[0]
    return
  first, last = values[0], values[-1]
  for other in others:
    tail = f"_{other}" if len(others) > 1 else ""
    out[f"{last}_over_{first}{tail}"] = rate_of(last, other) / rate_of(first, other)


def compile_and_warm(step, state, args, warmup_steps: int):
  """``(compiled, state, compile_s, xla_flops)`` of a jitted ``step(state, *args)``."""
  import jax

  start = time.perf_counter()
  compiled = step.lower(state, *args).compile()
  compile_s = time.perf_counter() - start
  cost = compiled.cost_analysis()
  cost = cost[0] if isinstance(cost, (list, tuple)) else cost
  xla_flops = float(cost.get("flops", float("nan"))) if cost else float("nan")
  for _ in range(warmup_steps):
    state, _ = compiled(state, *args)
  jax.block_until_ready(state)
  return compiled, state, compile_s, xla_flops


def convvae32_workload(config) -> dict:
  """Steady-state throughput of the conv VAE training step (BENCHMARKS.md ``convvae32``).

  Each implementation in ``config.conv_impls`` gets its own compiled step; their timed
  windows alternate, so the ratio between them comes from the same stretch of time. With
  one implementation the figures are unsuffixed; with several, each is suffixed by the
  implementation and ``<last>_over_<first>`` gives the speed ratio.
  """
  head = {"batch_size": config.batch_size}

  def make_run(config, impl, compute_dtype):
    compiled, state, batch, key, num_params, compile_s, xla_flops = _convvae32_step(
        config, impl, compute_dtype)
    head.setdefault("parameters", int(num_params))
    return compiled, state, (batch, key), compile_s, xla_flops

  return compare_conv_impls(config, make_run, convvae32_model_flops(config), head)


def pipeline_workload(config) -> dict:
  """Batches/s of the built-in TFDS pipelines alone (shuffled, preprocessed)."""
  from latentjax import data

  out = {"batch_size": config.batch_size}
  for name in config.datasets:
    spec = data.get_spec(name)
    it = data.load(name, spec.train_split, batch_size=config.batch_size, shuffle=True, seed=0,
                   data_dir=config.data_dir or None)
    for _ in range(config.warmup_batches):
      next(it)

    def window(it=it):
      begin = time.perf_counter()
      for _ in range(config.window_batches):
        next(it)
      return config.window_batches, time.perf_counter() - begin

    out[f"{name}_batches_per_s"] = _median_window_rate(window, config.num_windows)
  return out
