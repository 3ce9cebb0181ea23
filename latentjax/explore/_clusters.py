"""Clusters in latent space: k-means on the codes, scored against the labels.

    result = cluster_codes(key, codes.codes, codes.labels, num_clusters=10)
    result.scores   # {"adjusted Rand index": 0.61, "normalized mutual information": ...}

k-means and its label scores are those of `metrics.cluster_scores` (`latent_ops.kmeans`,
then scikit-learn's adjusted Rand index and normalized mutual information of the k-means
partition against the labels: 1 is a perfect match, 0 what chance gives). The report adds
silhouettes (in [-1, 1], higher is better separated) of the k-means partition and of the
labels, and the leave-one-out k-NN accuracy of the labels from the codes.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax.metrics._latent import kmeans_partition

_PAIRWISE_MAX_N = 2000  # Silhouettes and k-NN are O(N^2): larger sets are subsampled.


@dataclasses.dataclass(frozen=True)
class Clustering:
  """k-means of a set of codes and its scores.

  Attributes:
    centroids: [K, D] cluster centres.
    assignments: [N] cluster index of each code.
    scores: score name -> value (only those that apply: label scores need labels).
  """

  centroids: np.ndarray
  assignments: np.ndarray
  scores: dict[str, float]


def knn_accuracy(codes, labels, k: int = 5) -> float:
  """Leave-one-out accuracy of a k-nearest-neighbour majority vote on the labels.

  Neighbours come from `latent_ops.nearest_neighbors` (Euclidean, in latent space).

  Args:
    codes: [N, D] codes.
    labels: [N] integer labels.
    k: neighbours per vote (excluding the code itself).

  Returns:
    The fraction of codes whose k neighbours' majority label is their own.

  Raises:
    ValueError: if shapes disagree or there are fewer than 2 codes.
  """
  z = np.asarray(codes, np.float32)
  y = np.asarray(labels)
  if z.ndim != 2 or y.shape != (z.shape[0],):
    raise ValueError(f"`codes` [N, D] and `labels` [N] must agree, got {z.shape}, {y.shape}")
  k = int(min(k, z.shape[0] - 1))
  if k < 1:
    raise ValueError(f"`codes` must hold at least 2 points, got shape {z.shape}")
  _, idx = lo.nearest_neighbors(jnp.asarray(z), jnp.asarray(z), k + 1)
  idx = np.asarray(idx)
  own = np.arange(z.shape[0])[:, None]
  # Drop each code itself (normally the first neighbour; with duplicates, anywhere).
  is_self = idx == own
  drop = np.where(is_self.any(1), is_self.argmax(1), k)
  keep = np.ones_like(idx, bool)
  keep[np.arange(z.shape[0]), drop] = False
  neighbours = idx[keep].reshape(z.shape[0], k)
  classes, y_idx = np.unique(y, return_inverse=True)
  votes = np.zeros((z.shape[0], classes.size), np.int64)
  np.add.at(votes, (np.repeat(np.arange(z.shape[0]), k), y_idx[neighbours].ravel()), 1)
  return float(np.mean(votes.argmax(1) == y_idx))


def _silhouette(z: np.ndarray, groups: np.ndarray, seed: int) -> float | None:
  from sklearn.metrics import silhouette_score

  if not 2 <= np.unique(groups).size < z.shape[0]:
    return None
  size = min(z.shape[0], _PAIRWISE_MAX_N)
  return float(silhouette_score(z, groups, sample_size=size, random_state=seed))


def cluster_codes(key: jax.Array, codes, labels=None, *, num_clusters: int,
                  num_iters: int = 100, seed: int = 0) -> Clustering:
  """Runs k-means on codes and scores the clusters (against labels when given).

  Args:
    key: PRNG key of k-means' initialisation.
    codes: [N, D] codes.
    labels: optional [N] integer labels.
    num_clusters: K, usually the number of classes.
    num_iters: Lloyd iterations.
    seed: seed of the silhouette subsample (only used for N > 2000; the k-NN accuracy
      then uses the first 2000 codes).

  Returns:
    The `Clustering`.

  Raises:
    ValueError: if `codes` is not [N, D] or not finite, `labels` is not [N], or K is not
      in [1, N].
  """
  fit, label_scores = kmeans_partition(key, codes, labels, num_clusters,
                                       num_iters=num_iters)
  z = np.asarray(codes, np.float32)
  y = None if labels is None else np.asarray(labels)
  centroids = np.asarray(fit.centroids, np.float32)
  assignments = np.asarray(fit.assignments, np.int64)
  scores: dict[str, float] = {}
  if y is not None:
    scores["adjusted Rand index (k-means vs labels)"] = label_scores["ari"]
    scores["normalized mutual information (k-means vs labels)"] = label_scores["nmi"]
  sil = _silhouette(z, assignments, seed)
  if sil is not None:
    scores["silhouette of the k-means clusters"] = sil
  if y is not None:
    sil = _silhouette(z, y, seed)
    if sil is not None:
      scores["silhouette of the label classes"] = sil
    if z.shape[0] > 5:
      m = min(z.shape[0], _PAIRWISE_MAX_N)
      scores["5-NN label accuracy (leave-one-out)"] = knn_accuracy(z[:m], y[:m], k=5)
  return Clustering(centroids=centroids, assignments=assignments, scores=scores)
