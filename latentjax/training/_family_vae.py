"""The autoencoder families: ``ae``, ``vae`` and the label-conditioned ``cvae``.

One loss (the negative ELBO, or the reconstruction NLL of a plain autoencoder), one
optimizer, EMA of the parameters: the step is ``make_train_step`` of that loss.
Evaluation gives likelihood bounds (VAE) or reconstruction scores (AE); the run helpers
encode to posterior means (VAE) or codes (AE) and decode to means of p(x | z).
"""

import functools
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

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
    params = state.ema_params if exp.cfg.eval.use_ema else state.params
    return evaluate_params(exp, params, state.model_state, key, num_examples)

  def report(self, run, key: Array, write_images: bool) -> dict:
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


@functools.partial(jax.jit, static_argnames=("exp",))
def _vae_bounds(exp, variables, batch, key):
  x = batch[exp.spec.input_key]
  y = batch[exp.label_key] if exp.label_key else None
  enc = lambda x_: exp.model.apply(variables, x_, y, method="encode")
  dec = lambda z: exp.model.apply(variables, z, y, method="decode")
  obj, ev = exp.cfg.objective, exp.cfg.eval
  k_elbo, k_iwae = jax.random.split(key)
  kw = dict(likelihood=obj.likelihood, gaussian_scale=obj.gaussian_scale)
  elbo = objectives.elbo_bound(enc, dec, x, k_elbo, num_samples=ev.num_elbo_samples, **kw)
  iwae = objectives.iwae_bound(enc, dec, x, k_iwae, num_samples=ev.num_iwae_samples, **kw)
  mean, logvar = enc(x)
  return {"elbo": elbo, "iwae": iwae, "kl": objectives.gaussian_kl(mean, logvar)}


@functools.partial(jax.jit, static_argnames=("exp",))
def _ae_scores(exp, variables, batch, key):
  del key
  x = batch[exp.spec.input_key]
  out = exp.model.apply(variables, x)
  obj = exp.cfg.objective
  nll = -objectives.log_likelihood(obj.likelihood, out, x, obj.gaussian_scale)
  recon = objectives.likelihood_mean(obj.likelihood, out)
  return {"recon_nll": nll, "mse": jnp.mean((recon - x).reshape(x.shape[0], -1) ** 2, axis=1)}


def _score_names(exp) -> tuple[str, ...]:
  """The per-example scores `evaluate_params` averages for ``exp``."""
  return ("elbo", "iwae", "kl") if exp.is_variational else ("recon_nll", "mse")


def _local_copy(x):
  """A replicated multi-process array as this process's numpy copy (others unchanged)."""
  if isinstance(x, jax.Array) and not x.is_fully_addressable:
    return np.asarray(x.addressable_data(0))
  return x


def evaluate_params(exp, params, model_state, key: Array,
                    num_examples: int | None = None) -> dict:
  """Per-example averages of the evaluation metrics over ``exp.eval_split``.

  VAEs: ``elbo`` and ``iwae`` (k = ``eval.num_iwae_samples``) in nats per example
  (higher is better) and ``kl``; autoencoders: ``recon_nll`` (nats) and ``mse``. With
  ``objective.binarize`` the inputs are one fixed binarisation of the split (`binarized`),
  so the bounds are bounds on log p(x) of binary images.

  In a multi-process run, process ``p`` of ``P`` scores batches ``p, p + P, ...`` of the
  split (with the keys a single process would use for them) and the per-process sums
  and counts are added up across processes: the result is the single-process one (up to
  float summation order), in every process.
  """
  from latentjax.training._distributed import sum_over_processes
  from latentjax.training._evaluate import _BINARIZE_TAG, _pad, binarized, eval_batches

  variables = {"params": params, **model_state}
  fn = _vae_bounds if exp.is_variational else _ae_scores
  size = exp.cfg.data.eval_batch_size
  n = exp.cfg.eval.num_examples if num_examples is None else num_examples
  binarize_key = jax.random.fold_in(key, _BINARIZE_TAG)
  variables = jax.tree.map(_local_copy, variables)
  index, count_p = jax.process_index(), jax.process_count()
  sums, count, first = {}, 0, 0
  for i, batch in enumerate(eval_batches(exp, exp.eval_split, n)):
    valid = len(next(iter(batch.values())))
    if i % count_p == index:
      if exp.cfg.objective.binarize:
        batch = binarized(exp, batch, binarize_key, first_index=first)
      padded, _ = _pad(batch, size)
      out = jax.device_get(fn(exp, variables, padded, jax.random.fold_in(key, i)))
      for k, v in out.items():
        sums[k] = sums.get(k, 0.0) + float(np.sum(v[:valid], dtype=np.float64))
      count += valid
    first += valid
  if first == 0:
    raise ValueError(f"evaluation split {exp.eval_split!r} of {exp.cfg.data.name!r} is empty")
  names = sorted(_score_names(exp))
  totals = sum_over_processes({"count": count, **{k: sums.get(k, 0.0) for k in names}})
  metrics = {k: totals[k] / totals["count"] for k in names}
  metrics["num_examples"] = int(round(totals["count"]))
  return metrics


