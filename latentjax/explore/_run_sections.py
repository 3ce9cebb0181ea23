"""Report sections about the run itself: model and training, metrics, samples, reconstructions.

Each function takes the report `Context` and returns the keyword arguments of
`viz.Report.add_section` (text, images, table, figure), or None when the section does
not apply to the run, so that it is left out rather than shown empty.
"""

from __future__ import annotations

import os

import jax.numpy as jnp
import numpy as np

from latentjax import viz
from latentjax.explore._context import SAMPLE_KEY, Context, RunView, family_name, key_for
from latentjax.explore._summary import (
    metrics_table,
    quality_table,
    run_summary,
    training_history,
)

# Training curves shown, in order (the GAN losses replace the likelihood terms there).
_CURVES = ("loss", "recon_nll", "kl", "grad_norm", "mse", "d_loss", "g_loss", "d_real",
           "d_fake")


def _views(ctx: Context) -> list[RunView]:
  return [v for v in (ctx.main, ctx.companion) if v is not None]


def decode_with_labels(view: RunView, z, y=None) -> np.ndarray:
  """Decoded means [B, ...] of codes [B, D] (labels [B] for a conditional run)."""
  z = jnp.asarray(z, jnp.float32)
  if view.run.conditional:
    if y is None:
      raise ValueError("`y` is required to decode with a conditional run")
    return np.asarray(view.decode_labelled(z, jnp.asarray(y, jnp.int32)))
  return view.decode(z)


def model_and_training(ctx: Context) -> dict | None:
  """Summary table of the run(s) and their training curves."""
  views = _views(ctx)
  summaries = {v.label: run_summary(v.run) for v in views}
  if len(views) == 1:
    table = summaries[views[0].label]
  else:
    keys = list(dict.fromkeys(k for s in summaries.values() for k in s))
    table = [{"": k, **{name: s.get(k, "") for name, s in summaries.items()}} for k in keys]
  images = []
  for v in views:
    history = training_history(v.run.workdir)
    if not history:
      continue
    name = "loss_curves.png" if v is ctx.main else "loss_curves_companion.png"
    curves = _CURVES if v.has_encoder else _CURVES[5:]  # "loss" of a GAN is d_loss again.
    shown = [k for k in history if k.split("/", 1)[1] in curves or k.startswith("eval/")]
    shown.sort(key=lambda k: (_CURVES.index(k.split("/", 1)[1])
                              if k.split("/", 1)[1] in _CURVES else len(_CURVES), k))
    viz.loss_curves(history, metrics=shown or None, smoothing=0.6,
                    title=f"training of the {v.label}", path=ctx.path(name))
    images.append((ctx.path(name), f"{v.label}: logged metrics against the training step "
                                   "(raw faint, smoothed solid)"))
  text = (f"The {ctx.main.label} was trained on {ctx.main.run.exp.cfg.data.name} for "
          f"{ctx.main.run.step:,} steps.")
  if not ctx.main.has_encoder:
    text += (" A step is objective.n_critic discriminator updates and one generator "
             "update; the curves are the discriminator's loss d_loss (penalties left out), "
             "the generator's g_loss, and the discriminator's mean logits on real (d_real) "
             "and generated (d_fake) examples.")
  if ctx.companion is not None:
    comp = ctx.companion.run
    text += (f" A companion {family_name(comp)} with a 2-D latent space, trained on "
             f"the same data for {comp.step:,} steps, serves the geometry section.")
  return {"text": text, "table": table, "images": images}


def evaluation_metrics(ctx: Context) -> dict | None:
  """The metrics.json of the run(s), side by side."""
  rows = metrics_table({v.label: v.metrics for v in _views(ctx)})
  if not rows:
    return None
  text = ("From metrics.json, written by the evaluation on the test split. For a VAE, "
          "the ELBO and the importance-weighted IWAE-k bound (the tighter one) are in nats "
          "per example, higher is better. They are lower bounds on the test log-likelihood "
          "log p(x) only where the likelihood is a normalised density of the data: the row "
          "'what the ELBO / IWAE figures are' says, per run.")
  if not ctx.main.run.family_impl.latent_geometry and ctx.main.has_encoder:  # diffusion
    return {"text": ("From metrics.json, written by the evaluation on the test split (EMA "
                     "parameters when eval.use_ema): the denoising loss, the first and second "
                     "moments of the sampler's images against the test images, and the error "
                     "of DDIM inversion followed by sampling. These are not likelihoods."),
            "table": rows}
  if not any(v.run.exp.is_variational for v in _views(ctx)):
    text = ("From metrics.json, written by the evaluation on the test split: the "
            "reconstruction negative log-likelihood and mean squared error (lower is better).")
  if not ctx.main.has_encoder:
    text = ("From metrics.json, written by the evaluation of the generator (EMA parameters "
            "when eval.use_ema). ")
    if ctx.main.metrics and "modes_covered" in ctx.main.metrics:
      text += ("Mode coverage of its samples (metrics.mode_coverage): a sample is high "
               "quality within 3 standard deviations of the nearest mode centre, a mode is "
               "covered when a high-quality sample is nearest to it, and the reverse KL "
               "compares the histogram of high-quality samples over the modes with the "
               "uniform one (lower is better; undefined without a high-quality sample).")
    else:
      text += ("First and second moments of its samples against the test split; a "
               "collapsed generator has a small per-pixel standard deviation across "
               "samples. These are statistics of the samples, not likelihoods.")
  return {"text": text, "table": rows}


