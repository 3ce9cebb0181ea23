"""The noise_encoder family: an embedding network trained on a diffusion run's own samples.

One smoke DDPM run (8 steps, 4 DDIM steps) is shared by the module; the embedding runs
on it are smoke sized too.
"""

import json
import math
import os
import shutil

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import ddpm_digits, embed_digits, vae_digits
from experiments import inversion_study
from latentjax import diffusion, training
from latentjax.training._config import ConfigError
from latentjax.training._evaluate import eval_batches
from latentjax.training._experiment import build_experiment, init_state
from latentjax.training._family_diffusion import eps_function
from latentjax.training._noise_encoder_eval import noise_encoder_metrics
from latentjax.training._steps import example_keys
from tests._helpers import small_unet

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_noise_encoder")


def _small(c, data_dir):
  """The smoke config with a one-level U-Net on one device: few, small compiles."""
  c.data.data_dir = data_dir
  c.train.num_devices = 1
  return small_unet(c)


@pytest.fixture(scope="module")
def ddpm_run(tfds_data_dir, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("ddpm"))
  training.train(_small(ddpm_digits.get_config("smoke"), tfds_data_dir), workdir)
  return workdir


def _config(data_dir, latent_run):
  c = _small(embed_digits.get_config("smoke"), data_dir)
  c.model.latent_run = latent_run
  return c


@pytest.fixture(scope="module")
def embed_run(ddpm_run, tfds_data_dir, tmp_path_factory):
  workdir = str(tmp_path_factory.mktemp("embed"))
  training.train(_config(tfds_data_dir, ddpm_run), workdir)
  return workdir


def _arrays(workdir):
  return jax.device_get(training.load_run(workdir).state.arrays())


def test_loss_is_the_noise_error_on_ddim_samples_of_the_frozen_run(ddpm_run):
  cfg = training.ExperimentConfig.from_config(_config("", ddpm_run))
  exp = build_experiment(cfg)
  state = init_state(exp, jax.random.PRNGKey(3))
  keys = example_keys(jax.random.PRNGKey(5), 2)
  batch = {"image": np.zeros((2, 8, 8, 1), np.float32)}
  loss_fn = jax.jit(exp.loss_fn)
  loss, (metrics, _) = loss_fn(state.params, state.model_state, batch, keys)
  # The batch's contents are not read: another batch of the same size, the same loss.
  other, _ = loss_fn(state.params, state.model_state, {"image": batch["image"] + 1.0}, keys)
  assert float(other) == float(loss) == float(metrics["loss"])
  # By hand: z from each example's noise key, x0 = 4-step DDIM of the diffusion run.
  drun = training.load_run(ddpm_run)
  z = jax.vmap(lambda k: jax.random.normal(jax.random.fold_in(k, 0), (8, 8, 1)))(keys)
  _, static = drun.family_impl.decoding(drun.exp)
  x0 = diffusion.ddim_sample(diffusion.linear_schedule(1000),
                             eps_function(static, drun.variables, None), z, 4)
  e = jax.jit(exp.model.apply)({"params": state.params}, x0, jnp.zeros((2,), jnp.int32))
  np.testing.assert_allclose(float(loss), float(jnp.mean(jnp.square(e - z))), rtol=1e-5)


def test_embedding_run_trains_resumes_exactly_and_evaluates(ddpm_run, embed_run,
                                                             tfds_data_dir, tmp_path):
  whole, split = embed_run, str(tmp_path / "split")
  training.train(_config(tfds_data_dir, ddpm_run), split, until_step=4)
  training.train(_config(tfds_data_dir, ddpm_run), split)
  run = training.load_run(whole)
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(run.state.arrays()),
               _arrays(split))
  out = training.evaluate(whole)
  with open(os.path.join(whole, "metrics.json")) as f:
    assert json.load(f) == out
  assert out["family"] == "noise_encoder" and out["step"] == 8 and out["num_examples"] == 64
  for name in ("embed_recon_mse", "invert_recon_mse", "embed_noise_mse", "invert_noise_mse"):
    assert math.isfinite(out[name]) and out[name] >= 0.0, name
  assert out["sampling_steps"] == 4 and out["num_pairs"] == 16
  assert os.path.getsize(os.path.join(whole, "reconstructions.png")) > 0

  drun = training.load_run(ddpm_run)
  assert run.latent_dim == 64 and run.sample_codes(jax.random.PRNGKey(0), 2).shape == (2, 64)
  x = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype(np.float32)
  z = run.encode(x)
  assert z.shape == (3, 64) and np.all(np.isfinite(z))
  expected = jax.jit(run.exp.model.apply)({"params": run.state.ema_params}, 2.0 * x - 1.0,
                                          jnp.zeros((3,), jnp.int32))
  np.testing.assert_allclose(z, np.reshape(expected, (3, 64)), rtol=1e-5, atol=1e-6)
  # Decoding is the diffusion run's: the same function of the same variables.
  images = run.decode(z)
  assert images.shape == (3, 8, 8, 1)
  np.testing.assert_array_equal(images, drun.decode(z))
  with pytest.raises(ValueError, match="`x` must be"):
    run.encode(x[0])


