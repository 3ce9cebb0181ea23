"""Training and loading the feature networks of the sample-quality metrics.

``metrics.FeatureNetwork`` is the network itself (arrays and functions); these two make
one from a classifier run folder, training it first where none is cached.
"""

import json
import os

from latentjax.metrics import FeatureNetwork, feature_network_dir


def load_feature_network(workdir: str, batch_size: int = 256) -> FeatureNetwork:
  """Loads a trained ``classifier`` run as a `FeatureNetwork`.

  Raises:
    FileNotFoundError: when ``workdir`` holds no trained run.
    ValueError: when the run is not a classifier.
  """
  from latentjax.training._run import load_run

  run = load_run(workdir)
  if run.exp.family != "classifier":
    raise ValueError(f"`workdir` {workdir!r} holds a {run.exp.family!r} run, not a "
                     f"'classifier' (train one with configs/classifier_digits.py)")
  accuracy = {}
  path = os.path.join(workdir, "metrics.json")
  if os.path.exists(path):
    with open(path) as f:
      saved = json.load(f)
    accuracy = {k[len("accuracy_"):]: v for k, v in saved.items() if k.startswith("accuracy_")}
  return FeatureNetwork(
      workdir=workdir, dataset=run.exp.cfg.data.name, heads=dict(run.exp.model.heads),
      feature_dim=run.exp.cfg.model.latent_dim, input_shape=tuple(run.exp.spec.input_shape),
      test_accuracy=accuracy, model=run.exp.model, variables=run.variables,
      batch_size=batch_size)


def feature_network(dataset: str, *, config=None, cache_dir: str | None = None,
                    batch_size: int = 256) -> FeatureNetwork:
  """The cached feature network of ``dataset``, trained first with ``config`` if absent.

  Args:
    dataset: the dataset name (must equal ``config.data.name`` when a config is given).
    config: the classifier's ConfigDict (e.g. ``configs/common.classifier_config``), used
      only when no trained network is cached.
    cache_dir: the cache root (see `feature_network_dir`).
    batch_size: examples per compiled batch.

  Raises:
    FileNotFoundError: when none is cached and no ``config`` is given.
    ValueError: when ``config`` is for another dataset or another family.
  """
  workdir = feature_network_dir(dataset, cache_dir)
  if not os.path.exists(os.path.join(workdir, "metrics.json")):
    if config is None:
      raise FileNotFoundError(
          f"no feature network for {dataset!r} in {workdir}; train one with python -m "
          f"experiments.train --config=configs/classifier_<dataset>.py --workdir={workdir} "
          f"(experiments/evaluate.py does this on first use)")
    if config.data.name != dataset or config.model.family != "classifier":
      raise ValueError(
          f"`config` must train a 'classifier' on {dataset!r}, got family "
          f"{config.model.family!r} on {config.data.name!r}")
    from latentjax import training

    training.train_and_evaluate(config, workdir)
  return load_feature_network(workdir, batch_size=batch_size)
