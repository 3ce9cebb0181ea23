"""Report sections that look at the whole latent space: scatter and clusters, geometry.

Each function takes the report `Context` and returns `viz.Report.add_section` keyword
arguments, or None when the section does not apply (the geometry section needs an
unconditional run with a 2-D latent space: the main run or its companion).
"""

from __future__ import annotations

from latentjax import latent_ops as lo
from latentjax import viz
from latentjax.explore._clusters import cluster_codes
from latentjax.explore._codes import choose_distant_pairs
from latentjax.explore._context import KMEANS_KEY, Context, RunView, key_for
from latentjax.explore._geometry import grid_points, latent_extent, magnification_grid
from latentjax.explore._paths import decoded_lengths, interpolation_paths, path_frames

_MANIFOLD_SIDE = 15  # Decoded images per side of the 2-D latent grid picture.


def _class_names(view: RunView) -> list[str] | None:
  n = view.run.exp.spec.num_classes
  return [str(k) for k in range(n)] if n else None


def _num_clusters(view: RunView) -> int:
  n = view.run.exp.spec.num_classes or 10
  return int(max(1, min(n, view.codes.num_examples // 2)))


def scatter_and_clusters(ctx: Context) -> dict | None:
  """The test codes in 2-D (PCA, t-SNE), coloured by label, with k-means clusters."""
  s = ctx.settings
  if ctx.main.codes is None:
    return None  # No encoded test codes to scatter (a run without an encoder).
  views = [v for v in (ctx.main, ctx.companion) if v is not None]
  rows: dict[str, dict] = {}
  images = []
  for n, view in enumerate(views):
    z, y = view.codes.codes, view.codes.labels
    k = _num_clusters(view)
    clusters = cluster_codes(key_for(ctx, KMEANS_KEY + 10 * n), z, y, num_clusters=k,
                             num_iters=s.kmeans_iters, seed=s.seed)
    for name, value in clusters.scores.items():
      rows.setdefault(name, {"score": name})[view.label] = value
    if view is not ctx.main:
      continue  # The companion's codes are shown on the geometry heat map.
    kw = dict(centroids=clusters.centroids, assignments=clusters.assignments,
              class_names=_class_names(view), seed=s.seed)
    method = "none" if view.codes.latent_dim == 2 else "pca"
    name = "scatter_2d.png" if method == "none" else "scatter_pca.png"
    viz.latent_scatter(z, y, method=method, path=ctx.path(name),
                       title=f"{view.label}: test codes ({'2-D' if method == 'none' else 'PCA'})",
                       **kw)
    images.append((ctx.path(name), "the test codes" if method == "none"
                   else "the test codes projected on their top two principal directions"))
    if view.codes.latent_dim > 2 and s.tsne and view.codes.num_examples >= 3:
      m = min(view.codes.num_examples, s.tsne_max_points)
      # The exact gradient: 2 s for 300 codes, where scikit-learn's Barnes-Hut took
      # 30 s on a busy 2-core machine (its OpenMP threads contend).
      viz.latent_scatter(z[:m], None if y is None else y[:m], method="tsne",
                         tsne_max_iter=s.tsne_max_iter, tsne_kwargs={"method": "exact"},
                         path=ctx.path("scatter_tsne.png"),
                         title=f"{view.label}: test codes (t-SNE)",
                         **dict(kw, assignments=clusters.assignments[:m]))
      images.append((ctx.path("scatter_tsne.png"),
                     f"t-SNE embedding of the first {m} test codes"))
  main = ctx.main
  text = (f"The {main.codes.num_examples} encoded {main.codes.split!r} examples"
          + (", coloured by label" if main.codes.labels is not None else "")
          + f". Stars mark the centres of k-means with k = {_num_clusters(main)} "
          "(latent_ops.kmeans) and marker shapes its clusters.")
  if main.codes.labels is not None:
    text += (" Scores: adjusted Rand index and normalized mutual information of the "
             "k-means clusters against the labels (1 is a perfect match, 0 chance); "
             "silhouettes in [-1, 1] (higher is better separated); and how often the "
             "5 nearest codes' majority label is right.")
  return {"text": text, "images": images, "table": list(rows.values())}


def _geometry_view(ctx: Context) -> RunView | None:
  for view in (ctx.main, ctx.companion):
    if (view is not None and view.codes is not None and view.codes.latent_dim == 2
        and not view.run.conditional):
      return view
  return None


def geometry(ctx: Context) -> dict | None:
  """Magnification factor over a 2-D latent space, with geodesics drawn on it."""
  view, s = _geometry_view(ctx), ctx.settings
  if view is None:
    return None
  z, y = view.codes.codes, view.codes.labels
  extent = latent_extent(z)
  mf = magnification_grid(view.decoder, extent, s.grid_size)
  starts, ends = choose_distant_pairs(z, y, s.num_geodesics, seed=s.seed + 1)
  z0, z1 = z[starts], z[ends]
  paths = interpolation_paths(view.decoder, z0, z1, num_points=s.geodesic_points,
                              geodesic_steps=s.geodesic_steps, methods=("linear", "geodesic"))
  lengths = decoded_lengths(view.decoder, paths, z0, z1, resolution=s.length_resolution)
  names = [f"{y[i]} → {y[j]}" if y is not None else f"{i} → {j}"
           for i, j in zip(starts, ends, strict=True)]
  curves = {n: paths["geodesic"][p] for p, n in enumerate(names)}
  viz.magnification_heatmap(mf, extent, curves=curves, points=z, labels=y,
                            title=f"{view.label}: magnification factor",
                            path=ctx.path("magnification.png"))
  images = [(ctx.path("magnification.png"),
             "magnification factor sqrt(det(JᵀJ)) (log colour scale), test codes, geodesics "
             "(solid) and straight lines (dashed)")]
  if view.is_image:
    frames = path_frames(paths, z0, z1, s.num_frames)
    strips = {f"straight {n}": view.decode(frames["linear"][p]) for p, n in enumerate(names[:2])}
    strips.update({f"geodesic {n}": view.decode(frames["geodesic"][p])
                   for p, n in enumerate(names[:2])})
    lens = {f"straight {n}": lengths["linear"][p] for p, n in enumerate(names[:2])}
    lens.update({f"geodesic {n}": lengths["geodesic"][p] for p, n in enumerate(names[:2])})
    order = [k for p in range(min(2, len(names))) for k in (f"straight {names[p]}",
                                                              f"geodesic {names[p]}")]
    viz.interpolation_strips({k: strips[k] for k in order}, {k: lens[k] for k in order},
                             path=ctx.path("geodesic_strips.png"))
    images.append((ctx.path("geodesic_strips.png"), "decoded straight lines and geodesics"))
    grid = grid_points(extent, _MANIFOLD_SIDE)[::-1].reshape(-1, 2)  # Top row: largest z2.
    viz.image_grid(view.decode(grid), ncols=_MANIFOLD_SIDE, min_cell_px=44, pad_px=1,
                   path=ctx.path("latent_grid.png"))
    images.append((ctx.path("latent_grid.png"),
                   f"decoded {_MANIFOLD_SIDE}×{_MANIFOLD_SIDE} grid over the same window "
                   "(z2 increases upwards)"))
  rows = []
  for p, n in enumerate(names):
    lin, geo = float(lengths["linear"][p]), float(lengths["geodesic"][p])
    energy = float(lo.curve_energy(view.decoder, paths["geodesic"][p]))
    energy_lin = float(lo.curve_energy(view.decoder, paths["linear"][p]))
    rows.append({"pair": n, "straight length": lin, "geodesic length": geo,
                 "geodesic / straight": geo / lin, "straight energy": energy_lin,
                 "geodesic energy": energy})
  source = ("this run" if view is ctx.main
            else f"the companion run ({view.run.workdir}), as this run's latent space is "
                 f"{ctx.main.codes.latent_dim}-D")
  text = (
      f"The geometry of a 2-D latent space, from {source}. The decoder g maps the plane "
      "into image space; its pull-back metric G(z) = J(z)ᵀJ(z) (latent_ops.pullback_metric) "
      "measures how far a small step in z moves the decoded image, and the magnification "
      "factor sqrt(det G(z)) how much it stretches area. Bright regions, typically "
      "between classes, are where the decoded image changes fast. Geodesics "
      f"(latent_ops.geodesic, {s.geodesic_points} points, {s.geodesic_steps} steps) "
      "minimise the decoded path length, so they bend around bright regions that "
      "straight lines cut through, as in Arvanitidis et al., \"Latent Space Oddity\" "
      "(2018). Lengths are measured on paths resampled at "
      f"{s.length_resolution} points; energies (latent_ops.curve_energy) on the discrete "
      "points.")
  return {"text": text, "images": images, "table": rows}
