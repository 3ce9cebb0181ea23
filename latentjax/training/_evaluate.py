"""Evaluation: likelihood bounds on a held-out split, sample and reconstruction grids.

``evaluate(workdir)`` writes ``metrics.json`` (test ELBO and IWAE-k bound in nats per
example for VAEs; reconstruction NLL and MSE for autoencoders), ``samples.png`` and
``reconstructions.png`` into the run folder.
"""

import functools
import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import models, objectives
from latentjax.training._distributed import sum_over_processes
from latentjax.training._experiment import Experiment
from latentjax.training._keys import EVAL_KEY, SAMPLE_KEY
from latentjax.training._run import CODE_GAUSSIAN_FILE, Run, load_run

Array = jax.Array


def eval_batches(exp: Experiment, split: str, num_examples: int = 0, batch_size: int = 0,
                 shuffle: bool = False):
  """One ordered pass over a split in numpy batches (the last may be smaller).

  Every process reads the whole split, so whatever is computed from it is the same in a
  multi-process run as in one process (`evaluate_params` shares the work out instead).
  """
  from latentjax import data

  cfg = exp.cfg
  it = data.load(cfg.data.name, split, batch_size=batch_size or cfg.data.eval_batch_size,
                 shuffle=shuffle, seed=cfg.seed, num_epochs=1, drop_remainder=False,
                 data_dir=cfg.data.data_dir or None, download=cfg.data.download,
                 process_index=0, process_count=1)
  seen = 0
  for batch in it:
    if num_examples:
      if seen >= num_examples:
        return
      batch = {k: v[: num_examples - seen] for k, v in batch.items()}
    seen += len(next(iter(batch.values())))
    yield batch


def _pad(batch: dict, size: int) -> tuple[dict, int]:
  n = len(next(iter(batch.values())))
  if n == size:
    return batch, n
  return {k: np.concatenate([v, np.repeat(v[-1:], size - n, axis=0)]) for k, v in batch.items()}, n


@functools.partial(jax.jit, static_argnames=("exp",))
def _vae_bounds(exp: Experiment, variables, batch, key):
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
def _ae_scores(exp: Experiment, variables, batch, key):
  del key
  x = batch[exp.spec.input_key]
  out = exp.model.apply(variables, x)
  obj = exp.cfg.objective
  nll = -objectives.log_likelihood(obj.likelihood, out, x, obj.gaussian_scale)
  recon = objectives.likelihood_mean(obj.likelihood, out)
  return {"recon_nll": nll, "mse": jnp.mean((recon - x).reshape(x.shape[0], -1) ** 2, axis=1)}


_BINARIZE_TAG = 7  # folded into the evaluation key for the fixed test binarisation


def binarized(exp: Experiment, batch: dict, key: Array, first_index: int) -> dict:
  """The batch with its inputs binarised as a run with ``objective.binarize`` evaluates them.

  Each example gets its own key, ``fold_in(key, index)`` with its index in the split, so
  the binarised test set is fixed: the same for any batch size and every evaluation.
  """
  x = batch[exp.spec.input_key]
  return {**batch, exp.spec.input_key: np.asarray(_binarize_from(key, x, first_index))}


@jax.jit
def _binarize_from(key: Array, x: Array, first_index) -> Array:
  """x [B, ...] binarised with ``fold_in(key, first_index + b)`` for example b."""
  index = first_index + jnp.arange(x.shape[0])
  keys = jax.vmap(lambda i: jax.random.fold_in(key, i))(index)
  return objectives.binarize_per_example(keys, x)


def _score_names(exp: Experiment) -> tuple[str, ...]:
  """The per-example scores `evaluate_params` averages for ``exp``."""
  return ("elbo", "iwae", "kl") if exp.is_variational else ("recon_nll", "mse")


def _local_copy(x):
  """A replicated multi-process array as this process's numpy copy (others unchanged)."""
  if isinstance(x, jax.Array) and not x.is_fully_addressable:
    return np.asarray(x.addressable_data(0))
  return x


