"""GAN learning-rate schedules: both networks' follow the training step, whatever n_critic.

The discriminator's optimizer is applied ``n_critic`` times per training step; its
schedule must still be at the position of the generator's (the training step), not at
its own update count. The expected rates are the closed form of a linear warm-up then a
cosine decay, read off the optimizer itself: with plain SGD (no momentum) the update of a
gradient of ones is exactly minus the learning rate.
"""

import importlib
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import training
from tests._helpers import FakeSpec

PEAK_G, PEAK_D, WARMUP, NUM_STEPS, N_CRITIC = 0.1, 0.04, 2, 6, 3


def _closed_form(peak: float, k: int) -> float:
  """Linear warm-up over WARMUP steps, then cosine decay to 0 at NUM_STEPS, at step k."""
  if k < WARMUP:
    return peak * k / WARMUP
  return peak * 0.5 * (1.0 + math.cos(math.pi * (k - WARMUP) / (NUM_STEPS - WARMUP)))


def _config(name):
  c = importlib.import_module(f"configs.{name}").get_config("smoke")
  c.objective.n_critic = N_CRITIC
  c.train.num_devices = 1
  c.data.batch_size = 8 * N_CRITIC
  c.optim.name = "sgd"
  c.optim.b1 = 0.0  # no momentum: an update is -lr * gradient
  c.optim.learning_rate = PEAK_G
  c.optim.d_learning_rate = PEAK_D
  c.optim.schedule = "cosine"
  c.optim.warmup_steps = WARMUP
  c.train.num_steps = NUM_STEPS
  return c


def _next_learning_rate(tx, opt_state, params) -> float:
  """The learning rate the optimizer's next update applies (SGD on a gradient of ones)."""
  updates, _ = tx.update(jax.tree.map(jnp.ones_like, params), opt_state, params)
  rates = np.concatenate([-np.ravel(u) for u in jax.tree.leaves(updates)])
  np.testing.assert_allclose(rates, rates[0], rtol=1e-6)
  return float(rates[0])


def test_discriminator_schedule_follows_the_training_step_with_n_critic():
  c = _config("dcgan_digits")
  c.model.architecture = "mlp"
  exp = training.build_experiment(training.ExperimentConfig.from_config(c), spec=FakeSpec())
  state = training.init_state(exp, jax.random.PRNGKey(0))
  step = jax.jit(training.make_step(exp))
  rng = np.random.default_rng(0)
  logged = []
  for k in range(NUM_STEPS + 1):
    # After k training steps (k * n_critic discriminator updates) both optimizers are at
    # schedule position k.
    for net, peak in (("generator", PEAK_G), ("discriminator", PEAK_D)):
      got = _next_learning_rate(state.tx[net], state.opt_state[net], state.params[net])
      assert got == pytest.approx(_closed_form(peak, k), rel=1e-5, abs=1e-9), (net, k)
    if k == NUM_STEPS:
      break
    batch = {"image": rng.uniform(size=(c.data.batch_size, 8, 8, 1)).astype(np.float32)}
    state, metrics = step(state, batch, jax.random.PRNGKey(1))
    logged.append(metrics)
  assert int(state.step) == NUM_STEPS
  for k, metrics in enumerate(logged):  # the rates step k + 1's updates used: position k
    assert float(metrics["g_lr"]) == pytest.approx(_closed_form(PEAK_G, k), rel=1e-5, abs=1e-9)
    assert float(metrics["d_lr"]) == pytest.approx(_closed_form(PEAK_D, k), rel=1e-5, abs=1e-9)


def test_metrics_log_holds_both_learning_rates_of_each_step(tfds_data_dir, tmp_path):
  c = _config("gan_ring8")
  c.data.data_dir = tfds_data_dir
  c.train.log_every_steps = 1
  c.train.checkpoint_every_steps = NUM_STEPS
  training.train(c, str(tmp_path))
  records = training.read_metrics(str(tmp_path), split="train")
  assert [r["step"] for r in records] == list(range(1, NUM_STEPS + 1))
  for r in records:  # the log's step s is the s-th update, at schedule position s - 1
    assert r["g_lr"] == pytest.approx(_closed_form(PEAK_G, r["step"] - 1), rel=1e-5, abs=1e-9)
    assert r["d_lr"] == pytest.approx(_closed_form(PEAK_D, r["step"] - 1), rel=1e-5, abs=1e-9)


def test_optimizer_schedule_advances_once_per_training_step():
  cfg = training.ExperimentConfig.from_config(_config("gan_ring8")).optim
  params = {"w": jnp.zeros((3,))}
  tx = training.make_optimizer(cfg, NUM_STEPS, updates_per_step=N_CRITIC)
  opt_state = tx.init(params)
  for k in range(NUM_STEPS):
    for _ in range(N_CRITIC):
      assert _next_learning_rate(tx, opt_state, params) == pytest.approx(
          _closed_form(PEAK_G, k), rel=1e-5, abs=1e-9)
      _, opt_state = tx.update({"w": jnp.ones((3,))}, opt_state, params)
  with pytest.raises(ValueError, match=r"`updates_per_step` must be >= 1, got 0"):
    training.make_optimizer(cfg, NUM_STEPS, updates_per_step=0)
