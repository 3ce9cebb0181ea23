"""Report sections of a diffusion run: guidance, denoising trajectories, DDIM inversion.

A diffusion run's latent is the noise image x_T it is sampled from (deterministic DDIM:
one image per noise), and its encoder is DDIM inversion. Each function takes the report
`Context` and returns `viz.Report.add_section` keyword arguments, or None when the
section does not apply (not a diffusion run, non-image data; guidance needs a
conditional run). Nothing here differentiates through the sampler.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import viz
from latentjax.explore._context import SAMPLE_KEY, Context, RunView, key_for

_CELL_PX = 64
_GUIDANCE_KEY, _TRAJECTORY_KEY = 10, 11  # streams under the report's sample key
_MAX_PER_CLASS = 8


def is_diffusion(view: RunView) -> bool:
  """Whether the run is a diffusion model (its codes are noise images)."""
  from latentjax.training._family_diffusion import DiffusionFamily

  return isinstance(view.run.family_impl, DiffusionFamily)


def _ddim_static(view: RunView, num_steps: int | None = None):
  """The run's decoding constants with deterministic DDIM (at ``num_steps`` if given)."""
  from latentjax.training._family_diffusion import ddim_static

  return ddim_static(view.run.family_impl.decoding(view.run.exp)[1], num_steps)


@functools.partial(jax.jit, static_argnums=0)
def _guided_samples(static, variables, z, y, w):
  from latentjax import diffusion
  from latentjax.training import _family_diffusion as fd

  eps = fd.eps_function(static, variables, y, w)
  x = diffusion.ddim_sample(fd.make_schedule(static.objective), eps,
                            z.reshape((z.shape[0], *static.shape)), static.eval.sampling_steps)
  return fd.to_data(static, variables, x)


@functools.partial(jax.jit, static_argnums=0)
def _trajectory(static, variables, z, y):
  from latentjax import diffusion
  from latentjax.training import _family_diffusion as fd

  eps = fd.eps_function(static, variables, y)
  states = diffusion.ddim_trajectory(fd.make_schedule(static.objective), eps,
                                     z.reshape((z.shape[0], *static.shape)),
                                     static.eval.sampling_steps)
  flat = fd.to_data(static, variables, states.reshape((-1, *states.shape[2:])))
  return flat.reshape((*states.shape[:2], *flat.shape[1:]))


def _steps_text(view: RunView) -> str:
  ev = view.run.exp.cfg.eval
  return f"{ev.sampling_steps}-step DDIM"


