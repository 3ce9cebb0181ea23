"""The diffusion families through the shared loop: train, resume exactly, evaluate, load.

Smoke configs (a small U-Net, 4 sampling steps) on the built-in digits; latent diffusion
on the codes of a smoke VAE run.
"""

import json
import os

import jax
import numpy as np
import pytest

from configs import ddpm_digits, ldm_digits
from latentjax import training
from latentjax.training._config import ConfigError
from tests._helpers import smoke_config


def _arrays(workdir):
  return jax.device_get(training.load_run(workdir).state.arrays())


def test_ddpm_smoke_run_resumes_exactly_and_evaluates(tfds_data_dir, digits_feature_net,
                                                      tmp_path):
  whole, split = str(tmp_path / "whole"), str(tmp_path / "split")
  training.train(smoke_config(ddpm_digits, tfds_data_dir), whole)
  training.train(smoke_config(ddpm_digits, tfds_data_dir), split, until_step=4)
  training.train(smoke_config(ddpm_digits, tfds_data_dir), split)
  run = training.load_run(whole)
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(run.state.arrays()),
               _arrays(split))
  out = training.evaluate(whole)
  with open(os.path.join(whole, "metrics.json")) as f:
    assert json.load(f) == out
  assert out["family"] == "diffusion" and out["step"] == 8
  assert out["eval_eps_mse"] > 0 and out["inversion_mse"] >= 0 and out["sampling_steps"] == 4
  assert os.path.getsize(os.path.join(whole, "samples.png")) > 0
  assert run.latent_dim == 64
  # 16 images: the batch the report inverts and samples, so these reuse its programs.
  x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype(np.float32)
  z = run.encode(x)  # DDIM inversion: images -> noise codes
  assert z.shape == (16, 64)
  images = run.decode(z)
  assert images.shape == (16, 8, 8, 1) and np.all(np.isfinite(images))
  # The decoder is a pure function of the code: the same code, the same image.
  np.testing.assert_array_equal(run.decoder_fn()(z), run.decoder_fn()(z))
  # Every metric that applies: samples against test digits, codes of inverted images.
  q = training.quality_metrics(run, jax.random.PRNGKey(run.exp.cfg.seed), digits_feature_net[0])
  assert q["samples_fid"] >= 0 and 0 <= q["samples_precision"] <= 1
  assert 0 <= q["probe_accuracy_label"] <= 1 and "geodesic_ratio" not in q


def test_latent_diffusion_models_the_codes_of_a_vae_run(tfds_data_dir, vae_smoke_run, tmp_path):
  vae = vae_smoke_run
  ldm = str(tmp_path / "ldm")
  training.train(smoke_config(ldm_digits, tfds_data_dir, model={"latent_run": vae}), ldm)
  out = training.evaluate(ldm)
  assert out["latent_diffusion"] is True and out["eval_eps_mse"] > 0
  run = training.load_run(ldm)
  assert run.latent_dim == 16  # the VAE's codes
  assert run.sample(jax.random.PRNGKey(1), 2).shape == (2, 8, 8, 1)


@pytest.mark.parametrize("overrides, message", [
    ({"eval": {"guidance_scale": 1.0}}, "config.eval.guidance_scale"),
    ({"model": {"attn_resolutions": (3,)}}, "config.model.attn_resolutions"),
    ({"eval": {"sampling_steps": 2000}}, "config.eval.sampling_steps"),
    ({"eval": {"ddim_eta": -1.0}}, "config.eval.ddim_eta"),
    ({"objective": {"prediction": "x0"}}, "config.objective.prediction"),
    ({"model": {"latent_run": "/nonexistent/run"}}, "config.model.latent_run"),
    ({"data": {"name": "toy2d/ring8"}}, "needs image data"),
])
def test_bad_diffusion_configs_name_the_key_before_training(overrides, message, tmp_path):
  c = smoke_config(ddpm_digits, "", **overrides)
  if "latent_run" in overrides.get("model", {}):
    c.model.architecture = "mlp"
  with pytest.raises(ConfigError, match=message):
    training.train(c, str(tmp_path / "run"))
  assert not os.path.exists(tmp_path / "run" / "checkpoints")
