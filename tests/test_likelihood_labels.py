"""Likelihoods that are what they say: normalised densities, binarisation, and labels."""

import math

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


def _cb_reference(eta):
  """float64 (log C, d log C, mean, d mean) of the continuous Bernoulli at logits eta.

  log C = softplus(eta) - log((e^eta - 1) / eta), with scipy's exprel for the last term
  (accurate at any eta); for |eta| >= 1 the gradient and the mean from their float64
  closed forms (d log C = 1/eta - 1/sinh(eta), mean = 1/(1 - e^-eta) - 1/eta), for
  |eta| < 1 from the series in the Bernoulli numbers, 30 terms (checked against the
  closed forms where both are accurate, below).
  """
  from scipy.special import bernoulli, exprel

  eta = np.asarray(eta, np.float64)
  log_c = np.logaddexp(0.0, eta) - np.log(exprel(eta))
  b = bernoulli(60)
  d_log_c, mean, d_mean = np.zeros_like(eta), np.full_like(eta, 0.5), np.zeros_like(eta)
  for n in range(1, 31):
    f = float(math.factorial(2 * n))
    d_log_c += (4.0**n - 2.0) * b[2 * n] / f * eta ** (2 * n - 1)
    mean += b[2 * n] / f * eta ** (2 * n - 1)
    d_mean += (2 * n - 1) * b[2 * n] / f * eta ** (2 * n - 2)
  with np.errstate(all="ignore"):
    closed = (1.0 / eta - 1.0 / np.sinh(eta), 1.0 / -np.expm1(-eta) - 1.0 / eta,
              1.0 / eta**2 - 0.25 / np.sinh(eta / 2.0) ** 2)
  far = np.abs(eta) >= 1.0
  series = (d_log_c, mean, d_mean)
  overlap = (np.abs(eta) > 0.3) & (np.abs(eta) < 1.5)
  for s_, c_ in zip(series, closed, strict=True):  # the series is what it says
    np.testing.assert_allclose(s_[overlap], c_[overlap], rtol=1e-12)
  return (log_c, *(np.where(far, c_, s_) for s_, c_ in zip(series, closed, strict=True)))


def test_continuous_bernoulli_log_norm_and_mean_keep_float32_precision_near_one_half():
  # The closed forms cancel for small logits; a series used only below |logit| = 0.01
  # left errors of order 1e-3 in the mean's gradient for 0.01 <= |logit| <= 0.05.
  mags = np.geomspace(1e-6, 20.0, 801)
  eta = np.concatenate([-mags[::-1], mags])
  log_c, d_log_c, mean, d_mean = _cb_reference(eta)
  x = jnp.asarray(eta, jnp.float32)
  assert x.dtype == jnp.float32
  log_norm = objectives._likelihoods._continuous_bernoulli_log_norm
  mean_fn = objectives.continuous_bernoulli_mean
  for fn, value, grad in ((log_norm, log_c, d_log_c), (mean_fn, mean, d_mean)):
    got = np.asarray(jax.jit(fn)(x), np.float64)
    got_grad = np.asarray(jax.jit(jax.vmap(jax.grad(fn)))(x), np.float64)
    np.testing.assert_allclose(got, value, rtol=1e-5)
    np.testing.assert_allclose(got_grad, grad, rtol=1e-5)
  # Through the log-likelihood: d/d eta of log p(x) = x - E[x] (an exponential family).
  xs = jnp.full_like(x, 0.3)
  score = jax.vmap(jax.grad(lambda e, v: objectives.continuous_bernoulli_log_likelihood(
      e[None, None], v[None, None])[0]))(x, xs)
  np.testing.assert_allclose(np.asarray(score, np.float64), 0.3 - mean, rtol=1e-5,
                             atol=1e-6)


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
