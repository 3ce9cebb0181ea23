"""Evaluates a trained run: test bounds to metrics.json, sample/reconstruction grids.

    python -m experiments.evaluate --workdir=runs/vae
"""

import json

from absl import flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", None, "Run folder written by experiments.train.")
flags.mark_flag_as_required("workdir")


def main(argv):
  del argv
  from latentjax import training

  metrics = _cli.run_or_exit(training.evaluate, _WORKDIR.value)
  print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
  _cli.main(main)
