"""Generator inversion: recovery of known codes, batching, caching and argument errors."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo
from latentjax import models

D, HIDDEN, OUT = 3, 16, 12


def _params(seed=0, scale=1.0):
  rng = np.random.default_rng(seed)
  return {"w1": jnp.asarray(rng.normal(size=(D, HIDDEN)) / np.sqrt(D) * scale, jnp.float32),
          "w2": jnp.asarray(rng.normal(size=(HIDDEN, OUT)) / np.sqrt(HIDDEN), jnp.float32)}


def _mlp(params, z):  # one code [D] -> one "image" [3, 4]; injective for generic weights
  return jnp.tanh(jnp.tanh(z @ params["w1"]) @ params["w2"]).reshape(3, 4)


GEN = functools.partial(_mlp, _params())
Z_TRUE = jnp.asarray(np.random.default_rng(1).normal(size=(4, D)) * 0.8, jnp.float32)


def test_recovers_known_codes(key):
  x = jax.vmap(GEN)(Z_TRUE)
  codes, errors = lo.invert(GEN, x, key, latent_dim=D, num_steps=300, num_restarts=3)
  assert codes.shape == (4, D) and errors.shape == (4,)
  assert float(jnp.max(errors)) < 1e-6
  np.testing.assert_allclose(codes, Z_TRUE, atol=2e-2)
  np.testing.assert_allclose(errors, jnp.mean((jax.vmap(GEN)(codes) - x) ** 2, axis=(1, 2)),
                             rtol=1e-4, atol=1e-9)


def test_batched_equals_one_image_at_a_time(key):
  x = jax.vmap(GEN)(Z_TRUE)
  z_init = jnp.zeros_like(Z_TRUE)
  batched = lo.invert(GEN, x, key, num_steps=50, z_init=z_init)
  for b in range(2):
    single = lo.invert(GEN, x[b:b + 1], key, num_steps=50, z_init=z_init[b:b + 1])
    np.testing.assert_allclose(single.codes[0], batched.codes[b], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(single.errors[0], batched.errors[b], rtol=1e-5, atol=1e-9)


def test_z_init_starts_the_search_and_the_prior_shrinks_codes(key):
  x = jax.vmap(GEN)(Z_TRUE)
  # From the true codes with a zero-length search, nothing moves.
  same = lo.invert(GEN, x, key, num_steps=1, learning_rate=1e-9, z_init=Z_TRUE)
  np.testing.assert_allclose(same.codes, Z_TRUE, atol=1e-6)
  plain = lo.invert(GEN, x, key, num_steps=100, z_init=Z_TRUE)
  shrunk = lo.invert(GEN, x, key, num_steps=100, z_init=Z_TRUE, prior_weight=0.5)
  assert float(jnp.linalg.norm(shrunk.codes)) < float(jnp.linalg.norm(plain.codes)) - 0.1


def test_pytree_generator_compiles_once_for_new_parameters(key):
  x = jax.vmap(GEN)(Z_TRUE)
  compiled = lo._inversion._invert_cached.compiled
  lo.invert(GEN, x, key, latent_dim=D, num_steps=20)
  size = compiled._cache_size()
  for seed in (2, 3):  # a fresh partial with new parameter values, as after training
    lo.invert(functools.partial(_mlp, _params(seed)), x, key, latent_dim=D, num_steps=20)
  assert compiled._cache_size() == size


class _Generator:
  """A callable object (not a pytree) whose captured weights can be swapped."""

  def __init__(self, params):
    self.params = params

  def __call__(self, z):
    return _mlp(self.params, z)


def test_callable_object_is_traced_afresh_not_served_stale(key):
  gen = _Generator(_params(0))
  x = jax.vmap(GEN)(Z_TRUE)
  first = lo.invert(gen, x, key, num_steps=20, z_init=Z_TRUE)
  gen.params = _params(5)  # same shapes, new values: a cache keyed on `gen` would be stale
  second = lo.invert(gen, x, key, num_steps=20, z_init=Z_TRUE)
  expected = lo.invert(functools.partial(_mlp, _params(5)), x, key, num_steps=20, z_init=Z_TRUE)
  assert not np.allclose(first.errors, second.errors)
  np.testing.assert_allclose(second.codes, expected.codes, rtol=1e-5, atol=1e-6)


def test_flax_generator_through_a_single_code_wrapper(key):
  g = models.MLPGenerator(hidden_dims=(8,), output_shape=(2, 3))
  variables = jax.eval_shape(lambda: g.init(key, jnp.zeros((1, 2)), train=False))
  variables = jax.tree_util.tree_map(lambda s: jnp.full(s.shape, 0.3, s.dtype), variables)

  def apply_one(variables, z):
    return g.apply(variables, z[None], train=False)[0]

  gen = functools.partial(apply_one, variables)
  codes, errors = lo.invert(gen, jnp.zeros((2, 2, 3)), key, latent_dim=2, num_steps=5)
  assert codes.shape == (2, 2) and errors.shape == (2,)


def test_argument_errors(key):
  x = jnp.zeros((2, 3, 4))
  with pytest.raises(ValueError, match=r"`x` must be \[B, \*generator output shape\] = "
                                       r"\[B, 3, 4\], got shape \(2, 12\)"):
    lo.invert(GEN, jnp.zeros((2, 12)), key, latent_dim=D)
  with pytest.raises(ValueError, match="`latent_dim` is required when `z_init` is None"):
    lo.invert(GEN, x, key)
  with pytest.raises(ValueError, match=r"`z_init` must be \[B, D\] with B = 2"):
    lo.invert(GEN, x, key, z_init=jnp.zeros((3, D)))
  with pytest.raises(ValueError, match="`latent_dim` 4 does not match `z_init`"):
    lo.invert(GEN, x, key, latent_dim=4, z_init=jnp.zeros((2, D)))
  with pytest.raises(ValueError, match="`num_restarts` must be >= 1"):
    lo.invert(GEN, x, key, latent_dim=D, num_restarts=0)
  with pytest.raises(ValueError, match="`learning_rate` must be > 0"):
    lo.invert(GEN, x, key, latent_dim=D, learning_rate=0.0)
  with pytest.raises(ValueError, match="`generator` must map one code"):
    lo.invert(GEN, x, key, latent_dim=5)