def guidance(ctx: Context) -> dict | None:
  """Samples of a conditional diffusion run at several classifier-free guidance weights."""
  view, s = ctx.main, ctx.settings
  if not is_diffusion(view) or not view.run.conditional or not view.is_image:
    return None
  classes = view.run.exp.spec.num_classes
  per = max(1, min(_MAX_PER_CLASS, 64 // classes))
  key = jax.random.fold_in(key_for(ctx, SAMPLE_KEY), _GUIDANCE_KEY)
  z = jnp.tile(view.run.sample_codes(key, per), (classes, 1))
  y = jnp.repeat(jnp.arange(classes, dtype=jnp.int32), per)
  static = _ddim_static(view)
  images, rows = [], []
  for n, w in enumerate(s.guidance_scales):
    x = np.asarray(_guided_samples(static, view.run.variables, z, y, jnp.float32(w)))
    name = f"guidance_{n}.png"
    viz.labelled_grid(x.reshape(classes, per, *x.shape[1:]),
                      row_labels=[str(k) for k in range(classes)], min_cell_px=_CELL_PX,
                      title=f"w = {w:g}", gap=viz.NOISE_GAP, path=ctx.path(name))
    images.append((ctx.path(name), f"guidance weight w = {w:g}: one row per class"))
    spread = x.reshape(classes, per, -1).std(axis=1).mean()
    rows.append({"guidance weight w": w, "mean pixel": float(x.mean()),
                 "per-pixel std across the samples of a class": float(spread)})
  configured = view.run.exp.cfg.eval.guidance_scale
  text = (
      "Classifier-free guidance (Ho & Salimans, 2021): the model was trained with its "
      f"label dropped with probability {view.run.exp.cfg.objective.p_uncond:g}, so it "
      "predicts the noise with and without the label, and sampling uses "
      "eps = (1 + w) eps(x, c) − w eps(x); w = 0 is the plain conditional model. The same "
      f"noise in every grid ({_steps_text(view)}, one row per class, {per} noise images "
      "per row); larger w trades diversity within a class (the table's per-pixel "
      f"spread) for fidelity to the class. The run samples with w = {configured:g}.")
  return {"text": text, "images": images, "table": rows}


def trajectories(ctx: Context) -> dict | None:
  """States x_t of the deterministic DDIM chain, from noise to sample."""
  from latentjax import diffusion

  view, s = ctx.main, ctx.settings
  if not is_diffusion(view) or not view.is_image:
    return None
  static = _ddim_static(view)
  num = s.num_trajectories
  key = jax.random.fold_in(key_for(ctx, SAMPLE_KEY), _TRAJECTORY_KEY)
  z = view.run.sample_codes(key, num)
  classes = view.run.exp.spec.num_classes
  y = jnp.arange(num, dtype=jnp.int32) % classes if view.run.conditional else None
  states = np.asarray(_trajectory(static, view.run.variables, z, y))  # [n + 1, N, ...]
  steps = states.shape[0] - 1
  grid = diffusion.timesteps(static.objective.num_timesteps, steps)
  # Columns: states at evenly spaced grid points, the first (x_T) and the last included.
  cols = np.unique(np.round(np.linspace(0, steps - 1, min(s.trajectory_columns, steps))))
  cols = cols.astype(int)
  labels = ([f"class {int(k)}" for k in np.asarray(y)] if y is not None
            else [f"sample {k}" for k in range(num)])
  viz.denoising_trajectory(states[cols], grid[cols], row_labels=labels,
                           title=f"DDIM chain ({steps} steps): x_t", min_cell_px=_CELL_PX,
                           path=ctx.path("denoising_trajectory.png"))
  final = states[steps]
  viz.image_grid(final, ncols=num, min_cell_px=_CELL_PX, title="samples", gap=viz.NOISE_GAP,
                 path=ctx.path("trajectory_end.png"))
  latent = static.latent is not None
  where = ("each state is a code of the autoencoder, shown through its decoder"
           if latent else "each state shown as an image")
  text = (
      f"The deterministic DDIM chain ({steps} steps, diffusion.ddim_trajectory) of "
      f"{num} samples, {where}: the noise x_T at t = {int(grid[0])} on the left, then the "
      f"state x_t at evenly spaced grid points of the chain down to t = {int(grid[-1])}, "
      "one step before the sample (below). Coarse structure appears first, details "
      "last." + (" Each row is sampled with its class label and the run's guidance weight."
                 if y is not None else ""))
  return {"text": text, "images": [
      (ctx.path("denoising_trajectory.png"), "x_t along the DDIM chain, noise first"),
      (ctx.path("trajectory_end.png"), "the samples the chains end in")]}


@functools.partial(jax.jit, static_argnums=0)
def _round_trip(static, variables, x, y):
  from latentjax.training import _family_diffusion as fd

  z = fd.invert_to_noise(static, variables, x, y)
  return z, fd.decode_noise(static, variables, z, y)


def _model_inputs(view: RunView, x):
  """Test inputs as the diffusion model sees them (a latent diffusion's codes)."""
  from latentjax.training._family_diffusion import _latent_parts

  latent, _ = _latent_parts(view.run.exp.cfg)
  return jnp.asarray(x) if latent is None else latent.encode(jnp.asarray(x))


def inversion(ctx: Context) -> dict | None:
  """Test images, their DDIM-inverted noise and its reconstruction; error vs steps."""
  view, s = ctx.main, ctx.settings
  if not is_diffusion(view) or not view.is_image or view.codes is None:
    return None
  n = min(s.num_inversions, view.codes.num_examples)
  x, z = view.codes.inputs[:n], view.codes.codes[:n]
  y = None if view.codes.labels is None else view.codes.labels[:n]
  cond = jnp.asarray(y, jnp.int32) if view.run.conditional else None
  static = _ddim_static(view)
  latent = static.latent is not None
  scale = 2.0 if static.rescale else 1.0  # pixel errors in [-1, 1], as the model sees them
  T = static.objective.num_timesteps
  own = static.eval.sampling_steps
  counts = sorted({c for c in s.inversion_step_counts if c <= T} | {own})
  inputs = _model_inputs(view, x)
  rows = []
  for count in counts:
    zc, rc = _round_trip(_ddim_static(view, count), view.run.variables, inputs, cond)
    if count == own:  # sampled back with DDIM (eta = 0), whatever the run's sampler
      recon = np.asarray(rc)
    err = np.mean(np.square(scale * (np.asarray(rc) - x)).reshape(n, -1), axis=1)
    norms = np.linalg.norm(np.asarray(zc), axis=1) / np.sqrt(zc.shape[1])
    rows.append({"DDIM steps": f"{count} (the run's)" if count == own else str(count),
                 "MSE per dimension": float(err.mean()),
                 "worst image's MSE": float(err.max()),
                 "‖z‖ / sqrt(D)": float(norms.mean())})
  if latent:
    viz.reconstruction_pairs(x, recon, path=ctx.path("ddim_inversion.png"))
  else:
    viz.inversion_triples(x, z.reshape(x.shape), recon, min_cell_px=_CELL_PX,
                          title=f"DDIM inversion ({own} steps)",
                          path=ctx.path("ddim_inversion.png"))
  units = "pixels in [-1, 1]" if scale == 2.0 else "images in [0, 1]"
  text = (
      f"DDIM inversion (diffusion.ddim_invert, Song et al., 2021) runs the deterministic "
      f"sampler backwards, image to noise, on the sampler's own grid; sampling that noise "
      f"again reconstructs the image up to the error of assuming the noise prediction "
      f"constant across each step. {n} {view.codes.split!r} images"
      + (" (each with its own label)" if view.run.conditional else "")
      + ": the image, its inverted noise "
      + ("(a code of the autoencoder: not drawn), " if latent else
         "(rescaled to its own range for display), ")
      + f"and the image sampled back from that noise with deterministic DDIM ({own} "
      "steps, eta = 0, whatever the run's sampler). The table: the "
      f"reconstruction error per dimension ({units}) after inverting and sampling with "
      "the same number of DDIM steps; more steps make each step smaller and the round "
      "trip closer. Inverted noise of a real image should look like Gaussian noise: "
      "‖z‖ / sqrt(D) near 1.")
  return {"text": text, "table": rows, "images": [
      (ctx.path("ddim_inversion.png"), "test image, inverted noise, reconstruction")]}
