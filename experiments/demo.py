"""The main job on built-in data: train a VAE on `digits`, evaluate it, show where to look.

    python -m experiments.demo --workdir=runs/demo        # what `make demo` runs

Trains configs/vae_digits.py (resuming if the workdir already holds a run), computes
the test ELBO and IWAE-100 bound in nats, writes sample and reconstruction grids.
"""

import os
import time

from absl import app, flags

from experiments import _cli

_WORKDIR = flags.DEFINE_string("workdir", "runs/demo", "Run folder for the demo.")
_STEPS = flags.DEFINE_integer("num_steps", None, "Override the number of training steps.")


def main(argv):
  del argv
  from configs import vae_digits
  from latentjax import training

  t0 = time.perf_counter()
  config = vae_digits.get_config()
  if _STEPS.value is not None:
    config.train.num_steps = _STEPS.value
  workdir = _WORKDIR.value
  print(f"Training a VAE on digits ({config.train.num_steps} steps) in {workdir} ...")
  metrics = _cli.run_or_exit(training.train_and_evaluate, config, workdir)
  minutes = (time.perf_counter() - t0) / 60
  print()
  print(f"Test ELBO:     {metrics['elbo_nats']:.2f} nats per image "
        f"({metrics['num_examples']} test digits, Bernoulli likelihood)")
  print(f"Test IWAE-{metrics['iwae_num_samples']}: {metrics['iwae_nats']:.2f} nats per image")
  print(f"Done in {minutes:.1f} min. Your results are in {os.path.abspath(workdir)}:")
  for name in ("samples.png", "reconstructions.png", "metrics.json", "metrics.jsonl"):
    print(f"  {os.path.join(os.path.abspath(workdir), name)}")
  print(f"TensorBoard: tensorboard --logdir {os.path.join(workdir, 'tensorboard')}")


if __name__ == "__main__":
  app.run(main)
