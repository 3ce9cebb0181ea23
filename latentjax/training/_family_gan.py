"""The GAN families: ``gan`` and the class-conditional ``cgan``, trained by the shared loop.

State: one ``TrainState`` whose fields are dicts keyed by network ("generator",
"discriminator"): ``params``, ``opt_state`` (one optax state each), ``model_state``
(the generator's BatchNorm ``batch_stats``; the discriminator's ``spectral_stats`` and,
with ``model.d_batch_norm``, ``batch_stats``), and ``tx``, a static dict of the two
optax transformations. ``ema_params`` is the EMA of the *generator's* parameters, with
the warm-up of ``ema_decay_at``. ``step`` counts generator updates.

Learning rates: both networks' schedules (``config.optim``; the discriminator's peak is
``d_learning_rate``) are schedules of the training step. The discriminator's optimizer is
applied n_critic times per step and reads its schedule at ``count // n_critic``, so all
of step k's discriminator updates use the rate at position k, the position of the
generator's update in that step; each step reports both rates (``g_lr``, ``d_lr``).

One step (one compiled function) = ``objective.n_critic`` discriminator updates, then
one generator update. The global batch is split into n_critic interleaved parts (part
k holds examples k, k + n_critic, ...; batch_size must divide by n_critic), one real
batch per discriminator update, so a step consumes exactly one batch of the pipeline
and resume stays exact. Interleaving (rather than contiguous blocks) gives every device
the same share of each part, so sharded, pmap and one-device runs see the same parts.

Data in [0, 1] (images) are rescaled to [-1, 1] for the tanh generator; ``Run.decode``
maps samples back to [0, 1]. Points (``toy2d``) are used as they are, with a linear
generator output.

Keys are derived per step (``fold_in(key, step)``), then per purpose (discriminator
update k: ``fold_in(rng, k)``; generator update: ``fold_in(rng, n_critic)``), then per
global example index (``example_keys``), so every compilation draws the same noise.
"""

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from latentjax import models, objectives
from latentjax.training._config import ConfigError, fail_key
from latentjax.training._families import Family, register_family
from latentjax.training._optim import learning_rate_schedule, make_optimizer
from latentjax.training._state import TrainState
from latentjax.training._steps import ema_decay_at, example_keys

Array = jax.Array
G, D = "generator", "discriminator"
_NOISE, _MIX = 0, 1  # purpose tags within one update's key


class GANNetworks(NamedTuple):
  """The unbound modules of a GAN run (hashable: a compile-time constant of its steps)."""

  generator: Any
  discriminator: Any


def _image_data(spec) -> bool:
  return spec.input_key == "image" and len(spec.input_shape) == 3


def _check_levels(key: str, widths, spec, name: str) -> None:
  levels = len(widths)
  h, w = spec.input_shape[:2]
  if h % 2**levels or w % 2**levels:
    raise ConfigError(
        f"config.model.{key}={tuple(widths)!r}: {levels} stride-2 levels need H and W "
        f"divisible by {2**levels}, but {name!r} images are {h}x{w}")


def build_networks(cfg, spec, conditional: bool) -> GANNetworks:
  """The generator and discriminator a config describes (see ``configs/common.py``).

  Raises:
    ConfigError: a conv GAN on non-image data, or sizes that do not fit the images.
  """
  m = cfg.model
  classes = spec.num_classes if conditional else 0
  if m.architecture == "conv":
    if not _image_data(spec):
      raise ConfigError(
          f"config.model.architecture='conv' needs image data [H, W, C]; config.data.name="
          f"{cfg.data.name!r} has {spec.input_key!r} inputs of shape {tuple(spec.input_shape)}")
    _check_levels("channels", m.channels, spec, cfg.data.name)
    _check_levels("d_channels", m.d_channels, spec, cfg.data.name)
    conv_impl = models.resolve_conv_impl(m.conv_impl)
    gen = models.DCGANGenerator(output_shape=tuple(spec.input_shape), channels=m.channels,
                                num_classes=classes, output_activation="tanh",
                                conv_impl=conv_impl)
    disc = models.DCGANDiscriminator(channels=m.d_channels, num_classes=classes,
                                     spectral_norm=m.spectral_norm, batch_norm=m.d_batch_norm,
                                     conv_impl=conv_impl)
  else:
    gen = models.MLPGenerator(hidden_dims=m.hidden_dims, output_shape=tuple(spec.input_shape),
                              num_classes=classes,
                              output_activation="tanh" if _image_data(spec) else "none")
    disc = models.MLPDiscriminator(hidden_dims=m.d_hidden_dims, num_classes=classes,
                                   spectral_norm=m.spectral_norm)
  return GANNetworks(gen, disc)


