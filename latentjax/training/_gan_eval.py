"""Evaluating GAN runs: mode coverage on ``toy2d``, sample statistics on images.

``toy2d`` runs: ``COVERAGE_SAMPLES`` = 2,500 samples of the (EMA) generator are scored by
``metrics.mode_coverage`` against the mixture's centres and standard deviation
(``data.toy2d_modes``, ``data.toy2d_stddev``): modes covered, fraction of high-quality
samples (within 3 sigma of a centre), and the reverse KL of the samples' mode histogram
to the uniform one. A cgan draws the classes in turn. No test example is read, so there
is ``num_samples`` and no ``num_examples``.

Image runs: first and second moments of the samples against the evaluation split (pixel
mean and standard deviation, the squared distance between the mean images, and the mean
per-pixel standard deviation across samples, which collapses with the modes).

``samples.png``: a scatter of the samples over the mode centres (toy2d), or an image grid
(one row per class for a cgan).
"""

import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from latentjax.training._keys import EVAL_KEY, SAMPLE_KEY

Array = jax.Array
COVERAGE_SAMPLES = 2500


def _is_toy2d(exp) -> bool:
  return exp.cfg.data.name.split("/")[0] == "toy2d"


def generate(exp, variables, key: Array, num: int) -> np.ndarray:
  """``num`` samples of the generator under ``variables`` (classes in turn for a cgan)."""
  decode, static = exp.family_impl.decoding(exp)
  z = jax.random.normal(key, (num, exp.cfg.model.latent_dim))
  y = None
  if exp.label_key is not None:
    y = jnp.arange(num, dtype=jnp.int32) % exp.spec.num_classes
  return np.asarray(jax.jit(decode, static_argnums=0)(static, variables, z, y))


def gan_metrics(exp, variables, key: Array, num_examples: int | None = None) -> dict:
  """Floats describing the generator's samples (see the module docstring)."""
  from latentjax import data, metrics

  if _is_toy2d(exp):
    samples = generate(exp, variables, key, COVERAGE_SAMPLES)
    modes = data.toy2d_modes(exp.cfg.data.name)
    cov = metrics.mode_coverage(jnp.asarray(samples), jnp.asarray(modes),
                                data.toy2d_stddev(exp.cfg.data.name))
    return {"modes_covered": int(cov["modes_covered"]), "num_modes": int(modes.shape[0]),
            "high_quality_fraction": float(cov["high_quality_fraction"]),
            "reverse_kl": float(cov["reverse_kl"]), "num_samples": COVERAGE_SAMPLES}
  from latentjax.training._evaluate import eval_batches

  n = exp.cfg.eval.num_examples if num_examples is None else num_examples
  real = np.concatenate([b[exp.spec.input_key] for b in eval_batches(exp, exp.eval_split, n)])
  fake = generate(exp, variables, key, len(real))
  return {"sample_mean": float(fake.mean()), "sample_std": float(fake.std()),
          "data_mean": float(real.mean()), "data_std": float(real.std()),
          "mean_image_sq_distance": float(np.mean((fake.mean(0) - real.mean(0)) ** 2)),
          "sample_pixel_std": float(fake.std(0).mean()),
          "data_pixel_std": float(real.std(0).mean()),
          "num_samples": len(fake), "num_examples": len(real)}


def _scatter(exp, samples: np.ndarray, path: str) -> None:
  from latentjax import data, viz

  fig = viz.new_figure((4.5, 4.5), layout="compressed")
  ax = fig.add_subplot(1, 1, 1)
  ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, label="samples")
  modes = data.toy2d_modes(exp.cfg.data.name)
  ax.scatter(modes[:, 0], modes[:, 1], s=30, marker="x", c="k", label="mode centres")
  ax.set_aspect("equal")
  ax.legend(loc="upper right", fontsize=7)
  ax.set_title(f"{exp.family} on {exp.cfg.data.name}: {len(samples)} samples")
  viz.save_figure(fig, path)


def gan_report(run, key: Array, write_images: bool) -> dict:
  """The figures of a GAN run's ``metrics.json``; writes ``samples.png``."""
  from latentjax import viz
  from latentjax.training._evaluate import _sample_images

  exp = run.exp
  out = gan_metrics(exp, run.variables, jax.random.fold_in(key, EVAL_KEY))
  # JSON has no NaN: the reverse KL is undefined without a single high-quality sample.
  out = {k: None if isinstance(v, float) and not math.isfinite(v) else v
         for k, v in out.items()}
  out["measures"] = ("mode coverage of generator samples (metrics.mode_coverage, 3 sigma)"
                     if _is_toy2d(exp) else "moments of generator samples vs the split")
  out.update(gan_loss=exp.cfg.objective.gan_loss, ema=exp.cfg.eval.use_ema)
  if write_images and jax.process_index() == 0:
    path = os.path.join(run.workdir, "samples.png")
    sample_key = jax.random.fold_in(key, SAMPLE_KEY)
    if _is_toy2d(exp):
      _scatter(exp, generate(exp, run.variables, sample_key, COVERAGE_SAMPLES), path)
    else:
      samples, ncols = _sample_images(run, sample_key, exp.cfg.eval.num_sample_images)
      viz.image_grid(samples, ncols=ncols, path=path)
    out["images"] = ["samples.png"]
  return out
