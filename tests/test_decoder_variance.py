"""A trained run's decoder variance: fitted post hoc, saved with the run, checked on load."""

import json
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import vae2d_digits
from latentjax import latent_ops as lo
from latentjax import training

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_decoder_variance")


@pytest.fixture(scope="module")
def vae2d(tfds_data_dir, tmp_path_factory):
  config = vae2d_digits.get_config("smoke")
  config.data.data_dir = tfds_data_dir
  config.train.num_devices = 1
  workdir = str(tmp_path_factory.mktemp("variance") / "vae2d")
  training.train(config, workdir)
  return workdir


def test_the_fitted_variance_is_saved_and_load_run_gives_mean_and_std(vae2d):
  run = training.load_run(vae2d)
  with pytest.raises(ValueError, match="no decoder variance .* experiments.fit_variance"):
    run.gaussian_decoder_fn()
  var = training.fit_decoder_variance(run, num_centers=16, num_steps=100)
  decoder = training.load_run(vae2d).gaussian_decoder_fn()
  z = jnp.array([[0.0, 0.0], [30.0, -30.0]])
  mean, std = decoder(z)
  assert mean.shape == std.shape == (2, 8, 8, 1)
  np.testing.assert_allclose(mean, run.decode(z), rtol=1e-6)
  np.testing.assert_allclose(std[1], np.sqrt(var.min_variance + var.max_variance), rtol=1e-4)
  codes, residuals = training._variance.training_residuals(run)
  std_codes = np.sqrt(np.asarray(lo.rbf_variance(var, codes)))
  # Near the data the std is that of the residuals; far away it is far larger.
  assert 0.3 < np.median(std_codes) / np.sqrt(np.mean(residuals**2)) < 3.0
  assert float(std[1].mean()) > 5 * float(np.median(std_codes))
  g = lo.expected_metric(decoder, z[0])
  assert g.shape == (2, 2) and bool(jnp.all(jnp.isfinite(g)))


def test_a_variance_of_another_checkpoint_is_refused(vae2d):
  run = training.load_run(vae2d)
  var = training.fit_decoder_variance(run, num_centers=8, num_steps=10, save=False)
  training._variance.save_variance(vae2d, var, step=run.step - 1, split="train",
                                   num_examples=10)
  with pytest.raises(ValueError, match=f"fitted on step {run.step - 1}.*refit"):
    training.load_run(vae2d).decoder_variance()


def test_families_without_a_decoder_mean_are_refused():
  fake = types.SimpleNamespace(
      family="gan", family_impl=types.SimpleNamespace(has_encoder=False, latent_geometry=True),
      conditional=False, workdir="runs/gan", exp=types.SimpleNamespace(family="gan"))
  with pytest.raises(ValueError, match="needs an unconditional autoencoder run"):
    training.fit_decoder_variance(fake, jax.random.PRNGKey(0))


def test_more_centres_than_codes_names_the_argument(vae2d):
  run = training.load_run(vae2d)
  with pytest.raises(ValueError, match="`num_centers`"):
    training.fit_decoder_variance(run, num_centers=100, num_examples=50, save=False)


def test_geometry_study_compares_euclidean_and_geodesic_distances(vae2d):
  from latentjax import explore

  out = explore.distance_study(vae2d, num_examples=60, k_graph=6, k_neighbors=5,
                             num_restarts=1, refit=True)
  json.dumps(out)  # what the script writes
  assert out["num_examples"] == 60 and out["latent_dim"] == 2
  names = [(r["distance"], r["clustering"]) for r in out["rows"]]
  assert names == [("euclidean", "k-means"), ("euclidean", "k-medoids"),
                   ("mean metric", "k-medoids"), ("expected metric", "k-medoids")]
  for r in out["rows"]:
    assert -1.0 <= r["ari"] <= 1.0 and 0.0 <= r["nmi"] <= 1.0 and 0.0 <= r["knn_accuracy"] <= 1
  # The study fitted and saved a variance for the run's checkpoint.
  training.load_run(vae2d).decoder_variance()
