"""Evaluation of a diffusion run: denoising loss, sample moments, DDIM inversion error.

``diffusion_metrics`` (during training and at the end):
  * ``eval_eps_mse`` (ε-prediction) or ``eval_v_mse`` (v-prediction): the training
    objective, the MSE of the network's prediction target at uniform t, on the evaluation
    split, with the network in inference mode (no dropout) and one fixed key per example
    (comparable across evaluations);
  * moments of ``eval.num_sample_images`` samples against the split (as for GANs).
``diffusion_report`` adds ``inversion_mse``: per-dimension squared error (images in
[-1, 1], as the DDIM paper reports it) of DDIM inversion then deterministic DDIM sampling
(eta = 0) of test images at ``eval.sampling_steps``, whatever ``eval.sampler`` is (the
fields ``inversion_method`` and ``inversion_steps`` say so), and writes ``samples.png``
(a row per class for a conditional model; the configured sampler) and
``reconstructions.png`` (test images and their round trips).
"""

import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.training._keys import EVAL_KEY, SAMPLE_KEY

Array = jax.Array
_LOSS, _INVERT = 21, 22  # purposes under the evaluation key
_NUM_INVERTED = 16
INVERSION_METHOD = "DDIM inversion then DDIM sampling (eta = 0)"


def _samples(exp, variables, key: Array, num: int) -> np.ndarray:
  decode, static = exp.family_impl.decoding(exp)
  d = exp.family_impl.latent_dim(exp)
  z = jax.random.normal(key, (num, d))
  y = jnp.arange(num, dtype=jnp.int32) % exp.spec.num_classes if exp.label_key else None
  return np.asarray(jax.jit(decode, static_argnums=0)(static, variables, z, y))


def eval_loss_name(prediction: str) -> str:
  """The metric name of the evaluation loss: ``eval_eps_mse`` or ``eval_v_mse``."""
  return f"eval_{prediction}_mse"


def diffusion_metrics(exp, variables, key: Array, num_examples: int | None = None) -> dict:
  """``eval_<prediction>_mse``, sample and data moments (floats) and ``num_examples``."""
  from latentjax.training._evaluate import _pad, eval_batches

  n = exp.cfg.eval.num_examples if num_examples is None else num_examples
  size = exp.cfg.data.eval_batch_size
  loss_fn = jax.jit(exp.loss_fn, static_argnames="train")
  params = variables["params"]
  model_state = {k: v for k, v in variables.items() if k not in ("params", "latent_decoder")}
  total, count, real = 0.0, 0, []
  loss_key = jax.random.fold_in(key, _LOSS)
  for batch in eval_batches(exp, exp.eval_split, n):
    padded, valid = _pad(batch, size)
    index = count + jnp.arange(size)
    keys = jax.vmap(lambda i: jax.random.fold_in(loss_key, i))(index)
    # The loss is a batch mean: weight the padded batch's mean by its valid rows only
    # when it is whole; a partial batch is evaluated on its valid rows.
    if valid == size:
      loss, _ = loss_fn(params, model_state, padded, keys, train=False)
    else:
      part = {k: v[:valid] for k, v in padded.items()}
      loss, _ = loss_fn(params, model_state, part, keys[:valid], train=False)
    total += float(loss) * valid
    count += valid
    real.append(batch[exp.spec.input_key])
  if count == 0:
    raise ValueError(f"evaluation split {exp.eval_split!r} of {exp.cfg.data.name!r} is empty")
  real = np.concatenate(real)
  fake = _samples(exp, variables, jax.random.fold_in(key, SAMPLE_KEY),
                  exp.cfg.eval.num_sample_images)
  return {eval_loss_name(exp.cfg.objective.prediction): total / count,
          "sample_mean": float(fake.mean()),
          "sample_std": float(fake.std()), "data_mean": float(real.mean()),
          "data_std": float(real.std()),
          "sample_pixel_std": float(fake.std(0).mean()),
          "data_pixel_std": float(real.std(0).mean()), "num_samples": len(fake),
          "num_examples": count}


def inversion_error(run, x: Array, y: Array | None = None) -> tuple[float, np.ndarray,
                                                                 np.ndarray]:
  """DDIM inversion then DDIM sampling (eta = 0) of data x [B, ...], both at
  ``eval.sampling_steps``, whatever the configured sampler: (per-dim MSE in [-1, 1] units,
  noise [B, D], reconstructions [B, ...])."""
  from latentjax.training._family_diffusion import _jitted, ddim_static, decode_noise

  static = ddim_static(run.family_impl.decoding(run.exp)[1])
  z = np.asarray(run.family_impl.encode(run, x, y))
  recon = np.asarray(_jitted(decode_noise)(static, run.variables, jnp.asarray(z), y))
  scale = 2.0 if static.rescale else 1.0  # rescaled images: errors in [-1, 1] units
  mse = float(np.mean(np.square(scale * (recon - np.asarray(x)))))
  return mse, z, recon


def diffusion_report(run, key: Array, write_images: bool) -> dict:
  """The figures of a diffusion run's ``metrics.json``; writes its images."""
  from latentjax import viz
  from latentjax.training._evaluate import _sample_images, eval_batches

  exp = run.exp
  ev = exp.cfg.eval
  out = diffusion_metrics(exp, run.variables, jax.random.fold_in(key, EVAL_KEY))
  latent = bool(exp.cfg.model.latent_run)
  batch = next(eval_batches(exp, exp.eval_split, _NUM_INVERTED))
  x = batch[exp.spec.input_key]
  y = batch[exp.label_key] if exp.label_key else None
  mse, z, recon = inversion_error(run, x, y)
  out.update(inversion_mse=mse, inversion_method=INVERSION_METHOD,
             inversion_steps=ev.sampling_steps, sampler=ev.sampler,
             sampling_steps=ev.sampling_steps, guidance_scale=ev.guidance_scale,
             prediction=exp.cfg.objective.prediction,
             noise_schedule=exp.cfg.objective.noise_schedule,
             latent_diffusion=latent)
  out["measures"] = (f"denoising loss ({exp.cfg.objective.prediction}-prediction MSE, "
                     f"inference mode) on the split; moments of {ev.sampler} samples "
                     f"({ev.sampling_steps} steps); {INVERSION_METHOD} error per "
                     f"dimension ({ev.sampling_steps} steps each way)")
  out = {k: None if isinstance(v, float) and not math.isfinite(v) else v
         for k, v in out.items()}
  if write_images and jax.process_index() == 0 and len(exp.spec.input_shape) == 3:
    samples, ncols = _sample_images(run, jax.random.fold_in(key, SAMPLE_KEY),
                                    ev.num_sample_images)
    # Titled, with gaps that show between samples white or black edge to edge.
    w = f", w = {ev.guidance_scale:g}" if run.conditional else ""
    viz.image_grid(samples, ncols=ncols, gap=viz.NOISE_GAP,
                   title=f"{ev.sampler.upper()} samples ({ev.sampling_steps} steps{w})",
                   path=os.path.join(run.workdir, "samples.png"))
    viz.reconstruction_pairs(np.asarray(x), recon,
                             path=os.path.join(run.workdir, "reconstructions.png"))
    out["images"] = ["samples.png", "reconstructions.png"]
  del z
  return out
