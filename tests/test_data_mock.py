"""TFDS's own testing mechanism works with the project: every real dataset name trains and
evaluates end to end under ``tfds.testing.mock_data``, through the library function that
``experiments/train.py`` calls.

Before TFDS was asked first, each of these stopped with "not available ... no network
access", because availability was probed before TFDS could serve the mocked data.
"""

import json
import os

import jax
import pytest
import tensorflow_datasets as tfds

from configs import vae_digits
from latentjax import data, training

REAL_NAMES = ("mnist", "fashion_mnist", "cifar10", "celeb_a", "dsprites", "shapes3d")


@pytest.mark.parametrize("name", REAL_NAMES)
def test_real_dataset_trains_and_evaluates_under_mock_data(name, tmp_path):
  config = vae_digits.get_config("smoke")
  config.data.name = name
  config.data.batch_size = 4
  config.data.eval_batch_size = 8
  config.model.hidden_dims = (16,)
  config.model.latent_dim = 2
  config.train.num_steps = 2
  config.train.num_devices = 1
  config.train.log_every_steps = 1
  config.train.checkpoint_every_steps = 2
  config.eval.num_examples = 8
  config.eval.num_iwae_samples = 2
  config.eval.num_sample_images = 4
  with tfds.testing.mock_data(num_examples=12):
    assert data.split_size(name, data.get_spec(name).train_split) == 12
    metrics = training.train_and_evaluate(config, str(tmp_path))
  spec = data.get_spec(name)
  assert metrics["dataset"] == name and metrics["num_examples"] == 8 and metrics["step"] == 2
  with open(os.path.join(tmp_path, "metrics.json")) as f:
    assert json.load(f)["split"] == spec.test_split
  assert [r["step"] for r in training.read_metrics(str(tmp_path), split="train")] == [1, 2]
  run = training.load_run(str(tmp_path))
  assert run.decode(run.sample_codes(jax.random.PRNGKey(0), 3)).shape == (
      3, *spec.input_shape)
