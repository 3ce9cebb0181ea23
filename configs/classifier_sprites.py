"""The feature network of `sprites/32_lite`: one classifier head per ground-truth factor.

    python -m experiments.train --config=configs/classifier_sprites.py --workdir=runs/clf_sprites

Heads: shape, scale, orientation, x_position, y_position. `experiments/evaluate.py` trains
it on first use and caches it (see ``latentjax.metrics.feature_network_dir``).
"""

from configs import common


def get_config(arg=None):
  return common.apply_arg(common.classifier_config("sprites/32_lite"), arg)
