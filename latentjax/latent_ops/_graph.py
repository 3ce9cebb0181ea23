"""Graph-based starting curves for geodesics: shortest paths through data codes.

Where the decoded manifold folds or has holes, the straight line is a bad start for the
energy minimiser: it crosses regions the data never visits. A better start follows the
data: build a k-nearest-neighbour graph of data codes (any latent dimension), weight each
edge by its decoded length, connect ``z0`` and ``z1`` to their ``k`` nearest codes, take
the shortest path (Bellman-Ford min-plus relaxations over a dense ``[N, N]`` matrix, in
``lax.while_loop``; fine for N up to a few thousand), and resample the polyline to
``num_points`` evenly in decoded arc length. ``geodesic_from_graph`` then refines it::

    curve = lo.geodesic_from_graph(decoder, z0, z1, data_codes, k=8)
"""

import jax
import jax.numpy as jnp

from latentjax.latent_ops import _geodesic as geod
from latentjax.latent_ops import _geometry as geo
from latentjax.latent_ops import _validation as v
from latentjax.latent_ops._cluster import sq_dists
from latentjax.latent_ops._decoder import decoder_jit


def _edge_lengths(decoder, a, b, subdivisions):
  """Continuous decoded lengths of the latent segments a[i] -> b[i]; a, b: [E, D]."""
  return geo.continuous_length(decoder, jnp.stack([a, b], axis=1), subdivisions)


def _knn_weights(decoder, codes, k, subdivisions):
  """Dense symmetric [N, N] edge-weight matrix of the kNN graph, inf for no edge."""
  n = codes.shape[0]
  d2 = sq_dists(codes, codes) + jnp.diag(jnp.full((n,), jnp.inf, codes.dtype))
  _, nbr = jax.lax.top_k(-d2, k)  # [N, k]
  src = jnp.repeat(jnp.arange(n), k)
  w = _edge_lengths(decoder, codes[src], codes[nbr.ravel()], subdivisions)
  weights = jnp.full((n, n), jnp.inf, codes.dtype).at[src, nbr.ravel()].set(w)
  return jnp.minimum(weights, weights.T)


@decoder_jit(static_argnames=("k", "subdivisions"))
def _knn_graph(decoder, codes, *, k, subdivisions):
  return _knn_weights(decoder, codes, k, subdivisions)


def knn_graph(decoder, codes, k: int = 8, subdivisions: int = 4):
  """Symmetric k-nearest-neighbour graph of codes, weighted by decoded edge length.

  Neighbours are found in latent space (Euclidean); an edge's weight is the continuous
  decoded length of the straight latent segment (``subdivisions`` pieces).

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    codes: [N, D] data codes.
    k: neighbours per code (static, 1 <= k < N).
    subdivisions: latent pieces per edge when measuring its decoded length (static).

  Returns:
    [N, N] symmetric weights, ``inf`` where there is no edge (and on the diagonal).

  Raises:
    ValueError: wrong rank or ``k`` out of range.
  """
  codes = v.as_float(codes)
  v.check_rank("codes", codes, (2,), "[N, D]")
  k = v.check_int("k", k, minimum=1, maximum=codes.shape[0] - 1)
  subdivisions = v.check_int("subdivisions", subdivisions, minimum=1)
  return _knn_graph(decoder, codes, k=k, subdivisions=subdivisions)


def _attach(decoder, z, codes, k, subdivisions):
  """[N] decoded lengths from ``z`` to its k nearest codes, inf elsewhere."""
  d2 = sq_dists(z[None], codes)[0]
  _, idx = jax.lax.top_k(-d2, k)
  w = _edge_lengths(decoder, jnp.broadcast_to(z, (k, z.shape[-1])), codes[idx], subdivisions)
  return jnp.full(codes.shape[:1], jnp.inf, codes.dtype).at[idx].set(w)


