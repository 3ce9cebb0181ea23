"""Objectives against closed forms: likelihoods, KL, and bounds on a linear-Gaussian model."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from latentjax import objectives


def test_bernoulli_log_likelihood_matches_explicit_formula(key):
  logits = jax.random.normal(key, (3, 4, 4, 1)) * 3
  x = jax.random.uniform(jax.random.fold_in(key, 1), (3, 4, 4, 1))
  p = 1 / (1 + np.exp(-np.asarray(logits, np.float64)))
  want = (np.asarray(x) * np.log(p) + (1 - np.asarray(x)) * np.log1p(-p)).reshape(3, -1).sum(1)
  got = objectives.bernoulli_log_likelihood(logits, x)
  np.testing.assert_allclose(got, want, rtol=1e-5)


def test_bernoulli_log_likelihood_is_stable_for_large_logits():
  logits = jnp.array([[1e4, -1e4]])
  x = jnp.array([[1.0, 0.0]])
  np.testing.assert_allclose(objectives.bernoulli_log_likelihood(logits, x), [0.0], atol=1e-6)


def test_gaussian_log_likelihood_matches_scipy(key):
  mean = jax.random.normal(key, (2, 5))
  x = jax.random.normal(jax.random.fold_in(key, 1), (2, 5))
  want = stats.norm.logpdf(np.asarray(x), np.asarray(mean), 0.3).sum(1)
  np.testing.assert_allclose(objectives.gaussian_log_likelihood(mean, x, 0.3), want, rtol=1e-5)


def test_gaussian_kl_matches_monte_carlo(key):
  mean = jnp.array([[0.5, -1.0, 0.0]])
  logvar = jnp.array([[0.2, -0.5, 1.0]])
  z = mean + jnp.exp(0.5 * logvar) * jax.random.normal(key, (200_000, 3))
  mc = jnp.mean(objectives.diag_gaussian_log_density(z, jnp.broadcast_to(mean, z.shape),
                                                     jnp.broadcast_to(logvar, z.shape))
                - objectives.standard_normal_log_density(z))
  np.testing.assert_allclose(objectives.gaussian_kl(mean, logvar)[0], mc, atol=0.01)
  np.testing.assert_allclose(objectives.gaussian_kl(jnp.zeros((1, 3)), jnp.zeros((1, 3))), [0.0])


def test_unknown_likelihood_lists_known():
  with pytest.raises(ValueError, match="Unknown likelihood 'poisson'; registered: bernoulli"):
    objectives.log_likelihood("poisson", jnp.zeros((1, 2)), jnp.zeros((1, 2)))


def _linear_gaussian(d_z=3, d_x=6, sigma=0.5, seed=0):
  """p(z) = N(0, I), p(x | z) = N(Wz + b, sigma^2 I) with orthogonal columns of W.

  Then the exact posterior is diagonal and log p(x) = log N(x; b, W W^T + sigma^2 I).
  """
  rng = np.random.default_rng(seed)
  q, _ = np.linalg.qr(rng.normal(size=(d_x, d_z)))
  scales = np.array([2.0, 1.0, 0.5])[:d_z]
  w = q * scales
  b = rng.normal(size=d_x)
  post_var = 1.0 / (1.0 + scales**2 / sigma**2)

  def decode(z):
    return z @ jnp.asarray(w.T, jnp.float32) + jnp.asarray(b, jnp.float32)[None]

  def exact_encode(x):
    mean = post_var[None] * ((x - b[None]) @ w) / sigma**2
    return mean.astype(jnp.float32), jnp.broadcast_to(jnp.log(post_var)[None], mean.shape).astype(
        jnp.float32)

  def log_px(x):
    cov = w @ w.T + sigma**2 * np.eye(d_x)
    return stats.multivariate_normal(b, cov).logpdf(np.asarray(x, np.float64))

  return decode, exact_encode, log_px, sigma


def test_iwae_with_exact_posterior_equals_log_marginal(key):
  decode, encode, log_px, sigma = _linear_gaussian()
  x = jax.random.normal(key, (4, 6)) * 2
  kw = dict(likelihood="gaussian", gaussian_scale=sigma)
  for k in (1, 7):
    got = objectives.iwae_bound(encode, decode, x, key, num_samples=k, **kw)
    np.testing.assert_allclose(got, log_px(x), rtol=1e-4, atol=1e-4)
  elbo = objectives.elbo_bound(encode, decode, x, key, num_samples=4000, **kw)
  np.testing.assert_allclose(elbo, log_px(x), atol=0.05)


def test_iwae_tightens_with_k_for_a_poor_posterior(key):
  decode, encode, log_px, sigma = _linear_gaussian()

  def poor_encode(x):
    mean, logvar = encode(x)
    return mean + 0.5, logvar + 0.7

  x = jax.random.normal(key, (8, 6)) * 2
  kw = dict(likelihood="gaussian", gaussian_scale=sigma)
  elbo = float(objectives.elbo_bound(poor_encode, decode, x, key, num_samples=2000, **kw).mean())

  def expected_iwae(k, repeats=16):  # average out the estimator's noise
    keys = jax.random.split(jax.random.fold_in(key, k), repeats)
    bound = jax.jit(jax.vmap(
        lambda kk: objectives.iwae_bound(poor_encode, decode, x, kk, num_samples=k, **kw)))
    return float(bound(keys).mean())

  iwae = {k: expected_iwae(k) for k in (1, 10, 100, 1000)}
  truth = float(log_px(x).mean())
  assert iwae[1] == pytest.approx(elbo, abs=0.5)  # k = 1 is the (sampled-KL) ELBO
  assert elbo < iwae[10] < iwae[100] < iwae[1000] <= truth + 0.02
  assert truth - iwae[1000] < 0.05 * (truth - elbo)


def test_vae_loss_weights_kl_by_beta(key):
  from latentjax import models

  model = models.build_model("vae", architecture="mlp", latent_dim=2, hidden_dims=(8,),
                             channels=(), input_shape=(4,))
  x = jax.random.uniform(key, (5, 4))
  variables = model.init(key, x, jnp.zeros((5, 2)))
  keys = jax.random.split(key, 5)
  out = {}
  for beta in (0.0, 1.0, 3.0):
    loss_fn = objectives.make_vae_loss(model, beta=beta, likelihood="bernoulli",
                                       input_key="x")
    loss, (m, _) = loss_fn(variables["params"], {}, {"x": x}, keys)
    out[beta] = (float(loss), m)
  recon, kl = out[1.0][1]["recon_nll"], out[1.0][1]["kl"]
  assert out[0.0][0] == pytest.approx(float(recon), rel=1e-5)
  assert out[3.0][0] == pytest.approx(float(recon + 3 * kl), rel=1e-5)
  assert float(out[1.0][1]["elbo"]) == pytest.approx(-float(recon + kl), rel=1e-5)
  with pytest.raises(ValueError, match="`beta` must be >= 0, got -1"):
    objectives.make_vae_loss(model, beta=-1, likelihood="bernoulli")


def test_bound_rejects_bad_encoder_output(key):
  x = jnp.zeros((3, 4))
  with pytest.raises(ValueError, match="`encode_fn` must return"):
    objectives.iwae_bound(lambda x: (jnp.zeros((3,)), jnp.zeros((3,))), lambda z: z, x, key,
                          num_samples=2)