def evaluate_params(exp: Experiment, params, model_state, key: Array,
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


def fit_code_gaussian_from_data(run: Run, max_examples: int = 4096):
  """Fits and saves the Gaussian of an autoencoder's training codes (for sampling)."""
  codes = [np.asarray(run.family_impl.encode(run, b[run.exp.spec.input_key], None))
           for b in eval_batches(run.exp, run.exp.train_split, max_examples)]
  mean, cov = models.fit_code_gaussian(jnp.asarray(np.concatenate(codes)))
  np.savez(os.path.join(run.workdir, CODE_GAUSSIAN_FILE), mean=np.asarray(mean),
           cov=np.asarray(cov))
  return mean, cov


def _sample_images(run: Run, key: Array, num: int) -> tuple[np.ndarray, int]:
  """Samples and the number of grid columns (one row per class for conditional models)."""
  if run.conditional:
    classes = run.exp.spec.num_classes
    per = max(1, num // classes)
    y = jnp.repeat(jnp.arange(classes), per)
    z = jnp.tile(run.sample_codes(key, per), (classes, 1))  # same style across rows
    return np.asarray(run.decode(z, y)), per
  n = num
  return np.asarray(run.sample(key, n)), int(math.ceil(math.sqrt(n)))


def autoencoder_report(run: Run, key: Array, write_images: bool) -> dict:
  """The ae / vae / cvae figures of ``metrics.json``; writes samples and reconstructions."""
  from latentjax import viz

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


def write_metrics(workdir: str, out: dict) -> None:
  path = os.path.join(workdir, "metrics.json")
  with open(f"{path}.tmp", "w") as f:
    json.dump(out, f, indent=2)
  os.replace(f"{path}.tmp", path)


def resolve_feature_network(exp, *, required: bool):
  """The feature network named by ``config.eval.feature_network`` ("" = the cached one).

  Returns None when none is available and ``required`` is False.

  Raises:
    ConfigError: naming ``config.eval.feature_network`` when it is required but absent.
  """
  from latentjax import metrics
  from latentjax.training._config import ConfigError
  from latentjax.training._feature_network import load_feature_network

  path = exp.cfg.eval.feature_network or metrics.feature_network_dir(exp.cfg.data.name)
  if not os.path.exists(os.path.join(path, "metrics.json")):
    if not required:
      return None
    raise ConfigError(
        f"config.eval.feature_network={exp.cfg.eval.feature_network!r}: no trained feature "
        f"network in {path}; run python -m experiments.evaluate on a run of "
        f"{exp.cfg.data.name!r} once (it trains and caches one), or train "
        f"configs/classifier_*.py into that folder")
  return load_feature_network(path, batch_size=exp.cfg.data.eval_batch_size)


def evaluate(workdir: str, *, write_images: bool = True, quality: bool = False,
             feature_net=None) -> dict:
  """Evaluates a trained run and writes ``metrics.json`` and images into ``workdir``.

  What is measured is the family's (``Family.report``): likelihood bounds for VAEs,
  reconstruction scores for autoencoders, sample statistics and mode coverage for GANs,
  test accuracy for classifiers. With ``quality``, also every metric of
  ``_quality.quality_metrics`` that applies (FID / KID / PRDC / class coverage of
  samples and reconstructions in ``feature_net``'s features, latent-space quality,
  disentanglement on sprites).

  Args:
    workdir: the run folder.
    write_images: also write samples.png / reconstructions.png.
    quality: also the sample-quality, latent and disentanglement metrics.
    feature_net: a ``metrics.FeatureNetwork`` for them; None: the one
      ``config.eval.feature_network`` names (or the cached one), if it exists.

  Returns:
    The metrics dict (also in ``<workdir>/metrics.json``).
  """
  from latentjax.training._quality import quality_metrics

  run = load_run(workdir)
  exp = run.exp
  base_key = jax.random.PRNGKey(exp.cfg.seed)
  out = {"step": run.step, "dataset": exp.cfg.data.name, "split": exp.eval_split,
         "family": exp.family}
  out.update(exp.family_impl.report(run, base_key, write_images))
  if quality:
    if feature_net is None:
      feature_net = resolve_feature_network(exp, required=False)
    out["quality"] = quality_metrics(run, base_key, feature_net)
  if jax.process_index() != 0:  # every process evaluates; the first one writes
    return out
  write_metrics(workdir, out)
  return out
