"""Likelihoods that are what they say: normalised densities, binarisation, and labels."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import vae_digits
from latentjax import objectives, training

_GRID = np.linspace(0.0, 1.0, 200_001)


@pytest.mark.parametrize("logit", [0.0, 1e-4, -3e-3, 0.5, -2.0, 7.0, -30.0])
def test_continuous_bernoulli_is_a_normalised_density_with_the_right_mean(logit):
  x = jnp.asarray(_GRID, jnp.float32)[:, None]
  logits = jnp.full_like(x, logit)
  density = np.exp(np.asarray(objectives.continuous_bernoulli_log_likelihood(logits, x),
                              np.float64))
  assert np.trapezoid(density, _GRID) == pytest.approx(1.0, abs=2e-4)
  mean = np.trapezoid(density * _GRID, _GRID)
  got = float(objectives.continuous_bernoulli_mean(jnp.asarray([logit], jnp.float32))[0])
  assert got == pytest.approx(mean, abs=2e-4)


def test_grey_level_bernoulli_is_not_a_density():
  """Why binarisation is needed: the plain Bernoulli over [0, 1] does not integrate to 1."""
  x = jnp.asarray(_GRID, jnp.float32)[:, None]
  density = np.exp(np.asarray(objectives.bernoulli_log_likelihood(jnp.zeros_like(x), x)))
  assert np.trapezoid(density, _GRID) == pytest.approx(0.5, abs=1e-3)


def test_binarisation_draws_bernoulli_of_the_intensities(key):
  x = jnp.asarray([0.0, 0.25, 0.5, 1.0], jnp.float32)
  draws = jax.vmap(lambda k: objectives.binarize(k, x))(jax.random.split(key, 20_000))
  assert set(np.unique(np.asarray(draws))) <= {0.0, 1.0}
  np.testing.assert_allclose(np.asarray(draws.mean(axis=0)), [0.0, 0.25, 0.5, 1.0], atol=0.015)
  keys = jax.random.split(key, 3)
  batch = jnp.full((3, 4, 4, 1), 0.5)
  a = objectives.binarize_batch(batch, keys)
  np.testing.assert_array_equal(a, objectives.binarize_batch(batch, keys))  # per-example keys
  assert not np.array_equal(a[0], a[1])


def test_bounds_are_labelled_with_what_they_measure():
  assert objectives.describe_bound("bernoulli", True).startswith("lower bound on log p(x)")
  assert objectives.describe_bound("bernoulli", False).startswith("not a bound on log p(x)")
  assert "[0, 1]" in objectives.describe_bound("continuous_bernoulli", False)
  with pytest.raises(ValueError, match="Unknown likelihood 'poisson'"):
    objectives.describe_bound("poisson", False)


def test_binarize_needs_a_bernoulli_likelihood():
  c = vae_digits.get_config("smoke")
  c.objective.likelihood = "continuous_bernoulli"
  with pytest.raises(training.ConfigError,
                     match=r"config.objective.binarize=True needs config.objective.likelihood="
                           r"'bernoulli'.*got 'continuous_bernoulli'"):
    training.ExperimentConfig.from_config(c)
  c.objective.binarize = False
  training.ExperimentConfig.from_config(c)


@pytest.mark.parametrize("key_name, value", [
    ("optim.learning_rate", float("nan")), ("objective.beta", float("inf")),
    ("train.ema_decay", float("nan")), ("objective.gaussian_scale", float("-inf"))])
def test_non_finite_config_values_are_rejected(key_name, value):
  c = vae_digits.get_config("smoke")
  section, name = key_name.split(".")
  c[section][name] = value
  with pytest.raises(training.ConfigError,
                     match=rf"config.{key_name} must be a finite number, got {value!r}"):
    training.ExperimentConfig.from_config(c)


def test_short_run_ema_is_not_mostly_the_initialisation():
  """600 steps of a run whose parameters jump to 1 at once: the EMA must follow them.

  Without the warm-up the EMA after 600 steps is 1 - 0.999^600 = 0.45 of the way there.
  """
  import optax

  def loss_fn(params, model_state, batch, keys):
    del batch, keys
    loss = jnp.sum((params["w"] - 1.0) ** 2)
    return loss, ({"loss": loss}, model_state)

  tx = optax.sgd(0.5)
  state = training.TrainState.create(params={"w": jnp.zeros(())}, tx=tx)
  step = jax.jit(training.make_train_step(loss_fn, ema_decay=0.999))
  batch = {"x": jnp.zeros((2, 1))}
  for _ in range(600):
    state, _ = step(state, batch, jax.random.PRNGKey(0))
  assert float(state.params["w"]) == pytest.approx(1.0)
  assert float(state.ema_params["w"]) > 0.99
  assert float(training.ema_decay_at(jnp.asarray(0), 0.999)) == pytest.approx(0.1)
  assert float(training.ema_decay_at(jnp.asarray(10**6), 0.999)) == pytest.approx(0.999)
