"""Graph-based starting curves for geodesics: shortest paths through data codes.

Where the decoded manifold folds or has holes, the straight line is a bad start for the
energy minimiser: it crosses regions the data never visits. A better start follows the
data: build a k-nearest-neighbour graph of data codes (any latent dimension), weight each
edge by its decoded length, connect ``z0`` and ``z1`` to their ``k`` nearest codes, take
the shortest path (``graph_shortest_path``: Bellman-Ford min-plus relaxations over a
dense ``[N, N]`` matrix, in ``lax.while_loop``; fine for N up to a few thousand; exact with
duplicate codes, whose edges have length zero), and resample the polyline to
``num_points`` evenly in decoded arc length. ``geodesic_from_graph`` then refines it::

    curve = lo.geodesic_from_graph(decoder, z0, z1, data_codes, k=8)
    path = lo.graph_shortest_path(lo.knn_graph(decoder, codes), source, target)
"""

from typing import NamedTuple

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


class GraphPath(NamedTuple):
  """Output of :func:`graph_shortest_path` (leading [B] axes for batches of queries).

  Attributes:
    nodes: [N] int32 node indices of the path in order, padded with -1 after
      ``num_nodes`` entries; all -1 when there is no path.
    num_nodes: [] int32 nodes on the path (no node repeats); 0 when there is no path.
    length: [] total length, source and target legs included; ``inf`` when there is no
      path.
  """

  nodes: jax.Array
  num_nodes: jax.Array
  length: jax.Array


def shortest_path(weights, source, target) -> GraphPath:
  """Unchecked :func:`graph_shortest_path` for one query, for use inside compiled code.

  Synchronous Bellman-Ford relaxations from a virtual source whose edges are
  ``source``. A node's predecessor changes only when its distance strictly decreases, so
  the predecessors form a forest even with zero-length edges and ties: along a
  predecessor cycle every distance would be no larger than its predecessor's, hence all
  equal, and each node's predecessor would have to be set before its own, around the
  cycle, which is impossible. The backtracked path is therefore simple and at most ``N``
  nodes long.
  """
  n = weights.shape[0]

  def cond(state):
    _, _, changed, it = state
    return changed & (it < n)

  def body(state):
    dist, pred, _, it = state
    via = dist[:, None] + weights  # [from, to]
    best = jnp.min(via, axis=0)
    better = best < dist  # strict: ties never move a predecessor
    dist = jnp.where(better, best, dist)
    pred = jnp.where(better, jnp.argmin(via, axis=0).astype(jnp.int32), pred)
    return dist, pred, jnp.any(better), it + 1

  pred0 = jnp.full((n,), -1, jnp.int32)  # -1: reached straight from the source
  state = (source, pred0, jnp.asarray(True), jnp.zeros((), jnp.int32))
  dist, pred, _, _ = jax.lax.while_loop(cond, body, state)
  total = dist + target
  last = jnp.argmin(total).astype(jnp.int32)
  length = total[last]
  reachable = jnp.isfinite(length)

  # Backtrack last -> ... -> first node into a fixed-size buffer.
  def back_cond(state):
    node, count, _ = state
    return (node >= 0) & (count < n)

  def back_body(state):
    node, count, path = state
    return pred[node], count + 1, path.at[count].set(node)

  start = jnp.where(reachable, last, -1)
  _, count, path = jax.lax.while_loop(
      back_cond, back_body, (start, jnp.zeros((), jnp.int32), jnp.full((n,), -1, jnp.int32)))
  order = count - 1 - jnp.arange(n)  # forward order, then padding
  nodes = jnp.where(order >= 0, path[jnp.clip(order, 0, n - 1)], -1)
  return GraphPath(nodes, count, length)


@jax.jit
def _graph_shortest_path(weights, source, target):
  if source.ndim == 1:
    return shortest_path(weights, source, target)
  return jax.lax.map(lambda st: shortest_path(weights, *st), (source, target))


def graph_shortest_path(weights, source, target) -> GraphPath:
  """Shortest path through a weighted graph between a virtual start and end.

  The start connects to node ``i`` by an edge of length ``source[i]``, node ``i`` to the
  end by ``target[i]`` (``inf``: no edge); a path between two nodes ``i``, ``j`` is the
  query with ``source`` zero at ``i``, ``target`` zero at ``j`` and ``inf`` elsewhere.
  Weights must be non-negative; zero-length edges (duplicate codes) and ties are fine:
  the path never repeats a node and its length is the shortest. O(N^2) memory, at most
  ``N`` min-plus relaxations in one ``lax.while_loop``; jit- and vmap-compatible.

  Args:
    weights: [N, N] non-negative edge lengths, ``weights[i, j]`` for the edge ``i -> j``,
      ``inf`` for no edge (e.g. :func:`knn_graph`).
    source: [N] (or [B, N]) lengths of the edges from the start to each node.
    target: [N] (or [B, N]) lengths of the edges from each node to the end.

  Returns:
    A :class:`GraphPath`. Where the end cannot be reached from the start, ``length`` is
    ``inf``, ``num_nodes`` 0 and ``nodes`` all -1.

  Raises:
    ValueError: wrong shapes.

  Example:
    >>> w = lo.knn_graph(decoder, codes, k=8)
    >>> src = jnp.full(len(codes), jnp.inf).at[i].set(0.0)
    >>> dst = jnp.full(len(codes), jnp.inf).at[j].set(0.0)
    >>> path = lo.graph_shortest_path(w, src, dst)   # codes[path.nodes[:path.num_nodes]]
  """
  weights, source, target = v.as_float(weights), v.as_float(source), v.as_float(target)
  v.check_rank("weights", weights, (2,), "[N, N]")
  n = weights.shape[0]
  if weights.shape != (n, n):
    raise ValueError(f"`weights` must be [N, N], got shape {weights.shape}")
  v.check_rank("source", source, (1, 2), "[N] or [B, N]")
  if source.shape[-1] != n:
    raise ValueError(f"`source` must be [N] or [B, N] with N = {n}, got shape {source.shape}")
  v.check_same_shape("target", target, "source", source)
  return _graph_shortest_path(weights, source, target)


def _shortest_path_curve(weights, codes, z0, z1, entry, exit_, num_points):
  """Shortest z0 -> data graph -> z1 path, resampled by decoded arc length to [T, D]."""
  n = codes.shape[0]
  path = shortest_path(weights, entry, exit_)
  reachable = jnp.isfinite(path.length)
  valid = jnp.arange(n) < path.num_nodes
  nodes = jnp.clip(path.nodes, 0, n - 1)
  pts = jnp.where(valid[:, None], codes[nodes], z1[None])
  pts = jnp.concatenate([z0[None], pts, z1[None]], axis=0)  # [n + 2, D]
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
    decoded arc length. Where ``z1`` cannot be reached from ``z0`` through the graph (its
    components around them differ) the curve is the straight line from ``z0`` to ``z1``;
    :func:`graph_shortest_path` on :func:`knn_graph` tells that case apart (``length`` is
    ``inf``).

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
