"""The notebooks: committed without outputs, Colab-ready, and executed on small settings.

Each notebook runs top to bottom in a fresh kernel of this Python (the venv's),
with LATENTJAX_SMALL=1 and the session's TFDS data directory, from the repository
root, as a user would run it.
"""

import json
import os
import pathlib
import sys

import pytest

from tests._helpers import REPO

NOTEBOOK_DIR = pathlib.Path(REPO) / "notebooks"
NOTEBOOKS = ["01_latent_space_tour.ipynb", "02_geodesics.ipynb"]


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


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_executes(name, tfds_data_dir, monkeypatch):
  nbformat = pytest.importorskip("nbformat")
  nbclient = pytest.importorskip("nbclient")
  pytest.importorskip("ipykernel")
  pytest.importorskip("ipywidgets")
  monkeypatch.setenv("LATENTJAX_SMALL", "1")
  monkeypatch.setenv("TFDS_DATA_DIR", tfds_data_dir)
  monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
  monkeypatch.delenv("XLA_FLAGS", raising=False)  # One CPU device, as a user has.
  nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
  # "python3" is ipykernel's own spec: jupyter_client starts it with sys.executable,
  # i.e. this (the venv's) interpreter, wherever other kernels are installed.
  client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                   resources={"metadata": {"path": REPO}})
  client.execute()
  errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if o.output_type == "error"]
  assert not errors
  outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
  images = [o for o in outputs if "image/png" in o.get("data", {})]
  assert len(images) >= 5, "the notebook should show its pictures"
  widgets = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
  assert widgets, "the explorer widget should be displayed"
  assert os.environ["LATENTJAX_SMALL"] == "1"
