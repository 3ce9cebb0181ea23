"""The pieces of the exploration report, on toy decoders with known answers."""

import jax.numpy as jnp
import numpy as np
import pytest

from latentjax import explore

A = jnp.asarray(np.random.RandomState(0).randn(12, 3).astype(np.float32))


def linear_decoder(z):
  return A @ z


def hill_decoder(z):
  """The plane with a steep hill at the origin: paths through it are long."""
  return jnp.concatenate([z, 4.0 * jnp.exp(-2.0 * jnp.sum(z * z, keepdims=True))])


def test_public_names_import():
  for name in explore.__all__:
    assert getattr(explore, name) is not None, name


def test_settings_validate_and_name_the_field():
  assert explore.ExploreSettings.small().geodesic_steps < explore.ExploreSettings().geodesic_steps
  with pytest.raises(ValueError, match=r"`num_frames` must be an int >= 2, got 1"):
    explore.ExploreSettings(num_frames=1)
  with pytest.raises(ValueError, match=r"`traversal_sigmas` must be positive"):
    explore.ExploreSettings(traversal_sigmas=0.0)
  with pytest.raises(ValueError, match=r"`attribute_scales`"):
    explore.ExploreSettings(attribute_scales=())


def test_settings_from_env(monkeypatch):
  monkeypatch.setenv(explore.SMALL_ENV, "1")
  assert explore.small_mode()
  assert explore.ExploreSettings.from_env() == explore.ExploreSettings.small()
  monkeypatch.setenv(explore.SMALL_ENV, "0")
  assert explore.ExploreSettings.from_env(num_pairs=5) == explore.ExploreSettings(num_pairs=5)


def test_choose_pairs_crosses_classes_and_is_seeded():
  labels = np.repeat(np.arange(5), 6)
  i, j = explore.choose_pairs(labels, 4, seed=3)
  assert i.shape == j.shape == (4,)
  assert np.all(labels[i] != labels[j])
  i2, j2 = explore.choose_pairs(labels, 4, seed=3)
  np.testing.assert_array_equal(i, i2)
  np.testing.assert_array_equal(j, j2)
  i, j = explore.choose_pairs(None, 3, num_examples=10)
  assert np.all(i != j)
  with pytest.raises(ValueError, match="`num_pairs` must be a positive int"):
    explore.choose_pairs(labels, 0)
  with pytest.raises(ValueError, match="`num_examples` must be >= 2"):
    explore.choose_pairs(None, 2)


def test_lengths_of_straight_paths_match_closed_form():
  z0 = jnp.asarray([[0.0, 0.0, 0.0], [1.0, -1.0, 0.5]])
  z1 = jnp.asarray([[1.0, 2.0, -1.0], [0.0, 1.0, 1.0]])
  paths = explore.interpolation_paths(linear_decoder, z0, z1, num_points=8, geodesic_steps=50)
  assert set(paths) == {"linear", "slerp", "geodesic"}
  assert all(p.shape == (2, 8, 3) for p in paths.values())
  lengths = explore.decoded_lengths(linear_decoder, paths, z0, z1, resolution=64)
  exact = np.linalg.norm((np.asarray(z1) - np.asarray(z0)) @ np.asarray(A).T, axis=1)
  np.testing.assert_allclose(lengths["linear"], exact, rtol=1e-4)
  # For a linear decoder the straight line is the geodesic.
  np.testing.assert_allclose(lengths["geodesic"], exact, rtol=1e-3)
  assert np.all(lengths["slerp"] >= exact * (1 - 1e-4))


def test_geodesic_is_no_longer_than_the_line_on_a_curved_decoder():
  z0 = jnp.asarray([[-2.0, 0.1], [0.2, -2.0]])
  z1 = jnp.asarray([[2.0, 0.1], [-0.1, 2.0]])
  paths = explore.interpolation_paths(hill_decoder, z0, z1, num_points=16,
                                      geodesic_steps=300, methods=("linear", "geodesic"))
  lengths = explore.decoded_lengths(hill_decoder, paths, z0, z1, resolution=128)
  assert np.all(lengths["geodesic"] < 0.8 * lengths["linear"])  # Around the hill, not over.
  frames = explore.path_frames(paths, z0, z1, 5)
  assert frames["geodesic"].shape == (2, 5, 2)
  np.testing.assert_allclose(frames["geodesic"][:, 0], z0, atol=1e-6)
  np.testing.assert_allclose(frames["geodesic"][:, -1], z1, atol=1e-6)


