"""Bad configs fail before anything compiles, with the key and value in the message."""

import pytest

from configs import betavae_sprites, vae_digits
from latentjax import training


def _config(**overrides):
  c = vae_digits.get_config("smoke")
  for dotted, value in overrides.items():
    section, key = dotted.split("__")
    c[section][key] = value
  return c


@pytest.mark.parametrize("overrides, message", [
    ({"objective__beta": -1.0}, r"config.objective.beta must be >= 0, got -1.0"),
    ({"model__latent_dim": 0}, r"config.model.latent_dim must be positive, got 0"),
    ({"model__family": "vea"}, r"config.model.family must be one of 'ae', 'cdiffusion', 'cgan', "
                                r"'classifier', 'cvae', 'diffusion', 'gan', 'noise_encoder', "
                                r"'vae', got 'vea'"),
    ({"train__parallel": "xmap"}, r"config.train.parallel must be one of 'sharded', 'pmap', "
                                  r"got 'xmap'"),
    ({"objective__likelihood": "poisson"}, r"config.objective.likelihood must be one of"),
    ({"train__ema_decay": 1.0}, r"config.train.ema_decay must be in \[0, 1\), got 1.0"),
    ({"data__batch_size": 0}, r"config.data.batch_size must be positive, got 0"),
    ({"optim__name": "adamax"}, r"config.optim.name must be one of 'adam', 'adamw', 'sgd'"),
])
def test_range_errors(overrides, message):
  with pytest.raises(training.ConfigError, match=message):
    training.ExperimentConfig.from_config(_config(**overrides))


def test_type_and_key_errors():
  c = _config()
  with pytest.raises(training.ConfigError, match=r"config.train.num_steps must be an int, got"):
    raw = c.to_dict()
    raw["train"]["num_steps"] = 1.5
    training.ExperimentConfig.from_config(raw)
  raw = c.to_dict()
  raw["train"]["num_stpes"] = 3
  with pytest.raises(training.ConfigError, match=r"config.train has unknown key\(s\): num_stpes"):
    training.ExperimentConfig.from_config(raw)
  raw = c.to_dict()
  del raw["objective"]["beta"]
  with pytest.raises(training.ConfigError, match=r"config.objective is missing key\(s\): beta"):
    training.ExperimentConfig.from_config(raw)


def test_unknown_dataset_lists_known_ones():
  cfg = training.ExperimentConfig.from_config(_config(data__name="mnits"))
  with pytest.raises(training.ConfigError,
                     match=r"config.data.name: Unknown dataset 'mnits'.*digits.*sprites"):
    training.build_experiment(cfg)


def test_cvae_needs_labels_and_conv_needs_divisible_images():
  cfg = training.ExperimentConfig.from_config(
      _config(model__family="cvae", data__name="sprites/16_lite"))
  with pytest.raises(training.ConfigError, match="needs a labelled dataset"):
    training.build_experiment(cfg)
  c = betavae_sprites.get_config("smoke")
  c.model.channels = (8, 8, 8, 8, 8)
  c.data.name = "sprites/16_lite"
  with pytest.raises(training.ConfigError, match=r"config.model.channels=.*divisible by 32"):
    training.build_experiment(training.ExperimentConfig.from_config(c))


def test_batch_must_divide_over_devices():
  cfg = training.ExperimentConfig.from_config(_config(data__batch_size=18))
  with pytest.raises(training.ConfigError,
                     match=r"config.data.batch_size must be divisible by the device count 4, "
                           r"got 18"):
    training.check_devices(cfg, device_count=4, process_count=1)
  cfg = training.ExperimentConfig.from_config(_config(train__num_devices=8))
  with pytest.raises(training.ConfigError, match=r"config.train.num_devices must be at most"):
    training.check_devices(cfg, device_count=4, process_count=1)
  assert training.check_devices(training.ExperimentConfig.from_config(_config()), 4, 1) == 4


def test_bad_config_fails_before_compiling(tmp_path, monkeypatch):
  """train() raises on a bad batch size without ever calling the compiler."""
  import jax

  calls = []
  monkeypatch.setattr(jax, "jit", lambda *a, **k: calls.append(a) or (lambda *x: None))
  with pytest.raises(training.ConfigError, match="divisible by the device count"):
    training.train(_config(data__batch_size=18), str(tmp_path))
  assert not calls
