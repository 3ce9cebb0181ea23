"""beta-VAE (beta = 4) on the built-in procedural dSprites at 32x32 (`sprites/32_lite`).

    python -m experiments.train --config=configs/betavae_sprites.py --workdir=runs/betavae

Convolutional encoder/decoder (32-32-64-64 channels, 4x4 stride 2), 10-D latent,
Bernoulli likelihood, beta = 4 as in Higgins et al. (2017). For the full 64x64 grid use
--config.data.name=sprites/64 (and a GPU).
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "sprites/32_lite"
  c.data.batch_size = 64
  c.model.family = "vae"
  c.objective.binarize = True  # dynamic binarisation: the Bernoulli is then a density
  c.model.architecture = "conv"
  c.model.latent_dim = 10
  c.model.hidden_dims = (256,)
  c.model.channels = (32, 32, 64, 64)
  c.objective.beta = 4.0
  c.optim.learning_rate = 5e-4
  c.train.num_steps = 20000
  c.train.checkpoint_every_steps = 2000
  c.eval.num_examples = 2000
  return common.apply_arg(c, arg)
