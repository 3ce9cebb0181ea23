"""The feature network of `digits`: a conv classifier of its 10 classes.

    python -m experiments.train --config=configs/classifier_digits.py --workdir=runs/clf

`experiments/evaluate.py` trains it on first use and caches it (see
``latentjax.metrics.feature_network_dir``); its test accuracy is in the run's metrics.json.
"""

from configs import common


def get_config(arg=None):
  return common.apply_arg(common.classifier_config("digits"), arg)