def _with_axis(module, axis_name):
  """The module with its BatchNorm statistics averaged over the pmap axis (if it has any)."""
  return module.clone(bn_axis_name=axis_name) if hasattr(module, "bn_axis_name") else module


def _apply(module, params, state: dict, *args, train: bool, compute_dtype: str = "float32"):
  """``(out, new_state)``; the state collections are mutable (and updated) when training.

  The network computes in ``compute_dtype`` (``models.apply_in_dtype``); ``out`` and the
  new state are float32.
  """
  variables = {"params": params, **state}
  if train and state:
    out, new = models.apply_in_dtype(module, variables, *args, train=True,
                                     mutable=list(state), compute_dtype=compute_dtype)
    return out, dict(new)
  return models.apply_in_dtype(module, variables, *args, train=train,
                               compute_dtype=compute_dtype), state


def _noise(keys: Array, latent_dim: int) -> Array:
  return jax.vmap(lambda k: jax.random.normal(k, (latent_dim,)))(keys)


def make_gan_updates(exp, axis_name: str | None = None):
  """The two halves of a GAN step: ``d_update`` and ``g_update``.

  Args:
    exp: a GAN Experiment.
    axis_name: the pmap axis (gradients, metrics and statistics are averaged over it).

  Returns:
    ``d_update(state, x [b, ...], y [b] or None, rng) -> (state, metrics)``: one
    discriminator update on real ``x`` against b fresh samples (the generator runs in
    training mode, its statistics are not kept); ``g_update(state, y, num, rng) ->
    (state, metrics)``: one generator update on ``num`` samples (the discriminator
    runs in training mode and nothing of it changes), then the EMA.
  """
  cfg = exp.cfg
  gen = _with_axis(exp.model.generator, axis_name)
  disc = _with_axis(exp.model.discriminator, axis_name)
  loss = objectives.get_gan_loss(cfg.objective.gan_loss)
  obj, latent_dim = cfg.objective, cfg.model.latent_dim
  mean = (lambda t: jax.lax.pmean(t, axis_name)) if axis_name else (lambda t: t)
  apply = functools.partial(_apply, compute_dtype=cfg.train.compute_dtype)

  def d_update(state: TrainState, x, y, rng):
    b = x.shape[0]
    z = _noise(example_keys(jax.random.fold_in(rng, _NOISE), b, axis_name), latent_dim)
    fake, _ = apply(gen, state.params[G], state.model_state[G], z, y, train=True)
    fake = jax.lax.stop_gradient(fake)
    both = jnp.concatenate([x, fake])
    y2 = None if y is None else jnp.concatenate([y, y])

    def loss_fn(dp):
      logits, d_state = apply(disc, dp, state.model_state[D], both, y2, train=True)
      real, fake_logits = logits[:b], logits[b:]
      total = d_loss = loss.d_loss(real, fake_logits)
      metrics = {"d_loss": d_loss, "d_real": jnp.mean(real), "d_fake": jnp.mean(fake_logits)}
      d_fn = lambda v: apply(disc, dp, d_state, v, y, train=False)[0]
      if obj.gp_weight > 0:
        mix_keys = example_keys(jax.random.fold_in(rng, _MIX), b, axis_name)
        eps = jax.vmap(lambda k: jax.random.uniform(k, ()))(mix_keys)
        eps = eps.reshape((b,) + (1,) * (x.ndim - 1))
        norms = objectives.gradient_norms(d_fn, eps * x + (1.0 - eps) * fake)
        metrics["gp"] = jnp.mean(jnp.square(norms - 1.0))
        total = total + obj.gp_weight * metrics["gp"]
      if obj.r1_weight > 0:
        metrics["r1"] = objectives.r1_penalty(d_fn, x)
        total = total + 0.5 * obj.r1_weight * metrics["r1"]
      return total, (metrics, d_state)

    (_, (metrics, d_state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params[D])
    grads, metrics, d_state = mean((grads, metrics, d_state))
    updates, d_opt = state.tx[D].update(grads, state.opt_state[D], state.params[D])
    params = dict(state.params, **{D: optax.apply_updates(state.params[D], updates)})
    metrics["d_grad_norm"] = optax.tree.norm(grads)
    return state.replace(params=params, opt_state=dict(state.opt_state, **{D: d_opt}),
                         model_state=dict(state.model_state, **{D: d_state})), metrics

  def g_update(state: TrainState, y, num: int, rng):
    z = _noise(example_keys(jax.random.fold_in(rng, _NOISE), num, axis_name), latent_dim)

    def loss_fn(gp_):
      fake, g_state = apply(gen, gp_, state.model_state[G], z, y, train=True)
      # Training mode, as in the discriminator's own update; its new statistics are dropped.
      logits, _ = apply(disc, state.params[D], state.model_state[D], fake, y, train=True)
      g_loss = loss.g_loss(logits)
      return g_loss, ({"g_loss": g_loss}, g_state)

    (_, (metrics, g_state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params[G])
    grads, metrics, g_state = mean((grads, metrics, g_state))
    updates, g_opt = state.tx[G].update(grads, state.opt_state[G], state.params[G])
    g_params = optax.apply_updates(state.params[G], updates)
    decay = ema_decay_at(state.step, cfg.train.ema_decay)
    ema = jax.tree.map(lambda e, p: decay * e + (1.0 - decay) * p, state.ema_params, g_params)
    metrics["g_grad_norm"] = optax.tree.norm(grads)
    return state.replace(step=state.step + 1, params=dict(state.params, **{G: g_params}),
                         opt_state=dict(state.opt_state, **{G: g_opt}), ema_params=ema,
                         model_state=dict(state.model_state, **{G: g_state})), metrics

  return d_update, g_update


def optimizer_configs(cfg) -> dict:
  """``{generator: config.optim, discriminator: it with d_learning_rate (if set)}``."""
  o = cfg.optim
  return {G: o, D: dataclasses.replace(o, learning_rate=o.d_learning_rate or o.learning_rate)}


def make_gan_step(exp, axis_name: str | None = None):
  """``step(state, batch, key) -> (state, metrics)``: n_critic D updates, one G update.

  ``metrics``: ``loss`` (the last discriminator loss with its penalties' terms left
  out, i.e. ``d_loss``), ``d_loss``, ``g_loss``, ``d_real`` / ``d_fake`` (mean logits),
  ``gp`` / ``r1`` when weighted, the gradient norms of both networks, and ``g_lr`` /
  ``d_lr``, the learning rates of the step's updates (both schedules at ``state.step``).
  """
  n_critic = exp.cfg.objective.n_critic
  input_key, label_key = exp.spec.input_key, exp.label_key
  rescale = _image_data(exp.spec)
  d_update, g_update = make_gan_updates(exp, axis_name)
  schedules = {k: learning_rate_schedule(o, exp.cfg.train.num_steps)
               for k, o in optimizer_configs(exp.cfg).items()}

  def step(state: TrainState, batch, key):
    rates = {"g_lr": schedules[G](state.step), "d_lr": schedules[D](state.step)}
    rng = jax.random.fold_in(key, state.step)
    x = batch[input_key]
    x = 2.0 * x - 1.0 if rescale else x
    b = x.shape[0] // n_critic
    parts = x.reshape((b, n_critic, *x.shape[1:]))
    labels = None if label_key is None else batch[label_key].reshape((b, n_critic))
    metrics = {}
    for k in range(n_critic):
      y = None if labels is None else labels[:, k]
      state, metrics = d_update(state, parts[:, k], y, jax.random.fold_in(rng, k))
    y = None if labels is None else labels[:, 0]  # the generator draws part 0's classes
    state, g_metrics = g_update(state, y, b, jax.random.fold_in(rng, n_critic))
    metrics = dict(metrics, **g_metrics, **rates, loss=metrics["d_loss"])
    return state, metrics

  return step


def decode_generator(static, variables, z: Array, y: Array | None) -> Array:
  """Generator samples [B, ...] in the data's range; ``static = (generator, rescale)``."""
  gen, rescale = static
  x = gen.apply(variables, z, y, train=False)
  return 0.5 * (x + 1.0) if rescale else x


class GANFamily(Family):
  """``gan`` or ``cgan`` (see the module docstring)."""

  has_encoder = False

  def check_config(self, cfg) -> None:
    super().check_config(cfg)
    if cfg.data.batch_size % cfg.objective.n_critic:
      raise ConfigError(
          f"config.data.batch_size={cfg.data.batch_size} must be divisible by "
          f"config.objective.n_critic={cfg.objective.n_critic} (each discriminator update "
          f"takes its own n_critic-th of the batch)")
    m, arch = cfg.model, cfg.model.architecture
    if arch == "mlp" and not m.d_hidden_dims:
      fail_key("model.d_hidden_dims", m.d_hidden_dims, "must list at least one width")
    if arch == "conv" and not m.d_channels:
      fail_key("model.d_channels", m.d_channels, "must list at least one width")
    if m.d_batch_norm and arch != "conv":
      fail_key("model.d_batch_norm", True, "needs config.model.architecture='conv'")
    if m.d_batch_norm and (cfg.objective.gp_weight or cfg.objective.r1_weight):
      raise ConfigError(
          "config.model.d_batch_norm=True cannot be combined with config.objective.gp_weight "
          "or config.objective.r1_weight > 0: the penalties need per-example input "
          "gradients, which batch statistics mix")

  def check_devices(self, cfg, num_devices: int) -> None:
    k = cfg.objective.n_critic
    if cfg.data.batch_size % (num_devices * k):
      fail_key("data.batch_size", cfg.data.batch_size,
               f"must be divisible by {num_devices} devices x config.objective.n_critic={k} "
               f"(every device holds its share of each discriminator update's part of the "
               f"batch)")

  def progress_metrics(self, exp) -> tuple[str, ...]:
    del exp
    return ("d_loss", "g_loss")

  def build(self, cfg, spec) -> dict:
    self.check_labels(cfg, spec)
    if cfg.objective.binarize:
      raise ConfigError("config.objective.binarize=True is for likelihood models; a GAN "
                        "trains on the data as they are")
    nets = build_networks(cfg, spec, self.conditional)
    return {"model": nets, "loss_fn": None,
            "label_key": spec.label_key if self.conditional else None}

  def init_state(self, exp, key: Array) -> TrainState:
    from latentjax.training._experiment import example_inputs

    batch = example_inputs(exp)
    x, y = batch[exp.spec.input_key], batch.get(exp.label_key) if exp.label_key else None
    z = jnp.zeros((1, exp.cfg.model.latent_dim), jnp.float32)
    g_vars = dict(exp.model.generator.init(jax.random.fold_in(key, 0), z, y, train=False))
    d_vars = dict(exp.model.discriminator.init(jax.random.fold_in(key, 1), x, y, train=False))
    params = {G: g_vars.pop("params"), D: d_vars.pop("params")}
    optim, num_steps = optimizer_configs(exp.cfg), exp.cfg.train.num_steps
    tx = {G: make_optimizer(optim[G], num_steps),
          D: make_optimizer(optim[D], num_steps, updates_per_step=exp.cfg.objective.n_critic)}
    return TrainState(step=jnp.zeros((), jnp.int32), params=params,
                      opt_state={k: tx[k].init(params[k]) for k in (G, D)},
                      ema_params=jax.tree.map(jnp.copy, params[G]),
                      model_state={G: g_vars, D: d_vars}, tx=tx)

  def make_step(self, exp, axis_name: str | None = None):
    return make_gan_step(exp, axis_name)

  def evaluate_state(self, exp, state, key: Array, num_examples: int | None = None) -> dict:
    from latentjax.training._gan_eval import gan_metrics

    return gan_metrics(exp, self.eval_variables(exp, state), key, num_examples)

  def report(self, run, key: Array, write_images: bool) -> dict:
    from latentjax.training._gan_eval import gan_report

    return gan_report(run, key, write_images)

  def eval_variables(self, exp, state) -> dict:
    params = state.ema_params if exp.cfg.eval.use_ema else state.params[G]
    return {"params": params, **state.model_state[G]}

  def decoding(self, exp):
    return decode_generator, (exp.model.generator, _image_data(exp.spec))

  def sample_codes(self, run, key: Array, num_samples: int) -> Array:
    return jax.random.normal(key, (num_samples, run.latent_dim))


for _name, _conditional in (("gan", False), ("cgan", True)):
  register_family(GANFamily(_name, _conditional))
