"""The diffusion families: ``diffusion`` and the class-conditional ``cdiffusion``.

A denoising diffusion model (Ho et al., 2020) trained by the shared loop: one network
(the U-Net of ``models.UNet`` for images, ``models.MLPDenoiser`` for vectors), one loss
(the mean squared error of its ε- or v-prediction at a uniformly drawn t), EMA of the
parameters. Images in [0, 1] are modelled in [-1, 1].

Its latent space is the space of noise images: ``Run.decode(z)`` runs the configured
sampler (``eval.sampler``, ``eval.sampling_steps``; DDIM is deterministic, so a code is
one image) from ``z`` [B, H*W*C], the flattened x_T; ``Run.encode(x)`` is DDIM
inversion (image -> x_T), so latent_ops interpolate and traverse real images through
their noise. ``cdiffusion`` trains with the label replaced by the null label
(``num_classes``) with probability ``objective.p_uncond`` and samples with
classifier-free guidance of weight ``eval.guidance_scale``.

Latent diffusion: with ``model.latent_run`` naming a trained ``ae`` / ``vae`` run, the
data are that run's codes (encoder means of each batch, computed in the step with its
frozen parameters), the network is an MLP, and decoding passes the sampled code through
the run's decoder.

Keys: per step ``fold_in(key, step)``, then per global example (``example_keys``), then
per purpose: time step, noise, label drop, dropout.
"""

import dataclasses
import functools
import os
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from latentjax import models
from latentjax.training._config import ConfigError, check_unet_groups
from latentjax.training._families import register_family
from latentjax.training._family_single import SingleNetworkFamily

Array = jax.Array
_T, _NOISE, _DROP, _DROPOUT = 0, 1, 2, 3  # purposes within an example's key
LATENT = "latent_decoder"  # variables entry of a latent diffusion run's decoder


def make_schedule(objective):
  """The noise schedule of a typed ``objective`` config."""
  from latentjax import diffusion

  if objective.noise_schedule == "cosine":
    return diffusion.cosine_schedule(num_timesteps=objective.num_timesteps)
  return diffusion.linear_schedule(num_timesteps=objective.num_timesteps)


def _image_data(spec) -> bool:
  return spec.input_key == "image" and len(spec.input_shape) == 3


def _checkpoint_steps(path: str) -> tuple:
  from latentjax.training._checkpoint import checkpoint_dir

  folder = checkpoint_dir(path)
  return tuple(sorted(os.listdir(folder))) if os.path.isdir(folder) else ()


@functools.lru_cache(maxsize=8)
def _load_latent_run(path: str, steps: tuple):
  del steps  # part of the cache key: a retrained run is loaded afresh
  from latentjax.training._run import load_run

  return load_run(path)


def named_run(cfg, families: tuple[str, ...], needs: str):
  """The trained run ``config.model.latent_run`` names, loaded once per checkpoint set.

  Its family is checked from its ``config.json`` before any checkpoint is read, then its
  dataset against ``config.data.name``.

  Args:
    cfg: the typed config.
    families: the ``model.family`` values the named run may have.
    needs: what needs it, for the messages ("latent diffusion needs an 'ae' or 'vae' run").

  Returns:
    The loaded ``Run``.

  Raises:
    ConfigError: naming ``config.model.latent_run`` when it is empty, not a run folder,
      untrained, of another family or trained on another dataset.
  """
  from latentjax.training._run import read_config

  path = cfg.model.latent_run
  if not path:
    raise ConfigError(f"config.model.latent_run is empty: {needs}")
  try:
    family = read_config(path).model.family
    if family not in families:
      raise ConfigError(f"config.model.latent_run={path!r} is a {family!r} run; {needs}")
    run = _load_latent_run(path, _checkpoint_steps(path))
  except FileNotFoundError as e:
    raise ConfigError(f"config.model.latent_run={path!r}: {e}") from None
  if run.exp.cfg.data.name != cfg.data.name:
    raise ConfigError(f"config.model.latent_run={path!r} was trained on "
                      f"{run.exp.cfg.data.name!r}, not config.data.name={cfg.data.name!r}")
  return run


def _latent_parts(cfg):
  """(run, code dim) of the ae / vae run a latent diffusion models, or (None, 0)."""
  if not cfg.model.latent_run:
    return None, 0
  run = named_run(cfg, ("ae", "vae"), "latent diffusion needs an 'ae' or 'vae' run")
  return run, run.latent_dim


