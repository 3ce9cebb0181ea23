"""Geodesics against closed forms: planes, cylinders and spheres seen through charts.

Lengths are judged as the library promises: the continuous decoded length of the
piecewise-linear latent path through the returned points, finely resampled.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo

FINE = 64  # latent pieces per segment when judging a curve's continuous length


def _stereo(z):
  """Inverse stereographic projection of the plane onto the unit sphere."""
  r2 = jnp.sum(z * z)
  return jnp.concatenate([2 * z, (r2 - 1)[None]]) / (1 + r2)


def _hemisphere(z):
  """Orthographic chart of the upper unit hemisphere over the unit disk."""
  return jnp.concatenate([z, jnp.sqrt(jnp.maximum(1 - jnp.sum(z * z), 1e-12))[None]])


def _cylinder(z):
  return jnp.stack([jnp.cos(z[0]), jnp.sin(z[0]), z[1]])


def _great_circle(decoder, a, b):
  pa, pb = jax.vmap(decoder)(a), jax.vmap(decoder)(b)
  return np.arccos(np.clip(np.sum(np.asarray(pa) * np.asarray(pb), axis=1), -1, 1))


def _ring_pairs(seed, n, radius, spread):
  ang = np.random.default_rng(seed).uniform(0, 2 * np.pi, n)
  a = radius * np.stack([np.cos(ang), np.sin(ang)], 1)
  b = radius * np.stack([np.cos(ang + spread), np.sin(ang + spread)], 1)
  return jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)


def _mlp(params, z):
  for i, (w, b) in enumerate(params):
    z = z @ w + b
    z = jnp.tanh(z) if i < len(params) - 1 else z
  return z


def _random_mlp(seed, sizes):
  keys = jax.random.split(jax.random.PRNGKey(seed), len(sizes) - 1)
  params = [(jax.random.normal(k, (m, n)) * 1.5 / np.sqrt(m), jnp.zeros(n))
            for k, m, n in zip(keys, sizes[:-1], sizes[1:], strict=True)]
  return functools.partial(_mlp, params)


def test_linear_decoder_geodesic_is_the_straight_line(key):
  a = jax.random.normal(key, (5, 3))
  z0, z1 = jax.random.normal(jax.random.fold_in(key, 1), (2, 4, 3))
  decoder = lambda z: a @ z
  curves = lo.geodesic(decoder, z0, z1)
  assert curves.shape == (4, 32, 3)
  expected = np.linalg.norm((z1 - z0) @ a.T, axis=1)
  np.testing.assert_allclose(lo.curve_length(decoder, curves, FINE), expected, rtol=1e-3)
  np.testing.assert_array_equal(curves[:, 0], z0)
  np.testing.assert_array_equal(curves[:, -1], z1)


def test_cylinder_geodesics_are_helices():
  rng = np.random.default_rng(1)
  z0 = jnp.asarray(rng.uniform(-1.5, 1.5, (6, 2)), jnp.float32)
  z1 = jnp.asarray(rng.uniform(-1.5, 1.5, (6, 2)), jnp.float32)
  curves = lo.geodesic(_cylinder, z0, z1, num_points=16)
  expected = np.linalg.norm(np.asarray(z1 - z0), axis=1)  # the chart is an isometry
  np.testing.assert_allclose(lo.curve_length(_cylinder, curves, FINE), expected, rtol=1e-3)


@pytest.mark.parametrize("decoder, radius, spread", [
    (_hemisphere, 0.9, 2.5),    # orthographic chart: the straight line is ~3% too long
    (_stereo, 1.5, 2.0),        # stereographic chart: the straight line is ~35% too long
])
def test_sphere_geodesics_have_great_circle_length(decoder, radius, spread):
  z0, z1 = _ring_pairs(0, 8, radius, spread)
  res = lo.solve_geodesic(decoder, z0, z1)
  true = _great_circle(decoder, z0, z1)
  length = np.asarray(lo.curve_length(decoder, res.curve, FINE))
  assert np.all(np.asarray(res.line_length) > 1.015 * true)  # a non-trivial problem
  np.testing.assert_allclose(length, true, rtol=0.01)
  assert np.max(length / true - 1) < 3e-3
  assert np.all(res.converged)


def test_never_longer_than_the_straight_line_for_random_mlps(key):
  sizes = (3, 32, 32, 8)  # one architecture: new parameters reuse the compiled solver
  for seed in range(3):
    decoder = _random_mlp(seed, sizes)
    z0, z1 = 2 * jax.random.normal(jax.random.fold_in(key, seed), (2, 8, sizes[0]))
    res = lo.solve_geodesic(decoder, z0, z1, num_points=16)
    line = lo.interpolate(z0, z1, 16)
    line_len = lo.curve_length(decoder, line, subdivisions=8)
    geo_len = lo.curve_length(decoder, res.curve, subdivisions=8)
    assert np.all(np.asarray(geo_len) <= np.asarray(line_len) * (1 + 1e-6))
    assert np.mean(np.asarray(geo_len) < np.asarray(line_len)) > 0.5  # and usually shorter
    # Judged more finely, still no longer than the straight line.
    np.testing.assert_array_less(lo.curve_length(decoder, res.curve, FINE),
                                 lo.curve_length(decoder, line, FINE) * 1.001)


def test_converges_to_the_stated_tolerance():
  z0, z1 = _ring_pairs(2, 4, 1.2, 2.2)
  res = lo.solve_geodesic(_stereo, z0, z1)
  long = lo.solve_geodesic(_stereo, z0, z1, num_steps=2000, rtol=0.0)
  assert np.all(res.converged) and np.all(np.asarray(res.num_steps) < 500)
  # The stopping rule: the energy (the history holds its square root) moved by <= rtol
  # over the last check window, and the gradient is small ...
  energy = np.asarray(res.length_history) ** 2
  steps = np.asarray(res.num_steps)
  for e, s in zip(energy, steps, strict=True):
    assert abs(e[s] - e[s - 5]) <= 1e-4 * e[s] * (1 + 1e-5)
  assert np.all(np.asarray(res.grad_norm) <= 1e-3)
  # ... and running four times longer improves the continuous length by < 0.2%.
  np.testing.assert_allclose(res.length, long.length, rtol=2e-3)


# Decoders whose metric scale varies by two orders of magnitude along the geodesic, with
# optimal lengths in closed form: the Euclidean plane (or the sphere) seen through a
# strongly non-linear chart, so the optimum is the straight (great-circle) distance of
# the decoded endpoints.
_STEEP = np.log(100.0) / 2  # g(u) = exp(a u) / a: g' = exp(a u) varies 100x on [-1, 1]


def _steep(z):
  """The plane through a steep monotone reparametrisation of the first coordinate."""
  return jnp.stack([jnp.exp(_STEEP * z[0]) / _STEEP, z[1]])


def _sheared(z):
  """An isometry of the plane into R^3 after the diffeomorphism
  h^{-1}(u, v) = (g(u), v + sin(2u) / 2), g as in `_steep`."""
  y = jnp.stack([jnp.exp(_STEEP * z[0]) / _STEEP, z[1] + 0.5 * jnp.sin(2.0 * z[0])])
  return jnp.array([[0.6, -0.8], [0.8, 0.6], [0.0, 0.0]]) @ y


def _log_polar(z):
  """The plane in log-polar coordinates: metric exp(2 s) I, speed scale exp(s)."""
  return jnp.exp(z[0]) * jnp.stack([jnp.cos(z[1]), jnp.sin(z[1])])


def _chord(decoder, a, b):
  return np.linalg.norm(np.asarray(jax.vmap(decoder)(b) - jax.vmap(decoder)(a)), axis=1)


def _far_stereo_pairs():
  """Pairs on circles of radius 1.5 to 4: their great circles pass near the north pole,
  far out in the chart, where the metric is 300 (and more) times smaller than at z0."""
  rows = [(4.0, 2.5), (2.5, 2.5), (1.5, 2.8), (3.0, 2.0)]
  a = np.array([[r, 0.0] for r, _ in rows])
  b = np.array([[r * np.cos(s), r * np.sin(s)] for r, s in rows])
  return jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)


def _unit_square_pairs():
  rng = np.random.default_rng(0)
  a = np.stack([-np.ones(4), rng.uniform(-1, 1, 4)], 1)
  b = np.stack([np.ones(4), rng.uniform(-1, 1, 4)], 1)
  return jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)


def _log_polar_pairs():
  a = np.array([[-2.3, 0.0], [-3.0, 0.0], [-1.0, 0.0], [-2.3, 0.0]])
  b = np.array([[2.3, 2.8], [1.6, 2.5], [1.0, 3.0], [2.3, 2.0]])
  return jnp.asarray(a, jnp.float32), jnp.asarray(b, jnp.float32)


_CURVED_CASES = {
    "stereographic_far": (_stereo, _far_stereo_pairs, _great_circle),
    "steep_reparametrisation": (_steep, _unit_square_pairs, _chord),
    "sheared_steep_isometry": (_sheared, _unit_square_pairs, _chord),
    "log_polar": (_log_polar, _log_polar_pairs, _chord),
}


@pytest.mark.parametrize("case", sorted(_CURVED_CASES))
def test_defaults_within_one_percent_where_the_metric_varies_strongly(case):
  decoder, pairs, optimum = _CURVED_CASES[case]
  z0, z1 = pairs()
  true = optimum(decoder, z0, z1)
  res = lo.solve_geodesic(decoder, z0, z1)
  batched = np.asarray(lo.curve_length(decoder, res.curve, FINE)) / true - 1
  single = np.array([float(lo.curve_length(decoder, lo.geodesic(decoder, a, b), FINE))
                     for a, b in zip(z0, z1, strict=True)]) / true - 1
  assert np.all(batched > -1e-4) and np.all(single > -1e-4)  # no shorter than optimal
  assert np.max(batched) < 0.01, batched
  assert np.max(single) < 0.01, single
  assert np.all(res.converged)


@pytest.mark.parametrize("learning_rate", [None, 0.05])
@pytest.mark.parametrize("num_steps", [20, 60, 500])
def test_converged_only_when_the_stopping_rule_holds(num_steps, learning_rate):
  # A curve reported converged has stopped improving: it is within 1% of the optimum,
  # whatever budget (and, with Adam, learning-rate decay) it was given.
  z0, z1 = _far_stereo_pairs()
  res = lo.solve_geodesic(_stereo, z0, z1, num_steps=num_steps, learning_rate=learning_rate)
  excess = np.asarray(lo.curve_length(_stereo, res.curve, FINE)) / _great_circle(
      _stereo, z0, z1) - 1
  converged = np.asarray(res.converged)
  assert np.all(excess[converged] < 0.01), (excess, converged)
  assert np.all(np.asarray(res.grad_norm)[converged] <= 1e-3)
  assert np.all(np.asarray(res.num_steps)[~converged] == num_steps)


def test_batched_equals_per_pair():
  z0, z1 = _ring_pairs(3, 3, 1.0, 2.0)
  batched = lo.geodesic(_stereo, z0, z1, num_points=12)
  for i in range(3):
    single = lo.geodesic(_stereo, z0[i], z1[i], num_points=12)
    assert single.shape == (12, 2)
    # the same stopping rule, but batched and single products round differently (and
    # differently on AVX2 and AVX-512 kernels), so the two may stop a few steps apart
    np.testing.assert_allclose(batched[i], single, atol=1e-4)


def test_init_curve_is_refined_and_resampled():
  z0, z1 = _ring_pairs(4, 2, 1.0, 2.0)
  # A detour start with 7 points; the geodesic is resampled to 16 and still found.
  t = jnp.linspace(0, 1, 7)[None, :, None]
  bump = jnp.sin(jnp.pi * t) * jnp.array([[[0.0, 1.5]]])
  init = (1 - t) * z0[:, None] + t * z1[:, None] + bump
  res = lo.solve_geodesic(_stereo, z0, z1, num_points=16, init_curve=init)
  assert res.curve.shape == (2, 16, 2)
  np.testing.assert_allclose(lo.curve_length(_stereo, res.curve, FINE),
                             _great_circle(_stereo, z0, z1), rtol=0.01)


def test_pytree_decoder_and_jit_around():
  decoder = lambda z: {"mean": _hemisphere(z), "scale": 0.0 * z}
  z0, z1 = _ring_pairs(5, 2, 0.7, 2.0)
  curves = jax.jit(lambda a, b: lo.geodesic(decoder, a, b, num_points=16))(z0, z1)
  np.testing.assert_allclose(lo.curve_length(decoder, curves, FINE),
                             _great_circle(_hemisphere, z0, z1), rtol=0.01)


def test_geodesic_distance_matrix_on_the_sphere():
  za, _ = _ring_pairs(6, 4, 0.8, 0.0)
  zb, _ = _ring_pairs(7, 3, 1.3, 0.0)
  dist = lo.geodesic_distance_matrix(_stereo, za)
  assert dist.shape == (4, 4)
  np.testing.assert_array_equal(dist, dist.T)
  np.testing.assert_array_equal(np.diag(dist), 0.0)
  rows, cols = np.triu_indices(4, 1)
  np.testing.assert_allclose(dist[rows, cols], _great_circle(_stereo, za[rows], za[cols]),
                             rtol=0.01)
  cross = lo.geodesic_distance_matrix(_stereo, za, zb, batch_size=5)
  assert cross.shape == (4, 3)
  ia, ib = np.divmod(np.arange(12), 3)
  np.testing.assert_allclose(cross.ravel(), _great_circle(_stereo, za[ia], zb[ib]), rtol=0.01)


@pytest.mark.parametrize("kwargs, match", [
    (dict(z0=jnp.ones((2, 3, 4)), z1=jnp.ones((2, 3, 4))),
     r"`z0` must be \[D\] or \[B, D\], got shape \(2, 3, 4\)"),
    (dict(z0=jnp.ones((2, 3)), z1=jnp.ones((2, 4))),
     r"`z1` must have the same shape as `z0` \(2, 3\), got shape \(2, 4\)"),
    (dict(z0=jnp.ones(3), z1=jnp.ones(3), init_curve=jnp.ones((5, 4))),
     r"`init_curve` must be \[T, D\] with B, D matching `z0` \(3,\), got shape \(5, 4\)"),
    (dict(z0=jnp.ones(3), z1=jnp.ones(3), num_points=1), r"`num_points` must be >= 2, got 1"),
])
def test_shape_errors(kwargs, match):
  with pytest.raises(ValueError, match=match):
    lo.geodesic(lambda z: z, **kwargs)


def test_distance_matrix_shape_errors():
  with pytest.raises(ValueError, match=r"`zb` must have latent size D = 2"):
    lo.geodesic_distance_matrix(_stereo, jnp.ones((3, 2)), jnp.ones((3, 5)))


def test_a_code_size_the_decoder_does_not_take_is_named_before_compiling():
  w = jnp.ones((4, 6))
  decoder = lambda z: jnp.tanh(z @ w)  # takes codes of size 4
  with pytest.raises(ValueError, match=r"`decoder` does not take a code of shape \(3,\) "
                                       r"\(the last axis of `z0`, dtype float32\)"):
    lo.geodesic(decoder, jnp.zeros(3), jnp.ones(3))
  with pytest.raises(ValueError, match=r"`decoder` does not take a code of shape \(3,\)"):
    lo.geodesic(decoder, jnp.zeros((2, 3)), jnp.ones((2, 3)))


def test_bfloat16_codes_are_optimised_in_float32_and_returned_as_bfloat16():
  z0, z1 = jnp.array([-0.8, 0.3]), jnp.array([0.8, 0.3])
  curve16 = lo.geodesic(_hemisphere, z0.astype(jnp.bfloat16), z1.astype(jnp.bfloat16),
                        num_points=8, num_steps=100)
  curve32 = lo.geodesic(_hemisphere, z0, z1, num_points=8, num_steps=100)
  assert curve16.dtype == jnp.bfloat16 and curve16.shape == (8, 2)
  np.testing.assert_allclose(np.asarray(curve16, np.float32), curve32, atol=2e-2)
