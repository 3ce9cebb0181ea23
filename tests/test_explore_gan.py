"""The exploration report of GAN runs, on smoke runs of `gan_ring8` and `dcgan_digits`.

A GAN has no encoder: its report must not try to encode test examples (the sections
about encoded codes are left out), shows mode coverage on `toy2d`, and on images
inverts test images, interpolates between random codes and traverses the generator's
SeFa directions and the principal directions of the inverted codes.
"""

import json
import pathlib
import re

import numpy as np
import pytest

from configs import cgan_digits, dcgan_digits, gan_ring8
from latentjax import explore, training
from tests._helpers import run_module
from tests.test_explore import UNOPTIMISED, parse_report, pictures

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_explore_gan")

ENCODED_ONLY = ("Reconstructions", "Arithmetic and attribute directions",
                "Latent scatter and clusters", "Geometry: magnification factor and geodesics")
INTERPOLATIONS = "Interpolations: linear, spherical and geodesic"


class _Runs:
  """Smoke runs trained on first use, once per test process."""

  CONFIGS = {"ring8": gan_ring8, "dcgan": dcgan_digits, "cgan": cgan_digits}

  def __init__(self, root, data_dir):
    self._root, self._data_dir, self._done = root, data_dir, {}

  def __getitem__(self, name):
    if name not in self._done:
      config = self.CONFIGS[name].get_config("smoke")
      config.data.data_dir = self._data_dir
      config.train.num_devices = 1  # Compiles faster than over conftest's 4 fake devices.
      training.train_and_evaluate(config, str(self._root / name))
      self._done[name] = str(self._root / name)
    return self._done[name]


@pytest.fixture(scope="module")
def gan_runs(tfds_data_dir, tmp_path_factory):
  return _Runs(tmp_path_factory.mktemp("explore_gan_runs"), tfds_data_dir)


def _finite_cells(page) -> int:
  numbers = []
  for cell in page.cells:
    try:
      numbers.append(float(cell.replace(",", "")))
    except ValueError:
      continue
  assert np.all(np.isfinite(numbers)), page.cells
  return len(numbers)


@pytest.mark.slow
def test_entry_point_on_a_toy2d_gan_shows_mode_coverage(gan_runs):
  proc = run_module("experiments.explore", f"--workdir={gan_runs['ring8']}", "--small",
                    env=UNOPTIMISED, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  path = pathlib.Path(gan_runs["ring8"]) / "report.html"
  assert f"Report: {path.resolve()}" in proc.stdout
  page = parse_report(path)
  # Points, not images: no samples grid, inversion, interpolation or traversal strips.
  assert page.titles == ["Model and training", "Evaluation metrics", "Mode coverage"]
  assert page.heading == "Latent space of an 8-D GAN on toy2d/ring8"
  text = path.read_text(encoding="utf-8")
  # No likelihood bound, no test examples: the evaluation scores 2,500 generator samples.
  assert "ELBO" not in text and "IWAE" not in text and "test examples" not in text
  assert "what the figures measure" in text
  with open(pathlib.Path(gan_runs["ring8"]) / "metrics.json") as f:
    metrics = json.load(f)
  assert "num_examples" not in metrics and metrics["num_samples"] == 2500
  kl = re.search(r"<td>reverse KL[^<]*</td><td[^>]*>([^<]*)</td>", text).group(1)
  assert kl == ("undefined: no high-quality sample" if metrics["reverse_kl"] is None
                else f"{metrics['reverse_kl']:.4g}"), kl
  for expected in ("explore/mode_coverage.png", "explore/loss_curves.png", "modes covered",
                   "reverse KL of the mode histogram", "d_loss", "high-quality samples"):
    assert expected in text, expected
  assert _finite_cells(page) >= 8 * 3  # One row per mode of the ring.
  assert "encoded" not in proc.stdout


def test_report_of_an_image_gan_inverts_and_traverses(gan_runs):
  lines = []
  trained = pictures(gan_runs["dcgan"])  # samples.png
  path = explore.build_report(gan_runs["dcgan"], settings=explore.ExploreSettings.small(),
                              embed_images=True, progress=lines.append)
  page = parse_report(path)
  assert page.heading == "Latent space of an 8-D GAN on digits"
  assert page.titles == ["Model and training", "Evaluation metrics", "Samples",
                         "Inversion of test images", INTERPOLATIONS, "Traversals"]
  assert not set(ENCODED_ONLY) & set(page.titles)
  assert "Mode coverage" not in page.titles  # Images have no known modes.
  assert len(lines) == len(page.titles) + 2
  # Self-contained: every picture embedded (parse_report rejects remote sources).
  assert len(page.images) >= 8 and all(s.startswith("data:image/") for s in page.images)
  text = path.read_text(encoding="utf-8")
  for expected in ("SeFa", "latent_ops.invert", "hybrid", "random codes of the prior",
                   "MSE, optimised", "MSE, hybrid", "inverted test", "g_loss",
                   "per-pixel standard deviation across samples"):
    assert expected in text, expected
  assert "ELBO" not in text and "test image " in text
  assert not any(c.startswith("a ") for c in page.cells)  # "a 5": test image 0 (class 5)
  assert _finite_cells(page) > 20
  # Embedded: one HTML file; no picture written beside it (only training's samples.png).
  assert pictures(gan_runs["dcgan"]) == trained
  assert not (pathlib.Path(gan_runs["dcgan"]) / "explore").exists()


def test_first_layer_kernel_and_sefa_traversal_of_a_dcgan(gan_runs):
  run = training.load_run(gan_runs["dcgan"])
  kernel = explore.first_layer_kernel(run)
  assert kernel.shape == (run.latent_dim, np.asarray(run.params["project"]["kernel"]).shape[1])
  base = np.zeros(run.latent_dim, np.float32)
  tr = explore.sefa_traversal(kernel, num=3, steps=5, sigmas=2.0, base=base)
  assert tr.codes.shape == (3, 5, run.latent_dim)
  steps = tr.codes[:, 1:] - tr.codes[:, :-1]  # Equal steps of 1 prior sigma along unit rows.
  np.testing.assert_allclose(np.linalg.norm(steps, axis=-1), 1.0, rtol=1e-5)
  with pytest.raises(ValueError, match="encode needs a model with an encoder"):
    explore.encode_split(run)


@pytest.mark.slow
def test_conditional_gan_report_inverts_with_labels_and_leaves_out_the_hybrid(gan_runs):
  path = explore.build_report(gan_runs["cgan"], settings=explore.ExploreSettings.small())
  page = parse_report(path)
  assert page.heading == "Latent space of an 8-D conditional GAN on digits"
  assert page.titles == ["Model and training", "Evaluation metrics", "Samples",
                         "Inversion of test images", INTERPOLATIONS, "Traversals"]
  text = path.read_text(encoding="utf-8")
  for expected in ("One row per class", "inverted with its own label",
                   "every traversal is decoded as class", "one class label"):
    assert expected in text, expected
  assert "MSE, hybrid" not in text
  run = training.load_run(gan_runs["cgan"])
  # The first layer also reads the one-hot label: SeFa uses only the rows of z.
  assert explore.first_layer_kernel(run).shape[0] == run.latent_dim
  assert np.asarray(run.params["project"]["kernel"]).shape[0] == run.latent_dim + 10