def test_inversion_recon_error_samples_back_with_ddim_whatever_the_runs_sampler(
    ddpm_run, embed_run, tfds_data_dir, tmp_path):
  # invert_recon_mse decoded DDIM inversion's noise with the diffusion run's sampler: with
  # "ddpm", a stochastic round trip instead of the inversion's own error.
  stochastic = str(tmp_path / "ddpm_sampler")
  shutil.copytree(ddpm_run, stochastic)
  with open(os.path.join(stochastic, "config.json")) as f:
    saved = json.load(f)
  saved["eval"]["sampler"] = "ddpm"
  with open(os.path.join(stochastic, "config.json"), "w") as f:
    json.dump(saved, f)
  exp = build_experiment(training.ExperimentConfig.from_config(
      _config(tfds_data_dir, stochastic)))
  enc_vars = {"params": training.load_run(embed_run).state.ema_params}
  out = noise_encoder_metrics(exp, enc_vars, jax.random.PRNGKey(0), 8)
  drun = training.load_run(stochastic)
  assert drun.exp.cfg.eval.sampler == "ddpm" and drun.exp.cfg.eval.sampling_steps == 4
  x = next(eval_batches(exp, exp.eval_split, 8))["image"]
  x0 = 2.0 * jnp.asarray(x) - 1.0
  s = diffusion.linear_schedule(1000)
  eps = eps_function(drun.family_impl.decoding(drun.exp)[1], drun.variables, None)
  z = diffusion.ddim_invert(s, eps, x0, 4)
  np.testing.assert_allclose(np.reshape(drun.encode(x), z.shape), z, rtol=1e-5, atol=1e-5)
  want = float(jnp.mean(jnp.square(diffusion.ddim_sample(s, eps, z, 4) - x0)))
  assert out["invert_recon_mse"] == pytest.approx(want, rel=1e-4)


def test_bad_latent_run_is_a_config_error_naming_the_key(tfds_data_dir, tmp_path):
  vae = tmp_path / "vae"  # a run folder of another family (its config is read first)
  vae.mkdir()
  (vae / "config.json").write_text(vae_digits.get_config("smoke").to_json())
  for latent_run, message in (("", "is empty"), ("/nonexistent/run", "not found"),
                              (str(vae), "is a 'vae' run")):
    with pytest.raises(ConfigError, match=f"config.model.latent_run.*{message}"):
      training.train(_config(tfds_data_dir, latent_run), str(tmp_path / "run"))
    assert not os.path.exists(tmp_path / "run" / "checkpoints")


@pytest.mark.slow
def test_inversion_study_figures(ddpm_run, embed_run):
  out = inversion_study.study(ddpm_run, embedding_workdir=embed_run, num_images=4,
                              steps=(2, 4), optimize_iters=3, repeats=1)
  with open(os.path.join(ddpm_run, inversion_study.STUDY_FILE)) as f:
    assert json.load(f) == out
  assert out["num_images"] == 4 and out["conditional"] is False
  assert [r["steps"] for r in out["ddim"]] == [r["steps"] for r in out["exact"]] == [2, 4]
  for d, e in zip(out["ddim"], out["exact"], strict=True):
    assert d["paper_cifar10_mse"] is None and d["eps_evals"] * 2 == e["eps_evals"]
    assert math.isfinite(d["mse"]) and d["round_trip_s"] > 0 and e["round_trip_s"] > 0
    # EDICT's round trip is exact up to float32 rounding; DDIM's is not.
    assert e["mse"] < 1e-6 < d["mse"]
  eq = out["equal_time"]
  assert eq["sampling_steps"] == 4 and eq["reference"] == "embedding forward + decode"
  assert eq["reference_s"] == pytest.approx(eq["embedding"]["total_s"])
  assert math.isfinite(eq["embedding"]["mse"]) and math.isfinite(eq["ddim_invert"]["mse"])
  assert [r["multiple"] for r in eq["budgets"]] == list(inversion_study.BUDGET_MULTIPLES)
  for r in eq["budgets"]:
    assert (r["mse"] is None) == (r["iterations"] is None)
    assert r["mse"] is None or (math.isfinite(r["mse"]) and 0 <= r["iterations"] <= 2)
  # The optimisation starts from DDIM inversion at S steps: its first loss is that error.
  opt = eq["optimize"]
  assert opt["start_mse"] == pytest.approx(eq["ddim_invert"]["mse"], rel=1e-4)
  assert opt["final_mse"] <= opt["start_mse"] and opt["iterations_run"] == 3
  with pytest.raises(ValueError, match="`steps`"):
    inversion_study.study(ddpm_run, steps=(0,))
