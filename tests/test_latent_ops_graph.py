"""Graph starts for geodesics: kNN graphs, shortest paths and refinement around obstacles."""

import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo


def _mountain(z):
  """The plane with a tall Gaussian mountain at the origin: paths go around it."""
  return jnp.concatenate([z, 4.0 * jnp.exp(-jnp.sum(z * z) / (2 * 0.5**2))[None]])


def test_knn_graph_is_symmetric_and_weighted_by_decoded_distance():
  rng = np.random.default_rng(0)
  codes = jnp.asarray(rng.normal(size=(20, 3)), jnp.float32)
  a = jnp.asarray(rng.normal(size=(4, 3)), jnp.float32)
  w = np.asarray(lo.knn_graph(lambda z: a @ z, codes, k=3))
  assert w.shape == (20, 20)
  np.testing.assert_array_equal(w, w.T)
  assert np.all(np.isinf(np.diag(w)))
  assert np.all(np.sum(np.isfinite(w), axis=1) >= 3)
  i, j = np.nonzero(np.isfinite(w))
  expected = np.linalg.norm((np.asarray(codes)[i] - np.asarray(codes)[j]) @ np.asarray(a).T,
                            axis=1)
  np.testing.assert_allclose(w[i, j], expected, rtol=1e-4)


def test_graph_path_follows_the_only_route_through_the_data():
  # Codes on a semicircle, chained by k = 2: the shortest path must follow the arc.
  angles = np.linspace(np.pi, 0, 42)[1:-1]
  codes = jnp.asarray(np.stack([np.cos(angles), np.sin(angles)], 1), jnp.float32)
  z0, z1 = jnp.array([-1.0, 0.0]), jnp.array([1.0, 0.0])
  curve = lo.graph_init_curve(lambda z: z, z0, z1, codes, num_points=25, k=2)
  assert curve.shape == (25, 2)
  np.testing.assert_array_equal(curve[0], z0)
  np.testing.assert_array_equal(curve[-1], z1)
  np.testing.assert_allclose(np.linalg.norm(curve, axis=1), 1.0, atol=4e-3)  # chord sagittas
  # Resampled evenly in (decoded = latent) arc length: equal steps of pi / 24.
  steps = np.linalg.norm(np.diff(np.asarray(curve), axis=0), axis=1)
  np.testing.assert_allclose(steps, np.pi / 24, rtol=0.02)


def test_unreachable_target_falls_back_to_the_straight_line():
  rng = np.random.default_rng(1)
  codes = jnp.asarray(np.concatenate([rng.normal(size=(10, 2)) * 0.1 - [5, 0],
                                      rng.normal(size=(10, 2)) * 0.1 + [5, 0]]), jnp.float32)
  z0, z1 = jnp.array([-5.0, 0.2]), jnp.array([5.0, -0.2])
  curve = lo.graph_init_curve(lambda z: z, z0, z1, codes, num_points=8, k=3)
  np.testing.assert_allclose(curve, lo.interpolate(z0, z1, 8), atol=1e-6)


def test_graph_start_goes_around_an_obstacle():
  rng = np.random.default_rng(0)
  codes = jnp.asarray(rng.uniform(-2.5, 2.5, (300, 2)), jnp.float32)
  z0 = jnp.array([[-2.0, 0.0], [-2.0, 0.3]])
  z1 = jnp.array([[2.0, 0.0], [1.5, -0.5]])
  from_graph = lo.curve_length(_mountain, lo.geodesic_from_graph(_mountain, z0, z1, codes), 32)
  from_line = lo.curve_length(_mountain, lo.geodesic(_mountain, z0, z1), 32)
  # Reference: the best of the two detours (above / below the mountain), run to the end.
  t = jnp.linspace(0, 1, 32)[None, :, None]
  refs = []
  for side in (1.0, -1.0):
    detour = (1 - t) * z0[:, None] + t * z1[:, None] + side * jnp.sin(jnp.pi * t) * jnp.array(
        [[[0.0, 1.5]]])
    refs.append(lo.solve_geodesic(_mountain, z0, z1, init_curve=detour, num_steps=1500,
                                  rtol=0.0).length)
  ref = np.minimum(*refs)
  # The symmetric pair: the straight start is stuck on the mountain's ridge (a saddle).
  assert float(from_line[0]) > 1.5 * ref[0]
  np.testing.assert_allclose(from_graph, ref, rtol=0.01)


@pytest.mark.parametrize("kwargs, match", [
    (dict(data_codes=jnp.ones((10, 3))), r"`data_codes` must have latent size D = 2"),
    (dict(data_codes=jnp.ones(10)), r"`data_codes` must be \[N, D\], got shape \(10,\)"),
    (dict(data_codes=jnp.ones((10, 2)), k=10), r"`k` must be <= 9, got 10"),
])
def test_argument_errors(kwargs, match):
  with pytest.raises(ValueError, match=match):
    lo.graph_init_curve(lambda z: z, jnp.zeros(2), jnp.ones(2), **kwargs)
