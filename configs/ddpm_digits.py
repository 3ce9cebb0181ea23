"""DDPM on the built-in 8x8 `digits`: a small U-Net, ε-prediction, 1000-step linear schedule.

    python -m experiments.train --config=configs/ddpm_digits.py --workdir=runs/ddpm
    python -m experiments.evaluate --workdir=runs/ddpm       # FID / coverage of samples

U-Net: 32 base channels, multipliers (1, 2) (8x8 -> 4x4), one residual block per level
(two on the way up), self-attention at 4x4, GroupNorm(8), dropout 0.1 (the "digits"
preset of models.UNET_PRESETS); Adam 1e-3 with warm-up and cosine decay, gradient
clipping at 1, EMA 0.999, batch 64.
Samples by 50-step DDIM (eval.sampler / eval.sampling_steps); Run.encode inverts images
to their DDIM noise.
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "digits"
  c.model.family = "diffusion"
  c.model.architecture = "conv"
  c.model.unet_channels = 32
  c.model.unet_mult = (1, 2)
  c.model.num_res_blocks = 1
  c.model.attn_resolutions = (4,)
  c.model.dropout = 0.1
  c.model.norm_groups = 8
  c.data.batch_size = 64
  c.optim.learning_rate = 1e-3
  c.optim.warmup_steps = 200
  c.optim.schedule = "cosine"
  c.optim.grad_clip_norm = 1.0
  c.train.num_steps = 6000
  c.train.checkpoint_every_steps = 1000
  c.eval.num_examples = 300
  c.eval.sampling_steps = 50
  return apply(c, arg)


def apply(c, arg):
  """The ``:smoke`` variant also shrinks the U-Net and the sampler."""
  c = common.apply_arg(c, arg)
  if arg == "smoke":
    c.model.unet_channels = 16
    c.model.dropout = 0.0
    c.eval.sampling_steps = 4
  return c
