"""The ``dcgan32`` workload of BENCHMARKS.md (registered by benchmark.py).

One jitted step = one discriminator update + one generator update at batch 128 on
synthetic 32x32x3 data in [-1, 1): z ~ N(0, I); fake = G(z) in train mode (BatchNorm
uses batch statistics and its ``batch_stats`` are updated) — the *one* generator
forward of the step, whose VJP is kept; D is updated on L_D(D(real), D(stop_grad(fake)));
then L_G(D'(fake)) under the updated D' is differentiated with respect to ``fake`` only
(D' frozen: no weight gradients of D) and pulled back through the kept VJP of G.
Non-saturating loss, Adam(2e-4, b1=0.5) for both networks.
"""

import functools
import math


def dcgan32_forward_macs(latent_dim: int, output_shape, g_channels,
                         d_channels) -> tuple[list[int], list[int]]:
  """Multiply-adds per example of each conv/dense layer of G and of D, forward, in order.

  G: Dense latent_dim -> h0 * w0 * g_channels[0], then 4x4 stride-2 transposed
  convolutions g_channels[1:] and the output's channels (counted over their input
  pixels, k*k*cin*cout each, as PyTorch's FlopCounterMode counts them). D: 4x4 stride-2
  convolutions d_channels on the output shape (per output pixel), then Dense 1.
  """
  height, width, out_c = output_shape
  levels = len(g_channels)
  h, w = height // 2**levels, width // 2**levels
  g = [latent_dim * h * w * g_channels[0]]
  cin = g_channels[0]
  for cout in [*g_channels[1:], out_c]:
    g.append(h * w * 16 * cin * cout)
    h, w, cin = 2 * h, 2 * w, cout
  d, (h, w, cin) = [], output_shape
  for cout in d_channels:
    h, w = math.ceil(h / 2), math.ceil(w / 2)
    d.append(h * w * 16 * cin * cout)
    cin = cout
  d.append(h * w * cin)
  return g, d


def dcgan32_model_flops(config) -> int:
  """Model FLOPs of one step (BENCHMARKS.md), 2 per multiply-add.

  Per example: G forward once; D update: forward, weight and input gradient of D on the
  real and on the (detached) fake batch, no input gradient of D's first layer (3D - D_0
  each); G update: D forward and input gradient (2D), G's weight and input gradients,
  no input gradient of G's first layer, whose input is noise (2G - G_0). In all
  3G - G_0 + 8D - 2 D_0.
  """
  m = config.model
  g, d = dcgan32_forward_macs(m.latent_dim, tuple(m.output_shape), tuple(m.g_channels),
                              tuple(m.d_channels))
  return 2 * config.batch_size * (3 * sum(g) - g[0] + 8 * sum(d) - 2 * d[0])


def _models(config, conv_impl="xla"):
  from latentjax import models

  m = config.model
  gen = models.DCGANGenerator(output_shape=tuple(m.output_shape),
                              channels=tuple(m.g_channels), conv_impl=conv_impl)
  disc = models.DCGANDiscriminator(channels=tuple(m.d_channels), conv_impl=conv_impl)
  return gen, disc


def _init(config, gen, disc, key):
  import jax
  import jax.numpy as jnp

  kg, kd = jax.random.split(key)
  g_vars = gen.init(kg, jnp.zeros((1, config.model.latent_dim)), train=False)
  d_vars = disc.init(kd, jnp.zeros((1, *config.model.output_shape)), train=False)
  return g_vars, d_vars


def dcgan32_checksums(config) -> dict:
  """The figures BENCHMARKS.md lists for dcgan32, from the real networks and FLOP count.

  Parameters (``batch_stats`` excluded) are counted on the abstract initialisation of
  the workload's networks.
  """
  import jax

  gen, disc = _models(config)
  g_vars, d_vars = jax.eval_shape(lambda k: _init(config, gen, disc, k),
                                  jax.random.PRNGKey(0))
  count = lambda v: sum(int(x.size) for x in jax.tree.leaves(v["params"]))
  return {"parameters": count(g_vars) + count(d_vars), "parameters_g": count(g_vars),
          "parameters_d": count(d_vars), "model_gflop_per_step": dcgan32_model_flops(config) / 1e9}


