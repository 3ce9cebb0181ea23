"""The ``classifier`` family: the feature networks of the sample-quality metrics.

It trains through the shared loop, resumes exactly like every family, and loads as a
``metrics.FeatureNetwork`` (features, class probabilities) from a cache that trains once.
"""

import dataclasses
import os

import jax
import numpy as np
import pytest

from configs import classifier_digits, classifier_sprites
from latentjax import data, metrics, training
from latentjax.training._config import ConfigError, ExperimentConfig
from latentjax.training._experiment import build_experiment
from tests._helpers import smoke_config


def _config(data_dir, **train):
  return smoke_config(classifier_digits, data_dir, train=train)


def test_feature_network_trains_once_then_loads_from_the_cache(digits_feature_net, tfds_data_dir):
  net, cache = digits_feature_net
  workdir = metrics.feature_network_dir("digits", cache)
  assert net.workdir == workdir and net.heads == {"label": 10} and net.feature_dim == 128
  assert 0.0 <= net.test_accuracy["label"] <= 1.0
  stamp = os.path.getmtime(os.path.join(workdir, "metrics.json"))
  again = training.feature_network("digits", config=_config(tfds_data_dir), cache_dir=cache)
  assert os.path.getmtime(os.path.join(workdir, "metrics.json")) == stamp  # not retrained
  x = np.random.default_rng(0).uniform(size=(300, 8, 8, 1)).astype(np.float32)
  np.testing.assert_array_equal(net.features(x), again.features(x))


def test_features_and_probabilities_have_their_shapes_in_any_batch_size(digits_feature_net):
  net, _ = digits_feature_net
  x = np.random.default_rng(1).uniform(size=(5, 8, 8, 1)).astype(np.float32)
  feats, probs = net.features_and_probabilities(x)
  assert feats.shape == (5, 128) and np.all(feats >= 0)  # after the ReLU
  np.testing.assert_allclose(probs["label"].sum(-1), 1.0, rtol=1e-5)
  # Batching does not change the answer (the last batch is padded).
  np.testing.assert_allclose(np.concatenate([net.features(x[:2]), net.features(x[2:])]),
                             feats, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(jax.jit(net.feature_fn)(x), feats, rtol=1e-5, atol=1e-6)
  assert net.predict(x)["label"].shape == (5,)


def test_feature_network_checks_its_input(digits_feature_net):
  net, _ = digits_feature_net
  with pytest.raises(ValueError, match="images"):
    net.features(np.zeros((2, 4, 4, 1), np.float32))
  bad = np.zeros((2, 8, 8, 1), np.float32)
  bad[0, 0, 0, 0] = np.nan
  with pytest.raises(ValueError, match="NaN"):
    net.features(bad)


def test_a_classifier_is_a_run_of_the_shared_loop(digits_feature_net, tfds_data_dir, tmp_path):
  net, _ = digits_feature_net
  run = training.load_run(net.workdir)
  assert run.exp.family == "classifier" and run.encode(np.zeros((3, 8, 8, 1))).shape == (3, 128)
  with pytest.raises(ValueError, match="no decoder"):
    run.decode(np.zeros((1, 128), np.float32))
  whole, split = str(tmp_path / "whole"), str(tmp_path / "split")
  training.train(_config(tfds_data_dir), whole)
  training.train(_config(tfds_data_dir), split, until_step=4)
  training.train(_config(tfds_data_dir), split)
  a = jax.device_get(training.load_run(whole).state.arrays())
  b = jax.device_get(training.load_run(split).state.arrays())
  jax.tree.map(np.testing.assert_array_equal, a, b)


def test_sprites_classifier_has_one_head_per_factor():
  exp = build_experiment(ExperimentConfig.from_config(classifier_sprites.get_config()))
  assert dict(exp.model.heads) == {"shape": 3, "scale": 6, "orientation": 40,
                                   "x_position": 32, "y_position": 32}


def test_classifier_of_data_without_labels_or_factors_is_a_config_error():
  from latentjax.training._family_classifier import classifier_heads

  spec = dataclasses.replace(data.get_spec("digits"), num_classes=0, label_key=None)
  with pytest.raises(ConfigError, match="class labels or factors"):
    classifier_heads(spec)
  assert classifier_heads(data.get_spec("toy2d/ring8")) == (("label", "label", 8),)


def test_missing_feature_network_without_a_config_says_how_to_train_one(tmp_path):
  with pytest.raises(FileNotFoundError, match="classifier_"):
    training.feature_network("digits", cache_dir=str(tmp_path))
  with pytest.raises(ValueError, match="`config`"):
    c = classifier_digits.get_config()
    c.data.name = "sprites"
    training.feature_network("digits", config=c, cache_dir=str(tmp_path))
