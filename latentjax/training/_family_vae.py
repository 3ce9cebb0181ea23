"""The autoencoder families: ``ae``, ``vae`` and the label-conditioned ``cvae``.

One loss (the negative ELBO, or the reconstruction NLL of a plain autoencoder), one
optimizer, EMA of the parameters: the step is ``make_train_step`` of that loss.
Evaluation gives likelihood bounds (VAE) or reconstruction scores (AE); the run helpers
encode to posterior means (VAE) or codes (AE) and decode to means of p(x | z).
"""

import functools

import jax
import jax.numpy as jnp

from latentjax import models, objectives
from latentjax.training._config import ConfigError
from latentjax.training._families import register_family
from latentjax.training._family_single import SingleNetworkFamily

Array = jax.Array


def decode_mean(static, variables, z: Array, y: Array | None) -> Array:
  """Means of p(x | z) [B, ...] for codes z [B, D]; ``static = (model, likelihood)``."""
  model, likelihood = static
  return objectives.likelihood_mean(likelihood, model.apply(variables, z, y, method="decode"))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _encode(model, variational: bool, variables, x: Array, y: Array | None) -> Array:
  """Codes [B, D] of x [B, ...]: the posterior means of a VAE, an autoencoder's codes."""
  out = model.apply(variables, x, y, method="encode")
  return out[0] if variational else out


class AutoencoderFamily(SingleNetworkFamily):
  """``ae``, ``vae`` or ``cvae`` (see the module docstring)."""

  def progress_metrics(self, exp) -> tuple[str, ...]:
    del exp
    return ("loss", "kl")  # the negative ELBO and its KL term (an ae has no kl)

  def build(self, cfg, spec) -> dict:
    self.check_labels(cfg, spec)
    try:
      model = models.build_model(
          cfg.model.family, architecture=cfg.model.architecture,
          latent_dim=cfg.model.latent_dim, hidden_dims=cfg.model.hidden_dims,
          channels=cfg.model.channels, input_shape=spec.input_shape,
          num_classes=spec.num_classes if self.conditional else 0,
          conv_impl=cfg.model.conv_impl)
    except ValueError as e:
      raise ConfigError(f"config.model: {e}") from None
    if cfg.model.architecture == "conv":
      levels = len(cfg.model.channels)
      h, w = spec.input_shape[:2]
      if h % 2**levels or w % 2**levels:
        raise ConfigError(
            f"config.model.channels={cfg.model.channels!r}: {levels} stride-2 levels need H "
            f"and W divisible by {2**levels}, but {cfg.data.name!r} images are {h}x{w}")
    label_key = spec.label_key if self.conditional else None
    obj = cfg.objective
    if obj.binarize and spec.input_key != "image":
      raise ConfigError(
          f"config.objective.binarize=True needs images with intensities in [0, 1]; "
          f"config.data.name={cfg.data.name!r} has {spec.input_key!r} inputs")
    if isinstance(model, models.VAE):
      loss_fn = objectives.make_vae_loss(
          model, beta=obj.beta, likelihood=obj.likelihood, gaussian_scale=obj.gaussian_scale,
          input_key=spec.input_key, label_key=label_key, binarize=obj.binarize)
    else:
      loss_fn = objectives.make_ae_loss(
          model, likelihood=obj.likelihood, gaussian_scale=obj.gaussian_scale,
          input_key=spec.input_key, binarize=obj.binarize)
    return {"model": model, "loss_fn": loss_fn, "label_key": label_key}

  def init_variables(self, exp, key: Array) -> dict:
    from latentjax.training._experiment import example_inputs

    batch = example_inputs(exp)
    x = batch[exp.spec.input_key]
    y = batch.get(exp.label_key) if exp.label_key else None
    if exp.is_variational:
      noise = jnp.zeros((1, exp.cfg.model.latent_dim), jnp.float32)
      return exp.model.init(key, x, noise, y)
    return exp.model.init(key, x)

  def evaluate_state(self, exp, state, key: Array, num_examples: int | None = None) -> dict:
    from latentjax.training._evaluate import evaluate_params

    params = state.ema_params if exp.cfg.eval.use_ema else state.params
    return evaluate_params(exp, params, state.model_state, key, num_examples)

  def report(self, run, key: Array, write_images: bool) -> dict:
    from latentjax.training._evaluate import autoencoder_report

    return autoencoder_report(run, key, write_images)

  def encode(self, run, x: Array, y: Array | None) -> Array:
    return _encode(run.exp.model, run.exp.is_variational, run.variables, x, y)

  def decoding(self, exp):
    return decode_mean, (exp.model, exp.cfg.objective.likelihood)

  def sample_codes(self, run, key: Array, num_samples: int) -> Array:
    from latentjax.training._run import CODE_GAUSSIAN_FILE

    if run.exp.is_variational:
      return jax.random.normal(key, (num_samples, run.latent_dim))
    fitted = run.code_gaussian()
    if fitted is None:
      raise FileNotFoundError(
          f"{CODE_GAUSSIAN_FILE} not found in {run.workdir}: run evaluation first")
    return models.sample_code_gaussian(key, fitted[0], fitted[1], num_samples)


for _name, _conditional in (("ae", False), ("vae", False), ("cvae", True)):
  register_family(AutoencoderFamily(_name, _conditional))
