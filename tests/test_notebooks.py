"""The notebooks: committed without outputs, Colab-ready, and executed on small settings.

Each notebook runs top to bottom in a fresh kernel of this Python (the venv's),
with LATENTJAX_SMALL=1 and the session's TFDS data directory, from the repository
root, as a user would run it; cells added to the test's copy check that the kernel
really ran on small settings.
"""

import json
import pathlib
import sys

import pytest

from latentjax.explore import ExploreSettings
from tests._helpers import REPO

NOTEBOOK_DIR = pathlib.Path(REPO) / "notebooks"
NOTEBOOKS = ["01_latent_space_tour.ipynb", "02_geodesics.ipynb", "03_gans.ipynb",
             "04_diffusion.ipynb"]
# Notebooks that end with the interactive explorer (it needs an encoder: not the GANs').
WITH_EXPLORER = ("01_latent_space_tour.ipynb", "02_geodesics.ipynb")
# Notebooks whose small run is bound by compiling (a U-Net and its samplers), not by
# training steps: their kernel compiles without XLA's backend optimisations (73 -> 47 s
# CPU; the others train hundreds of steps and gain nothing).
UNOPTIMISED = ("04_diffusion.ipynb",)


def _load(name):
  return json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_clean_and_colab_ready(name):
  nb = _load(name)
  code = [c for c in nb["cells"] if c["cell_type"] == "code"]
  assert code, name
  for cell in code:
    assert cell["outputs"] == [] and cell["execution_count"] is None, "outputs not cleared"
  setup = "".join(code[0]["source"])
  assert "LATENTJAX_REPO" in setup and '"google.colab" in sys.modules' in setup
  assert nb["metadata"]["kernelspec"]["name"] == "python3"
  source = "".join("".join(c["source"]) for c in code)
  assert "from latentjax import" in source and "explore.small_mode()" in source


def test_notebooks_match_their_generator():
  """`notebooks/make_notebooks.py` rebuilds exactly the committed files."""
  pytest.importorskip("nbformat")
  sys.path.insert(0, str(NOTEBOOK_DIR))
  try:
    import make_notebooks
  finally:
    sys.path.remove(str(NOTEBOOK_DIR))
  for name, cells in make_notebooks.NOTEBOOKS.items():
    assert make_notebooks.render(cells) == (NOTEBOOK_DIR / name).read_text(encoding="utf-8"), (
        f"{name} differs from its generator: run python notebooks/make_notebooks.py")
  assert sorted(make_notebooks.NOTEBOOKS) == NOTEBOOKS


# Cells the test adds to its in-memory copy (never to the committed files). The first,
# right after the imports, stops the run at once unless the kernel chose small settings;
# the last prints what the run did, for the test to check.
_CHECK_SMALL = """
assert SMALL, "LATENTJAX_SMALL did not reach the kernel"
assert settings == explore.ExploreSettings.small(), settings
"""
_REPORT = """
import json as _json
print("RAN:" + _json.dumps({"small": SMALL, "step": int(run.step),
                            "num_steps": int(config.train.num_steps),
                            "geodesic_steps": settings.geodesic_steps}))
"""
_SMALL_MAX_STEPS = 1000  # the notebooks train 300-600 steps on small settings, 4000+ on full


def _with_probes(nbformat, nb):
  """``nb`` with the two probe cells; the imports cell defines SMALL and settings."""
  cells = nb.cells
  imports = next(i for i, c in enumerate(cells)
                 if c.cell_type == "code" and "SMALL = explore.small_mode()" in c.source)
  cells.insert(imports + 1, nbformat.v4.new_code_cell(_CHECK_SMALL))
  cells.append(nbformat.v4.new_code_cell(_REPORT))
  return nb


def _stdout(cell) -> str:
  return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes_on_small_settings(name, tfds_data_dir, monkeypatch):
  nbformat = pytest.importorskip("nbformat")
  nbclient = pytest.importorskip("nbclient")
  pytest.importorskip("ipykernel")
  pytest.importorskip("ipywidgets")
  monkeypatch.setenv("LATENTJAX_SMALL", "1")
  monkeypatch.setenv("TFDS_DATA_DIR", tfds_data_dir)
  monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
  monkeypatch.delenv("XLA_FLAGS", raising=False)  # One CPU device, as a user has.
  if name not in UNOPTIMISED:  # tests/conftest.py turns the optimisations off for the rest
    monkeypatch.delenv("JAX_DISABLE_MOST_OPTIMIZATIONS", raising=False)
  nb = _with_probes(nbformat, nbformat.read(NOTEBOOK_DIR / name, as_version=4))
  # "python3" is ipykernel's own spec: jupyter_client starts it with sys.executable,
  # i.e. this (the venv's) interpreter, wherever other kernels are installed.
  client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                   resources={"metadata": {"path": REPO}})
  client.execute()
  code = [c for c in nb.cells if c.cell_type == "code"]
  errors = [o for c in code for o in c.outputs if o.output_type == "error"]
  assert not errors
  # The kernel itself saw small settings and trained the short run.
  assert any("small settings" in _stdout(c) for c in code), "the imports cell's banner"
  report = [line for line in _stdout(code[-1]).splitlines() if line.startswith("RAN:")]
  assert len(report) == 1, _stdout(code[-1])
  ran = json.loads(report[0][len("RAN:"):])
  assert ran["small"] is True
  assert ran["step"] == ran["num_steps"] <= _SMALL_MAX_STEPS, ran
  assert ran["geodesic_steps"] == ExploreSettings.small().geodesic_steps, ran
  outputs = [o for c in code for o in c.outputs]
  images = [o for o in outputs if "image/png" in o.get("data", {})]
  assert len(images) >= 5, "the notebook should show its pictures"
  widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
  if name in WITH_EXPLORER:
    assert widgets, "the explorer widget should be displayed"
