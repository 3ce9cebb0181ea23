"""Feature networks: the trained classifier whose features the sample-quality metrics use.

This module holds the network as arrays and functions (`FeatureNetwork`) and where trained
ones are cached (`feature_network_dir`); training and loading one is a job for the loop,
so ``training.feature_network`` and ``training.load_feature_network`` do it.

Pretrained Inception weights cannot be assumed, so each dataset has a small classifier
trained by the project's own loop (``config.model.family = "classifier"``, see
``configs/classifier_digits.py``). Its penultimate features feed FID / KID / PRDC and its
predicted classes the class coverage and the Inception-style score::

    net = training.feature_network("digits", config=classifier_config)  # trains once
    feats = net.features(images)                 # [N, 128] float32
    probs = net.probabilities(images)            # {"label": [N, 10]}

Trained networks are cached under ``feature_network_dir(dataset)``:
``$LATENTJAX_CACHE/feature_networks/<dataset>`` (``/`` in the name becomes ``_``), with
``$LATENTJAX_CACHE`` defaulting to ``~/.cache/latentjax``. Each is an ordinary run folder
(config.json, checkpoints, metrics.json with its test accuracy): delete it to retrain.
Any classifier run folder loads with ``training.load_feature_network(workdir)``.
"""

import dataclasses
import functools
import os

import jax
import numpy as np

from latentjax._batching import apply_in_batches

Array = jax.Array
CACHE_ENV = "LATENTJAX_CACHE"


def feature_network_dir(dataset: str, cache_dir: str | None = None) -> str:
  """Where the feature network of ``dataset`` is cached (see the module docstring).

  Args:
    dataset: a dataset name, e.g. "digits" or "sprites/32_lite".
    cache_dir: the cache root; None for ``$LATENTJAX_CACHE`` or ``~/.cache/latentjax``.

  Raises:
    ValueError: for an empty ``dataset``.
  """
  if not dataset:
    raise ValueError("`dataset` must name a dataset, got ''")
  root = cache_dir or os.environ.get(CACHE_ENV) or os.path.join(
      os.path.expanduser("~"), ".cache", "latentjax")
  return os.path.join(root, "feature_networks", dataset.replace("/", "_"))


def _apply(model, variables, x):
  f = model.apply(variables, x, method="features")
  logits = model.apply(variables, f, method="logits_from_features")
  return f, {k: jax.nn.softmax(v, axis=-1) for k, v in logits.items()}


@functools.cache
def _apply_jitted():  # compiled on first use, not at import
  return jax.jit(_apply, static_argnums=0)


@dataclasses.dataclass(frozen=True)
class FeatureNetwork:
  """A trained classifier, applied in fixed-size batches (one compilation).

  Attributes:
    workdir: its run folder.
    dataset: the dataset it was trained on.
    heads: ``{head: number of classes}``.
    feature_dim: F.
    input_shape: the per-example input shape it takes.
    test_accuracy: ``{head: test accuracy}`` from its metrics.json (empty if absent).
  """

  workdir: str
  dataset: str
  heads: dict
  feature_dim: int
  input_shape: tuple
  test_accuracy: dict
  model: object = dataclasses.field(repr=False)
  variables: dict = dataclasses.field(repr=False)
  batch_size: int = 256

  def _run(self, images) -> tuple[np.ndarray, dict]:
    x = np.asarray(images, np.float32)
    if x.shape[1:] != tuple(self.input_shape):
      raise ValueError(f"`images` must be [N, {', '.join(map(str, self.input_shape))}] for "
                       f"the feature network of {self.dataset!r}, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
      raise ValueError("`images` contains NaN or infinite values")
    if not len(x):
      return (np.zeros((0, self.feature_dim), np.float32),
              {k: np.zeros((0, c), np.float32) for k, c in self.heads.items()})
    apply = functools.partial(_apply_jitted(), self.model, self.variables)
    return apply_in_batches(apply, x, self.batch_size)

  @property
  def feature_fn(self):
    """A jittable ``images [B, H, W, C] -> features [B, F]`` (for metrics that trace it)."""
    model, variables = self.model, self.variables
    return lambda x: model.apply(variables, x, method="features")

  def features(self, images) -> np.ndarray:
    """Penultimate features [N, F] of images [N, H, W, C] in [0, 1]."""
    return self._run(images)[0]

  def probabilities(self, images) -> dict:
    """``{head: class probabilities [N, C]}`` of images [N, H, W, C]."""
    return self._run(images)[1]

  def features_and_probabilities(self, images) -> tuple[np.ndarray, dict]:
    """Both at once (one pass)."""
    return self._run(images)

  def predict(self, images) -> dict:
    """``{head: predicted class [N] int}``."""
    return {k: np.argmax(v, axis=-1) for k, v in self.probabilities(images).items()}