def test_path_arguments_are_checked():
  z = jnp.zeros((2, 3))
  with pytest.raises(ValueError, match=r"`z0` must be \[P, D\]"):
    explore.interpolation_paths(linear_decoder, z[0], z[1])
  with pytest.raises(ValueError, match="`methods` has unknown"):
    explore.interpolation_paths(linear_decoder, z, z + 1, methods=("bezier",))
  with pytest.raises(ValueError, match="`resolution` must be an int >= 2"):
    explore.decoded_lengths(linear_decoder, {}, z, z + 1, resolution=1)


def test_clustering_separated_blobs_scores_perfectly(key):
  rng = np.random.RandomState(0)
  centres = np.array([[0, 0], [10, 0], [0, 10]], np.float32)
  labels = np.repeat(np.arange(3), 20)
  codes = centres[labels] + 0.3 * rng.randn(60, 2).astype(np.float32)
  result = explore.cluster_codes(key, codes, labels, num_clusters=3)
  assert result.centroids.shape == (3, 2) and result.assignments.shape == (60,)
  scores = result.scores
  assert scores["adjusted Rand index (k-means vs labels)"] == pytest.approx(1.0)
  assert scores["normalized mutual information (k-means vs labels)"] == pytest.approx(1.0)
  assert scores["silhouette of the label classes"] > 0.9
  assert scores["5-NN label accuracy (leave-one-out)"] == 1.0
  unlabelled = explore.cluster_codes(key, codes, None, num_clusters=3)
  assert list(unlabelled.scores) == ["silhouette of the k-means clusters"]
  with pytest.raises(ValueError, match="`num_clusters` must be in"):
    explore.cluster_codes(key, codes, labels, num_clusters=0)
  with pytest.raises(ValueError, match=r"`labels` must be \[N\]"):
    explore.cluster_codes(key, codes, labels[:5], num_clusters=3)


def test_magnification_grid_of_a_linear_decoder_is_constant():
  extent = explore.latent_extent(np.array([[0.5, -2.0], [1.0, 1.0]]))
  assert extent[0] == -extent[1] and extent[2] == -extent[3] and extent[1] >= 2.0
  mf = explore.magnification_grid(lambda z: A[:, :2] @ z, extent, grid_size=6)
  expected = np.sqrt(np.linalg.det(np.asarray(A[:, :2]).T @ np.asarray(A[:, :2])))
  assert mf.shape == (6, 6)
  np.testing.assert_allclose(mf, expected, rtol=1e-4)
  grid = explore.grid_points((-1, 1, -2, 2), 3)
  np.testing.assert_allclose(grid[0, 2], [1.0, -2.0])  # Row i follows y, column j follows x.
  with pytest.raises(ValueError, match=r"`codes` must be \[N, 2\]"):
    explore.latent_extent(np.zeros((4, 3)))


