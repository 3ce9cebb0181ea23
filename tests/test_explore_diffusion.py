"""The exploration report of a diffusion run, on one smoke `cddpm_digits` run.

A diffusion run's codes are noise images and its encoder DDIM inversion: the report adds
classifier-free guidance, denoising trajectories and DDIM inversion, leaves out
geodesics, single-dimension traversals and the reconstructions section.
"""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from configs import cddpm_digits
from latentjax import diffusion, explore, training, viz
from tests._helpers import small_unet
from tests.test_explore import parse_report
from tests.test_explore_gan import _finite_cells
from tests.test_viz_grids import tile_layout

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_explore_diffusion")

# Sizes of everything the report computes, small enough for the sampler in every decode.
_SETTINGS = dict(num_examples=24, num_pairs=1, num_frames=4, length_resolution=6,
                 gif_frames=3, num_pca=1, traversal_steps=3, num_analogies=1, tsne=False,
                 kmeans_iters=5, num_inversions=4, num_trajectories=2, trajectory_columns=3,
                 inversion_step_counts=(2,))


@pytest.fixture(scope="module")
def cddpm_run(tfds_data_dir, tmp_path_factory):
  config = cddpm_digits.get_config("smoke")
  config.data.data_dir = tfds_data_dir
  config.train.num_devices = 1  # Compiles faster than over conftest's 4 fake devices.
  config.train.num_steps = 4
  config.eval.num_examples = 32
  config.eval.num_sample_images = 10
  small_unet(config)
  workdir = str(tmp_path_factory.mktemp("explore_cddpm"))
  training.train_and_evaluate(config, workdir)
  return workdir


def test_conditional_run_evaluates_with_guidance_and_decodes_per_class(cddpm_run):
  with open(f"{cddpm_run}/metrics.json") as f:
    out = json.load(f)
  assert out["family"] == "cdiffusion" and out["guidance_scale"] == 2.0
  run = training.load_run(cddpm_run)
  z = run.sample_codes(jax.random.PRNGKey(0), 2)
  assert run.decode(z, np.array([3, 7], np.int32)).shape == (2, 8, 8, 1)


def test_a_conditional_run_without_labels_uses_its_null_label(cddpm_run, digits_feature_net):
  run = training.load_run(cddpm_run)
  x = np.random.default_rng(0).uniform(size=(2, 8, 8, 1)).astype(np.float32)
  null = np.full((2,), run.exp.spec.num_classes, np.int32)  # the unconditional model
  np.testing.assert_allclose(run.encode(x), run.encode(x, null), rtol=1e-5, atol=1e-5)
  q = training.quality_metrics(run, jax.random.PRNGKey(0), digits_feature_net[0],
                               latent=False, bounds=False)
  assert 0.0 <= q["samples_label_accuracy"] <= 1.0 and q["recon_fid"] >= 0


def test_report_of_a_conditional_diffusion_run(cddpm_run, tmp_path):
  out = tmp_path / "cddpm.html"
  path = explore.build_report(cddpm_run, settings=explore.ExploreSettings.small(**_SETTINGS),
                              output=str(out))
  page = parse_report(path)
  # Titled by what the latent space is, and each section by what it shows: no geodesics.
  assert page.heading == "Noise space of a conditional diffusion model (8×8×1 = 64-D) on digits"
  assert page.titles == [
      "Model and training", "Evaluation metrics", "Samples", "Classifier-free guidance",
      "Denoising trajectories", "DDIM inversion", "Interpolations: linear and spherical",
      "Arithmetic and attribute directions", "Traversals", "Latent scatter and clusters"]
  text = path.read_text(encoding="utf-8")
  for expected in ("test denoising loss (MSE of the ε-prediction",
                   "DDIM inversion then DDIM sampling error", "U-Net", "w = 0", "w = 3",
                   "diffusion.ddim_trajectory", "4 (the run",
                   "geodesics are left out", "No single-dimension traversals",
                   "One row per class", "what the figures measure", "test image "):
    assert expected in text, expected
  assert "geodesic / linear" not in text and "traversal_dims.png" not in text
  assert "ELBO" not in text and "DIFFUSION" not in text and "test a " not in text
  assert _finite_cells(page) > 20
  written = {p.name for p in (tmp_path / "explore").iterdir()}
  assert {"guidance_0.png", "guidance_1.png", "guidance_2.png", "denoising_trajectory.png",
          "trajectory_end.png", "ddim_inversion.png", "interpolation_0.png",
          "traversal_pca.png"} <= written
  assert "reconstructions.png" not in written  # The inversion section shows them.
  assert all((tmp_path / "explore" / name).stat().st_size > 0 for name in written)
  # Pictures of noise and of samples: titled, with gaps that show whatever the tiles hold.
  for name, shape in (("denoising_trajectory.png", (2, 3)), ("trajectory_end.png", (1, 2)),
                      ("ddim_inversion.png", (4, 3)), ("guidance_0.png", (10, 6))):
    pic = np.asarray(Image.open(tmp_path / "explore" / name).convert("RGB"))
    title, rows, cols = tile_layout(pic, viz.NOISE_GAP)
    assert title and (rows, cols) == shape, (name, title, rows, cols)


def test_diffusion_samples_have_a_title_and_gaps_between_tiles(cddpm_run):
  # The smoke model's samples saturate to black and white: a white gap would vanish.
  pic = np.asarray(Image.open(pathlib.Path(cddpm_run) / "samples.png").convert("RGB"))
  title, rows, cols = tile_layout(pic, viz.NOISE_GAP)
  assert (rows, cols) == (10, 1)  # one row per class, eval.num_sample_images = 10
  assert title


def test_ddim_trajectory_of_a_zero_noise_model_scales_the_noise():
  # eps = 0: each DDIM step is x -> sqrt(a_prev / a_t) x, so state k is
  # x_T sqrt(a(t_k) / a(t_0)) and the sample x_T / sqrt(a(t_0)).
  s = diffusion.linear_schedule(100)
  x_T = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
  zero = lambda x, t: jnp.zeros_like(x)  # noqa: E731
  states = np.asarray(diffusion.ddim_trajectory(s, zero, x_T, 4))
  grid = diffusion.timesteps(100, 4)
  a = np.asarray(s.alphas_cumprod, np.float64)[grid]
  expected = [x_T * np.sqrt(a[k] / a[0]) for k in range(4)] + [x_T / np.sqrt(a[0])]
  np.testing.assert_allclose(states, np.stack(expected), rtol=1e-5)
  np.testing.assert_allclose(states[-1], diffusion.ddim_sample(s, zero, x_T, 4), rtol=1e-6)
  with pytest.raises(ValueError, match="num_steps"):
    diffusion.ddim_trajectory(s, zero, x_T, 0)


@pytest.mark.parametrize("field, value", [("guidance_scales", ()),
                                          ("guidance_scales", (float("nan"),)),
                                          ("inversion_step_counts", (0,)),
                                          ("num_trajectories", 0)])
def test_diffusion_settings_are_checked(field, value):
  with pytest.raises(ValueError, match=field):
    explore.ExploreSettings(**{field: value})
