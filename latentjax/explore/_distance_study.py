"""Euclidean against geodesic distances of a run's test codes: clusters and neighbours.

The computation behind ``experiments/geometry_study.py``::

    out = explore.distance_study("runs/vae2d", num_examples=500)
    out["rows"]     # one row per distance: k-medoids / k-means ARI, NMI, k-NN accuracy
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax import metrics, training
from latentjax.explore._codes import encode_split


def distance_study(workdir: str, *, num_examples: int = 500, k_graph: int = 10,
                   k_neighbors: int = 5, num_restarts: int = 5, refit: bool = False) -> dict:
  """Clusters and k-NN accuracy of a run's test codes under three distances.

  Euclidean; geodesic under the decoder mean's pull-back metric; geodesic under the
  expected metric of the Gaussian decoder with the run's fitted variance (fitted and
  saved first when the run has none for its checkpoint, or with ``refit``). Geodesic
  distances are shortest paths in the codes' kNN graph (``latent_ops.graph_distance_matrix``).

  Args:
    workdir: an unconditional ae / vae run.
    num_examples: test codes compared (from the start of the split).
    k_graph: neighbours per code in the distance graph.
    k_neighbors: neighbours of the leave-one-out k-NN vote.
    num_restarts: restarts of k-means / k-medoids.
    refit: refit the decoder variance even if one is saved.

  Returns:
    A JSON-ready dict: ``rows`` (``metrics.distance_scores``), ``latent_dim``,
    ``num_examples``, ``graph_seconds``, ``unreachable_pairs``, ...

  Raises:
    ValueError: a run of another family, or a test split without labels.
  """
  run = training.load_run(workdir)
  saved = None if refit else training.load_variance(workdir)
  if saved is None or saved[1]["step"] != run.step:  # none for this checkpoint: fit one
    training.fit_decoder_variance(run)
  codes = encode_split(run, num_examples=num_examples)
  if codes.labels is None:
    raise ValueError(f"the test split of {run.exp.cfg.data.name!r} has no labels to score")
  z = jnp.asarray(codes.codes)
  timings, dist = {}, {"euclidean": metrics.euclidean_distances(codes.codes)}
  for name, decoder in (("mean metric", run.decoder_fn()),
                        ("expected metric", run.gaussian_decoder_fn())):
    t0 = time.perf_counter()
    dist[name] = np.asarray(lo.graph_distance_matrix(decoder, z, k=k_graph))
    timings[name] = time.perf_counter() - t0
  rows = metrics.distance_scores(jax.random.PRNGKey(run.exp.cfg.seed), dist, codes.labels,
                                 codes=codes.codes, k=k_neighbors, num_restarts=num_restarts)
  unreachable = {n: int(np.sum(~np.isfinite(d))) for n, d in dist.items()}
  return {"workdir": workdir, "step": run.step, "latent_dim": int(z.shape[1]),
          "num_examples": int(z.shape[0]), "k_graph": k_graph, "k_neighbors": k_neighbors,
          "rows": rows, "graph_seconds": timings, "unreachable_pairs": unreachable}
