"""What a diffusion run's evaluation measures: its denoising loss and its inversion error.

On smoke `ddpm_digits` networks that are not trained (their parameters perturbed, so the
noise prediction depends on x_t): the figures are compared with the same quantities
computed directly with the `diffusion` functions and the network in inference mode.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import ddpm_digits
from latentjax import diffusion
from latentjax.training import _diffusion_eval
from latentjax.training._config import ExperimentConfig
from latentjax.training._evaluate import eval_batches
from latentjax.training._experiment import build_experiment, init_state
from latentjax.training._run import Run

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_diffusion_evaluation")

_NUM_EXAMPLES = 40  # one whole batch of 32 and a partial one


def _config(data_dir, **overrides):
  c = ddpm_digits.get_config("smoke")
  c.data.data_dir = data_dir
  c.train.num_devices = 1
  c.eval.num_examples = _NUM_EXAMPLES
  c.eval.num_sample_images = 4  # the smoke U-Net: dropout and a DDIM round trip matter here
  for name, value in overrides.items():
    section, key = name.split("__")
    c[section][key] = value
  return c


def _perturbed_run(config, workdir) -> Run:
  """An untrained run whose parameters are perturbed (the U-Net's last layer starts at 0)."""
  exp = build_experiment(ExperimentConfig.from_config(config))
  state = init_state(exp, jax.random.PRNGKey(0))
  leaves, tree = jax.tree.flatten(state.params)
  keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
  params = jax.tree.unflatten(tree, [p + 0.05 * jax.random.normal(k, p.shape, p.dtype)
                                     for p, k in zip(leaves, keys, strict=True)])
  state = state.replace(params=params, ema_params=params)
  return Run(workdir=workdir, config=config, exp=exp, state=state, step=0)


@pytest.fixture(scope="module")
def ddpm_sampler_run(tfds_data_dir, tmp_path_factory):
  """Samples with ancestral DDPM and has dropout in its U-Net."""
  config = _config(tfds_data_dir, eval__sampler="ddpm", model__dropout=0.3)
  return _perturbed_run(config, str(tmp_path_factory.mktemp("ddpm_sampler")))


def _eps_fn(run):
  net, params = run.exp.model, run.variables["params"]
  return lambda x_t, t: net.apply({"params": params}, x_t, t, None, train=False)


def test_inversion_error_is_ddim_both_ways_whatever_the_sampler(ddpm_sampler_run):
  # The error was measured by sampling the inverted noise back with the run's sampler:
  # with "ddpm", a stochastic round trip (1.64 against DDIM's 0.0028 on a trained run).
  run = ddpm_sampler_run
  ev = run.exp.cfg.eval
  assert ev.sampler == "ddpm" and run.exp.cfg.objective.noise_schedule == "linear"
  out = run.family_impl.report(run, jax.random.PRNGKey(0), write_images=False)
  x = next(eval_batches(run.exp, run.exp.eval_split, 16))["image"]
  s = diffusion.linear_schedule(run.exp.cfg.objective.num_timesteps)
  x0 = 2.0 * jnp.asarray(x) - 1.0
  z = diffusion.ddim_invert(s, _eps_fn(run), x0, ev.sampling_steps)
  back = diffusion.ddim_sample(s, _eps_fn(run), z, ev.sampling_steps, eta=0.0)
  want = float(jnp.mean(jnp.square(back - x0)))
  assert out["inversion_mse"] == pytest.approx(want, rel=1e-4)
  assert out["inversion_steps"] == ev.sampling_steps == 4
  assert "DDIM inversion then DDIM sampling (eta = 0)" == out["inversion_method"]
  assert out["sampler"] == "ddpm"  # what the samples are drawn with, reported apart
  # The stochastic round trip is a different number: the check can tell them apart.
  ddpm = diffusion.ddpm_sample(s, _eps_fn(run), z, jax.random.PRNGKey(0), ev.sampling_steps)
  assert float(jnp.mean(jnp.square(ddpm - x0))) > 2.0 * want


def test_eval_loss_is_in_inference_mode_deterministic_and_named_by_its_target(
    ddpm_sampler_run, tfds_data_dir, tmp_path):
  # The evaluation ran the U-Net with train=True: dropout on, a noisier and higher loss.
  run = ddpm_sampler_run
  key = jax.random.PRNGKey(3)
  first = _diffusion_eval.diffusion_metrics(run.exp, run.variables, key)
  second = _diffusion_eval.diffusion_metrics(run.exp, run.variables, key)
  assert "eval_loss" not in first and first["num_examples"] == _NUM_EXAMPLES
  assert first["eval_eps_mse"] == second["eval_eps_mse"] > 0
  # Dropout has no parameters: the same network without it is the inference-mode one.
  plain = _perturbed_run(_config(tfds_data_dir, eval__sampler="ddpm", model__dropout=0.0),
                         str(tmp_path))
  jax.tree.map(np.testing.assert_array_equal, plain.variables, run.variables)
  reference = _diffusion_eval.diffusion_metrics(plain.exp, plain.variables, key)
  assert first["eval_eps_mse"] == pytest.approx(reference["eval_eps_mse"], rel=1e-6)
  # And the loss the metric reports is the objective's own, called with train=False.
  batch = next(eval_batches(run.exp, run.exp.eval_split, 8))
  keys = jax.random.split(jax.random.PRNGKey(4), 8)
  params = run.variables["params"]
  no_dropout, _ = plain.exp.loss_fn(params, {}, batch, keys)
  inference, _ = run.exp.loss_fn(params, {}, batch, keys, train=False)
  training, _ = run.exp.loss_fn(params, {}, batch, keys)
  assert float(inference) == pytest.approx(float(no_dropout), rel=1e-6)
  assert float(training) != pytest.approx(float(inference), rel=1e-3)


def test_v_prediction_eval_loss_is_labelled_as_a_v_mse(tfds_data_dir, tmp_path):
  run = _perturbed_run(_config(tfds_data_dir, objective__prediction="v"), str(tmp_path))
  out = _diffusion_eval.diffusion_metrics(run.exp, run.variables, jax.random.PRNGKey(0), 8)
  assert out["eval_v_mse"] > 0 and "eval_eps_mse" not in out and "eval_loss" not in out