def _shortest_path_curve(weights, codes, z0, z1, entry, exit_, num_points):
  """Shortest z0 -> data graph -> z1 path, resampled by decoded arc length to [T, D]."""
  n = codes.shape[0]

  def relax(dist):
    return jnp.minimum(dist, jnp.min(dist[:, None] + weights, axis=0))

  def cond(state):
    dist, prev, it = state
    return jnp.any(dist != prev) & (it < n)

  def body(state):
    dist, _, it = state
    return relax(dist), dist, it + 1

  dist, _, _ = jax.lax.while_loop(cond, body, (relax(entry), entry, jnp.zeros((), jnp.int32)))
  via_graph = dist[:, None] + weights  # [from, to]
  pred = jnp.where(entry <= jnp.min(via_graph, axis=0), -1, jnp.argmin(via_graph, axis=0))
  total = dist + exit_
  last = jnp.argmin(total)
  reachable = jnp.isfinite(total[last])

  # Backtrack last -> ... -> first data node into a fixed-size buffer.
  def back_cond(state):
    node, count, _ = state
    return (node >= 0) & (count < n)

  def back_body(state):
    node, count, path = state
    return pred[node], count + 1, path.at[count].set(node)

  _, count, path = jax.lax.while_loop(
      back_cond, back_body, (last, jnp.zeros((), jnp.int32), jnp.full((n,), -1)))
  order = count - 1 - jnp.arange(n)  # forward order, then padding
  nodes = path[jnp.clip(order, 0, n - 1)]
  valid = order >= 0
  pts = jnp.where(valid[:, None], codes[jnp.clip(nodes, 0, n - 1)], z1[None])
  pts = jnp.concatenate([z0[None], pts, z1[None]], axis=0)  # [n + 2, D]
  nodes = jnp.clip(nodes, 0, n - 1)
  # Segment lengths: z0 -> first node, node -> node, last node -> z1, then zero padding.
  to_next = jnp.concatenate([weights[nodes[:-1], nodes[1:]], jnp.zeros((1,), weights.dtype)])
  valid_next = jnp.concatenate([valid[1:], jnp.zeros((1,), bool)])
  after = jnp.where(valid_next, to_next, jnp.where(valid, exit_[nodes], 0.0))
  seg = jnp.concatenate([entry[nodes[0]][None], after])
  seg = jnp.where(jnp.isfinite(seg), seg, 0.0)
  curve = geo.resample_by_lengths(pts, seg, num_points)
  line = geod.straight_line(z0, z1, num_points)
  return jnp.where(reachable, curve, line)


@decoder_jit(static_argnames=("k", "num_points", "subdivisions"))
def _graph_init(decoder, z0, z1, codes, *, k, num_points, subdivisions):
  weights = _knn_weights(decoder, codes, k, subdivisions)

  attach = lambda z: _attach(decoder, z, codes, k, subdivisions)
  path = lambda args: _shortest_path_curve(weights, codes, *args, num_points)
  if z0.ndim == 1:
    return path((z0, z1, attach(z0), attach(z1)))
  # Decoding is batched; the O(N^2) relaxations run one pair at a time to bound memory.
  return jax.lax.map(path, (z0, z1, jax.vmap(attach)(z0), jax.vmap(attach)(z1)))


def graph_init_curve(decoder, z0, z1, data_codes, num_points: int = 32, k: int = 8,
                     subdivisions: int = 4):
  """Starting curve(s) along the shortest path through a kNN graph of data codes.

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    z0: [D] or [B, D] start codes.
    z1: [D] or [B, D] end codes, same shape as ``z0``.
    data_codes: [N, D] codes of data points (e.g. encoder means), the graph's nodes.
    num_points: points of the returned curve (static).
    k: neighbours per node, and data codes each endpoint connects to (static).
    subdivisions: latent pieces per edge when measuring decoded edge lengths (static).

  Returns:
    [num_points, D] (or [B, num_points, D]) curves through data codes, resampled evenly in
    decoded arc length; the straight line where ``z1`` is unreachable from ``z0``.

  Raises:
    ValueError: wrong ranks, mismatched latent sizes, ``k`` out of range.
  """
  z0, z1 = v.as_float(z0), v.as_float(z1)
  v.check_code("z0", z0)
  v.check_same_shape("z1", z1, "z0", z0)
  data_codes = v.as_float(data_codes)
  v.check_rank("data_codes", data_codes, (2,), "[N, D]")
  v.check_latent_size("data_codes", data_codes, z0.shape[-1], "z0")
  num_points = v.check_int("num_points", num_points, minimum=2)
  k = v.check_int("k", k, minimum=1, maximum=data_codes.shape[0] - 1)
  subdivisions = v.check_int("subdivisions", subdivisions, minimum=1)
  return _graph_init(decoder, z0, z1, data_codes, k=k, num_points=num_points,
                     subdivisions=subdivisions)


