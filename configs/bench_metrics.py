"""The `metrics` benchmark: PRDC and FID on large random feature sets.

    python -m experiments.benchmark --workloads=metrics
    python -m experiments.benchmark --workloads=metrics --metrics_num_points=20000

Real and fake sets of `num_points` standard normal float32 features each (the fake set
shifted by `fake_shift`), for each width in `widths` (64, and 2048 as Inception's pool
features): wall time and peak host memory of `prdc` (k = `nearest_k`, rows in chunks of
`chunk_size`) and of `fid_from_features`. `--metrics_num_points` overrides `num_points`.
"""

import ml_collections


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.num_points = 50_000
  c.widths = (64, 2048)
  c.nearest_k = 5
  c.chunk_size = 1024
  c.fake_shift = 0.1
  c.seed = 0
  if arg in (None, ""):
    return c
  if arg == "smoke":
    c.num_points = 500
    c.widths = (16, 64)
    return c
  raise ValueError(f"Unknown config argument {arg!r}; known: smoke")