def make_dcgan_step(gen, disc, gan_loss, g_tx, d_tx, latent_dim: int,
                    compute_dtype: str = "float32"):
  """``step(state, real) -> (state, metrics)`` of one D update and one G update.

  ``state`` holds ``g_params``, ``g_stats`` (G's ``batch_stats``), ``d_params``,
  ``g_opt``, ``d_opt`` and ``key``; ``metrics`` the two losses. Both networks compute in
  ``compute_dtype`` (``models.apply_in_dtype``).
  """
  import jax
  import optax

  from latentjax import models

  apply = functools.partial(models.apply_in_dtype, compute_dtype=compute_dtype)

  def step(state, real):
    key, zkey = jax.random.split(state["key"])
    z = jax.random.normal(zkey, (real.shape[0], latent_dim), real.dtype)

    def generate(g_params):
      fake, mutated = apply(gen, {"params": g_params, "batch_stats": state["g_stats"]}, z,
                            train=True, mutable=["batch_stats"])
      return fake, mutated["batch_stats"]

    fake, g_vjp, g_stats = jax.vjp(generate, state["g_params"], has_aux=True)

    def d_objective(d_params):
      real_logits = apply(disc, {"params": d_params}, real, train=True)
      fake_logits = apply(disc, {"params": d_params}, jax.lax.stop_gradient(fake), train=True)
      return gan_loss.d_loss(real_logits, fake_logits)

    d_loss, d_grads = jax.value_and_grad(d_objective)(state["d_params"])
    d_updates, d_opt = d_tx.update(d_grads, state["d_opt"], state["d_params"])
    d_params = optax.apply_updates(state["d_params"], d_updates)

    g_objective = lambda x: gan_loss.g_loss(apply(disc, {"params": d_params}, x, train=True))
    g_loss, fake_grad = jax.value_and_grad(g_objective)(fake)
    (g_grads,) = g_vjp(fake_grad)
    g_updates, g_opt = g_tx.update(g_grads, state["g_opt"], state["g_params"])
    new_state = {"g_params": optax.apply_updates(state["g_params"], g_updates),
                 "g_stats": g_stats, "d_params": d_params, "g_opt": g_opt, "d_opt": d_opt,
                 "key": key}
    return new_state, {"d_loss": d_loss, "g_loss": g_loss}

  return step


def _dcgan32_run(config, conv_impl, compute_dtype="float32"):
  """(compiled step, state, (real,), compile seconds, XLA FLOPs, G and D parameters)."""
  import jax
  import optax

  from experiments.workloads import models as workload_models
  from latentjax import models, objectives

  gen, disc = _models(config, conv_impl)
  key = jax.random.PRNGKey(0)
  g_vars, d_vars = _init(config, gen, disc, key)
  o = config.optim
  g_tx = optax.adam(o.learning_rate, b1=o.b1, b2=o.b2)
  d_tx = optax.adam(o.learning_rate, b1=o.b1, b2=o.b2)
  state = {"g_params": g_vars["params"], "g_stats": g_vars["batch_stats"],
           "d_params": d_vars["params"], "g_opt": g_tx.init(g_vars["params"]),
           "d_opt": d_tx.init(d_vars["params"]), "key": jax.random.fold_in(key, 1)}
  real = jax.random.uniform(jax.random.fold_in(key, 2),
                            (config.batch_size, *config.model.output_shape),
                            minval=-1.0, maxval=1.0)
  step = jax.jit(make_dcgan_step(gen, disc, objectives.get_gan_loss(config.model.loss),
                                 g_tx, d_tx, config.model.latent_dim, compute_dtype),
                 donate_argnums=0,
                 compiler_options=models.conv_compiler_options(conv_impl))
  count = lambda p: sum(int(x.size) for x in jax.tree.leaves(p))
  sizes = (count(state["g_params"]), count(state["d_params"]))
  compiled, state, compile_s, xla_flops = workload_models.compile_and_warm(
      step, state, (real,), config.timing.warmup_steps)
  return compiled, state, (real,), compile_s, xla_flops, sizes


def dcgan32_workload(config) -> dict:
  """Steady-state throughput of the DCGAN step (BENCHMARKS.md ``dcgan32``).

  Each implementation in ``config.conv_impls`` gets its own compiled step, timed in
  alternating windows, reported as ``convvae32`` reports them.
  """
  from experiments.workloads import models as workload_models

  head = {"batch_size": config.batch_size}

  def make_run(config, impl, compute_dtype):
    *run, (g_params, d_params) = _dcgan32_run(config, impl, compute_dtype)
    head.setdefault("parameters", g_params + d_params)
    head.setdefault("parameters_g", g_params)
    head.setdefault("parameters_d", d_params)
    return run

  return workload_models.compare_conv_impls(config, make_run, dcgan32_model_flops(config), head)
