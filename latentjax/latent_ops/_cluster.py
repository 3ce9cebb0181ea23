"""Clustering and nearest neighbours of latent codes.

``kmeans`` is Lloyd's algorithm with k-means++ seeding (Arthur & Vassilvitskii, 2007),
compiled as ``lax.fori_loop`` (seeding) and ``lax.scan`` (iterations); the result is a
deterministic function of the key. A cluster that loses all its codes keeps its previous
centroid, so the inertia never increases from one iteration to the next::

    centroids, labels = lo.kmeans(key, codes, k=10)
    fit = lo.kmeans_fit(key, codes, k=10)           # + inertia and its history
    dist, idx = lo.nearest_neighbors(queries, codes, k=5)

For geodesic rather than Euclidean neighbourhoods, see ``geodesic_distance_matrix``.
"""

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp

from latentjax.latent_ops import _validation as v


class KMeansResult(NamedTuple):
  """Output of :func:`kmeans_fit`.

  Attributes:
    centroids: [k, D] cluster centres.
    assignments: [N] int32 index of each code's nearest centroid.
    inertia: [] sum of squared distances of codes to their centroids.
    inertia_history: [num_iters] inertia of the assignment at the start of each
      iteration (non-increasing).
  """

  centroids: jax.Array
  assignments: jax.Array
  inertia: jax.Array
  inertia_history: jax.Array


def sq_dists(a, b):
  """[N, M] squared Euclidean distances (matmul form, clipped at 0)."""
  d = jnp.sum(a * a, -1)[:, None] - 2.0 * a @ b.T + jnp.sum(b * b, -1)[None, :]
  return jnp.maximum(d, 0.0)


def _assign(z, centroids):
  return jnp.argmin(sq_dists(z, centroids), axis=1).astype(jnp.int32)


def _inertia(z, centroids, assignments):
  return jnp.sum(jnp.square(z - centroids[assignments]))


def _kmeans_pp(key, z, k):
  n = z.shape[0]
  key, first_key = jax.random.split(key)
  first = jax.random.randint(first_key, (), 0, n)
  centroids = jnp.zeros((k, z.shape[1]), z.dtype).at[0].set(z[first])
  closest = jnp.sum(jnp.square(z - z[first][None]), axis=1)

  def body(i, carry):
    centroids, closest = carry
    total = jnp.sum(closest)
    # Sample proportionally to the squared distance (uniformly if all codes coincide).
    probs = jnp.where(total > 0, closest / jnp.where(total > 0, total, 1.0), 1.0 / n)
    idx = jax.random.choice(jax.random.fold_in(key, i), n, p=probs)
    centroids = centroids.at[i].set(z[idx])
    closest = jnp.minimum(closest, jnp.sum(jnp.square(z - z[idx][None]), axis=1))
    return centroids, closest

  centroids, _ = jax.lax.fori_loop(1, k, body, (centroids, closest))
  return centroids


@functools.partial(jax.jit, static_argnames=("k", "num_iters"))
def _kmeans(key, z, *, k, num_iters):
  centroids = _kmeans_pp(key, z, k)

  def step(centroids, _):
    assignments = _assign(z, centroids)
    inertia = _inertia(z, centroids, assignments)
    one_hot = jax.nn.one_hot(assignments, k, dtype=z.dtype)  # [N, k]
    counts = jnp.sum(one_hot, axis=0)
    sums = one_hot.T @ z
    new = jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1.0)[:, None], centroids)
    return new, inertia

  centroids, history = jax.lax.scan(step, centroids, None, length=num_iters)
  assignments = _assign(z, centroids)
  return KMeansResult(centroids, assignments, _inertia(z, centroids, assignments), history)


def _check_kmeans(key, z, k, num_iters):
  z = v.as_float(z)
  v.check_rank("z", z, (2,), "[N, D]")
  k = v.check_int("k", k, minimum=1, maximum=z.shape[0])
  num_iters = v.check_int("num_iters", num_iters, minimum=0)
  key = jnp.asarray(key)
  if not jnp.issubdtype(key.dtype, jax.dtypes.prng_key) and key.shape != (2,):
    raise ValueError(f"`key` must be a PRNG key, got shape {key.shape}")
  return key, z, k, num_iters


def kmeans_fit(key, z, k: int, num_iters: int = 100) -> KMeansResult:
  """k-means with k-means++ seeding; the full result with inertia and its history.

  Args:
    key: PRNG key for the seeding.
    z: [N, D] codes.
    k: number of clusters (static), ``1 <= k <= N``.
    num_iters: Lloyd iterations (static).

  Returns:
    A :class:`KMeansResult`.

  Raises:
    ValueError: wrong rank, ``k`` out of range, or a malformed key.
  """
  key, z, k, num_iters = _check_kmeans(key, z, k, num_iters)
  return _kmeans(key, z, k=k, num_iters=num_iters)


