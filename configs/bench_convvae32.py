"""The `convvae32` benchmark workload of BENCHMARKS.md: one conv-VAE training step.

    python -m experiments.benchmark --workloads=convvae32
    python -m experiments.benchmark --workloads=convvae32 --conv_impl=xla,fast

Conv 32-64-128 (4x4, stride 2) -> Dense 256 = mean and log-variance of a 128-D latent;
Dense 4*4*128 -> ConvTranspose 64-32-3; Bernoulli likelihood, analytic KL, Adam 1e-3;
batch 128 of synthetic 32x32x3 inputs. 1,119,811 parameters, 7.550 GFLOP model FLOPs per
step. Reports the median examples/s over timed windows after compilation, for each
convolution implementation in `conv_impls` (`--conv_impl` overrides it), windows of the
implementations alternating.
"""

import ml_collections


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.batch_size = 128
  c.conv_impls = ("auto",)  # auto | xla | fast, one or more (--conv_impl=xla,fast)
  c.model = ml_collections.ConfigDict()
  c.model.input_shape = (32, 32, 3)
  c.model.channels = (32, 64, 128)
  c.model.latent_dim = 128
  c.model.likelihood = "bernoulli"
  c.optim = ml_collections.ConfigDict()
  c.optim.learning_rate = 1e-3
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
