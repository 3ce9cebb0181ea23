"""Evaluates a trained run with every metric that applies to its family.

    python -m experiments.evaluate --workdir=runs/vae

Loads the run's config and latest checkpoint and writes ``metrics.json``: the family's
figures (likelihood bounds, reconstruction scores, mode coverage, test accuracy) and,
under ``"quality"``, FID / KID / precision / recall / density / coverage and class
coverage of samples and reconstructions in the features of the dataset's feature
network, latent-space quality (linear probe, k-means NMI/ARI, perceptual path length,
geodesic / straight length ratio) and, on ``sprites``, disentanglement (MIG, SAP, DCI,
beta-VAE and FactorVAE scores). Prints them as a table.

The feature network is the classifier of ``configs/common.classifier_config``, trained on
first use and cached (``latentjax.metrics.feature_network_dir``; ``$LATENTJAX_CACHE``);
``--feature_network=DIR`` uses another classifier run folder, ``--feature_network=none``
skips the feature metrics.
"""

import json

from absl import flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Run folder written by experiments.train.")
_FEATURES = flags.DEFINE_string(
    "feature_network", "", "Classifier run folder for the feature metrics; '' = the "
    "cached one of the run's dataset (trained on first use); 'none' = no feature metrics.")
_QUALITY = flags.DEFINE_bool(
    "quality", True, "Also the sample-quality, latent-space and disentanglement metrics "
    "(--noquality: only the family's figures, as at the end of training).")
_JSON = flags.DEFINE_bool("json", False, "Print metrics.json instead of a table.")
flags.mark_flag_as_required("workdir")


def _feature_network(workdir: str):
  """The feature network to use, training and caching the default one if needed."""
  from configs import common
  from latentjax import data, metrics, training

  if _FEATURES.value == "none":
    return None
  if _FEATURES.value:
    return training.load_feature_network(_FEATURES.value)
  name = training.read_config(workdir).data.name
  spec = data.get_spec(name)
  if spec.input_key != "image" or not (spec.num_classes or spec.factor_names):
    return None  # no images, or nothing to classify: no feature network applies
  cached = metrics.feature_network_dir(name)
  print(f"Feature network of {name!r}: {cached}")
  return training.feature_network(name, config=common.classifier_config(name))


def format_table(result: dict) -> str:
  """The metrics as aligned ``name  value`` lines, the quality block indented."""
  lines = []

  def add(k, v, indent=""):
    if isinstance(v, float):
      v = f"{v:.4g}"
    elif isinstance(v, (list, dict)):
      v = json.dumps(v)
    lines.append(f"{indent}{k:<34}{v}")

  for k, v in result.items():
    if k != "quality":
      add(k, v)
  if result.get("quality"):
    lines.append("quality:")
    for k, v in result["quality"].items():
      add(k, v, "  ")
  return "\n".join(lines)


def main(argv):
  del argv
  from latentjax import training

  training.keep_freed_host_memory()  # each compiled step reuses its host buffers
  feature_net = _cli.run_or_exit(_feature_network, _WORKDIR.value) if _QUALITY.value else None
  result = _cli.run_or_exit(training.evaluate, _WORKDIR.value, quality=_QUALITY.value,
                            feature_net=feature_net)
  print(json.dumps(result, indent=2) if _JSON.value else format_table(result))
  print(f"Written to {_WORKDIR.value}/metrics.json")


if __name__ == "__main__":
  _cli.main(main)
