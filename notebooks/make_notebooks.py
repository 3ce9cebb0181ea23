"""Writes the notebooks of this folder from the cells below, with no outputs.

    python notebooks/make_notebooks.py        # rewrites notebooks/*.ipynb

Edit the cells here (or edit a notebook in Jupyter and clear its outputs before
committing); tests/test_notebooks.py executes every notebook with LATENTJAX_SMALL=1.
"""

import pathlib
import sys

import nbformat

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import IMPORTS, SETUP  # noqa: E402
from _diffusion_cells import DIFFUSION  # noqa: E402
from _gan_cells import GANS  # noqa: E402
from _geodesic_cells import GEODESICS  # noqa: E402
from _tour_cells import TOUR  # noqa: E402

NOTEBOOKS = {
    "01_latent_space_tour.ipynb": TOUR,
    "02_geodesics.ipynb": GEODESICS,
    "03_gans.ipynb": GANS,
    "04_diffusion.ipynb": DIFFUSION,
}


def _cell(kind: str, source: str):
  source = source.strip("\n")
  if kind == "md":
    return nbformat.v4.new_markdown_cell(source)
  if source == "SETUP":
    source = SETUP
  elif source == "IMPORTS":
    source = IMPORTS
  return nbformat.v4.new_code_cell(source)


def build(cells) -> nbformat.NotebookNode:
  """A notebook from (kind, source) pairs, kind "md" or "code", with Colab metadata."""
  nb = nbformat.v4.new_notebook()
  nb.cells = [_cell(kind, source) for kind, source in cells]
  for i, cell in enumerate(nb.cells):
    cell["id"] = f"cell-{i:02d}"
  nb.metadata = {
      "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
      "language_info": {"name": "python"},
      "colab": {"provenance": [], "toc_visible": True},
  }
  return nb


def render(cells) -> str:
  """The file contents of the notebook made of `cells` (validated, ending in a newline)."""
  nb = build(cells)
  nbformat.validate(nb)
  return nbformat.writes(nb) + "\n"


def main():
  for name, cells in NOTEBOOKS.items():
    (HERE / name).write_text(render(cells), encoding="utf-8")
    print(f"wrote {HERE / name} ({len(cells)} cells)")


if __name__ == "__main__":
  main()
