"""GAN losses against hand-computed values; gradient penalties against closed forms and
central finite differences."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import objectives as obj


def _softplus(v):
  return math.log1p(math.exp(v))


def test_losses_at_zero_logits():
  zeros = jnp.zeros(4)
  np.testing.assert_allclose(obj.non_saturating_d_loss(zeros, zeros), 2 * math.log(2), rtol=1e-6)
  np.testing.assert_allclose(obj.non_saturating_g_loss(zeros), math.log(2), rtol=1e-6)
  assert float(obj.hinge_d_loss(zeros, zeros)) == 2.0
  assert float(obj.hinge_g_loss(zeros)) == 0.0
  assert float(obj.wasserstein_d_loss(zeros, zeros)) == 0.0
  assert float(obj.wasserstein_g_loss(zeros)) == 0.0


def test_losses_on_hand_computed_logits():
  real = jnp.array([1.0, -2.0])
  fake = jnp.array([[0.5], [-3.0], [2.0]])  # [B', 1] and a different batch size
  ns_d = (_softplus(-1.0) + _softplus(2.0)) / 2 + (
      _softplus(0.5) + _softplus(-3.0) + _softplus(2.0)) / 3
  np.testing.assert_allclose(obj.non_saturating_d_loss(real, fake), ns_d, rtol=1e-6)
  ns_g = (_softplus(-0.5) + _softplus(3.0) + _softplus(-2.0)) / 3
  np.testing.assert_allclose(obj.non_saturating_g_loss(fake), ns_g, rtol=1e-6)
  # relu(1 - 1) = 0, relu(1 + 2) = 3; relu(1.5) = 1.5, relu(-2) = 0, relu(3) = 3.
  np.testing.assert_allclose(obj.hinge_d_loss(real, fake), 1.5 + 1.5, rtol=1e-6)
  np.testing.assert_allclose(obj.hinge_g_loss(fake), -(0.5 - 3.0 + 2.0) / 3, rtol=1e-6)
  np.testing.assert_allclose(obj.wasserstein_d_loss(real, fake), -0.5 / 3 - (-0.5), rtol=1e-6)
  np.testing.assert_allclose(obj.wasserstein_g_loss(fake), 0.5 / 3, rtol=1e-6)


def test_non_saturating_loss_is_sigmoid_cross_entropy_and_stable():
  real, fake = jnp.array([0.3, 80.0]), jnp.array([-0.7, -90.0])
  sig = jax.nn.sigmoid
  expected = -jnp.mean(jnp.log(sig(real[:1]))) / 2 - jnp.mean(jnp.log(1 - sig(fake[:1]))) / 2
  np.testing.assert_allclose(obj.non_saturating_d_loss(real, fake), expected, rtol=1e-5)
  grads = jax.grad(obj.non_saturating_d_loss, argnums=(0, 1))(real, fake)
  assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)


def test_registry():
  assert sorted(obj.GAN_LOSSES) == ["hinge", "non_saturating", "wasserstein"]
  loss = obj.get_gan_loss("hinge")
  assert loss.d_loss is obj.hinge_d_loss and loss.g_loss is obj.hinge_g_loss
  with pytest.raises(ValueError, match=(
      "Unknown GAN loss 'hinj'; registered: hinge, non_saturating, wasserstein")):
    obj.get_gan_loss("hinj")
  with pytest.raises(ValueError, match="already registered"):
    obj.register_gan_loss("hinge", obj.hinge_d_loss, obj.hinge_g_loss)


def test_logit_errors():
  with pytest.raises(ValueError, match=r"`real_logits` must be \[B, ...\] logits"):
    obj.hinge_d_loss(jnp.float32(1.0), jnp.zeros(2))
  with pytest.raises(TypeError, match="`fake_logits` must be floating-point"):
    obj.non_saturating_g_loss(jnp.zeros(2, jnp.int32))


# Jitted once per critic: fewer small compilations than running op by op.
gradient_norms = jax.jit(obj.gradient_norms, static_argnums=0)
gradient_penalty = jax.jit(obj.gradient_penalty, static_argnums=0)
r1_penalty = jax.jit(obj.r1_penalty, static_argnums=0)


def _normal(seed, shape):
  return jnp.asarray(np.random.default_rng(seed).normal(size=shape), jnp.float32)


# A linear critic D(x) = <w, x>: grad_x D = w everywhere.
W = jnp.array([[0.3, -1.2, 0.5], [2.0, 0.1, -0.4]])


def _linear(x, w=W):
  return jnp.sum(x * w[None], axis=(1, 2))


def _quadratic(x):  # D(x) = ||x||^2 / 2: grad_x D = x
  return 0.5 * jnp.sum(x * x, axis=(1, 2))


def test_penalties_of_a_linear_critic_in_closed_form(key):
  real, fake = _normal(0, (5, 2, 3)), _normal(1, (5, 2, 3))
  norm = float(jnp.linalg.norm(W))
  np.testing.assert_allclose(gradient_norms(_linear, real), np.full(5, norm), rtol=1e-6)
  np.testing.assert_allclose(gradient_penalty(_linear, real, fake, key), (norm - 1) ** 2,
                             rtol=1e-5)
  np.testing.assert_allclose(r1_penalty(_linear, real), norm**2, rtol=1e-6)
  # Differentiable in the critic's parameters: d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||.
  grad = jax.grad(lambda w: obj.gradient_penalty(lambda x: _linear(x, w), real, fake, key))(W)
  np.testing.assert_allclose(grad, 2 * (norm - 1) * W / norm, rtol=1e-5)


def test_penalties_of_a_quadratic_critic_in_closed_form(key):
  real, fake = _normal(0, (4, 2, 3)), _normal(1, (4, 2, 3))
  per_example = np.linalg.norm(np.asarray(real).reshape(4, -1), axis=1)
  np.testing.assert_allclose(r1_penalty(_quadratic, real), np.mean(per_example**2),
                             rtol=1e-5)
  # The documented interpolation: one uniform weight per example.
  eps = np.asarray(jax.random.uniform(key, (4, 1, 1)))
  x_hat = eps * np.asarray(real) + (1 - eps) * np.asarray(fake)
  expected = np.mean((np.linalg.norm(x_hat.reshape(4, -1), axis=1) - 1) ** 2)
  np.testing.assert_allclose(gradient_penalty(_quadratic, real, fake, key), expected,
                             rtol=1e-5)


def test_penalties_match_central_finite_differences(key):
  rng = np.random.default_rng(0)
  w1, w2 = rng.normal(size=(4, 6)), rng.normal(size=(6,))

  def d_np(x):  # [B, 2, 2] -> [B], float64
    return np.tanh(x.reshape(len(x), -1) @ w1) @ w2

  def d_jax(x):
    return jnp.tanh(x.reshape(x.shape[0], -1) @ jnp.asarray(w1, jnp.float32)) @ jnp.asarray(
        w2, jnp.float32)

  x = rng.normal(size=(3, 2, 2))
  h = 1e-5
  fd = np.zeros_like(x)
  for idx in np.ndindex(*x.shape[1:]):
    bump = np.zeros_like(x)
    bump[(slice(None), *idx)] = h
    fd[(slice(None), *idx)] = (d_np(x + bump) - d_np(x - bump)) / (2 * h)
  fd_norms = np.linalg.norm(fd.reshape(3, -1), axis=1)
  xj = jnp.asarray(x, jnp.float32)
  np.testing.assert_allclose(gradient_norms(d_jax, xj), fd_norms, rtol=1e-4)
  np.testing.assert_allclose(r1_penalty(d_jax, xj), np.mean(fd_norms**2), rtol=1e-4)
  # The same check at the interpolates gradient_penalty draws.
  fake = rng.normal(size=x.shape)
  eps = np.asarray(jax.random.uniform(key, (3, 1, 1)), np.float64)
  x_hat = eps * x + (1 - eps) * fake
  fd = np.zeros_like(x_hat)
  for idx in np.ndindex(*x.shape[1:]):
    bump = np.zeros_like(x)
    bump[(slice(None), *idx)] = h
    fd[(slice(None), *idx)] = (d_np(x_hat + bump) - d_np(x_hat - bump)) / (2 * h)
  expected = np.mean((np.linalg.norm(fd.reshape(3, -1), axis=1) - 1) ** 2)
  got = gradient_penalty(d_jax, xj, jnp.asarray(fake, jnp.float32), key)
  np.testing.assert_allclose(got, expected, rtol=1e-3)


def test_penalties_are_finite_for_a_flat_critic_and_work_under_jit(key):
  x = _normal(0, (3, 2, 3))
  flat = lambda x, c: c * jnp.zeros(x.shape[0])
  grad = jax.grad(lambda c: obj.gradient_penalty(lambda x: flat(x, c), x, x, key))(1.0)
  assert np.isfinite(float(grad))
  jitted = jax.jit(lambda r, f, k: obj.gradient_penalty(_linear, r, f, k))(x, x, key)
  np.testing.assert_allclose(jitted, (float(jnp.linalg.norm(W)) - 1) ** 2, rtol=1e-5)


def test_penalty_errors(key):
  with pytest.raises(ValueError, match=r"`fake` must have the same shape as `real` \(3, 2, 3\)"):
    obj.gradient_penalty(_linear, jnp.zeros((3, 2, 3)), jnp.zeros((2, 2, 3)), key)
  with pytest.raises(ValueError, match=r"`d_fn` must return \[B, ...\] logits with B = 3"):
    obj.r1_penalty(lambda x: jnp.sum(x), jnp.zeros((3, 2, 3)))
