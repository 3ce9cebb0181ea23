"""A trained autoencoder's decoder variance, fitted post hoc and saved with the run.

    var = training.fit_decoder_variance(run, key)        # saves decoder_variance.npz
    run = training.load_run("runs/vae2d")
    decoder = run.gaussian_decoder_fn()                   # z -> (mean, std)
    G = latent_ops.expected_metric(decoder, z)

The variance is ``latent_ops.fit_rbf_variance`` (Arvanitidis et al., 2018) on the codes
(posterior means) of the training split and the residuals ``x - decode(z)`` of the
decoded means: small where the run has seen data, large away from it. It belongs to one
checkpoint: a run that has trained on since is refused until the variance is refitted.
``python -m experiments.fit_variance --workdir=...`` does the same from the command line.
"""

from __future__ import annotations

import os
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo

VARIANCE_FILE = "decoder_variance.npz"


def check_variance_run(run) -> None:
  """Raises ``ValueError`` unless the run is an unconditional autoencoder (ae, vae)."""
  family = run.family_impl
  if not (family.has_encoder and family.latent_geometry) or run.conditional:
    raise ValueError(
        f"a decoder variance needs an unconditional autoencoder run (ae, vae); "
        f"{run.workdir!r} is a {run.exp.family!r} run")


def training_residuals(run, split: str | None = None, num_examples: int = 0):
  """Codes ``[N, D]`` and residuals ``x - decode(z)`` ``[N, ...]`` of a split, in order.

  Args:
    run: a ``training.Run`` of an autoencoder.
    split: TFDS split; None for the run's training split.
    num_examples: examples from the start of the split (0: all of it).

  Returns:
    ``(codes, residuals)`` as float32 NumPy arrays.
  """
  from latentjax.training._evaluate import eval_batches

  check_variance_run(run)
  split = run.exp.train_split if split is None else split
  encode, decode = jax.jit(run.encode), jax.jit(run.decode)
  key = run.exp.spec.input_key
  codes, residuals = [], []
  for batch in eval_batches(run.exp, split, num_examples):
    x = jnp.asarray(batch[key], jnp.float32)
    z = encode(x)
    codes.append(np.asarray(z, np.float32))
    residuals.append(np.asarray(x - decode(z), np.float32))
  if not codes:
    raise ValueError(f"`split` {split!r} of {run.exp.cfg.data.name!r} has no examples")
  return np.concatenate(codes), np.concatenate(residuals)


def fit_decoder_variance(run, key=None, *, num_centers: int = 64, split: str | None = None,
                         num_examples: int = 0, save: bool = True, data=None,
                         **fit_kwargs) -> lo.RBFVariance:
  """Fits the RBF decoder variance of an autoencoder run and saves it with the run.

  Args:
    run: a ``training.Run`` of an unconditional ae or vae.
    key: PRNG key of the k-means seeding; None for ``PRNGKey(run's seed)``.
    num_centers: RBF centres (at most the number of codes).
    split: split whose codes and residuals are fitted; None for the training split.
    num_examples: examples from the start of the split (0: all of it).
    save: write ``<workdir>/decoder_variance.npz`` (atomically: a temporary file
      renamed into place), tagged with the checkpoint step.
    data: ``(codes, residuals)`` of that split from :func:`training_residuals`, when
      already computed; None encodes and decodes the split here.
    **fit_kwargs: ``bandwidth_scale``, ``max_variance``, ``min_variance``,
      ``num_steps``, ``learning_rate``, ``kmeans_iters`` of
      ``latent_ops.fit_rbf_variance``.

  Returns:
    The ``latent_ops.RBFVariance``.

  Raises:
    ValueError: for a run of another family, or bad arguments of the fit (named).
  """
  check_variance_run(run)
  codes, residuals = data if data is not None else training_residuals(run, split,
                                                                       num_examples)
  if key is None:
    key = jax.random.PRNGKey(run.exp.cfg.seed)
  variance = lo.fit_rbf_variance(key, codes, residuals, num_centers, **fit_kwargs)
  if save:
    save_variance(run.workdir, variance, step=run.step,
                  split=run.exp.train_split if split is None else split,
                  num_examples=codes.shape[0])
  return variance


def save_variance(workdir: str, variance: lo.RBFVariance, *, step: int, split: str,
                  num_examples: int) -> str:
  """Writes the variance to ``<workdir>/decoder_variance.npz`` atomically; its path."""
  path = os.path.join(workdir, VARIANCE_FILE)
  fd, tmp = tempfile.mkstemp(dir=workdir, prefix=".decoder_variance.", suffix=".npz")
  try:
    with os.fdopen(fd, "wb") as f:
      np.savez(f, **variance.arrays(), step=np.int64(step), split=np.str_(split),
               num_examples=np.int64(num_examples))
    os.replace(tmp, path)
  except BaseException:
    if os.path.exists(tmp):
      os.remove(tmp)
    raise
  return path


def load_variance(workdir: str) -> tuple[lo.RBFVariance, dict] | None:
  """``(variance, info)`` saved by :func:`fit_decoder_variance`, or None if absent.

  ``info`` holds the checkpoint ``step`` it was fitted on, the ``split`` and
  ``num_examples``.
  """
  path = os.path.join(workdir, VARIANCE_FILE)
  if not os.path.exists(path):
    return None
  with np.load(path) as f:
    variance = lo.RBFVariance.from_arrays(f)
    info = {"step": int(f["step"]), "split": str(f["split"]),
            "num_examples": int(f["num_examples"])}
  return variance, info


def run_variance(run) -> lo.RBFVariance:
  """The run's saved variance, checked to belong to the run's checkpoint.

  Raises:
    ValueError: no variance saved, or one fitted on another checkpoint step.
  """
  check_variance_run(run)
  loaded = load_variance(run.workdir)
  command = f"python -m experiments.fit_variance --workdir={run.workdir}"
  if loaded is None:
    raise ValueError(f"no decoder variance in {run.workdir}: fit one with `{command}` "
                     "or training.fit_decoder_variance(run)")
  variance, info = loaded
  if info["step"] != run.step:
    raise ValueError(
        f"the decoder variance in {run.workdir} was fitted on step {info['step']}, but "
        f"the run is at step {run.step}: refit it with `{command}`")
  return variance
