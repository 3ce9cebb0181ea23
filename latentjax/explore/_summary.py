"""What a run is and how its training went: a summary table, loss curves, metrics rows.

    rows = run_summary(run)                 # [{"": "family", "value": "vae"}, ...]
    history = training_history(workdir)     # "train/loss" -> (steps, values), ...
    table = metrics_table({"16-D VAE": m16, "2-D VAE": m2})
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

import jax
import numpy as np

from latentjax._metrics_log import read_series

# Rows of the evaluation-metrics table: metrics.json key -> (label, unit / note). Every
# family's evaluation says in "measures" what its figures are; `metrics_table` names that
# row after the likelihood bounds only in a table that has some (`_BOUNDS`).
_MEASURES = "measures"
_METRIC_ROWS = (
    (_MEASURES, "what the figures measure"),
    ("elbo_nats", "test ELBO (nats per example, higher is better)"),
    ("iwae_nats", "test IWAE bound (nats per example)"),
    ("kl_nats", "KL(q(z|x) || p(z)) (nats)"),
    ("elbo_bits_per_dim", "negative ELBO in bits per dimension"),
    ("recon_nll_nats", "test reconstruction NLL (nats per example)"),
    ("mse", "test reconstruction MSE"),
    ("eval_eps_mse", "test denoising loss (MSE of the ε-prediction at uniform t, no dropout)"),
    ("eval_v_mse", "test denoising loss (MSE of the v-prediction at uniform t, no dropout)"),
    ("inversion_mse", "DDIM inversion then DDIM sampling error (eta = 0; per dimension; "
                      "images in [-1, 1])"),
    ("inversion_method", "inversion round trip"),
    ("inversion_steps", "DDIM steps of the inversion (and of the sampling back)"),
    ("sampler", "sampler"),
    ("sampling_steps", "sampling steps"),
    ("guidance_scale", "classifier-free guidance weight w"),
    ("prediction", "network predicts"),
    ("noise_schedule", "noise schedule"),
    ("latent_diffusion", "latent diffusion (on an autoencoder's codes)"),
    ("num_examples", "test examples"),
    ("iwae_num_samples", "IWAE samples k"),
    ("likelihood", "likelihood"),
    ("modes_covered", "modes covered (at least one high-quality sample nearest)"),
    ("num_modes", "modes of the mixture"),
    ("high_quality_fraction", "high-quality samples (within 3σ of a mode centre)"),
    ("reverse_kl", "reverse KL of the mode histogram to uniform (nats, lower is better)"),
    ("sample_mean", "mean pixel of the samples"),
    ("data_mean", "mean pixel of the test images"),
    ("sample_std", "pixel standard deviation of the samples"),
    ("data_std", "pixel standard deviation of the test images"),
    ("mean_image_sq_distance", "squared distance of the mean images (per pixel)"),
    ("sample_pixel_std", "per-pixel standard deviation across samples"),
    ("data_pixel_std", "per-pixel standard deviation across test images"),
    ("num_samples", "generated samples"),
    ("gan_loss", "GAN loss"),
    ("ema", "EMA generator"),
    ("step", "checkpoint step"),
)
# Rows of the quality table (metrics.json "quality", written by experiments/evaluate.py):
# key suffix -> label. "samples_" / "recon_" rows compare generated / reconstructed images
# with test images in the feature network's features.
_QUALITY_IMAGE_ROWS = (
    ("fid", "FID (lower is better)"),
    ("kid_mean", "KID, mean over subsets (lower is better)"),
    ("precision", "precision (fraction of samples on the data manifold)"),
    ("recall", "recall (fraction of data covered by the samples' manifold)"),
    ("density", "density"),
    ("coverage", "coverage (fraction of data neighbourhoods holding a sample)"),
    ("classes_covered", "classes predicted at least once"),
    ("class_kl", "KL of the predicted class histogram to the data's (nats)"),
    ("is_mean", "Inception-style score of the feature classifier"),
)
_QUALITY_ROWS = (
    ("samples_label_accuracy", "samples: classified as the class requested (conditional)"),
    ("iwae_1_nats", "ELBO, one sample (nats per example)"),
    ("iwae_10_nats", "IWAE-10 (nats per example)"),
    ("iwae_100_nats", "IWAE-100 (nats per example)"),
    ("iwae_100_bits_per_dim", "IWAE-100 in bits per dimension (negated)"),
    ("probe_accuracy_label", "linear-probe accuracy of the codes (classes)"),
    ("cluster_nmi_label", "k-means NMI of the codes vs classes"),
    ("cluster_ari_label", "k-means ARI of the codes vs classes"),
    ("ppl", "perceptual path length (lower is smoother)"),
    ("geodesic_ratio", "geodesic / straight-line decoded length"),
    ("mig", "MIG (disentanglement, higher is better)"),
    ("sap", "SAP"),
    ("dci_disentanglement", "DCI disentanglement"),
    ("dci_completeness", "DCI completeness"),
    ("dci_informativeness_test", "DCI informativeness (test accuracy)"),
    ("betavae_eval_accuracy", "β-VAE score (eval accuracy)"),
    ("factorvae_eval_accuracy", "FactorVAE score (eval accuracy)"),
)
_BOUNDS = ("elbo_nats", "iwae_nats")
# Why a figure is null in metrics.json (the evaluation writes non-finite floats as null).
_UNDEFINED = {"reverse_kl": "undefined: no high-quality sample"}
_NOT_FINITE = "not finite"
_NOT_PLOTTED = ("steps_per_sec",)


def parameter_count(params) -> int:
  """Number of scalars in a parameter pytree."""
  return int(sum(np.prod(np.shape(x)) for x in jax.tree.leaves(params)))


def read_metrics_json(workdir: str) -> dict | None:
  """``<workdir>/metrics.json`` as a dict, or None when the run was not evaluated."""
  path = os.path.join(workdir, "metrics.json")
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def run_summary(run) -> dict[str, object]:
  """Model, data and training facts of a run, for a two-column table.

  Args:
    run: a `training.Run`.

  Returns:
    An ordered mapping of label -> value.
  """
  from latentjax import training

  cfg = run.exp.cfg
  m, d, o, t = cfg.model, cfg.data, cfg.optim, cfg.train
  arch = m.architecture
  if arch == "mlp":
    arch = f"MLP, hidden {' → '.join(str(h) for h in m.hidden_dims)}"
  else:
    arch = f"conv, channels {' → '.join(str(c) for c in m.channels)}"
  out = {
      "model family": m.family,
      "architecture": arch,
      "latent dimension": m.latent_dim,
      "parameters": f"{parameter_count(run.state.params):,}",
      "dataset": f"{d.name} (input {tuple(run.exp.spec.input_shape)}, "
                 f"train split {run.exp.train_split!r}, test split {run.exp.eval_split!r})",
  }
  if run.family_impl.latent_geometry is False and run.family_impl.has_encoder:  # diffusion
    out.update(_diffusion_summary(run))
  elif run.family_impl.has_encoder:
    out["likelihood"] = (cfg.objective.likelihood
                         + (" on dynamically binarised images" if cfg.objective.binarize else ""))
  else:
    nets = run.state.params
    out["parameters"] = ", ".join(f"{k} {parameter_count(p):,}" for k, p in nets.items())
    out["GAN loss"] = (f"{cfg.objective.gan_loss}, {cfg.objective.n_critic} discriminator "
                       "update(s) per step")
  if run.exp.is_variational:
    out["β (KL weight)"] = cfg.objective.beta
  out.update({
      "training steps": f"{run.step:,} of {t.num_steps:,} (batch {d.batch_size})",
      "optimizer": f"{o.name}, learning rate {o.learning_rate:g}, {o.schedule} schedule"
                   + ("" if run.family_impl.has_encoder or not o.d_learning_rate
                      else f" (discriminator {o.d_learning_rate:g})"),
      "evaluated with": "EMA parameters" if cfg.eval.use_ema else "raw parameters",
      "seed": cfg.seed,
  })
  records = training.read_metrics(run.workdir, split="train")
  speeds = [r["steps_per_sec"] for r in records if isinstance(r.get("steps_per_sec"), float)]
  if speeds:
    out["training speed"] = f"{float(np.median(speeds)):.0f} steps/s (median)"
  return out


def _diffusion_summary(run) -> dict[str, object]:
  """The rows of a diffusion run that replace an autoencoder's architecture and likelihood."""
  cfg = run.exp.cfg
  m, o, ev = cfg.model, cfg.objective, cfg.eval
  noise = ("the noise x_T, a code of the autoencoder" if m.latent_run
           else "the noise image x_T, flattened")
  out = {"latent dimension": f"{run.latent_dim} ({noise})"}
  if m.latent_run:
    out["architecture"] = (f"MLP denoiser, hidden {' → '.join(str(h) for h in m.hidden_dims)}, "
                           f"on the codes of {m.latent_run}")
  elif m.architecture != "mlp":
    out["architecture"] = (f"U-Net, {m.unet_channels} channels × {tuple(m.unet_mult)}, "
                           f"{m.num_res_blocks} residual block(s) per level, attention at "
                           f"{tuple(m.attn_resolutions)}")
  out["diffusion"] = (f"{o.num_timesteps} steps, {o.noise_schedule} schedule, predicts "
                      f"{o.prediction}")
  out["sampler"] = f"{ev.sampler}, {ev.sampling_steps} steps"
  out["inversion"] = (f"DDIM inversion, {ev.sampling_steps} steps; round trips sample back "
                      "with deterministic DDIM (eta = 0)")
  if run.conditional:
    out["classifier-free guidance"] = (f"label dropped with probability {o.p_uncond:g} in "
                                       f"training; w = {ev.guidance_scale:g} in sampling")
  return out


