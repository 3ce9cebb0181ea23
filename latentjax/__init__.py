"""latentjax: generative models and their latent spaces, in JAX.

Sub-packages are imported on first use, so ``import latentjax`` is cheap and does
no I/O; ``from latentjax import latent_ops`` pulls in JAX only, while
``latentjax.data`` brings in TensorFlow Datasets for the input pipeline.

    from latentjax import latent_ops as lo
    path = lo.interpolate(z0, z1, num_steps=8, method="slerp")
"""

import importlib

__version__ = "0.1.0"

# Every sub-package that exists, one per line (a new one is one more line here).
_SUBPACKAGES = (
    "data",
    "diffusion",
    "explore",
    "kernels",
    "metrics",
    "latent_ops",
    "models",
    "objectives",
    "training",
    "viz",
)

__all__ = ["__version__", *_SUBPACKAGES]


def __getattr__(name):
  if name in _SUBPACKAGES:
    return importlib.import_module(f"latentjax.{name}")
  raise AttributeError(f"module 'latentjax' has no attribute {name!r}")


def __dir__():
  return sorted(__all__)
