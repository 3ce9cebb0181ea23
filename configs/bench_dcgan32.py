"""The `dcgan32` benchmark workload of BENCHMARKS.md: one D update + one G update.

    python -m experiments.benchmark --workloads=dcgan32
    python -m experiments.benchmark --workloads=dcgan32 --conv_impl=xla,fast

Generator z in R^128 -> Dense 4*4*256 -> BatchNorm -> ReLU -> ConvTranspose 128-64-3
(BatchNorm and ReLU after the hidden ones, tanh out); discriminator Conv 64-128-256
(LeakyReLU 0.2) -> flatten -> Dense 1. Non-saturating loss, Adam(2e-4, b1=0.5) for both,
BatchNorm in train mode (its `batch_stats` updated), one generator forward serving both
updates; batch 128 of synthetic 32x32x3 data in [-1, 1). 1,858,564 parameters
(G 1,195,587, D 662,977), 49.33 GFLOP model FLOPs per step. Reports the median
examples/s over timed windows after compilation, for each convolution implementation in
`conv_impls` (`--conv_impl` overrides it), windows of the implementations alternating.
"""

import ml_collections


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.batch_size = 128
  c.conv_impls = ("auto",)  # auto | xla | fast, one or more (--conv_impl=xla,fast)
  c.model = ml_collections.ConfigDict()
  c.model.latent_dim = 128
  c.model.output_shape = (32, 32, 3)
  c.model.g_channels = (256, 128, 64)
  c.model.d_channels = (64, 128, 256)
  c.model.loss = "non_saturating"
  c.optim = ml_collections.ConfigDict()
  c.optim.learning_rate = 2e-4
  c.optim.b1 = 0.5
  c.optim.b2 = 0.999
  c.timing = ml_collections.ConfigDict()
  c.timing.warmup_steps = 3
  c.timing.window_steps = 10
  c.timing.num_windows = 5
  if arg in (None, ""):
    return c
  if arg == "smoke":
    c.batch_size = 4
    c.timing.warmup_steps = 1
    c.timing.window_steps = 2
    c.timing.num_windows = 2
    return c
  raise ValueError(f"Unknown config argument {arg!r}; known: smoke")