def geodesic_from_graph(decoder, z0, z1, data_codes, k: int = 8, num_points: int = 32,
                        num_steps: int = 500, **kwargs):
  """Geodesic(s) refined from a graph shortest path through data codes.

  :func:`graph_init_curve` followed by :func:`geodesic` with ``init_curve``. The result
  is the shortest (continuous decoded length) of the refined curve, the graph path and
  the straight line.

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    z0: [D] or [B, D] start codes.
    z1: [D] or [B, D] end codes, same shape as ``z0``.
    data_codes: [N, D] codes of data points, the graph's nodes.
    k: graph neighbours (static).
    num_points: points per curve (static).
    num_steps: maximum optimiser steps (static).
    **kwargs: :func:`solve_geodesic` options (``learning_rate``, ``rtol``, ...).

  Returns:
    [num_points, D] (or [B, num_points, D]) curves; endpoints exact.

  Raises:
    ValueError: wrong ranks, mismatched latent sizes, ``k`` out of range.

  Example:
    >>> curve = lo.geodesic_from_graph(decoder, z0, z1, encoder_means, k=10)
  """
  init = graph_init_curve(decoder, z0, z1, data_codes, num_points=num_points, k=k)
  return geod.geodesic(decoder, z0, z1, num_points, num_steps, init_curve=init, **kwargs)


def _all_pairs(weights):
  """Floyd-Warshall over a dense [N, N] weight matrix (inf: no edge), one fori_loop."""
  n = weights.shape[0]
  dist = weights.at[jnp.arange(n), jnp.arange(n)].set(0.0)

  def body(k, d):
    return jnp.minimum(d, d[:, k, None] + d[None, k, :])

  return jax.lax.fori_loop(0, n, body, dist)


@decoder_jit(static_argnames=("k", "subdivisions"))
def _graph_distances(decoder, codes, *, k, subdivisions):
  return _all_pairs(_knn_weights(decoder, codes, k, subdivisions))


def graph_distance_matrix(decoder, codes, k: int = 8, subdivisions: int = 4):
  """Approximate geodesic distances between all codes: shortest paths in the kNN graph.

  The graph is :func:`knn_graph` (edges to each code's ``k`` nearest codes, weighted by
  the edge's continuous decoded length); distances are all-pairs shortest path lengths
  (Floyd-Warshall, ``N`` min-plus sweeps of an [N, N] matrix in one ``lax.fori_loop``:
  O(N^3) work, O(N^2) memory; a second for N = 1000 on a CPU). Each is the decoded
  length of a path through data codes, so an upper bound of the geodesic distance that
  tightens as the codes get denser; :func:`geodesic_distance_matrix` solves the
  geodesics themselves at ``num_steps`` optimiser steps per pair. With a ``(mean, std)``
  decoder (``gaussian_decoder``) the lengths are in the expected metric.

  Args:
    decoder: callable mapping one code ``[D]`` to an array or pytree of arrays.
    codes: [N, D] codes.
    k: neighbours per code (static, 1 <= k < N).
    subdivisions: latent pieces per edge when measuring its decoded length (static).

  Returns:
    [N, N] symmetric distances, zero diagonal, ``inf`` between disconnected components.

  Raises:
    ValueError: wrong rank or ``k`` out of range.

  Example:
    >>> dist = lo.graph_distance_matrix(decoder, codes, k=10)    # [N, N]
    >>> fit = lo.kmedoids(key, dist, k=10)
  """
  codes = v.as_float(codes)
  v.check_rank("codes", codes, (2,), "[N, D]")
  k = v.check_int("k", k, minimum=1, maximum=codes.shape[0] - 1)
  subdivisions = v.check_int("subdivisions", subdivisions, minimum=1)
  return _graph_distances(decoder, codes, k=k, subdivisions=subdivisions)
