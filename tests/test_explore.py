"""The exploration report end to end, on smoke runs of the digits configs.

`experiments.explore` on a 16-D VAE with a 2-D companion writes every section; a 2-D
VAE alone gets the geometry section from its own latent space; a conditional VAE gets
its own arithmetic section and no geometry. Every report must parse, hold real
numbers, and every picture it references must exist.
"""

import html.parser
import pathlib
import urllib.parse

import pytest

from configs import cvae_digits, vae2d_digits, vae_digits
from latentjax import explore, training
from tests._helpers import run_module

# Its module-scoped runs are trained once: every test of the file on one xdist worker.
pytestmark = pytest.mark.xdist_group("test_explore")

# The entry point's environment: XLA without its backend optimisations, as in this module.
UNOPTIMISED = {"JAX_DISABLE_MOST_OPTIMIZATIONS": "1"}




# Every section but those for runs without an encoder (GANs; tests/test_explore_gan.py),
# those of diffusion runs (tests/test_explore_diffusion.py), and the quality table, which
# needs experiments/evaluate.py (tests/test_evaluate_quality.py).
GENERATOR_SECTIONS = ("Mode coverage", "Inversion of test images")
DIFFUSION_SECTIONS = ("Classifier-free guidance", "Denoising trajectories", "DDIM inversion")
QUALITY_SECTION = "Sample quality, latent space, disentanglement"
ALL_SECTIONS = [title for title, _ in explore.SECTIONS
                if title not in (*GENERATOR_SECTIONS, *DIFFUSION_SECTIONS, QUALITY_SECTION)]


class _Page(html.parser.HTMLParser):
  """Collects image sources, section titles and table cells; checks tags balance."""

  VOID = {"meta", "img", "br", "hr", "link", "input"}

  def __init__(self):
    super().__init__()
    self.images, self.titles, self.cells, self.stack = [], [], [], []
    self.heading, self._in = None, None

  def handle_starttag(self, tag, attrs):
    if tag not in self.VOID:
      self.stack.append(tag)
    if tag == "img":
      self.images.append(dict(attrs)["src"])
    self._in = tag

  def handle_endtag(self, tag):
    assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack[-3:]}"
    self.stack.pop()
    self._in = None

  def handle_data(self, data):
    if self._in == "h1":
      self.heading = data
    elif self._in == "h2" and self.stack[-2:] == ["section", "h2"]:
      self.titles.append(data)
    elif self._in == "td":
      self.cells.append(data)


def parse_report(path: pathlib.Path) -> _Page:
  page = _Page()
  page.feed(path.read_text(encoding="utf-8"))
  page.close()
  assert page.stack == [], f"unclosed tags {page.stack}"
  for src in page.images:
    assert not src.startswith(("http:", "https:", "/")), src
    if src.startswith("data:image/"):
      continue
    target = path.parent / urllib.parse.unquote(src)
    assert target.is_file() and target.stat().st_size > 0, f"missing picture {src}"
  return page


def pictures(folder) -> set[pathlib.Path]:
  """The PNG and GIF files under a folder."""
  folder = pathlib.Path(folder)
  return {*folder.rglob("*.png"), *folder.rglob("*.gif")}


def _train(module, workdir, data_dir):
  config = module.get_config("smoke")
  config.data.data_dir = data_dir
  config.train.num_devices = 1  # Compiles faster than over conftest's 4 fake devices.
  training.train_and_evaluate(config, str(workdir))
  return str(workdir)


class _Runs:
  """Smoke runs trained on first use, once per test process (xdist worker)."""

  CONFIGS = {"vae": vae_digits, "vae2d": vae2d_digits, "cvae": cvae_digits}

  def __init__(self, root, data_dir):
    self._root, self._data_dir, self._done = root, data_dir, {}

  def __getitem__(self, name):
    if name not in self._done:
      self._done[name] = _train(self.CONFIGS[name], self._root / name, self._data_dir)
    return self._done[name]


@pytest.fixture(scope="module")
def runs(tfds_data_dir, tmp_path_factory):
  return _Runs(tmp_path_factory.mktemp("explore_runs"), tfds_data_dir)


def _is_number(cell: str) -> bool:
  try:
    float(cell.replace(",", ""))
  except ValueError:
    return False
  return True


@pytest.mark.slow
def test_explore_entry_point_writes_every_section(runs):
  """The command line on a 16-D VAE with its 2-D companion."""
  proc = run_module("experiments.explore", f"--workdir={runs['vae']}", "--small",
                    f"--companion_workdir={runs['vae2d']}", env=UNOPTIMISED, timeout=300)
  assert proc.returncode == 0, proc.stderr[-3000:]
  path = pathlib.Path(runs["vae"]) / "report.html"
  assert f"Report: {path.resolve()}" in proc.stdout
  assert all(title in proc.stdout for title in ALL_SECTIONS)  # Progress lines.
  page = parse_report(path)
  assert page.titles == ALL_SECTIONS
  assert page.heading == "Latent space of a 16-D VAE on digits"
  text = path.read_text(encoding="utf-8")
  assert "what the ELBO / IWAE figures are" in text
  # Interpolation captions name their endpoints: "test image 3 (class 2) → ...".
  assert "test image " in text and "(class " in text and "test a " not in text
  for expected in ("explore/interpolation.gif", "explore/magnification.png",
                   "explore/scatter_tsne.png", "explore/traversal_supervised.png",
                   "samples.png", "adjusted Rand index", "test ELBO", "geodesic / linear",
                   "16-D VAE", "2-D VAE (companion)", "explore/magnification_expected.png",
                   "expected-metric geodesic", "5-NN accuracy (leave-one-out)"):
    assert expected in text, expected
  assert sum(_is_number(c) for c in page.cells) > 30
  assert all(c.strip().lower() not in ("nan", "inf", "-inf") for c in page.cells)


def test_embedded_report_of_a_2d_run_is_one_file_and_has_its_own_geometry(runs, tmp_path):
  lines = []
  out = tmp_path / "single.html"
  trained = pictures(runs["vae2d"])  # samples.png, reconstructions.png
  path = explore.build_report(runs["vae2d"], settings=explore.ExploreSettings.small(),
                              output=str(out), embed_images=True, progress=lines.append)
  assert path == out
  page = parse_report(path)
  assert page.titles == ALL_SECTIONS
  assert page.heading == "Latent space of a 2-D VAE on digits"
  assert len(lines) == len(ALL_SECTIONS) + 2
  assert page.images and all(src.startswith("data:image/") for src in page.images)
  assert list(tmp_path.iterdir()) == [out]  # One self-contained file, no picture beside it.
  assert pictures(runs["vae2d"]) == trained
  assert "scatter_tsne" not in path.read_text(encoding="utf-8")  # No t-SNE of 2-D codes.


def test_conditional_report_swaps_arithmetic_and_leaves_out_geometry(runs):
  path = explore.build_report(runs["cvae"], settings=explore.ExploreSettings.small())
  page = parse_report(path)
  assert page.heading == "Latent space of an 8-D conditional VAE on digits"
  assert "Geometry: magnification factor and geodesics" not in page.titles
  assert "Arithmetic and attribute directions" in page.titles
  text = path.read_text(encoding="utf-8")
  assert "style_class.png" in text and "attribute_vectors.png" not in text


def test_companion_must_be_two_dimensional(runs):
  with pytest.raises(ValueError, match="`companion_workdir` .* must hold a run with a 2-D"):
    explore.build_report(runs["vae2d"], companion_workdir=runs["cvae"],
                         settings=explore.ExploreSettings.small())
