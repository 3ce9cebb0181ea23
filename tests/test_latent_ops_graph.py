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


def _scipy_reference(weights, source, target):
  """Shortest start -> end length by scipy's Dijkstra on the graph plus start and end nodes."""
  from scipy.sparse import csgraph

  n = weights.shape[0]
  full = np.full((n + 2, n + 2), np.inf)
  full[:n, :n] = weights
  full[n, :n] = source  # start: node n
  full[:n, n + 1] = target  # end: node n + 1
  graph = csgraph.csgraph_from_dense(full, null_value=np.inf)  # keeps zero-length edges
  return csgraph.dijkstra(graph, directed=True, indices=n)[n + 1]


def _check_path(weights, source, target, path):
  """The path is simple, uses edges of the graph, and its length is what it reports."""
  count = int(path.num_nodes)
  nodes = np.asarray(path.nodes)
  assert np.all(nodes[count:] == -1)
  walk = nodes[:count]
  assert len(set(walk.tolist())) == count, f"repeated node in {walk}"
  if count == 0:
    assert np.isinf(path.length)
    return
  legs = [source[walk[0]], *weights[walk[:-1], walk[1:]], target[walk[-1]]]
  assert np.all(np.isfinite(legs))
  np.testing.assert_allclose(np.sum(legs), float(path.length), rtol=1e-5)


def _graph_with_duplicates(seed, n=40, copies=4, edge_prob=0.15):
  """Random symmetric graph whose nodes come in groups of exact duplicates (zero-length
  edges between copies), integer weights (many ties) and, for some seeds, two components."""
  rng = np.random.default_rng(seed)
  base = n // copies
  w_base = np.where(rng.uniform(size=(base, base)) < edge_prob,
                    rng.integers(1, 4, (base, base)).astype(float), np.inf)
  w_base = np.minimum(w_base, w_base.T)
  if seed % 2:  # cut the graph in two components
    w_base[:base // 2, base // 2:] = w_base[base // 2:, :base // 2] = np.inf
  group = rng.permutation(np.arange(n) % base)  # node -> its group; copies share edges
  weights = w_base[group[:, None], group[None, :]]
  weights[group[:, None] == group[None, :]] = 0.0
  np.fill_diagonal(weights, np.inf)
  return weights.astype(np.float32), group


@pytest.mark.parametrize("seed", range(6))
def test_shortest_path_on_duplicate_codes_is_simple_and_matches_dijkstra(seed):
  weights, _ = _graph_with_duplicates(seed)
  n = weights.shape[0]
  rng = np.random.default_rng(100 + seed)
  sources, targets = [], []
  for _ in range(8):
    source = np.where(rng.uniform(size=n) < 0.1, rng.integers(0, 3, n), np.inf)
    target = np.where(rng.uniform(size=n) < 0.1, rng.integers(0, 3, n), np.inf)
    sources.append(source.astype(np.float32))
    targets.append(target.astype(np.float32))
  batch = lo.graph_shortest_path(weights, np.stack(sources), np.stack(targets))
  assert batch.nodes.shape == (8, n)
  for i in range(8):
    single = lo.graph_shortest_path(weights, sources[i], targets[i])
    _check_path(weights, sources[i], targets[i], single)
    expected = _scipy_reference(weights, sources[i], targets[i])
    if np.isinf(expected):
      assert np.isinf(single.length) and int(single.num_nodes) == 0
    else:
      np.testing.assert_allclose(float(single.length), expected, rtol=1e-6)
    np.testing.assert_array_equal(batch.nodes[i], single.nodes)


def test_shortest_path_reports_an_unreachable_end():
  weights = np.full((4, 4), np.inf, np.float32)
  weights[0, 1] = weights[1, 0] = 1.0
  weights[2, 3] = weights[3, 2] = 0.0
  source = np.array([0.0, np.inf, np.inf, np.inf], np.float32)
  target = np.array([np.inf, np.inf, np.inf, 0.0], np.float32)
  path = lo.graph_shortest_path(weights, source, target)
  assert np.isinf(path.length) and int(path.num_nodes) == 0
  np.testing.assert_array_equal(path.nodes, -1)
  target = np.array([np.inf, 0.5, np.inf, 0.0], np.float32)
  path = lo.graph_shortest_path(weights, source, target)
  np.testing.assert_allclose(path.length, 1.5)
  np.testing.assert_array_equal(path.nodes, [0, 1, -1, -1])


def test_graph_start_through_duplicate_codes_follows_the_arc():
  # The semicircle of the test above with every code present four times, in shuffled
  # order: the copies are joined by zero-length edges.
  angles = np.linspace(np.pi, 0, 42)[1:-1]
  arc = np.stack([np.cos(angles), np.sin(angles)], 1)
  codes = np.repeat(arc, 4, axis=0)[np.random.default_rng(0).permutation(4 * len(arc))]
  codes = jnp.asarray(codes, jnp.float32)
  z0, z1 = jnp.array([-1.0, 0.0]), jnp.array([1.0, 0.0])
  weights = lo.knn_graph(lambda z: z, codes, k=10)  # copies and both arc neighbours
  assert np.sum(np.asarray(weights) == 0.0) > 0  # zero-length edges present
  curve = lo.graph_init_curve(lambda z: z, z0, z1, codes, num_points=25, k=10)
  # The endpoints attach to codes up to two arc steps away: chord sagittas below 7e-3.
  np.testing.assert_allclose(np.linalg.norm(curve, axis=1), 1.0, atol=7e-3)
  steps = np.linalg.norm(np.diff(np.asarray(curve), axis=0), axis=1)
  np.testing.assert_allclose(steps, np.pi / 24, rtol=0.02)


def test_shortest_path_argument_errors():
  with pytest.raises(ValueError, match=r"`weights` must be \[N, N\], got shape \(3, 4\)"):
    lo.graph_shortest_path(jnp.ones((3, 4)), jnp.ones(3), jnp.ones(3))
  with pytest.raises(ValueError, match=r"`source` must be \[N\] or \[B, N\] with N = 3"):
    lo.graph_shortest_path(jnp.ones((3, 3)), jnp.ones(4), jnp.ones(4))
  with pytest.raises(ValueError, match=r"`target` must have the same shape as `source`"):
    lo.graph_shortest_path(jnp.ones((3, 3)), jnp.ones(3), jnp.ones((2, 3)))
