"""Conditional VAE on `digits`: the label goes to the encoder and the decoder.

    python -m experiments.train --config=configs/cvae_digits.py --workdir=runs/cvae_digits

With the class given, the 8-D code is free to carry style; samples.png shows one
row per class with the same codes, i.e. one style written as every digit.
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "digits"
  c.model.family = "cvae"
  c.objective.binarize = True  # dynamic binarisation: the Bernoulli is then a density
  c.model.latent_dim = 8
  return common.apply_arg(c, arg)