def kmeans(key, z, k: int, num_iters: int = 100):
  """k-means clustering of codes with k-means++ seeding.

  Deterministic for a given key; compiled once per shape, ``k`` and ``num_iters``.
  Empty clusters keep their previous centroid.

  Args:
    key: PRNG key for the seeding.
    z: [N, D] codes.
    k: number of clusters (static), ``1 <= k <= N``.
    num_iters: Lloyd iterations (static).

  Returns:
    ``(centroids, assignments)``: [k, D] centres and [N] int32 cluster indices.

  Raises:
    ValueError: wrong rank, ``k`` out of range, or a malformed key.

  Example:
    >>> centroids, labels = lo.kmeans(jax.random.PRNGKey(0), codes, k=10)
  """
  fit = kmeans_fit(key, z, k, num_iters)
  return fit.centroids, fit.assignments


@jax.jit
def _inertia_of(z, centroids):
  return _inertia(z, centroids, _assign(z, centroids))


def kmeans_inertia(z, centroids):
  """Sum of squared distances from each code to its nearest centroid.

  Args:
    z: [N, D] codes.
    centroids: [k, D] centres.

  Returns:
    Scalar inertia.

  Raises:
    ValueError: wrong ranks or mismatched latent sizes.
  """
  z, centroids = v.as_float(z), v.as_float(centroids)
  v.check_rank("z", z, (2,), "[N, D]")
  v.check_rank("centroids", centroids, (2,), "[k, D]")
  v.check_latent_size("centroids", centroids, z.shape[-1], "z")
  return _inertia_of(z, centroids)


@functools.partial(jax.jit, static_argnames=("k",))
def _nearest(query, bank, *, k):
  single = query.ndim == 1
  q = query[None] if single else query
  neg, idx = jax.lax.top_k(-sq_dists(q, bank), k)
  dist = jnp.sqrt(jnp.maximum(-neg, 0.0))
  return (dist[0], idx[0]) if single else (dist, idx)


def nearest_neighbors(query, bank, k: int):
  """The ``k`` nearest codes of ``bank`` to each query (Euclidean, in latent space).

  Args:
    query: [D] or [Q, D] query codes.
    bank: [N, D] codes to search.
    k: neighbours per query (static), ``1 <= k <= N``.

  Returns:
    ``(distances, indices)``: [k] (or [Q, k]) ascending Euclidean distances and int32
    indices into ``bank``.

  Raises:
    ValueError: wrong ranks, mismatched latent sizes, ``k`` out of range.

  Example:
    >>> dist, idx = lo.nearest_neighbors(z, codes, k=5)
  """
  query, bank = v.as_float(query), v.as_float(bank)
  v.check_code("query", query)
  v.check_rank("bank", bank, (2,), "[N, D]")
  v.check_latent_size("bank", bank, query.shape[-1], "query")
  k = v.check_int("k", k, minimum=1, maximum=bank.shape[0])
  return _nearest(query, bank, k=k)


class KMedoidsResult(NamedTuple):
  """Output of :func:`kmedoids`.

  Attributes:
    medoids: [k] int32 indices of the medoids (cluster centres among the points).
    assignments: [N] int32 cluster of each point (index into ``medoids``).
    cost: [] sum of distances of the points to their medoids.
    cost_history: [num_iters] cost at the start of each iteration (non-increasing).
  """

  medoids: jax.Array
  assignments: jax.Array
  cost: jax.Array
  cost_history: jax.Array


def _finite_distances(d):
  """Replaces inf (disconnected points) by a distance larger than every finite one."""
  finite = jnp.isfinite(d)
  big = 2.0 * jnp.max(jnp.where(finite, d, 0.0)) + 1.0
  return jnp.where(finite, d, big)


