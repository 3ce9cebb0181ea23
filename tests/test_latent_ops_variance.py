"""The RBF decoder variance, the expected metric, graph distances and k-medoids."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.sparse import csgraph

from latentjax import latent_ops as lo


def _annulus(seed, n=400, inner=1.0, outer=2.0):
  """Codes uniform (in area) on the annulus inner <= |z| <= outer."""
  rng = np.random.default_rng(seed)
  r = np.sqrt(rng.uniform(inner**2, outer**2, n))
  t = rng.uniform(0.0, 2.0 * np.pi, n)
  return np.stack([r * np.cos(t), r * np.sin(t)], 1).astype(np.float32), rng


def _ring_mean(z):
  """A built decoder mean R^2 -> R^3 folding the plane onto a cone around the origin.

  Going around the annulus at any radius decodes to nearly the same length (~2 pi * 2),
  while cutting through the hole decodes much shorter (~4.2): the mean-only geodesic
  crosses the hole, as in "Latent Space Oddity" (Arvanitidis et al., 2018).
  """
  r = jnp.sqrt(jnp.sum(z * z) + 0.1)
  return jnp.concatenate([2.0 * z / r, 0.5 * r[None]])


def test_expected_metric_matches_the_closed_form_of_an_analytic_gaussian_decoder(key):
  a = jax.random.normal(key, (5, 3))
  b = 0.3 * jax.random.normal(jax.random.fold_in(key, 1), (5, 3))
  decoder = lambda z: (a @ z, jnp.exp(b @ z))
  z = jax.random.normal(jax.random.fold_in(key, 2), (4, 3))
  g = lo.expected_metric(decoder, z)
  # J_sigma = diag(sigma) B, so E[J^T J] = A^T A + B^T diag(sigma^2) B.
  want = np.stack([a.T @ a + b.T @ np.diag(np.exp(2 * b @ zi)) @ b for zi in np.asarray(z)])
  np.testing.assert_allclose(g, want, rtol=1e-5, atol=1e-5)


def test_expected_metric_reduces_to_the_pullback_metric_for_a_constant_std(key):
  w = jax.random.normal(key, (6, 2))
  mean = lambda z: jnp.tanh(w @ z)
  decoder = lambda z: (mean(z), jnp.full((6,), 0.3))
  z = jax.random.normal(jax.random.fold_in(key, 1), (3, 2))
  np.testing.assert_allclose(lo.expected_metric(decoder, z), lo.pullback_metric(mean, z),
                             rtol=1e-6, atol=1e-6)


def test_magnification_and_curve_energy_of_a_gaussian_decoder_use_the_expected_metric(key):
  codes, rng = _annulus(0, n=200)
  var = lo.fit_rbf_variance(key, codes, rng.normal(0, 0.1, (200, 3)), 16, num_steps=50)
  decoder = lo.gaussian_decoder(_ring_mean, var)
  z = jnp.asarray(codes[:5])
  g = lo.expected_metric(decoder, z)
  np.testing.assert_allclose(lo.magnification_factor(decoder, z),
                             np.sqrt(np.linalg.det(np.asarray(g, np.float64))), rtol=1e-3)
  curve = jnp.asarray(codes[:4])
  mean, std = jax.vmap(decoder)(curve)
  steps = np.sum(np.diff(mean, axis=0) ** 2, -1) + np.sum(np.diff(std, axis=0) ** 2, -1)
  np.testing.assert_allclose(lo.curve_energy(decoder, curve), 3 * steps.sum(), rtol=1e-5)


def test_fitted_variance_matches_the_residuals_near_the_codes(key):
  codes, rng = _annulus(1)
  res = rng.normal(0.0, 0.1, (400, 3)).astype(np.float32)
  var = lo.fit_rbf_variance(key, codes, res, 64, bandwidth_scale=0.8, max_variance=4.0)
  at_codes = np.asarray(lo.rbf_variance(var, codes))
  assert at_codes.shape == (400, 3)
  # Per output, the typical fitted variance at the codes is the residuals' variance,
  # 0.01, and the residuals normalised by it have mean square near 1 (the maximum
  # likelihood scale; a little below 1, as 64 x 3 weights fit 400 residuals).
  np.testing.assert_allclose(np.median(at_codes, 0), 0.01, rtol=0.2)
  calibration = np.mean(res**2 / at_codes, 0)
  assert np.all((calibration > 0.8) & (calibration < 1.1)), calibration
  far = np.asarray(lo.rbf_variance(var, jnp.array([[0.0, 0.0], [6.0, 0.0]])))
  np.testing.assert_allclose(far, 4.0, rtol=1e-3)  # min_variance + max_variance


def test_fitted_variance_grows_monotonically_along_rays_from_the_data(key):
  codes, rng = _annulus(2)
  var = lo.fit_rbf_variance(key, codes, rng.normal(0, 0.1, (400, 3)), 64, max_variance=4.0)
  centers = np.asarray(var.centers)
  for angle in np.linspace(0.0, 2.0 * np.pi, 12, endpoint=False):
    u = np.array([np.cos(angle), np.sin(angle)], np.float32)
    start = centers[np.argmax(centers @ u)]  # beyond every centre along u
    ray = start[None] + np.linspace(0.0, 4.0, 60, dtype=np.float32)[:, None] * u[None]
    values = np.asarray(lo.rbf_variance(var, ray))[:, 0]
    assert np.all(np.diff(values) >= -1e-7), angle
    assert values[-1] > 100 * values[0]


def test_expected_metric_geodesic_goes_around_the_hole_of_an_annulus(key):
  codes, rng = _annulus(0)
  inner = 1.0
  var = lo.fit_rbf_variance(key, codes, rng.normal(0, 0.1, (400, 3)), 64,
                            bandwidth_scale=0.8, max_variance=4.0)
  decoder = lo.gaussian_decoder(_ring_mean, var)
  z0, z1 = jnp.array([-1.5, 0.0]), jnp.array([1.5, 0.0])
  line = lo.interpolate(z0, z1, 32)
  mean_only = lo.geodesic(_ring_mean, z0, z1)
  expected = lo.geodesic_from_graph(decoder, z0, z1, jnp.asarray(codes), k=8)
  radius = lambda c: np.linalg.norm(np.asarray(c), axis=-1)
  assert radius(line).min() < 0.1 and radius(mean_only).min() < 0.1  # both cross the hole
  assert radius(expected).min() > inner  # every point on the annulus
  length = float(lo.curve_length(decoder, expected, subdivisions=16))
  line_length = float(lo.curve_length(decoder, line, subdivisions=16))
  assert np.isfinite(length) and length <= line_length
  assert length < 0.75 * line_length


def test_graph_distance_matrix_is_the_shortest_path_of_the_knn_graph(key):
  codes = jax.random.normal(key, (30, 2))
  decoder = lambda z: jnp.tanh(z) * 2.0
  weights = np.asarray(lo.knn_graph(decoder, codes, k=4))
  want = csgraph.shortest_path(np.where(np.isfinite(weights), weights, 0.0), directed=False)
  got = np.asarray(lo.graph_distance_matrix(decoder, codes, k=4))
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got, got.T, rtol=1e-6)


def test_kmedoids_recovers_separated_groups_and_never_increases_its_cost(key):
  rng = np.random.default_rng(0)
  centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
  pts = np.concatenate([c + rng.normal(0, 0.5, (20, 2)) for c in centres])
  d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
  fit = lo.kmedoids(key, d, k=3, num_iters=20)
  groups = np.repeat(np.arange(3), 20)
  for g in range(3):  # each true group is one cluster, and its medoid is a member
    assert np.unique(np.asarray(fit.assignments)[groups == g]).size == 1
  assert sorted(groups[np.asarray(fit.medoids)]) == [0, 1, 2]
  assert np.all(np.diff(np.asarray(fit.cost_history)) <= 1e-4)
  # The medoid of each cluster minimises the summed distance to its members.
  a = np.asarray(fit.assignments)
  for j, m in enumerate(np.asarray(fit.medoids)):
    members = np.flatnonzero(a == j)
    assert d[m, members].sum() <= d[np.ix_(members, members)].sum(0).min() + 1e-4


def test_kmedoids_treats_disconnected_points_as_far(key):
  d = np.array([[0, 1, np.inf, np.inf], [1, 0, np.inf, np.inf],
                [np.inf, np.inf, 0, 1], [np.inf, np.inf, 1, 0]], np.float32)
  a = np.asarray(lo.kmedoids(key, d, k=2).assignments)
  assert a[0] == a[1] and a[2] == a[3] and a[0] != a[2]


def test_nearest_by_distance_leaves_each_point_out():
  d = np.array([[0, 3, 1], [3, 0, 2], [1, 2, 0]], np.float32)
  dist, idx = lo.nearest_by_distance(d, k=2)
  np.testing.assert_array_equal(np.asarray(idx), [[2, 1], [2, 0], [0, 1]])
  np.testing.assert_allclose(np.asarray(dist), [[1, 3], [2, 3], [1, 2]])
  _, idx = lo.nearest_by_distance(d, k=1, exclude_self=False)
  np.testing.assert_array_equal(np.asarray(idx)[:, 0], [0, 1, 2])


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_centers=500), "num_centers"),
    (dict(num_centers=0), "num_centers"),
    (dict(num_centers=4, min_variance=0.0), "min_variance"),
    (dict(num_centers=4, min_variance=-1e-3), "min_variance"),
    (dict(num_centers=4, max_variance=0.0), "max_variance"),
    (dict(num_centers=4, bandwidth_scale=-1.0), "bandwidth_scale"),
])
def test_fit_rbf_variance_names_the_bad_argument(key, kwargs, name):
  codes, rng = _annulus(0, n=50)
  with pytest.raises(ValueError, match=f"`{name}`"):
    lo.fit_rbf_variance(key, codes, rng.normal(size=(50, 3)), **kwargs)


def test_fit_rbf_variance_rejects_mismatched_or_non_finite_inputs(key):
  codes, _ = _annulus(0, n=50)
  with pytest.raises(ValueError, match="`residuals`"):
    lo.fit_rbf_variance(key, codes, np.zeros((49, 3)), 4)
  with pytest.raises(ValueError, match="`residuals`"):
    lo.fit_rbf_variance(key, codes, np.full((50, 3), np.nan), 4)
  with pytest.raises(ValueError, match="`codes`"):
    lo.fit_rbf_variance(key, codes[0], np.zeros((50, 3)), 4)


def test_a_decoder_without_a_std_output_is_refused_where_one_is_needed(key):
  z = jnp.zeros((2, 2))
  with pytest.raises(ValueError, match="`decoder` must return a pair"):
    lo.expected_metric(lambda z: jnp.tanh(z), z)
  with pytest.raises(ValueError, match="`decoder` must return"):
    lo.expected_metric(lambda z: (z, jnp.ones(3)), z)
  with pytest.raises(ValueError, match="`variance`"):
    lo.gaussian_decoder(lambda z: z, None)


def test_the_variance_survives_a_save_and_load_round_trip(key, tmp_path):
  codes, rng = _annulus(0, n=60)
  var = lo.fit_rbf_variance(key, codes, rng.normal(size=(60, 2, 2)), 6, num_steps=10)
  np.savez(tmp_path / "v.npz", **var.arrays())
  with np.load(tmp_path / "v.npz") as f:
    back = lo.RBFVariance.from_arrays(f)
  assert back.out_shape == (2, 2)
  np.testing.assert_allclose(lo.rbf_variance(back, codes[:3]), lo.rbf_variance(var, codes[:3]))
  mean, std = lo.gaussian_decoder(lambda z: jnp.zeros((2, 2)), back)(jnp.asarray(codes[0]))
  assert mean.shape == std.shape == (2, 2)