def training_history(workdir: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  """Logged metrics as "split/name" -> (steps [K], values [K]), for `viz.loss_curves`.

  Read by the one reader of ``metrics.jsonl`` (as `viz.read_metrics_jsonl`); non-finite
  values and bookkeeping series (steps per second) are dropped. ``{}`` without a log.
  """
  path = os.path.join(workdir, "metrics.jsonl")
  if not os.path.exists(path):
    return {}
  out = {}
  for name, (steps, values) in read_series(path).items():
    if name.rpartition("/")[2] in _NOT_PLOTTED:
      continue
    keep = np.isfinite(values)
    if keep.any():
      out[name] = (steps[keep], values[keep])
  return out


def quality_table(metrics_by_run: Mapping[str, Mapping | None]) -> list[dict[str, object]]:
  """Rows of the sample-quality / latent / disentanglement table, one column per run.

  Args:
    metrics_by_run: column name -> a ``metrics.json`` dict (its ``"quality"`` block, written
      by ``experiments/evaluate.py``, is used; runs without one are skipped).

  Returns:
    Row mappings ``{"metric": label, <run>: value, ...}``; empty if no run has the block.
  """
  runs = {k: v["quality"] for k, v in metrics_by_run.items() if v and v.get("quality")}
  keys = [(f"{p}_{k}", f"{what}: {label}") for p, what in (("samples", "samples"),
                                                            ("recon", "reconstructions"))
          for k, label in _QUALITY_IMAGE_ROWS]
  rows = []
  for key, label in [*keys, *_QUALITY_ROWS]:
    if any(key in m for m in runs.values()):
      row = {"metric": label}
      row.update({name: m.get(key, "") for name, m in runs.items()})
      rows.append(row)
  return rows


def metrics_table(metrics_by_run: Mapping[str, Mapping | None]) -> list[dict[str, object]]:
  """Rows of the evaluation-metrics table, one column per run.

  Args:
    metrics_by_run: column name -> a ``metrics.json`` dict (or None to skip).

  Returns:
    A list of row mappings ``{"metric": label, <run>: value, ...}``, only rows that
    some run has; empty if no run has metrics. A run without a figure has a blank
    cell; a figure that is null in ``metrics.json`` (not finite, or undefined, as the
    reverse KL without a high-quality sample) has a cell saying so.
  """
  runs = {k: v for k, v in metrics_by_run.items() if v}
  bounds = any(key in m for m in runs.values() for key in _BOUNDS)
  rows = []
  for key, label in _METRIC_ROWS:
    if any(key in m for m in runs.values()):
      if key == _MEASURES and bounds:
        label = "what the ELBO / IWAE figures are"
      row = {"metric": label}
      row.update({name: _metric_cell(m, key) for name, m in runs.items()})
      rows.append(row)
  return rows


def _metric_cell(metrics: Mapping, key: str) -> object:
  """A run's figure; blank when the run has none, and why, when it is null (undefined)."""
  if key not in metrics:
    return ""
  value = metrics[key]
  return _UNDEFINED.get(key, _NOT_FINITE) if value is None else value
