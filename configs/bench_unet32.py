"""The `unet32` benchmark workload of BENCHMARKS.md: one DDPM U-Net training step.

    python -m experiments.benchmark --workloads=unet32
    python -m experiments.benchmark --workloads=unet32 --conv_impl=xla,fast

U-Net of 64 base channels, multipliers (1, 2, 2), one residual block per level down and
two up, single-head self-attention at 16x16 and in the middle block, GroupNorm(32), no
dropout, on 32x32x3 (4,437,699 parameters). eps-prediction MSE at uniform t of a
1000-step linear schedule (1e-4 ... 0.02), Adam(2e-4), batch 64 of one fixed synthetic
x0 in [-1, 1). 393.47 GFLOP model FLOPs per step (131.23 per forward at batch 64).
Then 50-step DDIM sampling (eta = 0) at batch 64, in images/s.
Reports the median examples/s over timed windows after compilation, for each
convolution implementation in `conv_impls` (`--conv_impl` overrides it), windows of the
implementations alternating. The `smoke` config is a tiny U-Net on 16x16x3 at batch 2.
"""

import ml_collections


def get_config(arg=None):
  c = ml_collections.ConfigDict()
  c.batch_size = 64
  c.conv_impls = ("auto",)  # auto | xla | fast, one or more (--conv_impl=xla,fast)
  c.model = ml_collections.ConfigDict()
  c.model.input_shape = (32, 32, 3)
  c.model.ch = 64
  c.model.ch_mult = (1, 2, 2)
  c.model.num_res_blocks = 1
  c.model.attn_resolutions = (16,)
  c.model.dropout = 0.0
  c.model.num_groups = 32
  c.schedule = ml_collections.ConfigDict()
  c.schedule.num_timesteps = 1000
  c.schedule.beta_start = 1e-4
  c.schedule.beta_end = 0.02
  c.optim = ml_collections.ConfigDict()
  c.optim.learning_rate = 2e-4
  c.sampling = ml_collections.ConfigDict()  # DDIM (eta = 0), timed in windows of steps
  c.sampling.num_steps = 50
  c.sampling.steps_per_window = 2
  c.sampling.num_windows = 3
  c.timing = ml_collections.ConfigDict()
  c.timing.warmup_steps = 1
  c.timing.window_steps = 2
  c.timing.num_windows = 3
  if arg in (None, ""):
    return c
  if arg == "smoke":
    c.batch_size = 2
    c.model.input_shape = (16, 16, 3)
    c.model.ch = 16
    c.model.ch_mult = (1, 2)
    c.model.attn_resolutions = (8,)
    c.model.num_groups = 8
    c.timing.warmup_steps = 1
    c.timing.window_steps = 1
    c.timing.num_windows = 2
    c.sampling.num_steps = 4
    c.sampling.steps_per_window = 1
    c.sampling.num_windows = 2
    return c
  raise ValueError(f"Unknown config argument {arg!r}; known: smoke")
