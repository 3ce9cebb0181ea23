"""k-means (k-means++ seeding, empty clusters, inertia) and nearest neighbours."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from latentjax import latent_ops as lo


def _blobs(seed, k=4, per=30, d=3, spread=0.1):
  rng = np.random.default_rng(seed)
  centres = rng.normal(size=(k, d)) * 10
  labels = np.repeat(np.arange(k), per)
  z = centres[labels] + rng.normal(size=(k * per, d)) * spread
  return jnp.asarray(z, jnp.float32), labels


def test_kmeans_recovers_well_separated_clusters(key):
  z, labels = _blobs(0)
  centroids, assignments = lo.kmeans(key, z, 4)
  assert centroids.shape == (4, 3) and assignments.shape == (120,)
  assert assignments.dtype == jnp.int32
  assert adjusted_rand_score(labels, np.asarray(assignments)) == 1.0
  # Each centroid is the mean of its cluster.
  for c in range(4):
    np.testing.assert_allclose(centroids[c], z[assignments == c].mean(0), atol=1e-4)


def test_kmeans_is_deterministic_for_the_key_and_inertia_never_increases(key):
  z, _ = _blobs(1, k=6, per=20, spread=3.0)  # overlapping: Lloyd has work to do
  fit = lo.kmeans_fit(key, z, 5, num_iters=30)
  again = lo.kmeans_fit(key, z, 5, num_iters=30)
  np.testing.assert_array_equal(fit.centroids, again.centroids)
  np.testing.assert_array_equal(fit.assignments, again.assignments)
  hist = np.asarray(fit.inertia_history)
  assert hist.shape == (30,)
  assert np.all(np.diff(hist) <= 1e-5 * hist[0])
  assert float(fit.inertia) <= hist[-1] * (1 + 1e-6)
  np.testing.assert_allclose(lo.kmeans_inertia(z, fit.centroids), fit.inertia, rtol=1e-5)
  other = lo.kmeans_fit(jax.random.fold_in(key, 1), z, 5, num_iters=30)
  assert not np.array_equal(np.asarray(other.centroids), np.asarray(fit.centroids))


def test_kmeans_with_duplicate_codes_keeps_empty_clusters_finite(key):
  # Two distinct points, three clusters: one cluster must end up empty.
  z = jnp.array([[0.0, 0.0]] * 5 + [[1.0, 1.0]] * 5)
  fit = lo.kmeans_fit(key, z, 3, num_iters=5)
  assert np.all(np.isfinite(np.asarray(fit.centroids)))
  assert float(fit.inertia) == 0.0
  assert adjusted_rand_score([0] * 5 + [1] * 5, np.asarray(fit.assignments)) == 1.0


def test_kmeans_compiles_once(key):
  z, _ = _blobs(2)
  lo.kmeans(key, z, 4)
  before = lo._cluster._kmeans._cache_size()
  for i in range(3):
    lo.kmeans(jax.random.fold_in(key, i), z + i, 4)
  assert lo._cluster._kmeans._cache_size() == before


def test_nearest_neighbors_match_brute_force(key):
  bank = jax.random.normal(key, (50, 4))
  query = jax.random.normal(jax.random.fold_in(key, 1), (7, 4))
  dist, idx = lo.nearest_neighbors(query, bank, 5)
  full = np.linalg.norm(np.asarray(query)[:, None] - np.asarray(bank)[None], axis=-1)
  expected = np.argsort(full, axis=1)[:, :5]
  np.testing.assert_array_equal(idx, expected)
  np.testing.assert_allclose(dist, np.take_along_axis(full, expected, 1), rtol=1e-4, atol=1e-4)
  d1, i1 = lo.nearest_neighbors(bank[3], bank, 1)
  assert int(i1[0]) == 3 and float(d1[0]) < 1e-3


@pytest.mark.parametrize("fn, args, match", [
    (lo.kmeans, (jax.random.PRNGKey(0), np.zeros((5, 2)), 6), r"`k` must be <= 5, got 6"),
    (lo.kmeans, (jax.random.PRNGKey(0), np.zeros(5), 2), r"`z` must be \[N, D\], got shape"),
    (lo.nearest_neighbors, (np.zeros((2, 3)), np.zeros((5, 4)), 1),
     r"`bank` must have latent size D = 3 \(the last axis of `query`\), got shape \(5, 4\)"),
    (lo.nearest_neighbors, (np.zeros((2, 3, 1)), np.zeros((5, 1)), 1),
     r"`query` must be \[D\] or \[B, D\], got shape \(2, 3, 1\)"),
    (lo.kmeans_inertia, (np.zeros((5, 2)), np.zeros((2, 3))), r"`centroids` must have latent"),
])
def test_argument_errors(fn, args, match):
  with pytest.raises(ValueError, match=match):
    fn(*args)
