"""The ``unet32`` workload of BENCHMARKS.md (registered by benchmark.py): the train step
and 50-step DDIM sampling.

One jitted step of DDPM's simplified objective (Ho et al., 2020) at batch 64 on a fixed
synthetic batch x0 in [-1, 1) of 32x32x3: t ~ U{0, ..., T - 1} of a T = 1000-step linear
beta schedule (1e-4 ... 0.02); eps ~ N(0, I); x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps;
loss = mean((UNet(x_t, t) - eps)^2); Adam(2e-4). Sampling: DDIM (eta = 0) on the 50-step
grid t = 980, 960, ..., 0 (final alpha_bar = 1) at batch 64, in images/s (see
`ddim_sampling_rate`). Schedule and DDIM step are ``latentjax.diffusion``'s.

Model FLOPs follow BENCHMARKS.md (2 per multiply-add of every convolution and matmul,
forward and backward). Its figures, 131.23 GFLOP per forward and 393.47 per train step
at batch 64, are those of every convolution and Dense layer (attention's q/k/v/output
projections and the time-embedding MLP included) *without* attention's two batched
matmuls (q k^T and weights v), which PyTorch's FlopCounterMode leaves out of the
reference's count; the workload reports both, with and without them.
"""

import numpy as np

from experiments.workloads import models as workload_models
from latentjax import models


def unet_forward_macs(input_shape, ch, ch_mult, num_res_blocks,
                      attn_resolutions, out_channels=None) -> list[tuple[str, str, int]]:
  """Multiply-adds per example of each conv / dense / attention matmul of ``models.UNet``.

  Args:
    input_shape: (H, W, C) of one example.
    ch, ch_mult, num_res_blocks, attn_resolutions, out_channels: ``models.UNet``'s.

  Returns:
    ``(name, kind, macs)`` in forward order; kind is "conv", "dense" or "attention"
    (the q k^T and weights v matmuls of a self-attention block, together).

  Example:
    >>> sum(m for _, _, m in unet_forward_macs((32, 32, 3), 64, (1, 2, 2), 1, (16,)))
    1076625408
  """
  height, width, cin = input_shape
  temb = 4 * ch
  out = [("temb_dense_0", "dense", ch * temb), ("temb_dense_1", "dense", temb * temb)]

  def res(name, c_in, c_out, pixels):
    out.extend([(f"{name}/conv_1", "conv", pixels * 9 * c_in * c_out),
                (f"{name}/temb_proj", "dense", temb * c_out),
                (f"{name}/conv_2", "conv", pixels * 9 * c_out * c_out)])
    if c_in != c_out:
      out.append((f"{name}/shortcut", "conv", pixels * c_in * c_out))

  def attn(name, c, pixels):
    out.append((f"{name}/qkv_proj_out", "dense", 4 * pixels * c * c))
    out.append((f"{name}/matmuls", "attention", 2 * pixels * pixels * c))

  h, w = height, width
  out.append(("conv_in", "conv", h * w * 9 * cin * ch))
  skips, c, levels = [ch], ch, len(ch_mult)
  for i, m in enumerate(ch_mult):
    for j in range(num_res_blocks):
      res(f"down_{i}_res_{j}", c, ch * m, h * w)
      c = ch * m
      if h in attn_resolutions:
        attn(f"down_{i}_attn_{j}", c, h * w)
      skips.append(c)
    if i < levels - 1:
      h, w = h // 2, w // 2
      out.append((f"down_{i}_downsample", "conv", h * w * 9 * c * c))
      skips.append(c)
  res("mid_res_0", c, c, h * w)
  attn("mid_attn", c, h * w)
  res("mid_res_1", c, c, h * w)
  for i in reversed(range(levels)):
    for j in range(num_res_blocks + 1):
      res(f"up_{i}_res_{j}", c + skips.pop(), ch * ch_mult[i], h * w)
      c = ch * ch_mult[i]
      if h in attn_resolutions:
        attn(f"up_{i}_attn_{j}", c, h * w)
    if i > 0:
      h, w = 2 * h, 2 * w
      out.append((f"up_{i}_upsample", "conv", h * w * 9 * c * c))
  out.append(("conv_out", "conv", h * w * 9 * c * (out_channels or cin)))
  return out


def _layer_macs(config):
  m = config.model
  return unet_forward_macs(tuple(m.input_shape), m.ch, tuple(m.ch_mult), m.num_res_blocks,
                           tuple(m.attn_resolutions))