def fit_code_gaussian_from_data(run, max_examples: int = 4096):
  """Fits and saves the Gaussian of an autoencoder's training codes (for sampling)."""
  from latentjax.training._evaluate import eval_batches
  from latentjax.training._run import CODE_GAUSSIAN_FILE

  codes = [np.asarray(run.family_impl.encode(run, b[run.exp.spec.input_key], None))
           for b in eval_batches(run.exp, run.exp.train_split, max_examples)]
  mean, cov = models.fit_code_gaussian(jnp.asarray(np.concatenate(codes)))
  np.savez(os.path.join(run.workdir, CODE_GAUSSIAN_FILE), mean=np.asarray(mean),
           cov=np.asarray(cov))
  return mean, cov


def autoencoder_report(run, key: Array, write_images: bool) -> dict:
  """The ae / vae / cvae figures of ``metrics.json``; writes samples and reconstructions."""
  from latentjax import viz
  from latentjax.training._evaluate import _sample_images, eval_batches
  from latentjax.training._keys import EVAL_KEY, SAMPLE_KEY

  exp, ev = run.exp, run.exp.cfg.eval
  workdir = run.workdir
  metrics = evaluate_params(exp, run.params, run.state.model_state,
                            jax.random.fold_in(key, EVAL_KEY))
  out = {"num_examples": metrics.pop("num_examples")}
  dims = int(np.prod(exp.spec.input_shape))
  obj = exp.cfg.objective
  labels = {"likelihood": obj.likelihood, "binarized": obj.binarize}
  if exp.is_variational:
    labels["measures"] = objectives.describe_bound(obj.likelihood, obj.binarize)
    out.update(elbo_nats=metrics["elbo"], iwae_nats=metrics["iwae"], kl_nats=metrics["kl"],
               iwae_num_samples=ev.num_iwae_samples, elbo_num_samples=ev.num_elbo_samples,
               elbo_bits_per_dim=-metrics["elbo"] / (dims * math.log(2.0)), **labels)
  else:
    labels["measures"] = ("reconstruction negative log-likelihood, nats per image, "
                          + objectives.describe_likelihood(obj.likelihood, obj.binarize))
    out.update(recon_nll_nats=metrics["recon_nll"], mse=metrics["mse"], **labels)
    if jax.process_index() == 0:
      fit_code_gaussian_from_data(run)
  if write_images and jax.process_index() == 0:
    samples, ncols = _sample_images(run, jax.random.fold_in(key, SAMPLE_KEY),
                                    ev.num_sample_images)
    viz.image_grid(samples, ncols=ncols, path=os.path.join(workdir, "samples.png"))
    batch = next(eval_batches(exp, exp.eval_split, 16))
    x = batch[exp.spec.input_key]
    y = batch[exp.label_key] if exp.label_key else None
    recon = np.asarray(run.decode(run.family_impl.encode(run, x, y), y))
    viz.reconstruction_pairs(x, recon, path=os.path.join(workdir, "reconstructions.png"))
    out["images"] = ["samples.png", "reconstructions.png"]
  return out



for _name, _conditional in (("ae", False), ("vae", False), ("cvae", True)):
  register_family(AutoencoderFamily(_name, _conditional))
