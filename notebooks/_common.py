"""Cells shared by the notebooks, used by `make_notebooks.py` (not imported by them).

The setup cell is the only one that behaves differently in Colab: there it clones the
repository from `LATENTJAX_REPO` and installs it; anywhere else it only makes the
repository's `configs/` importable (it sits beside the library, not inside it).
"""

SETUP = r'''# ==== Setup: in Colab, install latentjax; elsewhere, nothing to do ====
# Colab: set LATENTJAX_REPO to the git URL of your latentjax repository, then run all.
# Runtime -> Change runtime type picks CPU, GPU or TPU; the code is the same on each.
LATENTJAX_REPO = ""  # e.g. "https://github.com/<you>/latentjax.git"

import os
import pathlib
import subprocess
import sys

if "google.colab" in sys.modules:
  if not LATENTJAX_REPO:
    raise ValueError("Set LATENTJAX_REPO (first cell) to the git URL of latentjax.")
  if not os.path.isdir("/content/latentjax"):
    subprocess.run(["git", "clone", "--depth=1", LATENTJAX_REPO, "/content/latentjax"],
                   check=True)
  subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e",
                  "/content/latentjax[notebooks]"], check=True)
  os.chdir("/content/latentjax")
  from google.colab import output
  output.enable_custom_widget_manager()  # ipywidgets (the explorer) in Colab

# The repository root (where configs/ lives) goes on sys.path, wherever the notebook runs.
_root = pathlib.Path.cwd().resolve()
while _root != _root.parent and not (_root / "configs" / "common.py").exists():
  _root = _root.parent
if (_root / "configs" / "common.py").exists() and str(_root) not in sys.path:
  sys.path.insert(0, str(_root))
_ = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # quieter TensorFlow (data pipeline)
_ = os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # and no oneDNN banner'''

IMPORTS = r'''%matplotlib inline
import tempfile

import jax
import jax.numpy as jnp
import numpy as np
from IPython.display import display
from PIL import Image

from latentjax import explore, training, viz
from latentjax import latent_ops as lo

# LATENTJAX_SMALL=1 (the test suite) shrinks every setting so the notebook runs in about
# a minute on a CPU; leave it unset for the real thing.
SMALL = explore.small_mode()
settings = explore.ExploreSettings.from_env()
print(f"JAX {jax.__version__} on {jax.devices()[0].platform}: {jax.device_count()} device(s);",
      "small settings" if SMALL else "full settings")


def show(picture):
  """Displays a uint8 picture from latentjax.viz (figures display themselves)."""
  display(Image.fromarray(picture))'''