@functools.partial(jax.jit, static_argnums=(0, 2, 3))
def init_variables(net, key: Array, shape: tuple, conditional: bool) -> dict:
  """A denoiser's initial variables, as ``net.init`` on a zero batch [1, *shape].

  Compiled once per network and shape: op by op, a U-Net's initialisers would compile
  one by one (the values are the same).
  """
  x = jnp.zeros((1, *shape), jnp.float32)
  y = jnp.zeros((1,), jnp.int32) if conditional else None
  return net.init(key, x, jnp.zeros((1,), jnp.int32), y, train=False)


def build_unet(cfg, spec, classes: int, out_channels: int | None = None):
  """The ``models.UNet`` of ``config.model.unet_*`` for image data of ``spec``.

  Raises:
    ConfigError: when the images do not halve ``len(unet_mult) - 1`` times, or an
      attention resolution is never reached.
  """
  m = cfg.model
  levels = len(m.unet_mult) - 1
  h, w = spec.input_shape[:2]
  if h % 2**levels or w % 2**levels:
    raise ConfigError(
        f"config.model.unet_mult={m.unet_mult!r}: {levels} down-sampling steps need H "
        f"and W divisible by {2**levels}, but {cfg.data.name!r} images are {h}x{w}")
  reached = {h // 2**i for i in range(levels + 1)}
  missing = sorted(set(m.attn_resolutions) - reached)
  if missing:
    raise ConfigError(
        f"config.model.attn_resolutions={m.attn_resolutions!r}: the U-Net never reaches "
        f"{missing} (its resolutions are {sorted(reached, reverse=True)})")
  return models.UNet(ch=m.unet_channels, ch_mult=m.unet_mult,
                     num_res_blocks=m.num_res_blocks, attn_resolutions=m.attn_resolutions,
                     dropout=m.dropout, num_groups=m.norm_groups, out_channels=out_channels,
                     num_classes=classes, conv_impl=m.conv_impl)


class DiffusionStatic(NamedTuple):
  """The constants of decoding (a hashable compile-time constant of the samplers)."""

  net: Any  # the unbound U-Net
  objective: Any  # the run's objective section (schedule, prediction)
  eval: Any  # its eval section (sampler, steps, eta, guidance)
  shape: tuple  # the shape of one model-space state (an image, or a code)
  rescale: bool  # images in [0, 1] modelled in [-1, 1]
  latent: tuple | None  # a latent diffusion's ``(decode, static)`` of its code run


def _predict(net, prediction, variables, x_t, t, labels):
  """The network's ε (a v-prediction converted) at x_t [B, ...], t [B]; module-level, so
  the samplers' compiled loops are reused across calls with the same structure."""
  from latentjax import diffusion

  net, schedule = net
  out = net.apply({"params": variables["params"]}, x_t, t, labels, train=False)
  if prediction == "v":
    out = diffusion.v_to_eps(schedule, x_t, t, out)
  return out


def ddim_static(static, num_steps: int | None = None) -> DiffusionStatic:
  """``static`` with deterministic DDIM (eta = 0) as its sampler, at ``num_steps`` if given.

  The decoder that DDIM inversion inverts, whatever ``eval.sampler`` says: round trips
  and inversion errors are measured with it.
  """
  ev = static.eval
  steps = ev.sampling_steps if num_steps is None else num_steps
  ev = dataclasses.replace(ev, sampler="ddim", ddim_eta=0.0, sampling_steps=steps)
  return static._replace(eval=ev)


def _unconditional(eps_cond, null_label, x_t, t):
  """ε without a label: a conditional network gets its null label (classifier-free
  guidance's unconditional model, trained with probability ``p_uncond``)."""
  labels = None if null_label is None else jnp.full((x_t.shape[0],), null_label, jnp.int32)
  return eps_cond(x_t, t, labels)


def eps_function(static, variables, labels, guidance_scale=None):
  """``eps(x_t, t)`` of a run's network, with classifier-free guidance when configured.

  ``guidance_scale`` (a float, or None for ``eval.guidance_scale``) overrides the
  configured weight; given, the guided model is used even at 0 (the conditional one),
  so that every weight shares one compiled sampler.
  """
  from latentjax import diffusion

  net, objective, ev = static.net, static.objective, static.eval
  schedule = make_schedule(objective)
  cond = jax.tree_util.Partial(_predict, (net, schedule), objective.prediction, variables)
  if labels is None:
    return jax.tree_util.Partial(_unconditional, cond, net.num_classes or None)
  if guidance_scale is not None or ev.guidance_scale:
    w = ev.guidance_scale if guidance_scale is None else guidance_scale
    guided = diffusion.guided_eps_fn(cond, w, net.num_classes)
    return diffusion.bind_labels(guided, labels)
  return diffusion.bind_labels(cond, labels)


def sample_from_noise(static, variables, x_T: Array, labels: Array | None,
                      key: Array | None = None) -> Array:
  """Runs the configured sampler from noise x_T [B, *shape]; data [B, *shape] in [-1, 1]."""
  from latentjax import diffusion

  net, objective, ev, shape, rescale, latent = static
  s = make_schedule(objective)
  eps = eps_function(static, variables, labels)
  if ev.sampler == "ddpm":
    return diffusion.ddpm_sample(s, eps, x_T, key if key is not None else jax.random.PRNGKey(0),
                                 num_steps=ev.sampling_steps)
  if ev.sampler == "dpm_solver":
    return diffusion.dpm_solver_pp_2m_sample(s, eps, x_T, ev.sampling_steps)
  eta_key = key if (ev.ddim_eta > 0 and key is not None) else (
      jax.random.PRNGKey(0) if ev.ddim_eta > 0 else None)
  return diffusion.ddim_sample(s, eps, x_T, ev.sampling_steps, eta=ev.ddim_eta, key=eta_key)


def decode_noise(static, variables, z: Array, y: Array | None) -> Array:
  """Data [B, ...] (images in [0, 1]) sampled from flattened noise codes z [B, D]."""
  shape = static.shape
  return to_data(static, variables, sample_from_noise(static, variables,
                                                      z.reshape((z.shape[0], *shape)), y))


def to_data(static, variables, x: Array) -> Array:
  """Model-space states x [B, *shape] (samples, or intermediate x_t) as data [B, ...]:
  images in [0, 1], or a latent diffusion's codes through its run's decoder."""
  rescale, latent = static.rescale, static.latent
  if latent is not None:
    decode, dec_static = latent
    return decode(dec_static, variables[LATENT], x, None)
  return 0.5 * (x + 1.0) if rescale else x


def invert_to_noise(static, variables, x: Array, y: Array | None) -> Array:
  """DDIM inversion of data x [B, ...] to flattened noise codes [B, D] (eta = 0)."""
  from latentjax import diffusion

  net, objective, ev, shape, rescale, latent = static
  s = make_schedule(objective)
  x0 = 2.0 * x - 1.0 if rescale else x
  xT = diffusion.ddim_invert(s, eps_function(static, variables, y), x0, ev.sampling_steps)
  return xT.reshape((x.shape[0], -1))


class DiffusionFamily(SingleNetworkFamily):
  """``diffusion`` or ``cdiffusion`` (see the module docstring)."""

  latent_geometry = False  # decoding is a whole sampler: no Jacobian-based metrics

  def check_config(self, cfg) -> None:
    if not self.conditional:  # guidance needs the conditional model
      super().check_config(cfg)
    if cfg.model.architecture == "conv":
      check_unet_groups(cfg)

  def build(self, cfg, spec) -> dict:
    self.check_labels(cfg, spec)
    if cfg.objective.binarize:
      raise ConfigError("config.objective.binarize=True is for likelihood models; a "
                        "diffusion model trains on the data as they are")
    latent_run, code_dim = _latent_parts(cfg)
    classes = spec.num_classes if self.conditional else 0
    m = cfg.model
    if latent_run is not None or m.architecture == "mlp":
      net = models.MLPDenoiser(hidden_dims=m.hidden_dims, num_classes=classes)
    else:
      if not _image_data(spec):
        raise ConfigError(
            f"config.model.architecture='conv' (a U-Net) needs image data [H, W, C]; "
            f"config.data.name={cfg.data.name!r} has {spec.input_key!r} inputs of shape "
            f"{tuple(spec.input_shape)}")
      net = build_unet(cfg, spec, classes)
    label_key = spec.label_key if self.conditional else None
    shape = (code_dim,) if latent_run is not None else tuple(spec.input_shape)
    return {"model": net, "loss_fn": self._loss(cfg, spec, net, latent_run, shape, label_key),
            "label_key": label_key}

  def _loss(self, cfg, spec, net, latent_run, shape, label_key):
    from latentjax import diffusion

    schedule = make_schedule(cfg.objective)
    obj = cfg.objective
    T, null = obj.num_timesteps, getattr(net, "num_classes", 0)
    rescale = _image_data(spec) and latent_run is None
    encode = None
    if latent_run is not None:
      enc_vars, enc_model = latent_run.variables, latent_run.exp.model
      variational = latent_run.exp.is_variational

      def encode(x):
        out = enc_model.apply(enc_vars, x, None, method="encode")
        return jax.lax.stop_gradient(out[0] if variational else out)

    def loss_fn(params, model_state, batch, keys, *, train=True):
      # train=False: the network in inference mode (no dropout), for evaluation.
      x = batch[spec.input_key]
      x = encode(x) if encode is not None else (2.0 * x - 1.0 if rescale else x)
      per = lambda i: jax.vmap(lambda k: jax.random.fold_in(k, i))(keys)
      t = jax.vmap(lambda k: jax.random.randint(k, (), 0, T))(per(_T))
      noise = jax.vmap(lambda k: jax.random.normal(k, x.shape[1:]))(per(_NOISE))
      x_t = diffusion.q_sample(schedule, x, t, noise)
      labels = None
      if label_key is not None:
        drop = jax.vmap(lambda k: jax.random.uniform(k, ()))(per(_DROP)) < obj.p_uncond
        labels = jnp.where(drop, null, batch[label_key])
      rngs = {"dropout": jax.random.fold_in(keys[0], _DROPOUT)} if train else None
      out = net.apply({"params": params, **model_state}, x_t, t, labels, train=train,
                      rngs=rngs)
      target = diffusion.v_target(schedule, x, t, noise) if obj.prediction == "v" else noise
      per_example = jnp.mean(jnp.square(out - target).reshape((x.shape[0], -1)), axis=1)
      loss = jnp.mean(per_example)
      return loss, ({"loss": loss}, model_state)

    return loss_fn

  def init_variables(self, exp, key: Array) -> dict:
    return init_variables(exp.model, key, self._shape(exp), exp.label_key is not None)

  @staticmethod
  def _shape(exp) -> tuple:
    run, code_dim = _latent_parts(exp.cfg)
    return (code_dim,) if run is not None else tuple(exp.spec.input_shape)

  def latent_dim(self, exp) -> int:
    n = 1
    for d in self._shape(exp):
      n *= d
    return n

  def evaluate_state(self, exp, state, key: Array, num_examples: int | None = None) -> dict:
    from latentjax.training._diffusion_eval import diffusion_metrics

    return diffusion_metrics(exp, self.eval_variables(exp, state), key, num_examples)

  def report(self, run, key: Array, write_images: bool) -> dict:
    from latentjax.training._diffusion_eval import diffusion_report

    return diffusion_report(run, key, write_images)

  def eval_variables(self, exp, state) -> dict:
    out = super().eval_variables(exp, state)
    run, _ = _latent_parts(exp.cfg)
    if run is not None:
      out[LATENT] = run.variables
    return out

  def encode(self, run, x: Array, y: Array | None) -> Array:
    exp = run.exp
    latent, _ = _latent_parts(exp.cfg)
    if latent is not None:
      x = latent.encode(x)
    static = self._static(exp)
    return _jitted(invert_to_noise)(static, run.variables, x, y)

  @functools.cache  # noqa: B019 - one static tuple per Experiment
  def _static(self, exp) -> DiffusionStatic:
    latent, _ = _latent_parts(exp.cfg)
    dec = None
    if latent is not None:
      dec = latent.family_impl.decoding(latent.exp)
    rescale = _image_data(exp.spec) and latent is None
    return DiffusionStatic(exp.model, exp.cfg.objective, exp.cfg.eval, self._shape(exp),
                           rescale, dec)

  def decoding(self, exp):
    return decode_noise, self._static(exp)

  def decode(self, run, z: Array, y: Array | None) -> Array:
    # Not one program around the sampling chain: its samplers are compiled per shape
    # already, and evaluation and the report share those programs.
    decode, static = self.decoding(run.exp)
    return decode(static, run.variables, z, y)

  def sample_codes(self, run, key: Array, num_samples: int) -> Array:
    return jax.random.normal(key, (num_samples, self.latent_dim(run.exp)))


@functools.cache
def _jitted(fn):
  return jax.jit(fn, static_argnums=0)


for _name, _conditional in (("diffusion", False), ("cdiffusion", True)):
  register_family(DiffusionFamily(_name, _conditional))
