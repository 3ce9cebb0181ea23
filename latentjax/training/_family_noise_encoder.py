"""The ``noise_encoder`` family: an amortised embedding of images into a diffusion model's noise.

The embedding network of Asperti et al. (2023, "Image embedding for denoising generative
models"): a U-Net ``E`` (``models.UNet`` of the config's ``unet_*`` keys, time input fixed
at 0, output channels = the image's) trained to map an image to the noise it is sampled
from, in one forward pass. ``config.model.latent_run`` names a trained ``diffusion`` or
``cdiffusion`` run of the same images; the step draws its own training pairs from that
frozen model: per example a noise image ``z ~ N(0, I)`` (and, for a conditional run, a
uniform class label), ``x0 = sample(z)`` with the run's configured sampler and
``eval.sampling_steps`` (its ``Run.decode``; DDIM by default) under ``stop_gradient``, and
the loss ``mean((E(x0) - z)^2)``.

The data pipeline's batch is not read, only its size: it still sets the batch size, the
step count and where a resumed run restarts, so the shared loop, its checkpoints and
exact resume apply unchanged. Training pairs depend only on the step's key.

Run helpers: ``Run.encode(x, y)`` is ``E(2x - 1)`` flattened to [B, H*W*C];
``Run.decode``/``decoder_fn``/``variables`` are the diffusion run's (``variables`` is
the network that maps codes to data: the diffusion model's), so
``load_run(embedding).decode(load_run(embedding).encode(x))`` reconstructs through the
diffusion model; ``sample_codes`` draws N(0, I).

Keys: per step ``fold_in(key, step)``, per global example (``example_keys``), then per
purpose: noise, label, dropout.
"""

import functools

import jax
import jax.numpy as jnp

from latentjax.training._config import ConfigError, check_unet_groups
from latentjax.training._families import register_family
from latentjax.training._family_diffusion import (
    _image_data,
    build_unet,
    init_variables,
    named_run,
    sample_from_noise,
)
from latentjax.training._family_single import SingleNetworkFamily

Array = jax.Array
_NOISE, _LABEL, _DROPOUT = 0, 1, 2  # purposes within an example's key
_NEEDS = "the embedding network needs a trained 'diffusion' or 'cdiffusion' run"


def diffusion_run(cfg):
  """The frozen pixel-space diffusion run ``config.model.latent_run`` names.

  Raises:
    ConfigError: naming ``config.model.latent_run`` when it is empty, not a trained
      diffusion run of ``config.data.name``, a latent diffusion run or not of images.
  """
  run = named_run(cfg, ("diffusion", "cdiffusion"), _NEEDS)
  if run.exp.cfg.model.latent_run:
    raise ConfigError(f"config.model.latent_run={cfg.model.latent_run!r} is a latent "
                      f"diffusion run; the embedding network needs one of the images")
  if not _image_data(run.exp.spec):
    raise ConfigError(f"config.model.latent_run={cfg.model.latent_run!r} models "
                      f"{run.exp.spec.input_key!r} data; the embedding network needs images")
  return run


def predict_noise(net, variables, x0: Array, y: Array | None, *, train: bool = False,
                  rngs=None) -> Array:
  """``E(x0)``: noise [B, H, W, C] of images x0 [B, H, W, C] in [-1, 1] (time input 0)."""
  t = jnp.zeros((x0.shape[0],), jnp.int32)
  return net.apply(variables, x0, t, y, train=train, rngs=rngs)


def embed_images(net, variables, x: Array, y: Array | None) -> Array:
  """Noise codes [B, H*W*C] of images x [B, H, W, C] in [0, 1]: ``E(2x - 1)`` flattened."""
  return predict_noise(net, variables, 2.0 * x - 1.0, y).reshape((x.shape[0], -1))