@functools.partial(jax.jit, static_argnames=("k", "num_iters"))
def _kmedoids(key, d, *, k, num_iters):
  n = d.shape[0]
  d = _finite_distances(d)
  # k-means++-style seeding on the given distances.
  first = jax.random.randint(key, (), 0, n)
  medoids = jnp.zeros((k,), jnp.int32).at[0].set(first)
  closest = d[first]

  def seed(i, carry):
    medoids, closest = carry
    w = jnp.square(closest)
    total = jnp.sum(w)
    probs = jnp.where(total > 0, w / jnp.where(total > 0, total, 1.0), 1.0 / n)
    idx = jax.random.choice(jax.random.fold_in(key, i), n, p=probs).astype(jnp.int32)
    return medoids.at[i].set(idx), jnp.minimum(closest, d[idx])

  medoids, _ = jax.lax.fori_loop(1, k, seed, (medoids, closest))

  def assign(medoids):
    return jnp.argmin(d[:, medoids], axis=1).astype(jnp.int32)

  def cost_of(medoids, assignments):
    return jnp.sum(d[jnp.arange(n), medoids[assignments]])

  def step(medoids, _):
    # Voronoi iteration (Park & Jun, 2009): assign, then move each medoid to the member
    # with the smallest summed distance to its cluster; an empty cluster keeps its medoid.
    assignments = assign(medoids)
    cost = cost_of(medoids, assignments)
    member = jax.nn.one_hot(assignments, k, dtype=d.dtype)  # [N, k]
    within = d @ member  # [N, k]: point i's summed distance to cluster j's members
    within = jnp.where(member > 0, within, jnp.inf)  # candidates: the cluster's members
    best = jnp.argmin(within, axis=0).astype(jnp.int32)
    current = within[medoids, jnp.arange(k)]
    improve = jnp.min(within, axis=0) < current
    return jnp.where(improve, best, medoids), cost

  medoids, history = jax.lax.scan(step, medoids, None, length=num_iters)
  assignments = assign(medoids)
  return KMedoidsResult(medoids, assignments, cost_of(medoids, assignments), history)


def _check_distances(distances):
  d = v.as_float(distances)
  v.check_rank("distances", d, (2,), "[N, N]")
  if d.shape[0] != d.shape[1] or d.shape[0] < 1:
    raise ValueError(f"`distances` must be a square [N, N] matrix, got shape {d.shape}")
  if bool(jnp.any(jnp.isnan(d))) or bool(jnp.any(d < 0)):
    raise ValueError("`distances` must be non-negative and not NaN (inf: unreachable)")
  return d


def kmedoids(key, distances, k: int, num_iters: int = 50) -> KMedoidsResult:
  """k-medoids clustering from a distance matrix (e.g. geodesic distances).

  Seeding as k-means++ (probabilities proportional to the squared distance to the
  nearest chosen medoid), then Voronoi iterations (Park & Jun, 2009): assign each point
  to its nearest medoid, move each medoid to the member of its cluster with the smallest
  summed distance to the others. The cost never increases. Any metric works, so
  clusters follow geodesic rather than straight-line neighbourhoods. Infinite entries
  (points in different graph components) count as larger than every finite distance.

  Args:
    key: PRNG key for the seeding.
    distances: [N, N] symmetric non-negative distances, zero diagonal.
    k: number of clusters (static), ``1 <= k <= N``.
    num_iters: Voronoi iterations (static).

  Returns:
    A :class:`KMedoidsResult`.

  Raises:
    ValueError: a non-square, negative or NaN matrix, ``k`` out of range.

  Example:
    >>> dist = lo.graph_distance_matrix(decoder, codes)
    >>> fit = lo.kmedoids(jax.random.PRNGKey(0), dist, k=10)   # fit.assignments: [N]
  """
  d = _check_distances(distances)
  k = v.check_int("k", k, minimum=1, maximum=d.shape[0])
  num_iters = v.check_int("num_iters", num_iters, minimum=0)
  return _kmedoids(jnp.asarray(key), d, k=k, num_iters=num_iters)


@functools.partial(jax.jit, static_argnames=("k", "exclude_self"))
def _nearest_by_distance(d, *, k, exclude_self):
  if exclude_self:
    d = d.at[jnp.arange(d.shape[0]), jnp.arange(d.shape[0])].set(jnp.inf)
  neg, idx = jax.lax.top_k(-d, k)
  return -neg, idx


def nearest_by_distance(distances, k: int, exclude_self: bool = True):
  """The ``k`` nearest points of each point under a given distance matrix.

  Args:
    distances: [N, M] distances (e.g. geodesic, from ``graph_distance_matrix``).
    k: neighbours per row (static), ``1 <= k <= M`` (``M - 1`` with ``exclude_self``).
    exclude_self: for a square matrix of a set against itself, skip the diagonal
      (leave-one-out neighbours).

  Returns:
    ``(distances, indices)``: [N, k] ascending distances and int32 column indices.

  Raises:
    ValueError: wrong rank, ``exclude_self`` on a non-square matrix, ``k`` out of range.

  Example:
    >>> dist, idx = lo.nearest_by_distance(lo.graph_distance_matrix(decoder, codes), 5)
  """
  d = v.as_float(distances)
  v.check_rank("distances", d, (2,), "[N, M]")
  if exclude_self and d.shape[0] != d.shape[1]:
    raise ValueError(f"`exclude_self` needs a square `distances`, got shape {d.shape}")
  k = v.check_int("k", k, minimum=1, maximum=d.shape[1] - int(bool(exclude_self)))
  dist, idx = _nearest_by_distance(d, k=k, exclude_self=bool(exclude_self))
  return dist, idx.astype(jnp.int32)
