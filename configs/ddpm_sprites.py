"""DDPM on the built-in procedural dSprites at 16x16 (`sprites/16_lite`).

    python -m experiments.train --config=configs/ddpm_sprites.py --workdir=runs/ddpm_sprites

U-Net: 32 base channels, multipliers (1, 2, 2) (16 -> 8 -> 4), attention at 8x8. Inverted
noise latents of sprites make position and scale directions in noise space (see the
explore report).
"""

from configs import ddpm_digits


def get_config(arg=None):
  c = ddpm_digits.get_config()
  c.data.name = "sprites/16_lite"
  c.model.unet_channels = 32
  c.model.unet_mult = (1, 2, 2)
  c.model.attn_resolutions = (8,)
  c.model.dropout = 0.0
  c.data.batch_size = 64
  c.eval.num_examples = 1000
  return ddpm_digits.apply(c, arg)