def unet32_model_flops(config, with_attention: bool = False) -> dict:
  """Model FLOPs of one forward and of one train step at ``config.batch_size``.

  A train step is a forward, and the weight and input gradients of every layer, less the
  input gradients of conv_in (whose input is data) and of the first time-embedding
  Dense (whose input is the sinusoidal embedding of t): 3F - conv_in - temb_dense_0.
  Attention's matmuls (no weights: two input gradients each) count 3x when included.

  Returns:
    ``{"forward": ..., "train_step": ...}`` in FLOPs.
  """
  layers = _layer_macs(config)
  kinds = ("conv", "dense", "attention") if with_attention else ("conv", "dense")
  fwd = sum(macs for _, kind, macs in layers if kind in kinds)
  no_input_grad = sum(macs for name, _, macs in layers if name in ("conv_in", "temb_dense_0"))
  b = config.batch_size
  return {"forward": 2 * b * fwd, "train_step": 2 * b * (3 * fwd - no_input_grad)}


def _model(config, conv_impl="xla"):
  from latentjax import models

  m = config.model
  return models.UNet(ch=m.ch, ch_mult=tuple(m.ch_mult), num_res_blocks=m.num_res_blocks,
                     attn_resolutions=tuple(m.attn_resolutions), dropout=m.dropout,
                     num_groups=m.num_groups, conv_impl=conv_impl)


def _init(net, config, key):
  import jax.numpy as jnp

  return net.init(key, jnp.zeros((1, *config.model.input_shape)), jnp.zeros((1,), jnp.int32))


def unet32_checksums(config) -> dict:
  """The figures BENCHMARKS.md lists for unet32, from the real network and FLOP count."""
  import jax

  net = _model(config)
  variables = jax.eval_shape(lambda k: _init(net, config, k), jax.random.PRNGKey(0))
  flops = unet32_model_flops(config)
  with_attn = unet32_model_flops(config, with_attention=True)
  return {"parameters": sum(int(x.size) for x in jax.tree.leaves(variables["params"])),
          "model_gflop_per_step": flops["train_step"] / 1e9,
          "model_gflop_per_forward": flops["forward"] / 1e9,
          "model_gflop_per_step_with_attention": with_attn["train_step"] / 1e9,
          "model_gflop_per_forward_with_attention": with_attn["forward"] / 1e9}


def make_unet_step(net, tx, schedule, compute_dtype="float32"):
  """``step(state, x0) -> (state, {"loss"})``: one eps-prediction MSE step at uniform t.

  ``state`` holds ``params``, ``opt`` (the optax state of ``tx``) and ``key``; the U-Net
  computes in ``compute_dtype`` (the loss in float32).
  """
  import jax
  import jax.numpy as jnp
  import optax

  from latentjax import diffusion, models

  num_timesteps = schedule.num_timesteps

  def step(state, x0):
    key, t_key, eps_key, drop_key = jax.random.split(state["key"], 4)
    t = jax.random.randint(t_key, (x0.shape[0],), 0, num_timesteps)
    eps = jax.random.normal(eps_key, x0.shape, x0.dtype)
    x_t = diffusion.q_sample(schedule, x0, t, eps)

    def loss_fn(params):
      pred = models.apply_in_dtype(net, {"params": params}, x_t, t, train=True,
                                   rngs={"dropout": drop_key}, compute_dtype=compute_dtype)
      return jnp.mean(jnp.square(pred - eps))

    loss, grads = jax.value_and_grad(loss_fn)(state["params"])
    updates, opt = tx.update(grads, state["opt"], state["params"])
    new_state = {"params": optax.apply_updates(state["params"], updates), "opt": opt,
                 "key": key}
    return new_state, {"loss": loss}

  return step


def init_params(config):
  """The U-Net's initial parameters, shared by every convolution implementation.

  Drawn with an "rbg" key, whose bit generator compiles in about half the time of the
  default threefry one (the timed step is unaffected).
  """
  import jax

  net = _model(config)
  init = jax.jit(lambda k: _init(net, config, k)["params"])
  return jax.block_until_ready(init(jax.random.key(0, impl="rbg")))


def _schedule(config):
  from latentjax import diffusion

  s = config.schedule
  return diffusion.linear_schedule(num_timesteps=s.num_timesteps, beta_start=s.beta_start,
                                   beta_end=s.beta_end)


