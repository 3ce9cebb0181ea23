"""Class-conditional GAN on `digits`: one row of samples per digit.

    python -m experiments.train --config=configs/cgan_digits.py --workdir=runs/cgan_digits

The DCGAN networks of `dcgan_digits.py` with the label: the generator appends the
one-hot class to z, the discriminator is a projection discriminator (Miyato & Koyama,
2018; spectrally normalised). Hinge loss, Adam lr 2e-4 b1 = 0.5, batch 64, 5,000 steps.
samples.png shows one row per class with the same codes in every row.
`:smoke` shrinks it to seconds.
"""

from configs import common, dcgan_digits


def get_config(arg=None):
  c = dcgan_digits.get_config()
  c.model.family = "cgan"
  c.objective.gan_loss = "hinge"
  return common.gan_smoke(c, arg)
