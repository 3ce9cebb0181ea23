"""Baseline GAN on `toy2d/grid25`: the plain non-saturating loss, no penalty.

    python -m experiments.train --config=configs/gan_grid25_baseline.py \
        --workdir=runs/gan_grid25_baseline

Everything of `gan_grid25.py` but the objective: the same architecture (MLP generator
z in R^16 -> 128 -> 128 -> 128 -> 2 and MLP discriminator 2 -> 128 -> 128 -> 128 -> 1,
LeakyReLU 0.2), batch 256, 10,000 steps, Adam (b1 = 0.5, b2 = 0.999) at lr 4e-3 with a
200-step warm-up and cosine decay for both networks, EMA 0.999; trained with the
non-saturating loss of Goodfellow et al. (2014) and nothing else (no hinge, no R1): the
reference the tuned run is compared with.

Measured (full CPU runs of seeds 0-4, `--config.seed=0..4`, 2 shared CPU cores, 62-95 s
each including evaluation; mean +- standard error over the 5 seeds): 17.8 +- 0.9 of 25
modes covered, 91.2 +- 0.9% high quality, reverse KL 0.591 +- 0.023 nats. Per seed
(modes, high quality, reverse KL): 0: 21, 91.4%, 0.534; 1: 18, 89.6%, 0.671; 2: 16,
93.6%, 0.592; 3: 16, 92.6%, 0.602; 4: 18, 88.7%, 0.556. Precise but mode-dropping, like
PacGAN's plain GAN (17.3 modes / 94.8%); hinge + R1 (gan_grid25: 24.8 +- 0.2 modes,
87.0 +- 2.1%, reverse KL 0.042 +- 0.020) recovers the modes at a little precision.
(With the old constant lr 2e-4, seed 0 covered 13 of 25 modes with 8.6% high quality.)
`:smoke` shrinks it to seconds.
"""

from configs import common, gan_grid25


def get_config(arg=None):
  c = gan_grid25.get_config()
  c.objective.gan_loss = "non_saturating"
  c.objective.r1_weight = 0.0
  return common.gan_smoke(c, arg)