def make_ddim_window(net, schedule, num_steps: int, window: int):
  """``run(params, x, start) -> x``: DDIM (eta = 0) steps start, ..., start + window - 1 of
  the ``num_steps``-step grid (t = 980, 960, ..., 0 for 50 of 1000), one compiled scan."""
  import jax
  import jax.numpy as jnp

  from latentjax import diffusion

  ts = jnp.asarray(diffusion.timesteps(schedule.num_timesteps, num_steps))
  prevs = jnp.concatenate([ts[1:], jnp.array([-1], ts.dtype)])

  def run(params, x, start):
    def body(x, i):
      t = ts[i]
      eps = net.apply({"params": params}, x, jnp.full((x.shape[0],), t), train=False)
      return diffusion.ddim_step(schedule, x, eps, t, prevs[i]), None

    x, _ = jax.lax.scan(body, x, start + jnp.arange(window))
    return x

  return run


def ddim_sampling_rate(config, conv_impl, params) -> dict:
  """Images/s of ``config.sampling.num_steps``-step DDIM at ``config.batch_size``.

  Timed in windows of ``steps_per_window`` consecutive DDIM steps (each a compiled scan
  of U-Net forwards and DDIM updates, walking down the grid and wrapping around), as the
  PyTorch reference does: images/s = batch / (num_steps x median seconds per step).
  """
  import time

  import jax

  sc = config.sampling
  net = _model(config, conv_impl)
  window = sc.steps_per_window
  run = jax.jit(make_ddim_window(net, _schedule(config), sc.num_steps, window),
                compiler_options=models.conv_compiler_options(conv_impl))
  x = jax.random.normal(jax.random.PRNGKey(3), (config.batch_size, *config.model.input_shape))
  begin = time.perf_counter()
  x = jax.block_until_ready(run(params, x, 0))
  compile_s = time.perf_counter() - begin
  per_step, start = [], window
  for _ in range(sc.num_windows):
    start = start % (sc.num_steps - window + 1)
    begin = time.perf_counter()
    x = jax.block_until_ready(run(params, x, start))
    per_step.append((time.perf_counter() - begin) / window)
    start += window
  seconds = float(np.median(per_step))
  return {"ddim_steps": sc.num_steps, "ddim_images_per_s": config.batch_size
          / (sc.num_steps * seconds), "ddim_seconds_per_step": seconds,
          "ddim_compile_s": compile_s}


def _unet32_run(config, conv_impl, params, compute_dtype="float32"):
  """(compiled step, state, (x0,), compile seconds, XLA FLOPs, parameter count)."""
  import jax
  import optax

  net = _model(config, conv_impl)
  key = jax.random.PRNGKey(0)
  params = jax.tree.map(lambda p: p.copy(), params)  # the step donates its state
  tx = optax.adam(config.optim.learning_rate)
  state = {"params": params, "opt": tx.init(params), "key": jax.random.fold_in(key, 1)}
  x0 = jax.random.uniform(jax.random.fold_in(key, 2),
                          (config.batch_size, *config.model.input_shape),
                          minval=-1.0, maxval=1.0)
  step = jax.jit(make_unet_step(net, tx, _schedule(config), compute_dtype), donate_argnums=0,
                 compiler_options=models.conv_compiler_options(conv_impl))
  num_params = sum(int(x.size) for x in jax.tree.leaves(params))
  compiled, state, compile_s, xla_flops = workload_models.compile_and_warm(
      step, state, (x0,), config.timing.warmup_steps)
  return compiled, state, (x0,), compile_s, xla_flops, num_params


def unet32_workload(config) -> dict:
  """Steady-state throughput of the U-Net train step (BENCHMARKS.md ``unet32``).

  Each implementation in ``config.conv_impls`` gets its own compiled step, timed in
  alternating windows, reported as ``convvae32`` reports them.
  """
  checks = unet32_checksums(config)
  head = {"batch_size": config.batch_size,
          "model_gflop_per_forward": checks["model_gflop_per_forward"],
          "model_gflop_per_step_with_attention": checks["model_gflop_per_step_with_attention"]}

  params = init_params(config)

  def make_run(config, impl, compute_dtype):
    *run, num_params = _unet32_run(config, impl, params, compute_dtype)
    head.setdefault("parameters", num_params)
    return run

  out = workload_models.compare_conv_impls(
      config, make_run, unet32_model_flops(config)["train_step"], head)
  impls = [models.resolve_conv_impl(i) for i in config.conv_impls]
  for impl in impls:
    suffix = "" if len(impls) == 1 else f"_{impl}"
    rates = ddim_sampling_rate(config, impl, params)
    out.update({f"{k}{suffix}" if k != "ddim_steps" else k: v for k, v in rates.items()})
  return out
