"""End to end: every experiment config trains, checkpoints, resumes and evaluates.

Each config's ``:smoke`` variant runs for a few steps on the built-in data (built once
per session in a temporary TFDS directory); ``vae_digits`` over 2 of conftest's fake
devices, the others on one.
"""

import json
import os

import jax
import numpy as np
import pytest

from configs import ae_digits, betavae_sprites, cvae_digits, vae_digits
from latentjax import training
from tests import _helpers

CONFIGS = {"ae_digits": ae_digits, "vae_digits": vae_digits, "cvae_digits": cvae_digits,
           "betavae_sprites": betavae_sprites}


# The one run of the full stack over several devices (sharded, 2 of conftest's fakes);
# the others on one. Parallel training itself is test_training_parallel's.
MULTI_DEVICE = "vae_digits"


def smoke_config(name, data_dir, **train):
  devices = 2 if name == MULTI_DEVICE else 1
  return _helpers.smoke_config(CONFIGS[name], data_dir, train={"num_devices": devices, **train})


def final_arrays(workdir):
  return jax.device_get(training.load_run(workdir).state.arrays())


def assert_trees_equal(a, b):
  jax.tree.map(lambda x, y: np.testing.assert_array_equal(x, y), a, b)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_smoke_run_resumes_exactly_and_evaluates(name, tfds_data_dir, tmp_path):
  whole, split = str(tmp_path / "whole"), str(tmp_path / "split")
  training.train(smoke_config(name, tfds_data_dir), whole)
  # The interrupted run: the same config stopped after 4 steps, then restarted.
  training.train(smoke_config(name, tfds_data_dir), split, until_step=4)
  assert training.Checkpointer(split, read_only=True).latest_step() == 4
  training.train(smoke_config(name, tfds_data_dir), split)
  a, b = final_arrays(whole), final_arrays(split)
  assert int(a["step"]) == int(b["step"]) == 8
  assert_trees_equal(a, b)  # params, EMA, optimizer state, step

  metrics = training.evaluate(whole)
  with open(os.path.join(whole, "metrics.json")) as f:
    assert json.load(f) == metrics
  for image in ("samples.png", "reconstructions.png"):
    assert os.path.getsize(os.path.join(whole, image)) > 0
  assert metrics["step"] == 8 and metrics["num_examples"] == 64
  assert metrics["binarized"] is True and metrics["likelihood"] == "bernoulli"
  if name == "ae_digits":
    assert metrics["recon_nll_nats"] > 0 and 0 < metrics["mse"] < 1
  else:
    assert metrics["measures"].startswith("lower bound on log p(x)")
    assert metrics["kl_nats"] >= 0
    # A bound on log p(x) of binary images is negative; a few steps in, the KL is small.
    assert metrics["elbo_nats"] < 0 and metrics["iwae_nats"] < 0
    assert metrics["iwae_nats"] >= metrics["elbo_nats"] - 5.0
  records = training.read_metrics(whole, split="train")
  assert [r["step"] for r in records] == [4, 8]
  assert os.listdir(os.path.join(whole, "tensorboard", "train"))


def test_training_reduces_the_loss(tfds_data_dir, tmp_path):
  config = smoke_config("vae_digits", tfds_data_dir, num_devices=1, num_steps=300,
                        log_every_steps=10, checkpoint_every_steps=300)
  config.data.batch_size = 64
  training.train(config, str(tmp_path))
  losses = [r["loss"] for r in training.read_metrics(str(tmp_path), split="train")]
  assert losses[-1] < losses[0] - 5.0  # nats per image


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tfds_data_dir, tmp_path):
  workdir = str(tmp_path)
  config = smoke_config("vae_digits", tfds_data_dir, num_devices=1, num_steps=60,
                        checkpoint_every_steps=10, log_every_steps=5)
  config.optim.name = "sgd"
  config.optim.b1 = 0.0
  config.optim.learning_rate = 0.05
  first = config.copy_and_resolve_references()
  first.train.num_steps = 10
  training.train(first, workdir)
  # Continue the same run with a learning rate that makes it diverge.
  config.optim.learning_rate = 1e12
  with pytest.raises(training.NonFiniteLossError,
                     match=r"metric '\w+' became non-finite .* at step \d+ \(steps 11-\d+ .*"
                           r"last good checkpoint: step 10"):
    training.train(config, workdir, allow_config_change=True)
  ckpt = training.Checkpointer(workdir)
  assert ckpt.all_steps() == [10]
  arrays = jax.device_get(training.load_run(workdir).state.arrays())
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(arrays))
