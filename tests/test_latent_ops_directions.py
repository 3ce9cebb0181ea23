"""Semantic directions: PCA against an SVD, supervised normals, SeFa against eigh."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import latent_ops as lo


def _anisotropic_codes(seed, n=200, d=5):
  rng = np.random.default_rng(seed)
  basis, _ = np.linalg.qr(rng.normal(size=(d, d)))
  scales = np.array([5.0, 3.0, 2.0, 1.0, 0.5])[:d]
  return (rng.normal(size=(n, d)) * scales) @ basis.T + 3.0, basis, scales


def _same_up_to_sign(a, b, atol):
  signs = np.sign(np.sum(a * b, axis=1, keepdims=True))
  np.testing.assert_allclose(a, signs * b, atol=atol)


def test_pca_directions_agree_with_numpy_svd():
  z, basis, _ = _anisotropic_codes(0)
  dirs = np.asarray(lo.pca_directions(jnp.asarray(z, jnp.float32), 3))
  centred = z - z.mean(0)
  _, s, vt = np.linalg.svd(centred, full_matrices=False)
  assert dirs.shape == (3, 5)
  np.testing.assert_allclose(dirs @ dirs.T, np.eye(3), atol=1e-5)
  _same_up_to_sign(dirs, vt[:3], atol=1e-4)
  _same_up_to_sign(dirs, basis[:, :3].T, atol=0.15)  # the generating axes, roughly
  var = np.asarray(lo.pca_explained_variance(jnp.asarray(z, jnp.float32), 3))
  np.testing.assert_allclose(var, s[:3] ** 2 / (len(z) - 1), rtol=1e-4)
  res = lo.pca(jnp.asarray(z, jnp.float32), 5)
  np.testing.assert_allclose(np.sum(res.explained_variance_ratio), 1.0, rtol=1e-5)
  np.testing.assert_allclose(res.mean, z.mean(0), rtol=1e-5)
  # Deterministic signs: each row's largest-magnitude entry is positive.
  rows = np.asarray(res.directions)
  assert np.all(rows[np.arange(5), np.argmax(np.abs(rows), axis=1)] > 0)


def test_supervised_direction_separates_linearly_separable_labels(key):
  rng = np.random.default_rng(1)
  z = rng.normal(size=(300, 6)) * np.array([1, 1, 1, 1, 1, 10.0])  # a confounding axis
  normal = np.array([1.0, -2.0, 0.5, 0.0, 0.0, 0.0])
  normal /= np.linalg.norm(normal)
  score = z @ normal
  keep = np.abs(score) > 0.3  # a margin: strictly separable
  z, labels = jnp.asarray(z[keep], jnp.float32), jnp.asarray(score[keep] > 0)
  direction, accuracy = lo.supervised_direction(z, labels)
  assert float(accuracy) == 1.0
  np.testing.assert_allclose(np.linalg.norm(direction), 1.0, rtol=1e-5)
  assert float(direction @ normal) > 0.95  # points towards the positive class, along the normal
  # Projections on the direction separate the classes.
  proj = np.asarray(z @ direction)
  assert proj[np.asarray(labels)].min() > proj[~np.asarray(labels)].max()


def test_sefa_directions_are_top_eigenvectors_of_kernel_gram():
  rng = np.random.default_rng(2)
  kernel = rng.normal(size=(6, 32)).astype(np.float32)  # flax Dense layout [D, H]
  dirs = np.asarray(lo.sefa_directions(jnp.asarray(kernel), 3))
  vals, vecs = np.linalg.eigh(kernel.astype(np.float64) @ kernel.T)
  _same_up_to_sign(dirs, vecs[:, ::-1][:, :3].T, atol=1e-4)
  # The first direction changes the layer's output the most among unit vectors.
  gains = np.linalg.norm(dirs @ kernel, axis=1)
  np.testing.assert_allclose(gains, np.sqrt(vals[::-1][:3]), rtol=1e-4)
  random = rng.normal(size=(100, 6))
  random /= np.linalg.norm(random, axis=1, keepdims=True)
  assert np.linalg.norm(random @ kernel, axis=1).max() <= gains[0] + 1e-4


def test_directions_compile_once_per_shape():
  z = jax.random.normal(jax.random.PRNGKey(3), (50, 4))
  lo.pca_directions(z, 2)
  before = lo._directions._pca._cache_size()
  for i in range(3):
    lo.pca_directions(z + i, 2)
  assert lo._directions._pca._cache_size() == before


@pytest.mark.parametrize("fn, args, match, error", [
    (lo.pca_directions, (np.zeros((10, 3)), 4), r"`k` must be <= 3, got 4", ValueError),
    (lo.pca_directions, (np.zeros(10), 1), r"`z` must be \[N, D\], got shape \(10,\)",
     ValueError),
    (lo.pca, (np.zeros((1, 3)), 1), r"`z` must have at least 2 codes", ValueError),
    (lo.sefa_directions, (np.zeros((3, 4, 5)), 1), r"`kernel` must be \[D, H\]", ValueError),
    (lo.supervised_direction, (np.zeros((4, 3)), np.zeros(4)),
     r"`has_attribute` must be a boolean mask", TypeError),
    (lo.pca_directions, (np.zeros((10, 3)), 1.5), r"`k` must be a static Python int", TypeError),
])
def test_argument_errors(fn, args, match, error):
  with pytest.raises(error, match=match):
    fn(*args)
