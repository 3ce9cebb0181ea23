"""VAE with a 2-D latent space on `digits`: the companion run for latent geometry.

    python -m experiments.train --config=configs/vae2d_digits.py --workdir=runs/vae2d_digits
    python -m experiments.explore --workdir=runs/vae_digits \
        --companion_workdir=runs/vae2d_digits

Same MLP as configs/vae_digits.py (64 -> 512 -> 256) but a 2-D code, so the decoder's
magnification factor can be drawn over the whole latent plane with geodesics on it
("Latent Space Oddity", Arvanitidis et al. 2018) and the codes can be scattered without
a projection. Expect a test ELBO about 10 nats per image below the 16-D model's.
`:smoke` shrinks it to seconds.
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "digits"
  c.model.family = "vae"
  c.objective.binarize = True  # dynamic binarisation: the Bernoulli is then a density
  c.model.latent_dim = 2
  return common.apply_arg(c, arg)
