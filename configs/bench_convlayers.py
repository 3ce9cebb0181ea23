"""The `convlayers` micro-benchmark: the single convolution layers of `convvae32`.

    python -m experiments.benchmark --workloads=convlayers --conv_impl=xla,fast

The three 4x4 stride-2 "SAME" convolutions (32x32x3 -> 32, 16x16x32 -> 64, 8x8x64 -> 128)
and three transposed convolutions (4x4x128 -> 64, 8x8x64 -> 32, 16x16x32 -> 3) at batch
128, float32: forward, input gradient and weight gradient, GFLOP/s each, per convolution
implementation, timed alternately (the fastest of `rounds` rounds of `calls` calls).
"""

import ml_collections


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.batch_size = 128
  c.input_shape = (32, 32, 3)
  c.channels = (32, 64, 128)
  c.dtype = "float32"
  c.conv_impls = ("xla", "fast")  # --conv_impl overrides
  c.rounds = 5
  c.calls = 5
  if arg in (None, ""):
    return c
  if arg == "smoke":
    c.batch_size = 2
    c.input_shape = (8, 8, 3)
    c.channels = (4, 8)
    c.rounds = 1
    c.calls = 1
    return c
  raise ValueError(f"Unknown config argument {arg!r}; known: smoke")
