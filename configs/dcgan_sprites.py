"""DCGAN on the built-in procedural dSprites at 32x32 (`sprites/32_lite`).

    python -m experiments.train --config=configs/dcgan_sprites.py --workdir=runs/dcgan_sprites

Generator: z in R^64 -> Dense 4x4x128 -> BatchNorm -> ReLU -> ConvTranspose 64 -> 32
(4x4, stride 2, BatchNorm, ReLU) -> ConvTranspose 1 -> tanh (32x32x1). Discriminator:
Conv 32 -> 64 -> 128 (4x4, stride 2, LeakyReLU 0.2) -> Dense 1, spectrally normalised.
Hinge loss, two discriminator updates per generator update (each on half of the batch
of 128), Adam lr 2e-4 b1 = 0.5, 20,000 steps (a GPU is advised).
`:smoke` shrinks it to seconds.
"""

from configs import common


def get_config(arg=None):
  c = common.gan_config("sprites/32_lite")
  c.data.batch_size = 128
  c.model.architecture = "conv"
  c.model.latent_dim = 64
  c.model.channels = (128, 64, 32)
  c.model.d_channels = (32, 64, 128)
  c.model.spectral_norm = True
  c.objective.gan_loss = "hinge"
  c.objective.n_critic = 2
  c.train.num_steps = 20000
  c.train.checkpoint_every_steps = 2000
  return common.gan_smoke(c, arg)
