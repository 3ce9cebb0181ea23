"""VAE on the built-in `digits` (scikit-learn's 8x8 handwritten digits).

    python -m experiments.train --config=configs/vae_digits.py --workdir=runs/vae_digits

MLP encoder/decoder (64 -> 512 -> 256 -> 16), Bernoulli likelihood of dynamically
binarised digits (each training step draws a fresh binary image from the intensities, as
the binarised-MNIST literature does; the test split is binarised once, with a fixed key),
so the test ELBO and IWAE-100 figures in runs/vae_digits/metrics.json are lower bounds on
log p(x) of binary images, in nats per image. 5,000 Adam steps at batch 128: about a
minute on 2 CPU cores. For grey levels use --config.objective.binarize=False
--config.objective.likelihood=continuous_bernoulli (a density on [0, 1]).
`:smoke` shrinks it to seconds.
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "digits"
  c.model.family = "vae"
  c.objective.binarize = True  # dynamic binarisation: the Bernoulli is then a density
  c.model.latent_dim = 16
  return common.apply_arg(c, arg)
