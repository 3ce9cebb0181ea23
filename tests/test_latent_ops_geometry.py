"""Pull-back metric, magnification factor, curve length/energy and curve resampling."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo


def _mlp(params, z):
  (w1, b1), (w2, b2) = params
  return jnp.tanh(z @ w1 + b1) @ w2 + b2


@pytest.fixture
def mlp(key):
  k1, k2 = jax.random.split(key)
  params = ((jax.random.normal(k1, (3, 16)), jnp.zeros(16)),
            (jax.random.normal(k2, (16, 5)) / 4, jnp.zeros(5)))
  return functools.partial(_mlp, params)


def _stereo(z):
  r2 = jnp.sum(z * z)
  return jnp.concatenate([2 * z, (r2 - 1)[None]]) / (1 + r2)


def _polar(z):
  return jnp.stack([z[0] * jnp.cos(z[1]), z[0] * jnp.sin(z[1])])


def test_pullback_metric_of_linear_decoder_is_gram_matrix(key):
  a = jax.random.normal(key, (7, 3))
  z = jax.random.normal(jax.random.fold_in(key, 1), (4, 3))
  g = lo.pullback_metric(lambda x: a @ x, z)
  assert g.shape == (4, 3, 3)
  np.testing.assert_allclose(g, np.broadcast_to(a.T @ a, (4, 3, 3)), rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(lo.pullback_metric(lambda x: a @ x, z[0]), a.T @ a, rtol=1e-5)


def test_pullback_metric_sums_all_pytree_leaves(key):
  a = jax.random.normal(key, (6, 2))
  b = jax.random.normal(jax.random.fold_in(key, 1), (2, 2, 2))
  decoder = lambda z: {"mean": a @ z, "std": jnp.einsum("ijk,k->ij", b, z)}
  bm = b.reshape(4, 2)
  np.testing.assert_allclose(lo.pullback_metric(decoder, jnp.ones(2)), a.T @ a + bm.T @ bm,
                             rtol=1e-5, atol=1e-5)


def test_pullback_metric_matches_reverse_mode_jacobian(mlp, key):
  z = jax.random.normal(key, (3,))
  jac = jax.jacrev(mlp)(z)
  np.testing.assert_allclose(lo.pullback_metric(mlp, z), jac.T @ jac, rtol=1e-4, atol=1e-5)


def test_magnification_factor_known_values(key):
  a = jax.random.normal(key, (3, 3))
  z = jax.random.normal(key, (2, 5, 3))
  mf = lo.magnification_factor(lambda x: a @ x, z)
  assert mf.shape == (2, 5)
  np.testing.assert_allclose(mf, np.full((2, 5), abs(np.linalg.det(a))), rtol=1e-4)
  # Inverse stereographic projection: conformal factor 2 / (1 + r^2), area factor squared.
  xs = jnp.linspace(-2.0, 2.0, 6)
  grid = jnp.stack(jnp.meshgrid(xs, xs), axis=-1)  # [6, 6, 2]
  r2 = np.sum(np.asarray(grid) ** 2, axis=-1)
  np.testing.assert_allclose(lo.magnification_factor(_stereo, grid), 4 / (1 + r2) ** 2,
                             rtol=1e-4)
  # Fewer output than latent dimensions: the metric is singular.
  assert float(lo.magnification_factor(lambda x: x[:1], jnp.ones(2))) == 0.0


def test_curve_length_and_energy_of_linear_decoder(key):
  a = jax.random.normal(key, (5, 4))
  z0, z1 = jax.random.normal(jax.random.fold_in(key, 1), (2, 4))
  line = lo.interpolate(z0, z1, 11)
  expected = np.linalg.norm(a @ (z1 - z0))
  decoder = lambda x: a @ x
  np.testing.assert_allclose(lo.curve_length(decoder, line), expected, rtol=1e-5)
  np.testing.assert_allclose(lo.curve_energy(decoder, line), expected**2, rtol=1e-5)
  np.testing.assert_allclose(lo.curve_length(decoder, line, subdivisions=3), expected, rtol=1e-5)


def test_curve_length_subdivisions_measure_the_continuous_path():
  curve = jnp.array([[1.0, 0.0], [1.0, np.pi / 2]])  # (r, theta): a quarter circle
  np.testing.assert_allclose(lo.curve_length(_polar, curve), np.sqrt(2), rtol=1e-6)
  np.testing.assert_allclose(lo.curve_length(_polar, curve, subdivisions=256), np.pi / 2,
                             rtol=1e-5)
  batch = jnp.stack([curve, curve * jnp.array([[2.0, 1.0]])])
  np.testing.assert_allclose(lo.curve_length(_polar, batch, subdivisions=256),
                             [np.pi / 2, np.pi], rtol=1e-5)


def test_energy_bounds_squared_length(mlp, key):
  curve = jax.random.normal(key, (9, 3))
  length, energy = lo.curve_length(mlp, curve), lo.curve_energy(mlp, curve)
  assert float(length) ** 2 <= float(energy) * (1 + 1e-6)


def test_subdivide_and_resample():
  curve = jnp.array([[0.0, 0.0], [2.0, 0.0], [2.0, 1.0]])  # an L, latent length 3
  fine = lo.subdivide_curve(curve, 4)
  assert fine.shape == (9, 2)
  np.testing.assert_allclose(fine[::4], curve)
  even = lo.resample_curve(curve, 7)  # spacing 0.5 along the L
  expected = [[0, 0], [0.5, 0], [1, 0], [1.5, 0], [2, 0], [2, 0.5], [2, 1]]
  np.testing.assert_allclose(even, expected, atol=1e-6)
  repeated = jnp.array([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
  np.testing.assert_allclose(lo.resample_curve(repeated, 3), [[0, 0], [0.5, 0], [1, 0]])


@pytest.mark.parametrize("fn, args, match", [
    (lo.pullback_metric, (jnp.ones((2, 3, 4)),), r"`z` must be \[D\] or \[B, D\], got shape"),
    (lo.curve_length, (jnp.ones(4),), r"`curve` must be \[T, D\] or \[B, T, D\], got shape \(4,\)"),
    (lo.curve_energy, (jnp.ones((1, 4)),), r"`curve` must have at least 2 points"),
    (lo.magnification_factor, (jnp.ones(()),), r"`z` must be \[\.\.\., D\], got shape \(\)"),
])
def test_shape_errors(fn, args, match):
  with pytest.raises(ValueError, match=match):
    fn(lambda z: z, *args)


def test_non_callable_decoder_is_a_type_error():
  with pytest.raises(TypeError, match="`decoder` must be a callable"):
    lo.pullback_metric(np.ones(3), jnp.ones(3))
