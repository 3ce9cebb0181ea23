"""VAE on the built-in `digits` (scikit-learn's 8x8 handwritten digits).

    python -m experiments.train --config=configs/vae_digits.py --workdir=runs/vae_digits

MLP encoder/decoder (64 -> 512 -> 256 -> 16), Bernoulli likelihood over pixel
intensities, 5,000 Adam steps at batch 128: about a minute on 2 CPU cores. The test
ELBO and IWAE-100 bound (nats per image) land in runs/vae_digits/metrics.json.
`:smoke` shrinks it to seconds.
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "digits"
  c.model.family = "vae"
  c.model.latent_dim = 16
  return common.apply_arg(c, arg)
