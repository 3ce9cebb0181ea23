"""Deterministic autoencoder on `digits`; samples come from a Gaussian fitted to its codes.

    python -m experiments.train --config=configs/ae_digits.py --workdir=runs/ae_digits

Same MLP as the VAE, 16-D codes, Bernoulli reconstruction loss. Evaluation reports
the test reconstruction NLL (nats) and MSE and saves the code Gaussian for sampling.
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "digits"
  c.model.family = "ae"
  c.objective.binarize = True  # dynamic binarisation: the Bernoulli is then a density
  c.model.latent_dim = 16
  return common.apply_arg(c, arg)