def quality_metrics(ctx: Context) -> dict | None:
  """The sample-quality, latent-space and disentanglement metrics of experiments/evaluate.py."""
  rows = quality_table({v.label: v.metrics for v in _views(ctx)})
  if not rows:
    return None
  net = (ctx.main.metrics or {}).get("quality", {}).get("feature_network")
  text = ("From metrics.json, written by python -m experiments.evaluate. Samples and "
          "reconstructions are compared with test images in the features of the dataset's "
          "feature network" + (f" ({net})" if net else "") + ": FID and KID (lower is "
          "better), precision and density (fidelity), recall and coverage (diversity). "
          "Codes are scored by a linear probe and by k-means against the labels; the "
          "disentanglement scores (sprites) use encoder means on factor-controlled images.")
  return {"text": text, "table": rows}


def _existing(view: RunView, name: str) -> str | None:
  path = os.path.join(view.run.workdir, name)
  return path if os.path.isfile(path) else None


def samples(ctx: Context) -> dict | None:
  """Decoded samples from the prior (or the fitted code Gaussian of an autoencoder)."""
  view = ctx.main
  if not view.is_image:
    return None
  run = view.run
  source = ("the prior N(0, I)" if run.exp.is_variational or not view.has_encoder
            else "a Gaussian fitted to the codes")
  path = _existing(view, "samples.png")
  if path is None:
    try:
      z = run.sample_codes(key_for(ctx, SAMPLE_KEY), 64)
    except FileNotFoundError:
      return None  # An autoencoder that was never evaluated has no code Gaussian.
    # A diffusion model's samples may be white or black edge to edge: gaps of NOISE_GAP.
    grid = dict(title=f"samples of the {view.label}", path=ctx.path("samples.png"),
                gap=None if run.family_impl.latent_geometry else viz.NOISE_GAP)
    if run.conditional:
      classes = run.exp.spec.num_classes
      per = max(1, 64 // classes)
      zs = jnp.tile(z[:per], (classes, 1))
      x = decode_with_labels(view, zs, jnp.repeat(jnp.arange(classes), per))
      viz.image_grid(x, ncols=per, **grid)
    else:
      viz.image_grid(view.decode(z), **grid)
    path = ctx.path("samples.png")
  text = f"Decoded means of codes drawn from {source}."
  if not view.has_encoder:
    params = "EMA parameters" if run.exp.cfg.eval.use_ema else "raw parameters"
    text = f"Generator samples ({params}) of codes drawn from {source}."
  if not run.family_impl.latent_geometry and view.has_encoder:  # diffusion: noise -> sampler
    ev = run.exp.cfg.eval
    text = (f"Samples of the {ev.sampler} sampler ({ev.sampling_steps} steps) from noise "
            "images x_T drawn from N(0, I).")
    if run.conditional:
      text += f" One row per class, guidance weight w = {ev.guidance_scale:g}."
  elif run.conditional:
    text += " One row per class, with the same codes in every row: one style, every class."
  return {"text": text, "images": [(path, f"samples of the {view.label}")]}


def reconstructions(ctx: Context) -> dict | None:
  """Test examples next to the decoded means of their codes."""
  view = ctx.main
  if not view.is_image or view.codes is None or not view.run.family_impl.latent_geometry:
    return None  # Without an encoder (or a diffusion run's), see the inversion section.
  path = _existing(view, "reconstructions.png")
  if path is None:
    n = min(16, view.codes.num_examples)
    x = view.codes.inputs[:n]
    y = None if view.codes.labels is None else view.codes.labels[:n]
    recon = decode_with_labels(view, view.codes.codes[:n], y)
    viz.reconstruction_pairs(x, recon, path=ctx.path("reconstructions.png"))
    path = ctx.path("reconstructions.png")
  what = "posterior means" if view.run.exp.is_variational else "codes"
  return {"text": f"Test examples (top) and the decoded {what} of their encodings (bottom).",
          "images": [(path, "test examples and their reconstructions")]}
