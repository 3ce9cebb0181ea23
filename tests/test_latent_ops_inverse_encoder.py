"""Encoder-based and hybrid generator inversion on a generator with a known inverse."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo

D, P = 3, 12


def _generator(key):
  w = jax.random.normal(key, (D, P)) / np.sqrt(D)
  return jax.tree_util.Partial(lambda w, z: jnp.tanh(z @ w), w)


def _encoder(params, x):
  h = jnp.tanh(x @ params["w1"] + params["b1"][None])
  return h @ params["w2"] + params["b2"][None]


def _init(key, hidden=64):
  k1, k2 = jax.random.split(key)
  return {"w1": jax.random.normal(k1, (P, hidden)) / np.sqrt(P), "b1": jnp.zeros(hidden),
          "w2": jax.random.normal(k2, (hidden, D)) / np.sqrt(hidden), "b2": jnp.zeros(D)}


def test_trained_encoder_inverts_and_the_hybrid_refines_it(key):
  k_g, k_e, k_fit, k_z, k_inv = jax.random.split(key, 5)
  g = _generator(k_g)
  fit = lo.fit_inverse_encoder(k_fit, g, _encoder, _init(k_e), latent_dim=D, num_steps=1500,
                               batch_size=64, learning_rate=3e-3)
  assert fit.losses.shape == (1500,)
  assert float(fit.losses[-100:].mean()) < 0.1 * float(fit.losses[:10].mean())
  z_true = jax.random.normal(k_z, (16, D)) * 0.7
  x = jax.vmap(g)(z_true)
  codes, errors = lo.encode_inverse(g, _encoder, fit.params, x)
  assert codes.shape == (16, D) and errors.shape == (16,)
  assert float(jnp.median(jnp.abs(codes - z_true))) < 0.15
  refined, refined_errors = lo.invert(g, x, k_inv, z_init=codes, num_steps=200)
  assert float(refined_errors.mean()) < 0.5 * float(errors.mean())
  assert float(refined_errors.mean()) < 1e-3


def test_bad_arguments_name_the_argument(key):
  g = _generator(key)
  with pytest.raises(ValueError, match=r"`generator` must map one code \[D\] = \[5\]"):
    lo.fit_inverse_encoder(key, g, _encoder, _init(key), latent_dim=5, batch_size=4)
  wide = lambda p, x: _encoder(p, x)[:, :2]
  with pytest.raises(ValueError, match=r"`encoder` must map images .* \[4, 3\], got \(4, 2\)"):
    lo.fit_inverse_encoder(key, g, wide, _init(key), latent_dim=D, batch_size=4)
  with pytest.raises(ValueError, match="`learning_rate` must be > 0"):
    lo.fit_inverse_encoder(key, g, _encoder, _init(key), latent_dim=D, learning_rate=0.0)
