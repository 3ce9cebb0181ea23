"""Report sections on the curved latent space of a Gaussian decoder (ae and vae runs).

A decoder variance that grows away from the data (``latent_ops.fit_rbf_variance``,
Arvanitidis et al., 2018) turns the decoder's pull-back metric into the expected metric
``J_mu^T J_mu + J_sigma^T J_sigma``. Two sections show what it changes:

* ``expected_metric``: the magnification factor under the mean-only and the expected
  metric side by side over the 2-D latent window, each with its own geodesics, and the
  lengths of both under the expected metric;
* ``metric_clusters``: k-medoids clusters and leave-one-out k-NN accuracy of the test
  codes under Euclidean, mean-metric and expected-metric geodesic distances, beside
  Euclidean k-means (any latent dimension).

The variance is the run's own (``training.fit_decoder_variance``) when one is saved for
its checkpoint, else fitted on the report's test codes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from latentjax import latent_ops as lo
from latentjax import metrics, viz
from latentjax.explore._codes import choose_distant_pairs
from latentjax.explore._context import KMEANS_KEY, Context, RunView, key_for
from latentjax.explore._geometry import grid_points, latent_extent, magnification_grid

_CACHE = "gaussian_decoder"


def _supports_variance(view: RunView | None) -> bool:
  from latentjax.training._variance import check_variance_run

  if view is None or view.codes is None or view.decoder is None:
    return False
  try:
    check_variance_run(view.run)
  except ValueError:
    return False
  return view.codes.num_examples >= 8


def gaussian_decoder_of(view: RunView, settings) -> tuple[object, str]:
  """``(decoder z -> (mean, std), where its variance comes from)``, cached on the view."""
  if _CACHE in view.cache:
    return view.cache[_CACHE]
  try:
    variance = view.run.decoder_variance()
    source = ("the run's saved decoder variance (training.fit_decoder_variance, "
              f"step {view.run.step})")
  except ValueError:
    z, x = view.codes.codes, view.codes.inputs
    residuals = x - view.decode(z)
    k = int(min(settings.variance_centers, max(1, z.shape[0] // 4)))
    variance = lo.fit_rbf_variance(key_for_view(settings), z, residuals, k)
    source = (f"a decoder variance fitted here on the {z.shape[0]} test codes ({k} RBF "
              "centres; `python -m experiments.fit_variance` fits and saves one on the "
              "training split)")
  out = (lo.gaussian_decoder(view.decoder, variance), source)
  view.cache[_CACHE] = out
  return out


def key_for_view(settings) -> jax.Array:
  return jax.random.fold_in(jax.random.PRNGKey(settings.seed), 7)


def _geometry_view(ctx: Context) -> RunView | None:
  for view in (ctx.main, ctx.companion):
    if _supports_variance(view) and view.codes.latent_dim == 2:
      return view
  return None


def spacing_distances(z, extent, grid_size) -> np.ndarray:
  """[G, G] distance of each grid point to its nearest code, in typical code spacings
  (the median nearest-neighbour distance between codes)."""
  pts = grid_points(extent, grid_size).reshape(-1, 2).astype(np.float64)
  d = np.sqrt(np.maximum(((pts[:, None] - z[None]) ** 2).sum(-1), 0.0)).min(1)
  nn = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1) + np.diag(np.full(len(z), np.inf)))
  spacing = max(float(np.median(nn.min(1))), 1e-12)
  return (d / spacing).reshape(grid_size, grid_size)


# Grid points by distance to the codes, in code spacings: near, the band around, beyond.
_RINGS = (("near the codes (≤ 2 spacings)", 0.0, 2.0), ("around them (4–16)", 4.0, 16.0),
          ("beyond (> 16)", 16.0, np.inf))


def expected_metric(ctx: Context) -> dict | None:
  """Magnification and geodesics under the mean-only and the expected metric."""
  view, s = _geometry_view(ctx), ctx.settings
  if view is None:
    return None
  gdec, source = gaussian_decoder_of(view, s)
  z, y = view.codes.codes, view.codes.labels
  extent = latent_extent(z)
  mf_mean = magnification_grid(view.decoder, extent, s.grid_size)
  mf_exp = magnification_grid(gdec, extent, s.grid_size)
  starts, ends = choose_distant_pairs(z, y, s.num_geodesics, seed=s.seed + 1)
  z0, z1 = jnp.asarray(z[starts]), jnp.asarray(z[ends])
  data = jnp.asarray(z)
  k = int(min(s.graph_neighbors, z.shape[0] - 1))
  kw = dict(k=k, num_points=s.geodesic_points, num_steps=s.geodesic_steps)
  geo_mean = np.asarray(lo.geodesic_from_graph(view.decoder, z0, z1, data, **kw))
  geo_exp = np.asarray(lo.geodesic_from_graph(gdec, z0, z1, data, **kw))
  names = [f"{y[i]} → {y[j]}" if y is not None else f"{i} → {j}"
           for i, j in zip(starts, ends, strict=True)]
  curves_mean = dict(zip(names, geo_mean, strict=True))
  curves_exp = dict(zip(names, geo_exp, strict=True))
  viz.magnification_comparison(
      {f"{view.label}: mean-only metric JμᵀJμ": (mf_mean, curves_mean),
       f"{view.label}: expected metric JμᵀJμ + JσᵀJσ": (mf_exp, curves_exp)},
      extent, points=z, labels=y, path=ctx.path("magnification_expected.png"))
  images = [(ctx.path("magnification_expected.png"),
             "magnification factor under the mean-only (left) and the expected metric "
             "(right), test codes, each metric's geodesics (solid) and straight lines "
             "(dashed)")]
  t = np.linspace(0.0, 1.0, s.geodesic_points, dtype=np.float32)[None, :, None]
  line = (1.0 - t) * np.asarray(z0)[:, None] + t * np.asarray(z1)[:, None]
  res = 16
  length = lambda dec, c: np.asarray(lo.curve_length(dec, jnp.asarray(c), subdivisions=res))
  rows = []
  for p, n in enumerate(names):
    rows.append({
        "pair": n,
        "straight, expected length": float(length(gdec, line[p])),
        "mean-metric geodesic, expected length": float(length(gdec, geo_mean[p])),
        "expected-metric geodesic, expected length": float(length(gdec, geo_exp[p])),
        "mean-metric geodesic, mean length": float(length(view.decoder, geo_mean[p])),
        "expected-metric geodesic, mean length": float(length(view.decoder, geo_exp[p])),
    })
  dist = spacing_distances(np.asarray(z, np.float64), extent, s.grid_size)
  parts = []
  for name, lo_, hi in _RINGS:
    mask = (dist >= lo_) & (dist <= hi)
    if mask.any():
      parts.append(f"{name}: {np.median(mf_mean[mask]):.3g} mean-only, "
                   f"{np.median(mf_exp[mask]):.3g} expected")
  contrast = ""
  if parts:
    contrast = (" Median magnification factor over the window's grid points, by distance "
                "to the nearest code in typical code spacings: " + "; ".join(parts) + ". "
                "Far beyond the codes σ has reached its maximum and stops changing, so the "
                "expected metric falls again there; a curve reaches that region only across "
                "the bright band around the data.")
  text = (
      f"The decoder as a Gaussian, x = μ(z) + σ(z)·ε, with {source}: σ is small where the "
      "model has seen codes and grows towards a large value away from them (Arvanitidis, "
      "Hansen & Hauberg, \"Latent Space Oddity\", 2018). Its expected metric "
      "E[JᵀJ] = JμᵀJμ + JσᵀJσ (latent_ops.expected_metric) is large where σ changes, "
      "at the edges of the data, so geodesics under it follow the codes instead of "
      "cutting through regions the decoder has never been trained on; under the "
      "mean-only metric a decoder that saturates away from the data makes those "
      f"regions look cheap.{contrast} Both metrics' geodesics start from the shortest "
      f"path through the test codes' {k}-NN graph (latent_ops.geodesic_from_graph) and "
      f"are refined by {s.geodesic_steps} steps; lengths are continuous decoded lengths "
      f"({res} pieces per segment) under the expected metric and under the mean alone.")
  return {"text": text, "images": images, "table": rows}


def metric_clusters(ctx: Context) -> dict | None:
  """Euclidean vs geodesic clusters and neighbours of the test codes, against labels."""
  view, s = ctx.main, ctx.settings
  if not _supports_variance(view) or view.codes.labels is None:
    return None
  y = view.codes.labels
  n = int(min(s.clustering_points, view.codes.num_examples))
  if np.unique(y[:n]).size < 2 or n < 10:
    return None
  gdec, source = gaussian_decoder_of(view, s)
  z = jnp.asarray(view.codes.codes[:n])
  k = int(min(s.graph_neighbors, n - 1))
  dist = {"euclidean": metrics.euclidean_distances(np.asarray(z)),
          "mean-metric geodesic": np.asarray(lo.graph_distance_matrix(view.decoder, z, k=k)),
          "expected-metric geodesic": np.asarray(lo.graph_distance_matrix(gdec, z, k=k))}
  rows = metrics.distance_scores(key_for(ctx, KMEANS_KEY + 50), dist, y[:n],
                                 codes=np.asarray(z), k=5, num_restarts=3)
  table = [{"distance": r["distance"], "clustering": r["clustering"], "ARI": r["ari"],
            "NMI": r["nmi"], "5-NN accuracy (leave-one-out)": r["knn_accuracy"]}
           for r in rows]
  text = (
      f"Clusters and neighbours of the first {n} test codes ({view.codes.latent_dim}-D) "
      "under three distances: Euclidean; the geodesic distance of the decoder mean's "
      "pull-back metric; and that of the expected metric, with "
      f"{source}. Geodesic distances are shortest paths in the codes' {k}-NN graph, each "
      "edge measured by its decoded length (latent_ops.graph_distance_matrix). k-medoids "
      "(latent_ops.kmedoids, k = number of classes, best of 3) works from any distance; "
      "Euclidean k-means is the usual reference. ARI and NMI compare the clusters with "
      "the labels (1 = the labels up to renaming); the last column is the accuracy of a "
      "majority vote of each code's 5 nearest other codes.")
  return {"text": text, "table": table}
