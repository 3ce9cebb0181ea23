"""Shared test set-up.

Four fake CPU devices are configured before JAX is first imported, so data-parallel
(sharded and pmap) code runs for real inside the test process; single-device runs use
a one-device mesh. Rank promotion raises, so silent broadcasting is a test failure.

One persistent XLA compilation cache serves the whole run: both pytest-xdist workers and
every subprocess a test starts (they inherit the environment). Many tests compile the
same programs (the same smoke configs, a resumed run's step); XLA compiles each once.
Results cannot change: a cached executable is keyed by the program, the compile options
and the JAX / XLA versions. The folder is removed when the run ends.
"""

import os
import shutil
import tempfile

_FLAG = "--xla_force_host_platform_device_count=4"
if _FLAG not in os.environ.get("XLA_FLAGS", ""):
  os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + _FLAG).strip()
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# The first process of the run (pytest's, or xdist's controller) makes the folder; the
# workers and subprocesses it starts inherit the variable.
_OWN_XLA_CACHE = "JAX_COMPILATION_CACHE_DIR" not in os.environ
if _OWN_XLA_CACHE:
  os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="latentjax-tests-xla-")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# XLA without most of its optimisations, here and in every subprocess: the suite's
# programs are tiny and run a few steps, so compiling is most of their time, and about
# half of it goes once the optimisation passes are off (4.7 s against 8.3 s for a
# vae_digits smoke train). Tests check values, which do not depend on it; a cached
# executable is keyed by these options too.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_platforms", "cpu")

NUM_FAKE_DEVICES = 4


def pytest_sessionfinish(session, exitstatus):
  """The process that made the run's compilation cache removes it."""
  del session, exitstatus
  if _OWN_XLA_CACHE:
    shutil.rmtree(os.environ["JAX_COMPILATION_CACHE_DIR"], ignore_errors=True)


@pytest.fixture
def key():
  return jax.random.PRNGKey(0)


@pytest.fixture(scope="session")
def tfds_data_dir(tmp_path_factory):
  """One TFDS data directory per test session, so built-in datasets are built once."""
  return str(tmp_path_factory.mktemp("tensorflow_datasets"))


@pytest.fixture(scope="session")
def digits_feature_net(tfds_data_dir, tmp_path_factory):
  """``(FeatureNetwork, cache_dir)``: a briefly trained digits classifier, cached once."""
  from configs import classifier_digits
  from latentjax import training

  cache = str(tmp_path_factory.mktemp("latentjax_cache"))
  config = classifier_digits.get_config("smoke")
  config.data.data_dir = tfds_data_dir
  config.train.num_steps = 60
  config.train.num_devices = 1
  return training.feature_network("digits", config=config, cache_dir=cache), cache


@pytest.fixture(scope="session")
def vae_smoke_run(tfds_data_dir, tmp_path_factory):
  """The folder of a finished ``vae_digits:smoke`` run (8 steps, one device), trained once.

  The config is ``tests._helpers.smoke_config(vae_digits, tfds_data_dir)``: tests that
  train the same config compare against it. Tests read it (load, evaluate, use it as a
  latent run); none trains it further.
  """
  from configs import vae_digits
  from latentjax import training
  from tests._helpers import smoke_config

  workdir = str(tmp_path_factory.mktemp("vae_smoke_run"))
  training.train(smoke_config(vae_digits, tfds_data_dir), workdir)
  return workdir
