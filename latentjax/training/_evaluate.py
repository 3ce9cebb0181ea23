"""Evaluation of a finished run, and the pieces every family's evaluation shares.

``evaluate(workdir)`` asks the run's family for its figures (``Family.report``: test
likelihood bounds of a VAE, a GAN's sample statistics, ...) and writes ``metrics.json``
and the family's images into the run folder. Shared here: one ordered pass over a split
(`eval_batches`), the fixed test binarisation (`binarized`), sample grids.
"""

import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import objectives
from latentjax.training._experiment import Experiment
from latentjax.training._run import Run, load_run

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
