"""Latent diffusion on `digits`: a diffusion model of a trained VAE's codes.

    python -m experiments.train --config=configs/vae_digits.py --workdir=runs/vae
    python -m experiments.train --config=configs/ldm_digits.py --workdir=runs/ldm \\
        --config.model.latent_run=runs/vae

The data are the VAE's encoder means (16-D, computed from each batch with its frozen
parameters); an MLP noise predictor (3 x 256, SiLU, sinusoidal time embedding) learns
them, and samples pass through the VAE's decoder.
"""

from configs import common


def get_config(arg=None):
  c = common.base_config()
  c.data.name = "digits"
  c.model.family = "diffusion"
  c.model.architecture = "mlp"
  c.model.hidden_dims = (256, 256, 256)
  c.model.latent_run = "runs/vae"
  c.optim.learning_rate = 1e-3
  c.optim.warmup_steps = 200
  c.train.num_steps = 10000
  c.train.checkpoint_every_steps = 2000
  c.eval.num_examples = 300
  c.eval.sampling_steps = 50
  c = common.apply_arg(c, arg)
  if arg == "smoke":
    c.eval.sampling_steps = 4
  return c
