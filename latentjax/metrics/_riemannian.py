"""Clusters and neighbours under any latent distance, scored against labels.

Does a curved metric group the codes by class better than straight-line distance? Give
the same codes' distance matrices (Euclidean, geodesic under the decoder's mean,
geodesic under the expected metric of a Gaussian decoder) and compare::

    dist = {"euclidean": metrics.euclidean_distances(codes),
            "expected metric": latent_ops.graph_distance_matrix(decoder, codes, k=10)}
    rows = metrics.distance_scores(key, dist, labels, codes=codes)

k-medoids (``latent_ops.kmedoids``, best cost of restarts) gives clusters from any
distance, scored by the adjusted Rand index and normalized mutual information; k-means on
the codes is the Euclidean reference; leave-one-out k-NN accuracy (majority of the ``k``
nearest other codes, ties to the nearest) measures neighbourhoods. Results are floats.
"""

from __future__ import annotations

from collections.abc import Mapping

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax.metrics._features import as_matrix
from latentjax.metrics._latent import _labels_for, _positive_int, kmeans_partition


def euclidean_distances(codes) -> np.ndarray:
  """[N, N] Euclidean distances between codes [N, D] (float64)."""
  z = as_matrix("codes", codes).astype(np.float64)
  sq = np.sum(z * z, 1)
  return np.sqrt(np.maximum(sq[:, None] - 2.0 * z @ z.T + sq[None, :], 0.0))


def _distances(name: str, distances, n: int | None = None) -> np.ndarray:
  d = np.asarray(distances, np.float64)
  if d.ndim != 2 or d.shape[0] != d.shape[1] or d.shape[0] < 2:
    raise ValueError(f"`{name}` must be a square [N, N] matrix with N >= 2, got shape "
                     f"{d.shape}")
  if n is not None and d.shape[0] != n:
    raise ValueError(f"`{name}` must be [N, N] with N = {n}, got shape {d.shape}")
  if np.any(np.isnan(d)) or np.any(d < 0):
    raise ValueError(f"`{name}` must be non-negative and not NaN (inf: unreachable)")
  return d


def knn_accuracy(distances, labels, k: int = 5) -> float:
  """Leave-one-out k-nearest-neighbour accuracy under a distance matrix.

  Each point is classified by the majority label of its ``k`` nearest *other* points
  (``latent_ops.nearest_by_distance``); a tie goes to the tied label whose nearest
  member is closest.

  Args:
    distances: [N, N] distances (inf allowed: unreachable).
    labels: [N] integer labels.
    k: neighbours, ``1 <= k < N``.

  Returns:
    The fraction of points whose predicted label is their own.

  Raises:
    ValueError: a malformed matrix, mismatched labels, ``k`` out of range.

  Example:
    >>> knn_accuracy(euclidean_distances(codes), labels, k=5)    # 0.95
  """
  d = _distances("distances", distances)
  y = _labels_for("labels", labels, d.shape[0], "distances")
  k = _positive_int("k", k)
  if k >= d.shape[0]:
    raise ValueError(f"`k` must be < N = {d.shape[0]}, got {k}")
  _, idx = lo.nearest_by_distance(jnp.asarray(d, jnp.float32), k)
  nbr = y[np.asarray(idx)]  # [N, k], nearest first
  classes = np.unique(y)
  votes = (nbr[:, :, None] == classes[None, None, :]).sum(1)  # [N, C]
  # Ties: the label with the most votes whose first occurrence is nearest.
  first = np.where(nbr[:, :, None] == classes[None, None, :],
                   np.arange(k)[None, :, None], k).min(1)  # [N, C]
  pred = classes[np.argmax(votes * (k + 1) + (k - first), axis=1)]
  return float(np.mean(pred == y))


def kmedoids_scores(key: jax.Array, distances, labels, num_clusters: int | None = None, *,
                    num_restarts: int = 5, num_iters: int = 50) -> dict:
  """k-medoids clusters of a distance matrix against labels: ``{"ari", "nmi"}``.

  Args:
    key: PRNG key of the seeding; restart i > 0 uses ``fold_in(key, i)``.
    distances: [N, N] distances.
    labels: [N] labels.
    num_clusters: K; None for the number of distinct labels.
    num_restarts: k-medoids runs (the lowest cost is kept), >= 1.
    num_iters: Voronoi iterations per run.

  Returns:
    ``{"ari": float, "nmi": float}``.

  Raises:
    ValueError: a malformed matrix or labels, ``num_clusters`` out of range.
  """
  from sklearn import metrics

  d = _distances("distances", distances)
  y = _labels_for("labels", labels, d.shape[0], "distances")
  k = int(np.unique(y).size) if num_clusters is None else num_clusters
  if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= len(y):
    raise ValueError(f"`num_clusters` must be in [1, N={len(y)}], got {num_clusters!r}")
  dj = jnp.asarray(d, jnp.float32)
  best = None
  for r in range(_positive_int("num_restarts", num_restarts)):
    fit = lo.kmedoids(key if r == 0 else jax.random.fold_in(key, r), dj, int(k), num_iters)
    if best is None or float(fit.cost) < float(best.cost):
      best = fit
  a = np.asarray(best.assignments)
  return {"ari": float(metrics.adjusted_rand_score(y, a)),
          "nmi": float(metrics.normalized_mutual_info_score(y, a))}


def distance_scores(key: jax.Array, distances: Mapping[str, object], labels, *,
                    codes=None, num_clusters: int | None = None, k: int = 5,
                    num_restarts: int = 5) -> list[dict]:
  """One row per distance: k-medoids ARI/NMI and leave-one-out k-NN accuracy.

  With ``codes``, a first row scores Euclidean k-means of the codes (best of
  ``num_restarts``), the usual reference.

  Args:
    key: PRNG key of the cluster seedings (the same for every distance).
    distances: ``{name: [N, N] matrix}``, all of the same N.
    labels: [N] labels.
    codes: optional [N, D] codes for the k-means row.
    num_clusters: K; None for the number of distinct labels.
    k: neighbours of the k-NN accuracy.
    num_restarts: restarts of k-means and k-medoids.

  Returns:
    ``[{"distance": name, "clustering": "k-means" | "k-medoids", "ari", "nmi",
    "knn_accuracy"}, ...]``.

  Raises:
    ValueError: an empty mapping, matrices of different sizes, malformed labels.

  Example:
    >>> distance_scores(key, {"euclidean": euclidean_distances(z)}, y, codes=z)
  """
  if not distances:
    raise ValueError("`distances` must name at least one [N, N] matrix")
  mats = {name: _distances(f"distances[{name!r}]", d) for name, d in distances.items()}
  n = next(iter(mats.values())).shape[0]
  mats = {name: _distances(f"distances[{name!r}]", d, n) for name, d in mats.items()}
  y = _labels_for("labels", labels, n, "distances")
  rows = []
  if codes is not None:
    z = as_matrix("codes", codes)
    if z.shape[0] != n:
      raise ValueError(f"`codes` must be [N, D] with N = {n}, got shape {z.shape}")
    _, scores = kmeans_partition(key, z, y, num_clusters, num_restarts=num_restarts)
    rows.append({"distance": "euclidean", "clustering": "k-means", **scores,
                 "knn_accuracy": knn_accuracy(euclidean_distances(z), y, k)})
  for name, d in mats.items():
    scores = kmedoids_scores(key, d, y, num_clusters, num_restarts=num_restarts)
    rows.append({"distance": name, "clustering": "k-medoids", "ari": scores["ari"],
                 "nmi": scores["nmi"], "knn_accuracy": knn_accuracy(d, y, k)})
  return rows
