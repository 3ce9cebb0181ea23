"""The embedding network of a trained digits DDPM: image -> DDIM noise in one pass.

    python -m experiments.train --config=configs/ddpm_digits.py --workdir=runs/ddpm
    python -m experiments.train --config=configs/embed_digits.py --workdir=runs/embed \\
        --config.model.latent_run=runs/ddpm

Asperti et al. (2023): a U-Net (the ddpm_digits layout, time input fixed at 0) trained on
(noise, image) pairs the frozen diffusion run generates each step, ``x = DDIM(z)`` with
its ``eval.sampling_steps``, to predict ``z`` from ``x`` (mean squared error). The data
pipeline only paces the steps (its images are not used). ``metrics.json`` compares the
reconstruction error of decoding its noise with that of DDIM inversion on test images;
``load_run("runs/embed").decode(run.encode(x))`` reconstructs through the diffusion model.
"""

from configs import common, ddpm_digits


def get_config(arg=None):
  c = ddpm_digits.get_config()  # the same U-Net, optimiser and data
  c.model.family = "noise_encoder"
  c.model.latent_run = "runs/ddpm"
  c.model.dropout = 0.0
  c.train.num_steps = 3000
  c = common.apply_arg(c, arg)
  if arg == "smoke":
    c.model.unet_channels = 16
  return c
