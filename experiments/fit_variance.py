r"""Fits the decoder variance of a trained autoencoder run and saves it with the run.

    python -m experiments.fit_variance --workdir=runs/vae2d_digits [--num_centers=64]

The RBF precision network of Arvanitidis et al. (2018), ``latent_ops.fit_rbf_variance``,
on the training split's codes (posterior means) and residuals ``x - decode(z)``; written
to ``<workdir>/decoder_variance.npz`` for the run's latest checkpoint. Afterwards
``training.load_run(workdir).gaussian_decoder_fn()`` is the decoder ``z -> (mean, std)``
whose expected metric ``latent_ops.expected_metric`` and every geometric latent op use.
Prints the fitted standard deviation at the codes and far from them.
"""

import numpy as np
from absl import flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", None, "A trained ae / vae run.")
_CENTERS = flags.DEFINE_integer("num_centers", 64, "RBF centres (k-means of the codes).")
_SCALE = flags.DEFINE_float("bandwidth_scale", 1.0, "a in lambda_k = 0.5 / (a spread_k)^2.")
_MAX_VAR = flags.DEFINE_float("max_variance", None,
                              "Variance far from the data (default: 100 x mean residual^2).")
_MIN_VAR = flags.DEFINE_float("min_variance", 1e-6, "Variance floor (> 0).")
_STEPS = flags.DEFINE_integer("num_steps", 500, "Adam steps of the weight fit.")
flags.mark_flag_as_required("workdir")


def fit(workdir: str, **kwargs):
  """Fits and saves; returns ``(run, variance, summary dict)``."""
  import jax.numpy as jnp

  from latentjax import latent_ops as lo
  from latentjax import training
  from latentjax.training._variance import training_residuals

  run = training.load_run(workdir)
  codes, residuals = training_residuals(run)
  var = training.fit_decoder_variance(run, data=(codes, residuals), **kwargs)
  std_codes = np.sqrt(np.asarray(lo.rbf_variance(var, jnp.asarray(codes))))
  far = np.asarray(lo.rbf_variance(var, jnp.full((1, codes.shape[1]), 1e3, jnp.float32)))
  summary = {
      "num_codes": int(codes.shape[0]), "num_centers": int(var.num_centers),
      "residual_rms": float(np.sqrt(np.mean(residuals**2))),
      "std_at_codes_median": float(np.median(std_codes)),
      "std_far": float(np.sqrt(far).mean()),
      "normalised_residual_ms": float(np.mean(residuals**2 / std_codes**2)),
  }
  return run, var, summary


def main(argv):
  del argv
  kwargs = dict(num_centers=_CENTERS.value, bandwidth_scale=_SCALE.value,
                max_variance=_MAX_VAR.value, min_variance=_MIN_VAR.value,
                num_steps=_STEPS.value)
  run, _, s = _cli.run_or_exit(fit, _WORKDIR.value, **kwargs)
  print(f"Fitted {s['num_centers']} RBF centres to {s['num_codes']} training codes of "
        f"{run.workdir} (step {run.step}): residual RMS {s['residual_rms']:.4f}, fitted std "
        f"at the codes (median) {s['std_at_codes_median']:.4f}, far from them "
        f"{s['std_far']:.3f}; mean squared normalised residual "
        f"{s['normalised_residual_ms']:.3f} (1 = calibrated).")
  print(f"Written to {run.workdir}/decoder_variance.npz")


if __name__ == "__main__":
  _cli.main(main)