class NoiseEncoderFamily(SingleNetworkFamily):
  """``noise_encoder`` (see the module docstring)."""

  latent_geometry = False  # decoding is the diffusion model's whole sampler

  def check_config(self, cfg) -> None:
    super().check_config(cfg)
    check_unet_groups(cfg)

  def build(self, cfg, spec) -> dict:
    drun = diffusion_run(cfg)
    conditional = drun.exp.label_key is not None
    classes = spec.num_classes if conditional else 0
    net = build_unet(cfg, spec, classes, out_channels=spec.input_shape[-1])
    return {"model": net, "loss_fn": self._loss(net, drun, tuple(spec.input_shape), classes),
            "label_key": drun.exp.label_key}

  @staticmethod
  def _loss(net, drun, shape, classes):
    _, dstatic = drun.family_impl.decoding(drun.exp)
    dvars = drun.variables

    def loss_fn(params, model_state, batch, keys):
      del batch  # only its size, through ``keys``: the pairs come from the diffusion model
      per = lambda i: jax.vmap(lambda k: jax.random.fold_in(k, i))(keys)
      z = jax.vmap(lambda k: jax.random.normal(k, shape))(per(_NOISE))
      labels = None
      if classes:
        labels = jax.vmap(lambda k: jax.random.randint(k, (), 0, classes))(per(_LABEL))
      x0 = jax.lax.stop_gradient(sample_from_noise(dstatic, dvars, z, labels))
      out = predict_noise(net, {"params": params, **model_state}, x0, labels, train=True,
                          rngs={"dropout": jax.random.fold_in(keys[0], _DROPOUT)})
      loss = jnp.mean(jnp.square(out - z))
      return loss, ({"loss": loss}, model_state)

    return loss_fn

  def init_variables(self, exp, key: Array) -> dict:
    return init_variables(exp.model, key, tuple(exp.spec.input_shape),
                          exp.label_key is not None)

  def encoder_variables(self, exp, state) -> dict:
    """The embedding network's variables (EMA parameters when ``eval.use_ema``)."""
    return SingleNetworkFamily.eval_variables(self, exp, state)

  def evaluate_state(self, exp, state, key: Array, num_examples: int | None = None) -> dict:
    from latentjax.training._noise_encoder_eval import noise_encoder_metrics

    return noise_encoder_metrics(exp, self.encoder_variables(exp, state), key, num_examples)

  def report(self, run, key: Array, write_images: bool) -> dict:
    from latentjax.training._noise_encoder_eval import noise_encoder_report

    return noise_encoder_report(run, key, write_images)

  def eval_variables(self, exp, state) -> dict:
    """The diffusion run's variables: the network that maps codes to data."""
    del state
    return diffusion_run(exp.cfg).variables

  def latent_dim(self, exp) -> int:
    n = 1
    for d in exp.spec.input_shape:
      n *= d
    return n

  def encode(self, run, x: Array, y: Array | None) -> Array:
    """``E(2x - 1)`` flattened: codes [B, H*W*C] of images x [B, H, W, C] in [0, 1]."""
    shape = tuple(run.exp.spec.input_shape)
    if jnp.ndim(x) != 4 or tuple(jnp.shape(x)[1:]) != shape:
      raise ValueError(f"`x` must be [B, {', '.join(map(str, shape))}] images, got shape "
                       f"{jnp.shape(x)}")
    if run.exp.label_key is not None and y is None:
      raise ValueError("`y` is required: the diffusion run is class-conditional")
    if run.exp.label_key is None and y is not None:
      raise ValueError("`y` given, but the diffusion run is unconditional")
    variables = self.encoder_variables(run.exp, run.state)
    return _jitted_embed(run.exp.model, variables, jnp.asarray(x, jnp.float32), y)

  def decoding(self, exp):
    drun = diffusion_run(exp.cfg)
    return drun.family_impl.decoding(drun.exp)

  def decode(self, run, z: Array, y: Array | None) -> Array:
    # Not one program around the sampling chain: its samplers are compiled per shape
    # already, and evaluation and the report share those programs.
    decode, static = self.decoding(run.exp)
    return decode(static, run.variables, z, y)

  def sample_codes(self, run, key: Array, num_samples: int) -> Array:
    return jax.random.normal(key, (num_samples, self.latent_dim(run.exp)))


@functools.partial(jax.jit, static_argnums=0)
def _jitted_embed(net, variables, x, y):
  return embed_images(net, variables, x, y)


register_family(NoiseEncoderFamily("noise_encoder"))
