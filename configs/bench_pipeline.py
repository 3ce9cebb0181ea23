"""The `pipeline` benchmark workload of BENCHMARKS.md: the input pipelines alone.

    python -m experiments.benchmark --workloads=pipeline

The `digits` and `sprites` (32x32 subset) TFDS pipelines at batch 128 with shuffling and
preprocessing, in batches/s (median over timed windows); these must stay well above
every training workload's steps/s. The datasets are built on first use.
"""

import ml_collections


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.datasets = ("digits", "sprites/32_lite")
  c.batch_size = 128
  c.data_dir = ""  # "": TFDS default
  c.warmup_batches = 20
  c.window_batches = 200
  c.num_windows = 5
  if arg in (None, ""):
    return c
  if arg == "smoke":
    c.datasets = ("digits",)
    c.batch_size = 16
    c.warmup_batches = 2
    c.window_batches = 5
    c.num_windows = 2
    return c
  raise ValueError(f"Unknown config argument {arg!r}; known: smoke")