def test_traversals_and_arithmetic_shapes():
  rng = np.random.RandomState(0)
  labels = np.repeat(np.arange(4), 10)
  codes = rng.randn(40, 5).astype(np.float32) + labels[:, None] * np.eye(5)[0]
  pca, explained = explore.pca_traversal(codes, num=3, steps=5, sigmas=2.0)
  assert pca.codes.shape == (3, 5, 5) and len(pca.row_labels) == 3
  assert np.all(np.diff(explained) <= 1e-6) and explained.sum() <= 1.0 + 1e-6
  np.testing.assert_allclose(pca.codes[:, 2], np.tile(codes.mean(0), (3, 1)), atol=1e-5)
  dims = explore.dimension_traversal(codes, num=2, steps=3, sigmas=1.0, prior=True)
  assert dims.codes.shape == (2, 3, 5) and dims.row_labels[0].startswith("z0 ")
  vecs = explore.class_attribute_vectors(codes, labels)
  np.testing.assert_allclose(vecs[3], codes[labels == 3].mean(0) - codes[labels != 3].mean(0),
                             atol=1e-5)
  a, b, c, result, names, idx = explore.class_analogies(codes, labels, num=3)
  np.testing.assert_allclose(result, c + (b - a), atol=1e-5)
  assert len(names) == 3 and idx.shape == (3,)
  rows, row_names, sources = explore.attribute_rows(codes, labels, (0.0, 1.0), num_rows=2)
  assert rows.shape == (2, 2, 5)
  np.testing.assert_allclose(rows[:, 0], codes[sources], atol=1e-6)


def test_metrics_table_only_keeps_rows_some_run_has():
  rows = explore.metrics_table({"a": {"elbo_nats": -20.0, "iwae_nats": -19.5},
                                "b": {"elbo_nats": -25.0}, "c": None})
  assert [r["metric"].split(" (")[0] for r in rows] == ["test ELBO", "test IWAE bound"]
  assert rows[1] == {"metric": rows[1]["metric"], "a": -19.5, "b": ""}
  assert explore.metrics_table({"a": None}) == []


def test_knn_accuracy():
  codes = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
  labels = np.array([0, 0, 0, 1, 1, 1])
  assert explore.knn_accuracy(codes, labels, k=2) == 1.0
  with pytest.raises(ValueError, match="must agree"):
    explore.knn_accuracy(codes, labels[:3])


def test_parameter_count():
  assert explore.parameter_count({"a": jnp.zeros((3, 4)), "b": [jnp.zeros(5)]}) == 17


def test_supervised_direction_separates_two_classes():
  rng = np.random.RandomState(0)

  def split(n):
    labels = np.repeat([1, 7, 3], n)
    codes = rng.randn(3 * n, 4).astype(np.float32)
    codes[labels == 7, 2] += 6.0  # The 7s sit further along z2.
    return explore.LatentCodes(inputs=np.zeros((3 * n, 1)), labels=labels, codes=codes,
                               split="x")

  train, test = split(40), split(20)
  sup = explore.supervised_traversal(train, test, positive=7, negative=1, steps=5,
                                     span=(-1.0, 1.0), num_rows=3)
  assert abs(sup.direction[2]) > 0.9 and sup.direction[2] > 0  # Points towards the 7s.
  assert sup.accuracy > 0.95 and sup.train_accuracy > 0.95
  assert sup.traversal.codes.shape == (3, 5, 4) and sup.name == "1 → 7"
  assert 5.0 < sup.scale < 7.0  # The gap between the class means along the direction.
  start = sup.traversal.codes[:, 2]  # The middle column is the held-out example itself.
  assert all(np.any(np.all(np.isclose(test.codes[test.labels == 1], s, atol=1e-5), 1))
             for s in start)
  with pytest.raises(ValueError, match="`test` must hold codes of both groups"):
    explore.supervised_traversal(
        train, explore.LatentCodes(test.inputs, np.full(60, 3), test.codes, "x"),
        positive=7, negative=1, steps=3)


def test_distant_pairs_and_jitted_decoder():
  codes = np.array([[0, 0], [0.1, 0], [5, 5], [-5, -5], [0, 0.2], [4, 4]], np.float32)
  labels = np.array([0, 0, 1, 2, 0, 1])
  i, j = explore.choose_distant_pairs(codes, labels, 1, seed=0, candidates=20)
  assert {int(labels[i[0]]), int(labels[j[0]])} == {1, 2}
  decode = explore.jitted_decoder(lambda z: jnp.stack([z.sum(), z[0]]))
  assert decode(codes).shape == (6, 2)
  assert decode(codes.reshape(2, 3, 2)).shape == (2, 3, 2)
  np.testing.assert_allclose(decode(codes[2]), [10.0, 5.0])
