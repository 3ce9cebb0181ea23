"""Class-conditional DDPM on `digits` with classifier-free guidance.

    python -m experiments.train --config=configs/cddpm_digits.py --workdir=runs/cddpm

The U-Net of configs/ddpm_digits.py with a label embedding; in training the label is
replaced by the null label with probability 0.1 (objective.p_uncond), and samples use
guidance weight w = 2 (eval.guidance_scale): eps = (1 + w) eps(x, c) - w eps(x).
samples.png holds one row per class.
"""

from configs import ddpm_digits


def get_config(arg=None):
  c = ddpm_digits.get_config()
  c.model.family = "cdiffusion"
  c.objective.p_uncond = 0.1
  c.eval.guidance_scale = 2.0
  return ddpm_digits.apply(c, arg)
